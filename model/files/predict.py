"""Bytes, a file or a picture -> the model's answer. Shared by the Predict page and the CLI.

numpy and Pillow only (no torch), so a prediction costs milliseconds and little memory.
A file that isn't a usable picture raises ImageError; a picture with no garment in it
returns an empty Prediction whose `message` says so, never a confident guess.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from model.files.classes import CLASSES
from model.lesson.classifier import LinearClassifier
from model.files.image_files import MAX_BYTES, ImageError, decode_image
from model.files.preprocess import Preprocessed, preprocess
from model.message import Message


@dataclass
class Prediction:
    probabilities: np.ndarray | None  # float [10], softmax over CLASSES; None when empty
    label: int | None                 # index into CLASSES; None when empty
    class_name: str | None
    confidence: float                 # probabilities[label]; 0.0 when empty
    preprocessed: Preprocessed        # the 28x28 the model saw, and the steps that made it

    @property
    def empty(self) -> bool:
        return self.preprocessed.empty

    @property
    def message(self) -> str:
        """One line for a person: the answer, or why there is none."""
        if self.empty:
            return self.preprocessed.reason
        return f"{self.class_name} ({self.confidence:.1%})"


def predict_image(classifier: LinearClassifier, image: Image.Image) -> Prediction:
    """A PIL picture (a decoded upload, a canvas drawing) -> Prediction."""
    return _classify(classifier, preprocess(image))


def predict_dataset_image(classifier: LinearClassifier, image28: np.ndarray) -> Prediction:
    """A Fashion-MNIST image (uint8 [28, 28]) -> Prediction: it is dataset-made already, so the
    model reads it as it is."""
    return _classify(classifier, Preprocessed(np.asarray(image28, dtype=np.uint8), [("final 28x28", image28)]))


def _classify(classifier: LinearClassifier, prep: Preprocessed) -> Prediction:
    if prep.empty:
        return Prediction(None, None, None, 0.0, prep)
    probabilities = classifier.predict_proba(prep.image28[None])[0].astype(np.float64)
    label = int(probabilities.argmax())
    return Prediction(probabilities, label, CLASSES[label], float(probabilities[label]), prep)


def predict_bytes(classifier: LinearClassifier, data: bytes) -> Prediction:
    """An uploaded file's bytes -> Prediction. Raises ImageError for a file that isn't a usable picture."""
    return predict_image(classifier, decode_image(data))


def predict_file(classifier: LinearClassifier, path: str | os.PathLike) -> Prediction:
    """A file on disk -> Prediction. Raises ImageError for a missing, unreadable or unusable file."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ImageError(Message("predict.folder", "{path} is a folder, not an image file.", path=path))
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(Message("predict.too_many_bytes", "The file is {size:.0f} MB; the limit is {limit} MB. "
                                     "Resize or compress the picture and try again.",
                                     size=path.stat().st_size / 2**20, limit=MAX_BYTES // 2**20))
        data = path.read_bytes()
    except OSError as e:
        raise ImageError(Message("predict.unreadable", "Can't read {path}: {error}.", path=path,
                                 error=e.strerror or str(e))) from None
    return predict_bytes(classifier, data)
