"""Fashion-MNIST: find the IDX files, check them, parse them once, cache the arrays.

Images stay uint8 ([N, 28, 28], 47 MB for the training split) and are converted to
float one batch at a time by whoever trains on them.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import tokenize
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from model.message import Message, reason

PROJECT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "softmax-studio"

SPLITS = ("train", "test")
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
COUNTS = {"train": 60_000, "test": 10_000}
# SHA-256 of the decompressed files. Debian recompresses the .gz files, so the
# official .gz MD5s don't match there; the bytes inside are the official ones.
SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

# SHA-256 of the parsed arrays' bytes (images uint8 [N, 28, 28], labels uint8 [N]): a cached
# copy is used only if it still holds exactly these (a bit flipped on disk, or labels of 200, is
# rebuilt from the IDX files). Hashing both splits takes ~0.05 s of a warm load.
ARRAY_SHA256 = {
    "train": ("2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
              "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"),
    "test": ("c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
             "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"),
}
NPY_HEADER_MAX = 4096  # an .npy header is 128 bytes here; the rest of a cached file is the pixels
log = logging.getLogger(__name__)

FIX = Message(
    "data.fix",
    "Install it with `sudo apt-get install dataset-fashion-mnist`, set FASHION_MNIST_DIR "
    "to a folder holding the four IDX files, or download it with "
    "`python -m model data --download` (or the Download button in the app).",
)


class DatasetError(Exception):
    """The dataset is missing or damaged; the message names the file and the fix."""


def candidate_dirs(root: str | os.PathLike | None = None) -> list[tuple[Path, bool]]:
    """Folders to look in, in order, each with whether the user named it explicitly."""
    dirs: list[tuple[Path, bool]] = []
    if root is not None:
        dirs.append((Path(root), True))
    if os.environ.get("FASHION_MNIST_DIR"):
        dirs.append((Path(os.environ["FASHION_MNIST_DIR"]), True))
    dirs += [(PROJECT_DATA_DIR, False), (DEBIAN_DIR, False)]
    return dirs


def _find_file(folder: Path, name: str) -> Path | None:
    # Plain IDX folders, and torchvision's download layout (FashionMNIST/raw/).
    for sub in (folder, folder / "FashionMNIST" / "raw"):
        for candidate in (sub / f"{name}.gz", sub / name):
            if candidate.is_file():
                return candidate
    return None


def locate(split: str, root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The image and label files of `split`, from the first folder that has them."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    for folder, explicit in candidate_dirs(root):
        found = [_find_file(folder, name) for name in FILES[split]]
        if all(found):
            return found[0], found[1]
        if explicit or any(found):
            missing = FILES[split][found.index(None)]
            raise DatasetError(Message("data.file_missing", "Fashion-MNIST file {file}(.gz) is missing in {folder}. {fix}",
                                       file=missing, folder=folder, fix=FIX))
    raise DatasetError(Message("data.not_found", "Fashion-MNIST was not found (looked in {folders}). {fix}",
                               folders=", ".join(str(d) for d, _ in candidate_dirs(root)), fix=FIX))


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DatasetError(Message("data.unreadable", "Fashion-MNIST file {path} can't be read ({error}): it is "
                                   "truncated or corrupt. Delete it and get it again. {fix}",
                                   path=path, error=str(e), fix=FIX)) from None


def _parse_idx(path: Path, expected_dims: tuple[int, ...]) -> np.ndarray:
    raw = _read_bytes(path)
    name = path.name.removesuffix(".gz")
    if hashlib.sha256(raw).hexdigest() != SHA256[name]:
        raise DatasetError(Message("data.checksum", "Fashion-MNIST file {path} does not hold the official contents "
                                   "(checksum mismatch: truncated, corrupt or a different dataset). {fix}",
                                   path=path, fix=FIX))
    # The checksum already proves the layout; these checks keep the parse honest.
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if raw[2] != 0x08 or dims != expected_dims:
        raise DatasetError(Message("data.shape", "Fashion-MNIST file {path} has shape {shape}, expected {expected}. {fix}",
                                   path=path, shape=dims, expected=expected_dims, fix=FIX))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def _cache_paths(images_file: Path, labels_file: Path, split: str) -> tuple[Path, Path]:
    stamp = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in (images_file, labels_file))
    key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return CACHE_DIR / f"{split}-{key}-images.npy", CACHE_DIR / f"{split}-{key}-labels.npy"


def _load_cached(paths: tuple[Path, Path], split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays if they hold exactly the official contents; None (rebuild) otherwise."""
    n = COUNTS[split]
    try:
        # A damaged header could declare any shape: read only files of the right size.
        if not all(0 <= p.stat().st_size - size <= NPY_HEADER_MAX for p, size in zip(paths, (n * 784, n))):
            raise ValueError("wrong size")
        images, labels = (np.load(p, allow_pickle=False) for p in paths)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, SyntaxError, tokenize.TokenError):  # unreadable or not an .npy file
        # any more (numpy parses a damaged header's dict with ast, which raises the last two)
        images = labels = None
    intact = (isinstance(images, np.ndarray) and isinstance(labels, np.ndarray)
              and images.shape == (n, 28, 28) and labels.shape == (n,)
              and images.dtype == np.uint8 and labels.dtype == np.uint8
              and (hashlib.sha256(images.data).hexdigest(), hashlib.sha256(labels.data).hexdigest())
              == ARRAY_SHA256[split])
    if not intact:
        log.warning("The cached Fashion-MNIST %s arrays in %s are damaged (they don't match the official "
                    "contents); rebuilding them from the IDX files.", split, paths[0].parent)
        return None
    return images, labels


