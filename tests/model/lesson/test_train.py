import math

import numpy as np
import pytest
import torch

from model.lesson.config import PRESETS, TrainConfig, preset
from model.lesson.train import train


@pytest.fixture(scope="module")
def small(train_data, test_data):
    """6,000 real training images and 2,000 real test images: enough to learn, quick to run."""
    return train_data[0][:6000], train_data[1][:6000], test_data[0][:2000], test_data[1][:2000]


def test_one_epoch_of_the_lesson_preset_learns(train_data, test_data):
    result = train(preset("lesson", epochs=1), *train_data, *test_data)
    assert len(result.history) == 1
    assert result.history[0]["test_acc"] > 0.75
    assert result.classifier().predict(test_data[0].numpy()).shape == (10_000,)


def test_lesson_preset_is_the_lessons_recipe():
    lesson = PRESETS["lesson"]
    assert (lesson.impl, lesson.epochs, lesson.lr, lesson.batch_size, lesson.optimizer, lesson.normalize) == \
        ("concise", 10, 0.1, 256, "sgd", "scale")
    assert lesson.weight_decay == 0 and lesson.init_std == 0.01 and lesson.schedule == "constant"


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.001)])
def test_scratch_and_concise_agree_on_the_same_data_and_seed(small, optimizer, lr):
    runs = [train(TrainConfig(impl=impl, epochs=2, lr=lr, optimizer=optimizer, weight_decay=1e-4,
                              normalize="standardize", schedule="cosine"), *small)
            for impl in ("scratch", "concise")]
    scratch, concise = runs
    assert torch.allclose(scratch.weight, concise.weight, atol=1e-5)
    for a, b in zip(scratch.history, concise.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=1e-3)


def test_same_seed_same_numbers_other_seed_other_numbers(small):
    first, again, other = (train(TrainConfig(epochs=1, seed=seed), *small) for seed in (7, 7, 8))
    assert torch.equal(first.weight, again.weight)
    assert first.history[0]["train_loss"] == again.history[0]["train_loss"]
    assert not torch.equal(first.weight, other.weight)


def test_callbacks_report_every_epoch_and_at_least_every_tenth_of_one(small):
    epochs, progress = [], []
    train(TrainConfig(epochs=2, batch_size=100), *small, on_epoch=epochs.append, on_progress=progress.append)
    assert [m["epoch"] for m in epochs] == [1, 2]
    assert set(epochs[0]) == {"epoch", "train_loss", "train_acc", "test_acc", "seconds"}
    first_epoch = [p.fraction for p in progress if p.epoch == 1]
    gaps = np.diff([0.0] + first_epoch)
    assert len(first_epoch) >= 10 and gaps.max() <= 0.5 / 10 + 1e-9  # 2 epochs: a tenth of one is 0.05
    assert progress[-1].fraction == pytest.approx(1.0)
    assert progress[-1].weight.shape == (10, 784)


def test_stop_is_honoured_within_one_batch(small):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 5  # asked before each batch: five batches, then stop

    seen = []
    result = train(TrainConfig(epochs=3), *small, on_progress=seen.append, should_stop=should_stop)
    assert result.stopped and result.history == []
    assert len(calls) == 6
    # It learned for five minibatches of an epoch: that and its time are what its results show.
    assert result.epochs_trained == 5 / math.ceil(len(small[0]) / 256) and result.seconds > 0
    assert result.classifier().metadata["epochs_trained"] == result.epochs_trained
    # What was learned in those five batches is kept.
    untrained = train(TrainConfig(epochs=1), *small, should_stop=lambda: True)
    assert not torch.equal(result.weight, untrained.weight)


@pytest.mark.parametrize("config", [
    TrainConfig(impl="scratch", naive_softmax=True, lr=50, epochs=2),  # the lesson's softmax: -log(0)
    TrainConfig(impl="concise", lr=1e38, epochs=2),  # even log-sum-exp overflows float32 here
], ids=["naive-lr50", "stable-lr1e38"])
def test_divergence_stops_keeps_last_good_weights_and_explains(small, config):
    result = train(config, *small)
    assert result.diverged and f"learning rate {config.lr:g} is too large" in result.diverged
    assert torch.isfinite(result.weight).all() and torch.isfinite(result.bias).all()
    # The kept weights still give a finite loss: they are the ones from before the blow-up.
    logits = result.classifier().logits(small[2].numpy())
    assert np.isfinite(logits).all()


