"""One train loop for the CLI and the app. It reports through callbacks and never draws.

The data stays uint8 in one tensor; each minibatch is gathered by index and converted to
float on its own, which is what makes an epoch take tens of milliseconds instead of the
lesson's DataLoader seconds.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from model.lesson.classifier import LinearClassifier, input_affine
from model.lesson.concise import ConciseSoftmaxRegression, make_optimizer
from model.lesson.config import TrainConfig
from model.files.data import dataset_checksum
from model.message import Message
from model.lesson.scratch import (HandOptimizer, ScratchSoftmaxRegression, cross_entropy, cross_entropy_from_logits,
                           evaluate_accuracy, softmax_naive)

@dataclass
class Progress:
    """Reported every ~5% of an epoch."""
    epoch: int                 # 1-based
    fraction: float            # of the whole run, 0..1
    train_loss: float          # running mean over this epoch so far
    train_acc: float
    weight: np.ndarray         # current weights [10, 784], for drawing templates


@dataclass
class TrainResult:
    weight: torch.Tensor                 # [10, 784], the last good weights
    bias: torch.Tensor                   # [10]
    normalization: dict                  # {"mean", "std"} applied to pixels/255
    config: TrainConfig
    history: list[dict] = field(default_factory=list)  # one dict per finished epoch
    stopped: bool = False                # a stop request ended it early
    diverged: str | None = None          # a learner-facing reason when the loss blew up
    test_acc: float | None = None        # of the final weights (for a stopped run, past its last full epoch)
    seconds: float = 0.0                 # training time, an unfinished last epoch included
    epochs_trained: float = 0.0          # epochs of minibatches stepped on: 0.4 for a run stopped early in epoch 1
    evaluation: Any = None               # model.lesson.analysis.Evaluation of the final weights on the test set,
                                         # when the process that trained it computed one (model.service.workers)

    def classifier(self) -> LinearClassifier:
        meta = {"config": asdict(self.config), "history": self.history, "stopped": self.stopped,
                "diverged": self.diverged, "dataset": dataset_checksum(), "test_acc": self.test_acc,
                "seconds": self.seconds, "epochs_trained": self.epochs_trained}
        return LinearClassifier(self.weight.numpy().copy(), self.bias.numpy().copy(),
                                self.normalization["mean"], self.normalization["std"], meta)


def normalization_for(config: TrainConfig, images: torch.Tensor) -> dict:
    """Input = (pixels/255 - mean) / std; standardize takes mean and std from the training images."""
    if config.normalize == "scale":
        return {"mean": 0.0, "std": 1.0}
    # torch counts uint8 pixels as they are; numpy's bincount first copies them to int64 (0.4 GB).
    counts = torch.bincount(images.reshape(-1), minlength=256).numpy().astype(np.float64)
    values = np.arange(256) / 255.0
    mean = float((counts * values).sum() / counts.sum())
    std = float(math.sqrt((counts * (values - mean) ** 2).sum() / counts.sum()))
    return {"mean": mean, "std": std}


def to_input(images: torch.Tensor, normalization: dict, out: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 [B, 28, 28] -> float [B, 784], normalised as the classifier does (input_affine);
    into `out`, a float [>= B, 784] buffer, when one is given."""
    scale, shift = input_affine(normalization["mean"], normalization["std"])
    flat = images.reshape(len(images), -1)
    X = (flat.float() if out is None else out[:len(flat)].copy_(flat)).mul_(scale)
    return X.sub_(shift) if shift else X


class _ScratchLearner:
    def __init__(self, weight, bias, config):
        self.net = ScratchSoftmaxRegression(weight, bias)
        self.optimizer = HandOptimizer(self.net.parameters(), config.optimizer, config.lr, config.weight_decay)
        self.naive = config.naive_softmax

    def step(self, X, y, lr):
        """One minibatch: returns (summed loss, logits) and updates only if the loss is finite."""
        logits = self.net(X)
        if self.naive:
            loss = cross_entropy(softmax_naive(logits), y).sum()
        else:
            loss = cross_entropy_from_logits(logits, y).sum()
        value = loss.item()
        if math.isfinite(value):
            loss.backward()
            self.optimizer.lr = lr
            self.optimizer.step(len(y))
        return value, logits


