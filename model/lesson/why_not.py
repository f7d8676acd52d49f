"""Why the model chose one class over another, pixel by pixel: for a linear model the logit
difference o_a - o_b is Σ x·(w_a - w_b) + (b_a - b_b), so x·(w_a - w_b) is each pixel's vote."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.lesson.classifier import LinearClassifier


@dataclass(frozen=True)
class WhyNot:
    chosen: int                     # class a, the one the model picked
    other: int                      # class b, the one it did not
    pixel_votes: np.ndarray         # float64 [28, 28]: x·(w_a - w_b); red pixels argue for a
    bias_difference: float          # b_a - b_b
    logit_difference: float         # o_a - o_b = pixel_votes.sum() + bias_difference


def why_not(classifier: LinearClassifier, image28: np.ndarray, predicted: int, other: int) -> WhyNot:
    """The difference of the two classes' contribution maps for `image28` (uint8 [28, 28]) and
    the logits' difference, o_predicted - o_other."""
    picture = np.asarray(image28)[None]
    x = classifier.inputs(picture)[0].astype(np.float64)
    weight = classifier.weight.astype(np.float64)
    votes = x * (weight[predicted] - weight[other])
    logits = classifier.logits(picture)[0]
    return WhyNot(int(predicted), int(other), votes.reshape(28, 28),
                  float(classifier.bias[predicted]) - float(classifier.bias[other]),
                  float(logits[predicted] - logits[other]))
