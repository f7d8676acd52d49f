"""K softmax regressions trained in one pass: the same minibatches, one matrix product.

A step of softmax regression is two skinny products (a 256x784 batch times 784x10, and the
gradient back); the CPU idles inside them. Models that see the same minibatches in the same
order (same seed, batch size, epochs, normalisation) can share them: the batch times
784x(10K) for all K models at once. Learning rate, weight decay, optimizer, schedule and the
scale of the initial weights may differ. Each model gets the numbers it would get trained
alone with model.lesson.train (the same initial draw, data order and update rules as the lesson's
hand-written optimizers), reports its own curves, and can be stopped alone.

Equal configs (a class pressing Start on the same preset) would get equal numbers, so they train
once: one row of the product serves them all. One that is stopped while the others go on takes
a frozen copy of the row, so its result is what it would have been alone.

    results = train_together([preset("lesson", lr=lr) for lr in (0.01, 0.1, 1.0)], *data)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from model.lesson.config import TrainConfig, fuse_key, numbers_key
from model.lesson.train import (EpochOutcome, Minibatches, Progress, TrainResult, batches, divergence_message,
                         initial_parameters, learning_rate, normalization_for)

MOMENTUM, BETAS, EPS = 0.9, (0.9, 0.999), 1e-8  # model.lesson.scratch.HandOptimizer's (torch.optim's) defaults


@dataclass
class _Models:
    """The K models' parameters and optimizer state, stacked on a first axis of size K (a row each)."""
    weight: torch.Tensor                     # [K, 10, 784]
    bias: torch.Tensor                       # [K, 10]
    configs: list[TrainConfig]
    active: torch.Tensor                     # bool [K]: still learning (not stopped, not diverged)
    state: dict = field(default_factory=dict)
    steps: int = 0

    def __post_init__(self):
        column = lambda values: torch.tensor(values, dtype=torch.float32).view(-1, 1, 1)  # noqa: E731
        self.decay = column([c.weight_decay for c in self.configs])
        self.kind = {kind: torch.tensor([c.optimizer == kind for c in self.configs]).view(-1, 1, 1)
                     for kind in ("sgd", "momentum", "adam")}
        # Known once as Python bools, so a step does no tensor op (and no GIL wait) to ask.
        self.uses = {kind: bool(mask.any()) for kind, mask in self.kind.items()}
        self.decays = any(c.weight_decay for c in self.configs)

    def split(self, row: int) -> int:
        """A frozen copy of `row` appended as a new row; its index. The row itself goes on."""
        self.weight, self.bias = torch.cat([self.weight, self.weight[row, None]]), torch.cat([self.bias, self.bias[row, None]])
        self.state = {name: torch.cat([value, value[row, None]]) for name, value in self.state.items()}
        self.active = torch.cat([self.active, torch.tensor([False])])
        self.configs = [*self.configs, self.configs[row]]
        self.__post_init__()
        return len(self.configs) - 1

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        """[B, 784] -> [K, 10, B], one product for all K models (the biases added in it). The
        minibatch is the last axis: reductions over the ten classes then run along whole rows of
        B numbers (over [8, 10, 256] a step's softmax, loss and gradient took 0.19-0.22 ms,
        against 0.32-0.39 ms with the classes last)."""
        K = len(self.configs)
        return torch.addmm(self.bias.view(K * 10, 1), self.weight.view(K * 10, -1), X.T).view(K, 10, len(X))

    @torch.no_grad()
    def step(self, X: torch.Tensor, y: torch.Tensor, lrs: list[float]) -> tuple[list[float], torch.Tensor]:
        """One minibatch for every active model: (summed loss per model, predicted classes [K, B]).
        A model whose loss is not finite is not updated (and the caller freezes it)."""
        B, K = len(X), len(self.configs)
        Z = self.logits(X)
        # One reduction over the 10 logits gives both the log-sum-exp's shift and the prediction
        # (max's index is argmax's, the first of equals), cheaper than logsumexp and argmax apart.
        top, predicted = Z.max(1, keepdim=True)
        E = (Z - top).exp_()
        S = E.sum(1, keepdim=True)
        target = y.view(1, 1, B).expand(K, 1, B)
        loss = (S.log() + top - Z.gather(1, target)).sum(2).view(K)  # -log softmax at the target
        values = loss.tolist()
        update = [a and math.isfinite(v) for a, v in zip(self.active.tolist(), values)]
        G = E.div_(S).scatter_add_(1, target, torch.full((K, 1, B), -1.0))  # softmax - onehot
        if not all(update):  # a stopped or diverged model's gradient may be NaN: nothing of it may pass
            G = torch.where(torch.tensor(update).view(K, 1, 1), G, 0.0)
        self.steps += 1
        if not (self.uses["momentum"] or self.uses["adam"]):
            # Plain SGD: the learning rate and the mean over the minibatch go into G, so that one
            # product updates every weight in place (grad_w = G X / B is never stored).
            if self.decays:
                shrink = [1 - lr * c.weight_decay if u else 1.0 for lr, c, u in zip(lrs, self.configs, update)]
                self.weight.mul_(torch.tensor(shrink).view(K, 1, 1))
                self.bias.mul_(torch.tensor(shrink).view(K, 1))
            G.mul_(torch.tensor(lrs).view(K, 1, 1) / B)
            self.weight.view(K * 10, -1).addmm_(G.view(K * 10, B), X, alpha=-1)
            self.bias.sub_(G.sum(2))
            return values, predicted.view(K, B)
        G.div_(B)
        grad_w = (G.view(K * 10, B) @ X).view(K, 10, -1)
        grad_b = G.sum(2)
        lr = torch.tensor(lrs, dtype=torch.float32).view(-1, 1, 1)
        mask = torch.tensor(update).view(-1, 1, 1)
        for name, param, grad in (("weight", self.weight, grad_w), ("bias", self.bias.unsqueeze(2), grad_b.unsqueeze(2))):
            param -= torch.where(mask, self._update(name, param, grad, lr), 0.0)
        return values, predicted.view(K, B)

    def _update(self, name: str, param: torch.Tensor, grad: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        """lr x the optimizer's direction, per model, as model.lesson.scratch.HandOptimizer computes it."""
        if self.decays:
            grad = grad + self.decay * param
        change = lr * grad
        if self.uses["momentum"]:
            buf = self.state[f"{name}.buf"] = grad.clone() if self.steps == 1 else MOMENTUM * self.state[f"{name}.buf"] + grad
            change = torch.where(self.kind["momentum"], lr * buf, change)
        if self.uses["adam"]:
            b1, b2 = BETAS
            m = self.state[f"{name}.m"] = (1 - b1) * grad + b1 * self.state.get(f"{name}.m", torch.zeros_like(grad))
            v = self.state[f"{name}.v"] = (1 - b2) * grad * grad + b2 * self.state.get(f"{name}.v", torch.zeros_like(grad))
            m_hat, v_hat = m / (1 - b1 ** self.steps), v / (1 - b2 ** self.steps)
            change = torch.where(self.kind["adam"], lr * m_hat / (v_hat.sqrt() + EPS), change)
        return change


def train_together(configs: list[TrainConfig],
                   train_images: torch.Tensor, train_labels: torch.Tensor,
                   test_images: torch.Tensor, test_labels: torch.Tensor,
                   on_epoch: Callable[[int, dict], None] | None = None,
                   on_progress: Callable[[int, Progress], None] | None = None,
                   should_stop: Callable[[int], bool] | None = None) -> list[TrainResult]:
    """Train every config in one pass; callbacks take the model's index first. Raises
    ValueError if the configs can't share their minibatches (see fuse_key)."""
    for config in configs:
        config.validate()
    keys = {fuse_key(c) for c in configs}
    if len(keys) != 1 or None in keys:
        raise ValueError("these settings can't train together: seed, batch size, epochs, normalization and "
                         "a zero initial std must be the same for all, and the naive softmax trains alone (model.lesson.train)")
    first = configs[0]
    same = {}  # the row of each config: equal ones share one
    rows = [same.setdefault(numbers_key(c), len(same)) for c in configs]
    distinct = [configs[rows.index(r)] for r in range(len(same))]
    generators = [torch.Generator().manual_seed(c.seed) for c in distinct]
    drawn = [initial_parameters(c, g) for c, g in zip(distinct, generators)]  # each its own draw, as alone
    generator = generators[0]  # every generator is now in the same state: one data order for all
    models = _Models(torch.stack([w for w, _ in drawn]), torch.stack([b for _, b in drawn]), distinct,
                     torch.ones(len(distinct), dtype=torch.bool))
    normalization = normalization_for(first, train_images)
    results = [TrainResult(*drawn[r], normalization, c) for c, r in zip(configs, rows)]

    n, K = len(train_images), len(configs)
    minibatches = Minibatches(train_images, train_labels, normalization, first.batch_size)
    steps_per_epoch = minibatches.steps
    total_steps = steps_per_epoch * first.epochs
    report_every = max(1, steps_per_epoch // 20)
    test_batches = batches(test_images, test_labels, normalization)
    ended = [False] * K  # stopped or diverged in an earlier epoch: its result is final
    for epoch in range(1, first.epochs + 1):
        started = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        outcomes = [EpochOutcome(steps=models.steps) for _ in range(K)]
        correct = [0] * K
        for i in range(steps_per_epoch):
            # Per model, only Python numbers: in a server whose page threads hold the GIL, every
            # small tensor op of this thread waits for it again (one .tolist() per step, not 2K).
            active = models.active.tolist()  # per row
            for k in range(K):
                if active[rows[k]] and not outcomes[k].stopped and should_stop is not None and should_stop(k):
                    outcomes[k].stopped = True
                    if any(rows[j] == rows[k] and not outcomes[j].stopped for j in range(K)):
                        rows[k] = models.split(rows[k])  # the others go on; it keeps the row as it is now
                        active.append(False)
                    else:
                        active[rows[k]] = False
            if not any(active):
                break
            models.active = torch.tensor(active)
            X, y = minibatches.take(order, i)
            values, predicted = models.step(X, y, [learning_rate(c, models.steps, total_steps) for c in models.configs])
            right = (predicted == y).sum(1).tolist()
            reports = on_progress is not None and ((i + 1) % report_every == 0 or i + 1 == steps_per_epoch)
            for k in (k for k in range(K) if active[rows[k]]):
                r = rows[k]
                if not math.isfinite(values[r]):
                    models.active[r], outcomes[k].bad_loss = False, values[r]
                    continue
                outcomes[k].steps += 1
                outcomes[k].loss_sum += values[r]
                outcomes[k].seen += len(y)
                correct[k] += right[r]
                if reports:
                    seen = outcomes[k].seen
                    on_progress(k, Progress(epoch, outcomes[k].steps / total_steps, outcomes[k].loss_sum / seen,
                                            correct[k] / seen, models.weight[r].numpy().copy()))
        accuracies = _accuracies(models, test_batches)
        elapsed = time.perf_counter() - started
        for k, (result, outcome) in enumerate(zip(results, outcomes)):
            if ended[k]:
                continue
            r = rows[k]
            result.weight, result.bias = models.weight[r].clone(), models.bias[r].clone()
            result.test_acc = accuracies[r]
            result.seconds += elapsed
            result.epochs_trained = outcome.steps / steps_per_epoch
            if outcome.stopped or outcome.bad_loss is not None or outcome.seen < n:
                ended[k] = True
                result.stopped = outcome.stopped
                result.diverged = divergence_message(result.config, outcome.bad_loss) if outcome.bad_loss is not None else None
                continue
            metrics = {"epoch": epoch, "train_loss": outcome.loss_sum / n, "train_acc": correct[k] / n,
                       "test_acc": accuracies[r], "seconds": elapsed}
            result.history.append(metrics)
            if on_epoch is not None:
                on_epoch(k, metrics)
        if not models.active.any():
            break
    return results


def _accuracies(models: _Models, test_batches) -> list[float]:
    correct, total = torch.zeros(len(models.configs), dtype=torch.int64), 0
    with torch.no_grad():
        for X, y in test_batches:
            correct += (models.logits(X).max(1).indices == y).sum(1)  # as argmax, faster
            total += len(y)
    return [int(c) / total for c in correct]