def test_config_validation_names_the_bad_setting():
    with pytest.raises(ValueError, match="optimizer must be one of sgd, momentum, adam"):
        TrainConfig(optimizer="rmsprop").validate()
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig(lr=math.nan).validate()
    with pytest.raises(ValueError, match="unknown preset"):
        preset("fastest")


def test_standardize_uses_the_training_pixels_statistics(small):
    result = train(TrainConfig(epochs=1, normalize="standardize"), *small)
    pixels = small[0].double() / 255
    assert result.normalization["mean"] == pytest.approx(pixels.mean().item(), rel=1e-9)
    assert result.normalization["std"] == pytest.approx(pixels.std(unbiased=False).item(), rel=1e-9)


def test_the_saved_test_accuracy_is_that_of_the_final_weights(train_data, test_data):
    """One meaning for CLI and app: for a full run the last epoch's, for a stopped run its own."""
    images, labels = test_data[0].numpy(), test_data[1].numpy()
    full = train(preset("lesson", epochs=1, impl="scratch"), *train_data, *test_data)
    assert full.test_acc == full.history[-1]["test_acc"] == full.classifier().metadata["test_acc"]
    calls = {"n": 0}

    def stop_mid_epoch():
        calls["n"] += 1
        return calls["n"] > 300  # 1.3 epochs of batch 256

    stopped = train(preset("lesson", epochs=3, impl="scratch"), *train_data, *test_data, should_stop=stop_mid_epoch)
    assert stopped.stopped and len(stopped.history) == 1
    final = float((stopped.classifier().predict(images) == labels).mean())
    assert stopped.test_acc == pytest.approx(final, abs=1e-4) and stopped.test_acc != stopped.history[-1]["test_acc"]


def test_the_cosine_schedule_starts_at_lr_and_decays_towards_zero():
    from model.lesson.train import learning_rate

    cosine, constant = preset("best"), preset("lesson")
    assert learning_rate(cosine, 0, 100) == cosine.lr
    assert learning_rate(cosine, 50, 100) == pytest.approx(cosine.lr / 2)
    assert 0 < learning_rate(cosine, 99, 100) < cosine.lr * 1e-3
    assert learning_rate(constant, 99, 100) == constant.lr


def test_the_trainer_and_the_classifier_normalise_inputs_the_same_way(train_data):
    from model.lesson.train import normalization_for, to_input

    images = train_data[0][:512]
    norm = normalization_for(preset("best"), train_data[0][:2000])
    trained = train(preset("best", epochs=1), train_data[0][:2000], train_data[1][:2000], images, train_data[1][:512])
    classifier = trained.classifier()
    assert (classifier.mean, classifier.std) == (norm["mean"], norm["std"])
    assert np.array_equal(to_input(images, norm).numpy(), classifier.inputs(images.numpy()))


def test_an_epochs_minibatches_cover_the_shuffled_order_once_in_its_one_buffer(train_data):
    from model.lesson.train import Minibatches, normalization_for, to_input

    images, labels = train_data[0][:1000], train_data[1][:1000]
    norm = normalization_for(preset("best"), images)
    minibatches = Minibatches(images, labels, norm, 256)
    order = torch.randperm(1000, generator=torch.Generator().manual_seed(3))
    taken = [minibatches.take(order, i) for i in range(minibatches.steps)]
    assert minibatches.steps == 4 and [len(y) for _, y in taken] == [256, 256, 256, 232]
    assert all(X.data_ptr() == minibatches.buffer.data_ptr() for X, _ in taken)  # no copy per step
    # The buffer now holds the last (short) step, and each step's labels match its own rows.
    assert torch.equal(taken[-1][0], to_input(images[order[768:]], norm))
    assert torch.equal(torch.cat([y for _, y in taken]), labels[order])
