"""The lesson's two implementations side by side: the from-scratch and the concise trainer,
run with one seed, end with the same numbers (the Train page's "Same numbers?")."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from model.lesson.config import preset
from model.lesson.train import train


@dataclass(frozen=True)
class Comparison:
    scratch: list[dict]           # the from-scratch run's per-epoch history (train_loss, train_acc, test_acc)
    concise: list[dict]           # the concise run's
    max_weight_difference: float  # max |W_scratch - W_concise| after the last epoch
    max_bias_difference: float    # max |b_scratch - b_concise|


def compare_implementations(train_images: torch.Tensor, train_labels: torch.Tensor,
                            test_images: torch.Tensor, test_labels: torch.Tensor,
                            seed: int = 0, epochs: int = 3) -> Comparison:
    """Train the lesson preset from scratch and concisely with `seed` for `epochs` epochs, and
    how far apart their parameters end. One torch thread, as the CLI uses per training: a
    thread count that differs between the runs could reorder the sums inside a product."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # OpenMP's count is per calling thread: this thread only, put back below
    try:
        runs = {impl: train(preset("lesson", impl=impl, epochs=epochs, seed=seed),
                            train_images, train_labels, test_images, test_labels)
                for impl in ("scratch", "concise")}
    finally:
        torch.set_num_threads(threads)
    scratch, concise = runs["scratch"], runs["concise"]
    return Comparison(scratch.history, concise.history,
                      float((scratch.weight - concise.weight).abs().max()),
                      float((scratch.bias - concise.bias).abs().max()))
