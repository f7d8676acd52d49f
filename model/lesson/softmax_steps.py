"""Softmax one number at a time, for the Predict page's explorer: the logits o, exp(o), their
sum and ŷ, in float32 as the lesson computes them, beside the stable (log-sum-exp) version."""
from __future__ import annotations

import numpy as np


def softmax_table(logits, temperature: float = 1.0, scale: float = 1.0) -> dict:
    """Every intermediate of softmax(o) for one example, o = logits * scale / temperature.

    Returns float32 arrays: "logits" (o), "exp" (exp(o), the naive numerator, inf once o > ~88),
    "sum" (Σ exp(o), a 0-d array), "naive" (exp(o) / Σ exp(o), NaN after an overflow),
    "probabilities" (ŷ, the stable softmax) and "log_probabilities" (log ŷ, stable); and
    "overflowed": whether the naive softmax left any value that is not finite."""
    if temperature <= 0:
        raise ValueError(f"the temperature must be positive, not {temperature}")
    o = np.asarray(logits, dtype=np.float32) * np.float32(scale) / np.float32(temperature)
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is what the naive column shows
        exp = np.exp(o)
        total = exp.sum(dtype=np.float32)
        naive = exp / total
    shifted = o - o.max()  # the log-sum-exp trick: every exp() is at most 1
    shifted_total = np.exp(shifted).sum(dtype=np.float32)
    log_probabilities = shifted - np.log(shifted_total)
    return {"logits": o, "exp": exp, "sum": np.asarray(total, dtype=np.float32), "naive": naive,
            "probabilities": np.exp(log_probabilities), "log_probabilities": log_probabilities,
            "overflowed": bool(not np.isfinite(naive).all())}