def _save_cached(paths: tuple[Path, Path], images: np.ndarray, labels: np.ndarray) -> None:
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        for path, array in zip(paths, (images, labels)):
            tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
            np.save(tmp, array)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
    except OSError:
        pass  # a read-only home only costs speed


def load_split_numpy(split: str, root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], labels uint8 [N]) as numpy arrays, checked and cached."""
    images_file, labels_file = locate(split, root)
    n = COUNTS[split]
    cache = _cache_paths(images_file, labels_file, split)
    cached = _load_cached(cache, split)
    if cached is not None:
        return cached
    images = _parse_idx(images_file, (n, 28, 28))
    labels = _parse_idx(labels_file, (n,))
    if labels.max() > 9:
        raise DatasetError(Message("data.labels", "Fashion-MNIST file {path} has labels outside 0-9. {fix}",
                                   path=labels_file, fix=FIX))
    _save_cached(cache, images, labels)
    return images, labels


def load_split(split: str, root: str | os.PathLike | None = None):
    """(images uint8 tensor [N, 28, 28], labels int64 tensor [N]) for "train" or "test"."""
    import torch

    images, labels = load_split_numpy(split, root)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def dataset_checksum() -> str:
    """One short fingerprint of the whole dataset, stored in checkpoints."""
    return hashlib.sha256("".join(SHA256[n] for s in SPLITS for n in FILES[s]).encode()).hexdigest()[:16]


# Where the official .gz files are served, and their MD5s (torchvision's FashionMNIST lists,
# copied so the download needs neither torchvision's internals nor its import time).
MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
DOWNLOADS = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


def download(root: str | os.PathLike | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             mirrors: tuple[str, ...] | None = None, files: dict[str, str] | None = None) -> Path:
    """Download the four files into `root` (default: data/), in torchvision's layout.

    `progress(filename, bytes_done, bytes_total)` is called as bytes arrive. Each file is
    tried at each mirror in turn (default MIRRORS) and kept only if its MD5 is the one in
    `files` (default DOWNLOADS); a failed or interrupted download leaves nothing behind but
    what was whole.
    """
    raw = Path(root or PROJECT_DATA_DIR) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for filename, md5 in (files or DOWNLOADS).items():
        target = raw / filename
        if target.is_file() and hashlib.md5(target.read_bytes()).hexdigest() == md5:
            continue
        errors = None  # what went wrong at each mirror, "url: reason; url: reason"
        for mirror in mirrors or MIRRORS:
            try:
                _fetch(f"{mirror}{filename}", target, md5, progress)
                break
            except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, timeouts: OSErrors
                error = Message("data.mirror_failed", "{url}: {error}", url=f"{mirror}{filename}",
                                error=reason(e) if str(e) else type(e).__name__)
                errors = error if errors is None else Message("data.mirrors_failed", "{before}; {after}",
                                                              before=errors, after=error)
        else:
            raise DatasetError(Message("data.download_failed", "Downloading {file} failed ({errors}). "
                                       "Check the internet connection, or install the dataset offline: "
                                       "`sudo apt-get install dataset-fashion-mnist`.",
                                       file=filename, errors=errors or ""))
    return raw


def _fetch(url: str, target: Path, md5: str, progress) -> None:
    import urllib.request

    digest = hashlib.md5()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(target.name, done, total)
        if total and done != total:
            raise ValueError(Message("data.cut_off", "the download was cut off after {done} of {total} bytes",
                                     done=done, total=total))
        if digest.hexdigest() != md5:
            raise ValueError(Message("data.download_checksum",
                                     "checksum mismatch: the file is damaged or not the official one"))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # a failed, cut-off or interrupted download leaves nothing half-made


def describe_source(root: str | os.PathLike | None = None) -> dict:
    """Where each split comes from: for the CLI's `data` command and the app's info box."""
    out = {}
    for split in SPLITS:
        images_file, labels_file = locate(split, root)
        out[split] = {"images": str(images_file), "labels": str(labels_file), "count": COUNTS[split]}
    out["checksum"] = dataset_checksum()
    return out

