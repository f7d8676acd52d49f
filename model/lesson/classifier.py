"""A trained softmax-regression model for inference, in numpy (no torch needed to predict).

Both implementations end as the same thing: a [10, 784] weight, a [10] bias and how
inputs were normalised. That is all a checkpoint holds and all Predict needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def input_affine(mean: float, std: float) -> tuple[float, float]:
    """(scale, shift) so that input = pixels * scale - shift = (pixels / 255 - mean) / std.
    The one home of the input rule: the trainer (torch) and the classifier (numpy) both use it."""
    return 1.0 / (255.0 * std), mean / std


def linear_logits(inputs: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """inputs [N, 784] x weight [C, 784]^T + bias [C], in float64: a model from a run that nearly
    diverged has weights ~1e36 whose logits overflow float32; in float64 they still rank the classes."""
    return inputs.astype(np.float64) @ weight.T.astype(np.float64) + bias


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, computed stably (shifted by the largest logit)."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class LinearClassifier:
    weight: np.ndarray              # float32 [10, 784]: row k is class k's 28x28 template
    bias: np.ndarray                # float32 [10]
    mean: float = 0.0               # inputs are (pixels/255 - mean) / std
    std: float = 1.0
    metadata: dict = field(default_factory=dict, compare=False)  # config, history, ...

    def inputs(self, images: np.ndarray) -> np.ndarray:
        """uint8 (or 0..255 float) images [N, 28, 28] -> normalised float32 [N, 784]."""
        scale, shift = input_affine(self.mean, self.std)
        x = np.asarray(images, dtype=np.float32).reshape(len(images), -1) * np.float32(scale)
        return x - np.float32(shift) if shift else x

    def logits(self, images: np.ndarray) -> np.ndarray:
        return linear_logits(self.inputs(images), self.weight, self.bias)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Softmax probabilities [N, 10]."""
        return softmax(self.logits(images))

    def predict(self, images: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        return np.concatenate([self.logits(images[i:i + batch_size]).argmax(1)
                               for i in range(0, len(images), batch_size)])

    def contributions(self, image: np.ndarray, label: int) -> np.ndarray:
        """Each pixel's share of class `label`'s logit (weight x input), as [28, 28]."""
        return (self.weight[label] * self.inputs(image[None])[0]).reshape(28, 28)

    def templates(self) -> np.ndarray:
        """The ten weight rows as [10, 28, 28] pictures."""
        return self.weight.reshape(10, 28, 28)
