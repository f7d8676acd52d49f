"""A sweep of learning rates trained in one pass (model.lesson.fused) against one run alone, side by
side in one process, on the real Fashion-MNIST: the lesson preset, 10 epochs.

    .venv/bin/python -m bench.sweep_speed [--models 8] [--threads 1] [--repeats 3]

Prints the best-of-N seconds (taking turns) of one run alone (scratch, as the K models, and the app's default
implementation), of the K models fused, of the K models one after another, the ratios, and each
model's test accuracy fused and alone. They agree to rounding at small learning rates; from
lr ~0.3 on, SGD amplifies rounding (one changed pixel moves lr 0.518's weights by 0.1), and so
the lesson's own two implementations of the same arithmetic, scratch and concise, part there as
far: the last column shows it, the yardstick for the fused one.
Target (issue 13): 8 learning rates in at most 2x the time of one run.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from model.lesson.config import TrainConfig, preset
from model.files.data import load_split
from model.lesson.fused import train_together
from model.lesson.train import train


def best_of(repeats: int, *works) -> list[tuple[float, object]]:
    """(best seconds, last result) of each work. They take turns, so that a slow moment of the
    machine (this VM's timings swing by a third) hits all of them alike."""
    times, results = [[] for _ in works], [None] * len(works)
    for _ in range(repeats):
        for i, work in enumerate(works):
            started = time.perf_counter()
            results[i] = work()
            times[i].append(time.perf_counter() - started)
    return [(min(t), r) for t, r in zip(times, results)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app gives a training one on 2 CPUs)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = (*load_split("train"), *load_split("test"))
    lrs = np.geomspace(0.01, 1.0, args.models)
    configs = [preset("lesson", lr=float(lr), impl="scratch") for lr in lrs]
    train(preset("lesson", epochs=1), *data)  # warm: first-call set-up is nobody's cost here

    # The app's own single run: the lesson preset's default implementation, torch.nn + torch.optim.
    middle = replace(configs[len(configs) // 2], impl=TrainConfig().impl)
    train(replace(middle, epochs=1), *data)  # its first call imports torch.optim's compiler: nobody's cost here
    (alone, _), (default_alone, _), (fused, together) = best_of(
        args.repeats, lambda: train(configs[len(configs) // 2], *data), lambda: train(middle, *data),
        lambda: train_together(configs, *data))
    started = time.perf_counter()
    separate = [train(c, *data) for c in configs]
    one_by_one = time.perf_counter() - started
    concise = [train(replace(c, impl="concise"), *data) for c in configs]

    print(f"lesson preset, 10 epochs, {args.threads} torch thread(s), best of {args.repeats}")
    print(f"one run alone (scratch):  {alone:6.2f} s")
    print(f"one run alone ({middle.impl}):  {default_alone:6.2f} s   (the app's default)")
    print(f"{args.models} models fused:          {fused:6.2f} s   {fused / alone:.2f}x the scratch run, "
          f"{fused / default_alone:.2f}x the {middle.impl} run   (target <= 2x)")
    print(f"{args.models} models one by one:     {one_by_one:6.2f} s   {one_by_one / alone:.2f}x one run (once)")
    print("test accuracy, fused vs alone (scratch), and concise alone beside scratch alone:")
    for lr, f, s, c in zip(lrs, together, separate, concise):
        print(f"  lr {lr:6.3f}: {f.test_acc:.4f} vs {s.test_acc:.4f}   max |dW| {float((f.weight - s.weight).abs().max()):.1e}"
              f"   | concise {c.test_acc:.4f}   max |dW| {float((c.weight - s.weight).abs().max()):.1e}")
    return 0 if fused <= 2 * min(alone, default_alone) else 1


if __name__ == "__main__":
    raise SystemExit(main())
