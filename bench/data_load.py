"""Dataset load times: cold (parse, check, write the cache) and warm (from the cache).

    python -m bench.data_load        # target: a warm load of both splits under 0.3 s
"""
import tempfile
import time
from pathlib import Path

from model.files import data


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data.CACHE_DIR = Path(tmp)  # a cold cache, and no trace left behind
        both = lambda: [data.load_split(split) for split in data.SPLITS]  # noqa: E731
        cold = timed(both)
        warm = min(timed(both) for _ in range(5))
        images, _ = data.load_split("train")
    print(f"cold load (gunzip, checksum, parse, cache): {cold:.3f} s")
    print(f"warm load (from the cache), best of 5:      {warm:.3f} s  (target < 0.3 s)")
    print(f"training images in memory: {images.numel() * images.element_size() / 1e6:.1f} MB as {images.dtype}")


if __name__ == "__main__":
    main()
