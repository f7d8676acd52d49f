"""One SGD step on one picture, worked out by hand, for Predict's "teach it one step".

Cross-entropy's gradient with respect to the logits is ŷ - y (y one-hot), so the weight
gradient for one input x is the outer product (ŷ - y) xᵀ: every class's template moves by a
multiple of the same picture, away from it for the wrong classes and towards it for the true one.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model.lesson.classifier import LinearClassifier


@dataclass(frozen=True)
class TeachingStep:
    label: int                     # the true class it was taught
    classifier: LinearClassifier   # the model after the step
    weight_gradient: np.ndarray    # float32 [10, 28, 28]: (ŷ - y) xᵀ, one picture per class
    bias_gradient: np.ndarray      # float32 [10]: ŷ - y
    before: np.ndarray             # [10] probabilities before the step
    after: np.ndarray              # [10] probabilities after it


def sgd_step_on_one(classifier: LinearClassifier, image28: np.ndarray, label: int, lr: float) -> TeachingStep:
    """The classifier after one SGD step of cross-entropy on `image28` (uint8 or 0..255 [28, 28])
    with true class `label`: W ← W - lr (ŷ - y) xᵀ, b ← b - lr (ŷ - y), x the classifier's own
    normalised input. The classifier given is left as it was."""
    if not 0 <= label < 10:
        raise ValueError(f"the label must be a class 0..9, not {label}")
    picture = np.asarray(image28)[None]
    x = classifier.inputs(picture)[0].astype(np.float64)
    before = classifier.predict_proba(picture)[0]
    error = before.copy()
    error[label] -= 1.0  # ŷ - y
    weight_gradient = np.outer(error, x)
    taught = replace(classifier,
                     weight=(classifier.weight - lr * weight_gradient).astype(np.float32),
                     bias=(classifier.bias - lr * error).astype(np.float32))
    return TeachingStep(int(label), taught, weight_gradient.reshape(10, 28, 28).astype(np.float32), error.astype(np.float32),
                        before, taught.predict_proba(picture)[0])
