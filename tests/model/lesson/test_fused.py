"""model.lesson.fused: K models in one pass give each model the numbers it gets trained alone."""
import math
from dataclasses import replace

import pytest
import torch

from model.lesson import fused
from model.lesson.config import fuse_key, preset
from model.lesson.fused import train_together
from model.lesson.train import train


@pytest.fixture(scope="module")
def small(train_data, test_data):
    """6,000 real training images and 2,000 real test images."""
    return train_data[0][:6000], train_data[1][:6000], test_data[0][:2000], test_data[1][:2000]


# lr 0.3 and more is chaotic on 6,000 images: there scratch and concise alone part by 2e-2 in two epochs.
MIXED = [preset("lesson", epochs=2, lr=0.01), preset("lesson", epochs=2, lr=0.1),
         preset("lesson", epochs=2, lr=0.05, optimizer="momentum", weight_decay=1e-3),
         preset("lesson", epochs=2, lr=0.002, optimizer="adam", schedule="cosine", init_std=0.05),
         preset("lesson", epochs=2, lr=0.01, optimizer="adam", weight_decay=1e-4, impl="scratch")]


# All plain SGD: the fused engine's own path, which folds the learning rate into one in-place product.
PLAIN = [preset("lesson", epochs=2, lr=0.01), preset("lesson", epochs=2, lr=0.2, weight_decay=1e-2),
         preset("lesson", epochs=2, lr=0.1, schedule="cosine", init_std=0.05, impl="scratch")]


@pytest.mark.parametrize("configs", [MIXED, PLAIN], ids=["mixed optimizers", "plain SGD"])
def test_each_fused_model_matches_training_it_alone(small, configs):
    fused = train_together(configs, *small)
    for config, together in zip(configs, fused):
        alone = train(config, *small)
        assert torch.allclose(together.weight, alone.weight, atol=1e-5), config
        assert torch.allclose(together.bias, alone.bias, atol=1e-5), config
        assert len(together.history) == len(alone.history) == 2
        for a, b in zip(together.history, alone.history):
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
            assert a["train_acc"] == pytest.approx(b["train_acc"], abs=1e-3)
            assert a["test_acc"] == pytest.approx(b["test_acc"], abs=1e-3)
        assert together.test_acc == pytest.approx(alone.test_acc, abs=1e-3)


def test_one_model_can_be_stopped_and_one_can_diverge_while_the_others_go_on(small):
    configs = [preset("lesson", epochs=2, lr=0.1), preset("lesson", epochs=2, lr=0.1, seed=0, weight_decay=1e-3),
               replace(preset("lesson", epochs=2), impl="scratch", lr=1e38)]
    calls = {"n": 0}

    def stop_the_second(k):
        if k == 1:
            calls["n"] += 1
            return calls["n"] > 10
        return False

    ran, stopped, diverged = train_together(configs, *small, should_stop=stop_the_second)
    assert len(ran.history) == 2 and not ran.stopped and ran.diverged is None
    assert stopped.stopped and stopped.history == [] and stopped.test_acc is not None
    steps = math.ceil(len(small[0]) / 256)
    # Its ten minibatches, and the time of the epoch it stopped in; the others went on for two.
    assert stopped.epochs_trained == 10 / steps and 0 < stopped.seconds < ran.seconds and ran.epochs_trained == 2
    assert diverged.diverged and "too large" in diverged.diverged and torch.isfinite(diverged.weight).all()
    alone = train(configs[0], *small)
    assert torch.allclose(ran.weight, alone.weight, atol=1e-5)  # the others did not disturb it


def after(steps):
    """A should_stop that lets `steps` minibatches pass, then stops."""
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > steps
    return should_stop


