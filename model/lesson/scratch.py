"""Softmax regression from scratch, as the lesson writes it: every piece by hand.

The lesson's net returns probabilities and takes the log of them in the loss. That is
fine at the lesson's settings but overflows once logits reach ~89 (exp(89) > float32
max), so the trainer uses the log-sum-exp versions below; the naive ones stay for
teaching and for the app's overflow demo.
"""
from __future__ import annotations

import torch


def softmax_naive(X):
    """The lesson's softmax: exp, then normalise each row. Overflows at large logits."""
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting divides each row by its own sum


def log_softmax(X):
    """log(softmax(X)) computed stably: subtracting the row max keeps exp() <= 1."""
    shifted = X - X.max(1, keepdim=True).values
    return shifted - torch.log(torch.exp(shifted).sum(1, keepdim=True))


def softmax(X):
    """Numerically stable softmax (log-sum-exp trick); equal to softmax_naive where that works."""
    return torch.exp(log_softmax(X))


def cross_entropy(y_hat, y):
    """The lesson's loss on probabilities: -log of the probability given to the true class."""
    return -torch.log(y_hat[range(len(y_hat)), y])


def cross_entropy_from_logits(logits, y):
    """Per-example cross-entropy straight from logits, stable at any magnitude."""
    return -log_softmax(logits)[range(len(logits)), y]


def accuracy(y_hat, y):
    """The number of correct predictions (a count, as in the lesson, not a fraction)."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """Sums n running totals (e.g. correct predictions and examples seen)."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    """Accuracy of `net` over an iterable of (X, y) batches."""
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


class ScratchSoftmaxRegression:
    """The lesson's parameters: W [784, 10] and b [10]; calling it gives logits."""

    def __init__(self, weight, bias):
        # weight arrives as [10, 784] (the checkpoint layout); the lesson keeps W as [784, 10].
        self.W = weight.T.clone().contiguous().requires_grad_(True)
        self.b = bias.clone().requires_grad_(True)

    def __call__(self, X):
        return X.reshape(-1, self.W.shape[0]) @ self.W + self.b

    def parameters(self):
        return [self.W, self.b]

    def weight_bias(self):
        return self.W.detach().T.clone(), self.b.detach().clone()


class HandOptimizer:
    """Minibatch SGD, SGD with momentum and Adam, written out by hand.

    Gradients arrive summed over the batch (the lesson calls l.sum().backward()), so each
    step divides by batch_size first. The update rules match torch.optim's exactly, so the
    scratch and concise trainers agree number for number.
    """

    def __init__(self, params, kind="sgd", lr=0.1, weight_decay=0.0, momentum=0.9, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.kind, self.lr = params, kind, lr
        self.weight_decay, self.momentum, self.betas, self.eps = weight_decay, momentum, betas, eps
        self.state = [{} for _ in params]
        self.steps = 0

    @torch.no_grad()
    def step(self, batch_size):
        self.steps += 1
        for param, state in zip(self.params, self.state):
            grad = param.grad / batch_size
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            if self.kind == "sgd":
                param -= self.lr * grad
            elif self.kind == "momentum":
                buf = state["buf"] = grad.clone() if "buf" not in state else self.momentum * state["buf"] + grad
                param -= self.lr * buf
            elif self.kind == "adam":
                b1, b2 = self.betas
                m = state["m"] = (1 - b1) * grad + b1 * state.get("m", torch.zeros_like(grad))
                v = state["v"] = (1 - b2) * grad * grad + b2 * state.get("v", torch.zeros_like(grad))
                m_hat = m / (1 - b1 ** self.steps)
                v_hat = v / (1 - b2 ** self.steps)
                param -= self.lr * m_hat / (v_hat.sqrt() + self.eps)
            else:
                raise ValueError(f"unknown optimizer {self.kind!r}")
            param.grad.zero_()