class _ConciseLearner:
    def __init__(self, weight, bias, config):
        self.net = ConciseSoftmaxRegression(weight, bias)
        self.optimizer = make_optimizer(self.net.parameters(), config.optimizer, config.lr, config.weight_decay)
        self.loss = torch.nn.CrossEntropyLoss()

    def step(self, X, y, lr):
        logits = self.net(X)
        loss = self.loss(logits, y)
        value = loss.item() * len(y)
        if math.isfinite(value):
            self.optimizer.zero_grad()
            loss.backward()
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.optimizer.step()
        return value, logits


def initial_parameters(config: TrainConfig, generator: torch.Generator):
    """W ~ N(0, init_std^2) as [10, 784], b = 0: shared by both implementations so they agree."""
    weight = torch.normal(0.0, config.init_std, (10, 784), generator=generator) if config.init_std else torch.zeros(10, 784)
    return weight, torch.zeros(10)


def batches(images: torch.Tensor, labels: torch.Tensor, normalization: dict, batch_size: int = 2500):
    """(X, y) minibatches in order, for evaluation; converted once, reused every epoch."""
    return [(to_input(images[start:start + batch_size], normalization), labels[start:start + batch_size])
            for start in range(0, len(images), batch_size)]


class Minibatches:
    """A training's minibatches: `take(order, i)` is step i's (X, y) for the shuffled `order`.
    X lives in one buffer reused at every step (valid until the next take): a fresh one would
    ask the allocator for 0.8 MB a step, which showed in the time of a whole training."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, normalization: dict, size: int):
        self.flat_images, self.labels = images.reshape(len(images), -1), labels
        self.normalization, self.size = normalization, size
        self.steps = math.ceil(len(images) / size)  # minibatches in an epoch
        self.buffer = torch.empty(size, self.flat_images.shape[1])

    def take(self, order: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = order[i * self.size:(i + 1) * self.size]
        return (to_input(self.flat_images.index_select(0, index), self.normalization, self.buffer),
                self.labels.index_select(0, index))


def divergence_message(config: TrainConfig, loss: float) -> Message:
    what = (Message("train.became_nan", "became NaN (not a number)") if math.isnan(loss)
            else Message("train.became_inf", "overflowed to infinity"))
    naive = Message("train.naive_note", " The lesson's naive softmax makes this likely: exp() of a large logit "
                    "overflows and a tiny probability rounds to 0, whose log is -infinity. The stable (log-sum-exp) "
                    "softmax avoids it.") if config.naive_softmax else ""
    return Message("train.diverged", "The learning rate {lr:g} is too large: the loss {what}, so training stopped and "
                   "kept the last good weights. Try a learning rate about 10 times smaller.{naive}",
                   lr=config.lr, what=what, naive=naive)


def divergence_reason(config: TrainConfig, text: str) -> str:
    """The Message a saved run's `diverged` text was made from (checkpoints keep only the
    English), so the app can show it in another language; else the text as it is."""
    made = (divergence_message(config, loss) for loss in (math.nan, math.inf))
    return next((message for message in made if message == text), text)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate of step `step` (0-based): constant, or cosine decay from lr towards 0."""
    if config.schedule == "constant":
        return config.lr
    return 0.5 * config.lr * (1 + math.cos(math.pi * step / total_steps))


@dataclass
class EpochOutcome:
    loss_sum: float = 0.0      # summed minibatch losses
    correct: int = 0           # right training predictions
    seen: int = 0              # training images stepped on
    steps: int = 0             # steps taken so far in the whole run
    stopped: bool = False      # should_stop() said so before a minibatch
    bad_loss: float | None = None  # the non-finite loss that ended it (no update was made with it)


