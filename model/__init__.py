"""Softmax Studio's engine: Fashion-MNIST, softmax regression, training, checkpoints.

Importing the package is cheap (no torch); submodules import torch when they need it.
"""
from model.files.classes import CLASSES, CLASSES_ZH

__all__ = ["CLASSES", "CLASSES_ZH"]
