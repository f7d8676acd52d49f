"""Our `best` preset against what a practitioner would pick instead: scikit-learn's
LogisticRegression (lbfgs, C=1, max_iter=100) on standardised pixels, side by side in one run.

Each side runs as a process of its own, the way a user runs it, timed from start to its
printed test accuracy (imports and data load included): ours is `python -m model train
--preset best`, theirs the few lines in fit_sklearn(). Both get the same thread count (the
CLI's default, the CPUs less one, unless --threads says otherwise). Each process also reports
its own time from data load to result, and scikit-learn's fit alone.

    scripts/setup.sh requirements-bench.txt     # scikit-learn, for this bench only
    .venv/bin/python -m bench.against_sklearn [--repeats 3] [--threads 1]

Prints time and test accuracy for each and the ratio; with repeats, the runs alternate and
the medians are compared. Target (issue 13): ours at most 1/3 of scikit-learn's time, at test
accuracy >= 0.846.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model.service.settings import threads_per_training

INSTALL = "scikit-learn is a bench-only dependency: scripts/setup.sh requirements-bench.txt"


def fit_sklearn() -> dict:
    """The practitioner's version: standardise each pixel, fit, score. Runs in its own process."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from model.files.data import load_split_numpy

    started = time.perf_counter()
    (train_x, train_y), (test_x, test_y) = load_split_numpy("train"), load_split_numpy("test")
    scaler = StandardScaler()
    inputs = scaler.fit_transform(train_x.reshape(len(train_x), -1))
    fit_started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 100 lbfgs iterations stop short of the optimum
        model = LogisticRegression(solver="lbfgs", C=1.0, max_iter=100).fit(inputs, train_y)
    fit_seconds = time.perf_counter() - fit_started
    test_acc = model.score(scaler.transform(test_x.reshape(len(test_x), -1)), test_y)
    return {"test_acc": float(test_acc), "fit_seconds": fit_seconds, "in_process": time.perf_counter() - started}


def run_ours(threads: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "model", "train", "--preset", "best", "--json", "--threads",
                              str(threads), "--out", str(Path(folder) / "best.safetensors")],
                             capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {"wall": wall, "test_acc": lines[-1]["test_acc"], "training": sum(m["seconds"] for m in lines[:-1])}


def run_sklearn(threads: int) -> dict:
    # BLAS reads its thread count when it loads, so it is set for the child process.
    env = {**os.environ, **{name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.against_sklearn", "--fit-sklearn"], env=env,
                         capture_output=True, text=True, check=True)
    return {"wall": time.perf_counter() - started, **json.loads(out.stdout.splitlines()[-1])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating (default 1)")
    parser.add_argument("--threads", type=int, default=threads_per_training(1),
                        help="threads for both (default: the CLI's, the CPUs less one)")
    parser.add_argument("--fit-sklearn", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.fit_sklearn:
        print(json.dumps(fit_sklearn()))
        return 0
    try:
        import sklearn  # noqa: F401 - only to say how to install it before anything runs
    except ImportError:
        print(INSTALL, file=sys.stderr)
        return 1

    print(f"{args.threads} thread(s) each, {args.repeats} run(s) each, alternating; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    ours, theirs = [], []
    for _ in range(args.repeats):
        for runs, run, name in ((theirs, run_sklearn, "scikit-learn"), (ours, run_ours, "ours (best)")):
            runs.append(run(args.threads))
            r = runs[-1]
            inner = (f"fit {r['fit_seconds']:.2f} s, data load to result {r['in_process']:.2f} s" if "fit_seconds" in r
                     else f"training {r['training']:.2f} s")
            print(f"  {name:13s} {r['wall']:6.2f} s end to end ({inner}), test acc {r['test_acc']:.4f}; "
                  f"load average {os.getloadavg()[0]:.2f}", flush=True)
    wall = lambda runs: statistics.median(r["wall"] for r in runs)  # noqa: E731
    print(f"\nscikit-learn LogisticRegression(lbfgs, C=1, max_iter=100), standardised: {wall(theirs):6.2f} s, "
          f"test acc {statistics.median(r['test_acc'] for r in theirs):.4f}")
    print(f"ours, python -m model train --preset best:                           {wall(ours):6.2f} s, "
          f"test acc {statistics.median(r['test_acc'] for r in ours):.4f}")
    print(f"ours / scikit-learn: {wall(ours) / wall(theirs):.2f} of its time (target <= 0.33 at test acc >= 0.846)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