def train_epoch(learner, minibatches: Minibatches, config: TrainConfig, epoch: int, order: torch.Tensor,
                steps: int, total_steps: int, on_progress: Callable[[Progress], None] | None = None,
                should_stop: Callable[[], bool] | None = None, report_every: int | None = None) -> EpochOutcome:
    """One pass over the training images in `order`; stops early for a stop request or a loss
    that is not finite. A learner never applies a non-finite update, so the weights it holds
    afterwards are always the last good ones. Progress goes to `on_progress` every
    `report_every` minibatches (default: every ~5% of the epoch)."""
    steps_per_epoch = minibatches.steps
    report_every = report_every or max(1, steps_per_epoch // 20)
    out, correct = EpochOutcome(steps=steps), torch.zeros((), dtype=torch.int64)
    for i in range(steps_per_epoch):
        if should_stop is not None and should_stop():
            out.stopped = True
            break
        X, y = minibatches.take(order, i)
        loss, logits = learner.step(X, y, learning_rate(config, out.steps, total_steps))
        if not math.isfinite(loss):
            out.bad_loss = loss
            break
        out.steps += 1
        out.loss_sum += loss
        correct += (logits.argmax(1) == y).sum()
        out.seen += len(y)
        if on_progress is not None and ((i + 1) % report_every == 0 or i + 1 == steps_per_epoch):
            on_progress(Progress(epoch, out.steps / total_steps, out.loss_sum / out.seen, correct.item() / out.seen,
                                 learner.net.weight_bias()[0].numpy()))
    out.correct = int(correct)
    return out


def train(config: TrainConfig,
          train_images: torch.Tensor, train_labels: torch.Tensor,
          test_images: torch.Tensor, test_labels: torch.Tensor,
          on_epoch: Callable[[dict], None] | None = None,
          on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, report_every: int | None = None) -> TrainResult:
    """Train softmax regression; `test_*` is what each epoch's test_acc is measured on
    (pass a validation split there when choosing settings). `report_every`: see train_epoch."""
    config.validate()
    generator = torch.Generator().manual_seed(config.seed)
    weight, bias = initial_parameters(config, generator)
    learner = (_ScratchLearner if config.impl == "scratch" else _ConciseLearner)(weight, bias, config)
    normalization = normalization_for(config, train_images)
    result = TrainResult(weight, bias, normalization, config)

    n = len(train_images)
    minibatches = Minibatches(train_images, train_labels, normalization, config.batch_size)
    total_steps = minibatches.steps * config.epochs
    test_batches = batches(test_images, test_labels, normalization)  # 31 MB for the 10,000 test images
    steps = 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        if isinstance(learner.net, torch.nn.Module):
            learner.net.train()  # as the lesson's train_epoch_ch3 does
        order = torch.randperm(n, generator=generator)
        outcome = train_epoch(learner, minibatches, config, epoch, order, steps, total_steps,
                              on_progress, should_stop, report_every)
        steps = outcome.steps
        result.weight, result.bias = learner.net.weight_bias()
        test_acc = evaluate_accuracy(learner.net, test_batches)
        elapsed = time.perf_counter() - started
        result.seconds += elapsed
        result.epochs_trained = steps / minibatches.steps
        if outcome.stopped or outcome.bad_loss is not None or outcome.seen < n:
            result.stopped = outcome.stopped
            result.diverged = divergence_message(config, outcome.bad_loss) if outcome.bad_loss is not None else None
            result.test_acc = test_acc  # of the weights it ends with, which learned past the last full epoch
            break
        metrics = {"epoch": epoch, "train_loss": outcome.loss_sum / n, "train_acc": outcome.correct / n,
                   "test_acc": test_acc, "seconds": elapsed}
        result.history.append(metrics)
        result.test_acc = test_acc
        if on_epoch is not None:
            on_epoch(metrics)
    return result