def test_equal_configs_train_once_and_a_copy_stopped_early_keeps_its_own_numbers(small, monkeypatch):
    """A class pressing Start on one preset: one row of the product for all; one who stops gets what
    stopping alone gives, while the others go on."""
    lesson = preset("lesson", epochs=2, lr=0.1)
    configs = [lesson, replace(lesson, impl="scratch"), lesson, preset("lesson", epochs=2, lr=0.05)]
    rows = []
    logits = fused._Models.logits
    monkeypatch.setattr(fused._Models, "logits", lambda self, X: rows.append(len(self.configs)) or logits(self, X))
    stop_the_third = after(10)
    first, scratch, stopped, other = train_together(configs, *small,
                                                    should_stop=lambda k: k == 2 and stop_the_third())
    assert rows[0] == 2 and max(rows) == 3  # two distinct configs, then the stopped copy's frozen row
    assert torch.equal(first.weight, scratch.weight) and first.history == scratch.history
    assert scratch.config.impl == "scratch" and stopped.config == lesson
    for together, config in ((first, lesson), (other, configs[3])):
        alone = train(config, *small)
        assert torch.allclose(together.weight, alone.weight, atol=1e-5) and len(together.history) == 2
        assert together.test_acc == pytest.approx(alone.test_acc, abs=1e-3)
    alone = train(lesson, *small, should_stop=after(10))
    assert stopped.stopped and alone.stopped and stopped.history == alone.history == []
    assert stopped.epochs_trained == alone.epochs_trained == 10 / math.ceil(len(small[0]) / 256)
    assert torch.allclose(stopped.weight, alone.weight, atol=1e-5)
    assert not torch.allclose(stopped.weight, first.weight, atol=1e-3)  # the row went on without it
    assert stopped.test_acc == pytest.approx(alone.test_acc, abs=1e-3)


def test_every_copy_stopped_stops_the_row(small):
    lesson = preset("lesson", epochs=2, lr=0.1)
    stops = [after(5), after(12)]
    a, b = train_together([lesson, lesson], *small, should_stop=lambda k: stops[k]())
    steps = math.ceil(len(small[0]) / 256)
    assert a.stopped and b.stopped and (a.epochs_trained, b.epochs_trained) == (5 / steps, 12 / steps)
    for result, taken in ((a, 5), (b, 12)):
        alone = train(lesson, *small, should_stop=after(taken))
        assert torch.allclose(result.weight, alone.weight, atol=1e-5)


def test_configs_that_see_other_minibatches_are_refused():
    lesson = preset("lesson")
    assert fuse_key(lesson) == fuse_key(replace(lesson, lr=1.0, optimizer="adam", weight_decay=0.1))
    for other in (replace(lesson, seed=1), replace(lesson, batch_size=128), replace(lesson, epochs=3),
                  replace(lesson, normalize="standardize"), replace(lesson, init_std=0.0)):
        assert fuse_key(other) != fuse_key(lesson)
        with pytest.raises(ValueError, match="can't train together"):
            train_together([lesson, other], torch.zeros(8, 28, 28, dtype=torch.uint8), torch.zeros(8, dtype=torch.int64),
                           torch.zeros(8, 28, 28, dtype=torch.uint8), torch.zeros(8, dtype=torch.int64))


def test_the_naive_softmax_trains_alone_and_overflows_as_the_lesson_says(small):
    """The fused step is the stable one: naive configs fused would never overflow (lr 3 did not)."""
    naive = [preset("lesson", epochs=2, lr=lr, impl="scratch", naive_softmax=True) for lr in (0.1, 3.0)]
    assert fuse_key(naive[0]) is None
    for group in (naive, naive[1:]):
        with pytest.raises(ValueError, match="naive softmax trains alone"):
            train_together(group, *small)
    assert train(naive[1], *small).diverged  # alone it overflows


def test_each_model_reports_its_own_curves(small):
    seen = {0: [], 1: []}
    train_together([preset("lesson", epochs=2, lr=0.01), preset("lesson", epochs=2, lr=0.5)], *small,
                   on_epoch=lambda k, m: seen[k].append(m["test_acc"]))
    assert len(seen[0]) == len(seen[1]) == 2 and seen[0] != seen[1]
