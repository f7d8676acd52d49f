"""Training beside a busy process, the normal state of a laptop or a shared server: each preset
through `python -m model train` while a busy-loop process holds one core, with torch's default
threads (one per core) and with the CLI's own choice (the CPUs less one), side by side.

    .venv/bin/python -m bench.under_load [--presets lesson best]

Prints the wall time of each run and its first two epochs. The CLI's choice must never be
slower than one thread would be (issue 13: with 2 threads the lesson preset took 19 s, its
first epochs 11.8 s and 6.3 s; with one thread 1.4 s).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time

from model.service.settings import threads_per_training


def busy_loop() -> None:
    while True:
        pass


def run(preset: str, threads: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "model", "train", "--preset", preset, "--json", "--threads",
                          str(threads), "--out", os.devnull], capture_output=True, text=True, check=True)
    took = time.perf_counter() - started
    epochs = [json.loads(line)["seconds"] for line in out.stdout.splitlines() if line.startswith('{"epoch"')]
    return took, epochs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["lesson", "best"])
    args = parser.parse_args(argv)
    default, chosen = os.cpu_count() or 1, threads_per_training(1)
    busy = multiprocessing.Process(target=busy_loop, daemon=True)
    busy.start()
    try:
        print(f"beside one busy-loop process, on {os.cpu_count()} CPUs; wall time of `python -m model train` "
              "(torch import and data load included) and its first two epochs")
        for preset in args.presets:
            for label, threads in ((f"torch's default ({default} threads)", default), (f"the CLI's choice ({chosen})", chosen)):
                took, epochs = run(preset, threads)
                print(f"  {preset:7s} {label:28s} {took:6.1f} s   first epochs {', '.join(f'{e:.2f} s' for e in epochs[:2])}"
                      f"   then {min(epochs[2:] or epochs):.2f} s")
    finally:
        busy.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
