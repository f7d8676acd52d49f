"""Softmax regression the concise way: torch.nn and torch.optim do the work."""
from __future__ import annotations

import torch
from torch import nn


class ConciseSoftmaxRegression(nn.Sequential):
    """nn.Flatten + nn.Linear(784, 10); softmax lives inside nn.CrossEntropyLoss."""

    def __init__(self, weight, bias):
        super().__init__(nn.Flatten(), nn.Linear(weight.shape[1], weight.shape[0]))
        with torch.no_grad():  # both implementations start from the same draw (train.initial_parameters)
            self[1].weight.copy_(weight)
            self[1].bias.copy_(bias)

    def weight_bias(self):
        return self[1].weight.detach().clone(), self[1].bias.detach().clone()


def make_optimizer(params, kind, lr, weight_decay):
    """torch.optim's version of the three optimizers the scratch trainer writes by hand."""
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {kind!r}")
