"""What a model gets right and wrong, and what the dataset looks like: numpy only, shared by
the CLI (`evaluate`) and the pages, so each number is computed one way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.lesson.classifier import LinearClassifier, linear_logits, softmax

CHUNK = 2500  # images scored at a time: their float64 inputs are 16 MB, their logits 200 KB a model


@dataclass(frozen=True)
class Evaluation:
    """A model on a labelled set of images."""
    labels: np.ndarray        # int [N], the true classes
    predicted: np.ndarray     # int [N]
    confidence: np.ndarray    # float [N], the probability of the predicted class
    matrix: np.ndarray        # int [10, 10]: rows the true class, columns the prediction

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.matrix) / self.matrix.sum())

    @property
    def per_class(self) -> np.ndarray:
        """float [10]: the share of each true class that was predicted right."""
        return np.diag(self.matrix) / np.maximum(self.matrix.sum(1), 1)

    def most_confused(self) -> tuple[int, int, int]:
        """(true class, predicted class, how often): the most common mistake."""
        off = self.matrix.copy()
        np.fill_diagonal(off, 0)
        true, predicted = np.unravel_index(off.argmax(), off.shape)
        return int(true), int(predicted), int(off[true, predicted])

    def worst_mistakes(self, count: int) -> np.ndarray:
        """Indices of the wrong predictions, the most confident first."""
        wrong = np.flatnonzero(self.predicted != self.labels)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")][:count]


def evaluate(classifier: LinearClassifier, images: np.ndarray, labels: np.ndarray) -> Evaluation:
    return evaluate_many([classifier], images, labels)[0]


def evaluate_many(classifiers: list[LinearClassifier], images: np.ndarray, labels: np.ndarray) -> list[Evaluation]:
    """evaluate() for each classifier, in one product per chunk for those that normalise their
    inputs alike (a fused group's): the float64 inputs are made once, not once a model (eight
    models of a class's fused run took 0.29 s one by one, at the moment their learners wait)."""
    labels = np.asarray(labels, dtype=np.int64)
    evaluations: list[Evaluation | None] = [None] * len(classifiers)
    alike: dict[tuple[float, float], list[int]] = {}
    copies: dict[tuple, list[int]] = {}  # equal models (a class that trained one preset) are evaluated once
    for k, classifier in enumerate(classifiers):
        same = copies.setdefault((classifier.mean, classifier.std, classifier.weight.tobytes(),
                                  classifier.bias.tobytes()), [])
        same.append(k)
        if len(same) == 1:
            alike.setdefault((classifier.mean, classifier.std), []).append(k)
    for members in alike.values():
        first = classifiers[members[0]]
        weight = np.concatenate([classifiers[k].weight for k in members])  # [10M, 784]
        bias = np.concatenate([classifiers[k].bias for k in members])
        probabilities = np.concatenate([softmax(linear_logits(first.inputs(images[i:i + CHUNK]), weight, bias)
                                                .reshape(-1, len(members), 10))
                                        for i in range(0, len(images), CHUNK)])  # [N, M, 10]
        for m, k in enumerate(members):
            predicted = probabilities[:, m].argmax(1)
            matrix = np.zeros((10, 10), dtype=np.int64)
            np.add.at(matrix, (labels, predicted), 1)
            evaluations[k] = Evaluation(labels, predicted, probabilities[:, m].max(1), matrix)
    for same in copies.values():
        for k in same[1:]:
            evaluations[k] = evaluations[same[0]]
    return evaluations


def class_means(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """float [10, 28, 28]: the average image of each class."""
    return np.stack([images[labels == k].mean(axis=0) for k in range(10)])


def pixel_histogram(images: np.ndarray) -> np.ndarray:
    """int [256]: how many pixels of the images have each grey level."""
    from PIL import Image

    # Pillow counts uint8 pixels in C: ~20x faster than np.bincount, which widens 47M bytes to int64.
    return np.array(Image.fromarray(np.ascontiguousarray(images).reshape(-1, 28 * 28)).histogram(), dtype=np.int64)


def pca_2d(images: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xy [n, 2], indices [n], explained variance ratio [2]) of a random sample of n images.

    The top two principal directions come from subspace iteration: a few thin matrix
    products instead of a full SVD or a 784x784 eigendecomposition."""
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(images), size=n, replace=False))
    x = images[index].reshape(n, -1).astype(np.float32) / 255.0
    x -= x.mean(axis=0)
    q = np.linalg.qr(rng.standard_normal((x.shape[1], 8)).astype(np.float32))[0]
    for _ in range(30):
        q = np.linalg.qr(x.T @ (x @ q))[0]
    projected = x @ q
    variance, vectors = np.linalg.eigh(projected.T @ projected)
    xy = projected @ vectors[:, ::-1][:, :2]
    return xy, index, variance[::-1][:2] / float((x * x).sum())
