"""model.lesson.softmax_steps: the explorer's numbers against torch's softmax and log_softmax."""
import numpy as np
import pytest
import torch

from model.lesson.softmax_steps import softmax_table

LOGITS = np.array([2.0, -1.0, 0.5, 3.0, -4.0, 0.0, 1.5, -2.5, 1.0, 0.25], dtype=np.float32)


@pytest.mark.parametrize(("temperature", "scale"), [(1.0, 1.0), (0.25, 1.0), (4.0, 1.0), (1.0, 60.0)])
def test_the_table_matches_torch(temperature, scale):
    table = softmax_table(LOGITS, temperature, scale)
    o = torch.tensor(LOGITS) * scale / temperature
    assert np.allclose(table["logits"], o.numpy())
    assert np.allclose(table["probabilities"], torch.softmax(o, 0).numpy(), atol=1e-7)
    assert np.allclose(table["log_probabilities"], torch.log_softmax(o, 0).numpy(), atol=1e-5)
    assert table["probabilities"].dtype == np.float32 and table["probabilities"].sum() == pytest.approx(1, abs=1e-6)


def test_the_naive_columns_are_the_lessons_exp_then_normalise():
    table = softmax_table(LOGITS)
    assert not table["overflowed"]
    assert np.allclose(table["exp"], np.exp(LOGITS))
    assert float(table["sum"]) == pytest.approx(float(np.exp(LOGITS).sum()), rel=1e-6)
    assert np.allclose(table["naive"], table["probabilities"], atol=1e-7)


def test_scaled_up_logits_overflow_the_naive_softmax_but_not_the_stable_one():
    table = softmax_table(LOGITS, scale=40.0)  # 3 x 40 = 120 > 88: exp overflows float32
    assert table["overflowed"] and np.isinf(table["exp"][3]) and np.isnan(table["naive"][3])
    assert np.isfinite(table["probabilities"]).all()
    assert table["probabilities"].argmax() == 3 and table["probabilities"][3] == pytest.approx(1.0, abs=1e-6)


def test_a_higher_temperature_flattens_the_distribution():
    sharp, flat = softmax_table(LOGITS, 0.5)["probabilities"], softmax_table(LOGITS, 5.0)["probabilities"]
    assert sharp.max() > softmax_table(LOGITS)["probabilities"].max() > flat.max()
    with pytest.raises(ValueError):
        softmax_table(LOGITS, 0.0)
