"""model.lesson.compare: on the real data, the from-scratch and concise trainers end with the
same weights and accuracies."""
import pytest
import torch

from model.lesson.compare import compare_implementations


def test_scratch_and_concise_give_the_same_numbers(train_data, test_data):
    threads = torch.get_num_threads()
    comparison = compare_implementations(*train_data, *test_data, seed=3, epochs=2)
    assert torch.get_num_threads() == threads  # the caller's thread count is put back
    assert comparison.max_weight_difference < 1e-4 and comparison.max_bias_difference < 1e-4
    assert [h["epoch"] for h in comparison.scratch] == [h["epoch"] for h in comparison.concise] == [1, 2]
    for a, b in zip(comparison.scratch, comparison.concise):
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=1e-4)
        assert a["train_acc"] == pytest.approx(b["train_acc"], abs=1e-4)
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
    assert comparison.scratch[-1]["test_acc"] > 0.75  # they agree on a model that has learned
