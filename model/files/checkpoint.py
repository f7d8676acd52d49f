"""Checkpoints: weights in safetensors, everything else as JSON in its header. Never pickle.

A checkpoint is one `.safetensors` file: tensors `weight` [10, 784] and `bias` [10]
(float32), and a header entry "softmax_studio" holding a JSON object: format_version,
classes, normalization, config, history, dataset checksum, test accuracy.
A file that is anything else is refused with a reason; nothing in it is run.
"""
from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import numpy as np

from model.files import metadata
from model.files.classes import CLASSES
from model.lesson.classifier import LinearClassifier
from model.message import Message, reason

FORMAT_VERSION = 1
META_KEY = "softmax_studio"
SHAPES = {"weight": (10, 784), "bias": (10,)}
MAX_HEADER = 1 << 20  # our headers are a few KB; a huge one is a hostile file
# Pixels are scaled to [0, 1] before (x - mean) / std; outside these bounds the inputs overflow
# float32 (std 1e-320, mean 1e308) and every prediction is NaN. Ours are about 0.29 and 0.35.
MAX_ABS_MEAN, STD_RANGE = 1e3, (1e-6, 1e6)
PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained" / "best.safetensors"


class CheckpointError(Exception):
    """A file that is not a usable Softmax Studio checkpoint; the message says why."""


def to_bytes(classifier: LinearClassifier, **extra_meta) -> bytes:
    from safetensors.numpy import save

    meta = dict(classifier.metadata)
    meta.update(extra_meta)
    meta.update(format_version=FORMAT_VERSION, classes=list(CLASSES),
                normalization={"mean": classifier.mean, "std": classifier.std})
    meta.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    tensors = {"weight": np.ascontiguousarray(classifier.weight, dtype=np.float32),
               "bias": np.ascontiguousarray(classifier.bias, dtype=np.float32)}
    return save(tensors, metadata={META_KEY: json.dumps(meta)})


def save(classifier: LinearClassifier, path: str | os.PathLike, **extra_meta) -> Path:
    """Write atomically (temp file + rename): a crash never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(to_bytes(classifier, **extra_meta))
    os.replace(tmp, path)
    return path


def _refuse_non_safetensors(data: bytes) -> None:
    if not data:
        raise CheckpointError(Message("checkpoint.empty", "The checkpoint file is empty. Choose a .safetensors "
                                      "file saved by Softmax Studio."))
    # A safetensors file is an 8-byte header length, then the JSON header: "{" at byte 8. Its
    # first byte is the length's low byte, which is 0x80 in 1 of 256 files, so that alone says nothing.
    if data[8:9] == b"{":
        return
    # torch.save writes a zip ("PK"); a pickle of protocol 2 or later starts 0x80, then the protocol.
    if data[:2] == b"PK" or (data[:1] == b"\x80" and data[1:2] in b"\x02\x03\x04\x05"):
        raise CheckpointError(Message("checkpoint.pickle", "This is a PyTorch pickle checkpoint (.pt/.pth). Pickle "
                                      "files can run code when loaded, so Softmax Studio refuses them. Save the "
                                      "model as .safetensors instead."))


def _header(data: bytes) -> dict:
    if len(data) < 8:
        raise CheckpointError(Message("checkpoint.too_short", "The file is too short to be a safetensors checkpoint "
                                      "(truncated?)."))
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER or 8 + size > len(data):
        raise CheckpointError(Message("checkpoint.bad_header", "The file is not a valid safetensors checkpoint "
                                      "(bad or truncated header)."))
    try:
        header = json.loads(data[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict):
        raise CheckpointError(Message("checkpoint.unreadable_header", "The file is not a valid safetensors "
                                      "checkpoint (unreadable header)."))
    return header


def from_bytes(data: bytes) -> LinearClassifier:
    """Parse and check a checkpoint; raises CheckpointError with a reason for any defect."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    _refuse_non_safetensors(data)
    header = _header(data)
    names = set(header) - {"__metadata__"}
    if names != set(SHAPES):
        raise CheckpointError(Message("checkpoint.tensor_names", "The checkpoint holds tensors {names}; a "
                                      "softmax-regression checkpoint holds exactly 'weight' [10, 784] and 'bias' [10].",
                                      names=sorted(names)))
    for name, shape in SHAPES.items():
        info = header[name]
        if not isinstance(info, dict) or info.get("dtype") != "F32" or tuple(info.get("shape", ())) != shape:
            raise CheckpointError(Message("checkpoint.tensor_shape", "Tensor '{name}' must be float32 with shape "
                                          "{shape}; this file has {dtype} {found}.", name=name, shape=list(shape),
                                          dtype=info.get("dtype") if isinstance(info, dict) else "?",
                                          found=info.get("shape") if isinstance(info, dict) else "?"))
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, OSError) as e:
        raise CheckpointError(Message("checkpoint.tensor_data", "The checkpoint's tensor data is damaged ({error}).",
                                      error=str(e))) from None
    meta = _metadata(header.get("__metadata__") or {})
    weight, bias = tensors["weight"], tensors["bias"]
    if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
        raise CheckpointError(Message("checkpoint.not_finite", "The checkpoint's weights contain NaN or infinite "
                                      "values; it came from a run that diverged. Train again with a smaller "
                                      "learning rate."))
    norm = meta["normalization"]
    return LinearClassifier(weight, bias, norm["mean"], norm["std"], meta)


def _metadata(raw: dict) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get(META_KEY), str):
        raise CheckpointError(Message("checkpoint.no_metadata", "The file is a safetensors file but not a Softmax "
                                      "Studio checkpoint (its header has no Softmax Studio metadata)."))
    try:
        meta = metadata.parse_json(raw[META_KEY])
    except metadata.MetadataError as error:
        raise CheckpointError(_bad_metadata(error)) from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        shown = version if metadata.is_number(version) else repr(str(version)[:20])
        raise CheckpointError(Message("checkpoint.version", "Checkpoint format version {version} is not supported "
                                      "(this app reads version {supported}).", version=shown,
                                      supported=FORMAT_VERSION))
    if meta.get("classes") != list(CLASSES):
        raise CheckpointError(Message("checkpoint.classes", "The checkpoint was made for other classes than "
                                      "Fashion-MNIST's ten; choose a checkpoint saved by Softmax Studio."))
    norm = meta.get("normalization")
    ok = (isinstance(norm, dict) and metadata.is_number(norm.get("mean")) and metadata.is_number(norm.get("std"))
          and abs(norm["mean"]) <= MAX_ABS_MEAN and STD_RANGE[0] <= norm["std"] <= STD_RANGE[1])
    if not ok:
        raise CheckpointError(Message("checkpoint.normalization", "The checkpoint's normalization (mean, std) is "
                                      "missing or invalid: a mean within ±{max_mean:g} and a std between {min_std:g} "
                                      "and {max_std:g} are needed, or no prediction can be computed. Choose a "
                                      "checkpoint saved by Softmax Studio.", max_mean=MAX_ABS_MEAN,
                                      min_std=STD_RANGE[0], max_std=STD_RANGE[1]))
    try:
        meta["test_acc"] = metadata.accuracy(meta.get("test_acc"))
        meta["history"] = metadata.history(meta.get("history", []))
        for name in ("seconds", "epochs_trained"):
            meta[name] = metadata.amount(meta.get(name), name)
        for name in ("diverged", "created", "dataset", "description"):
            metadata.text(meta.get(name), name)
        if not isinstance(meta.get("config", {}), dict) or not isinstance(meta.get("stopped", False), bool):
            raise metadata.MetadataError(Message("checkpoint.config", "'config' must be a record and 'stopped' "
                                                 "true or false"))
    except metadata.MetadataError as error:
        raise CheckpointError(_bad_metadata(error)) from None
    return meta


def _bad_metadata(error: metadata.MetadataError) -> Message:
    return Message("checkpoint.bad_metadata", "The checkpoint's metadata can't be used: {reason}.",
                   reason=reason(error))


def load(path: str | os.PathLike | None = None) -> LinearClassifier:
    """A checkpoint from disk; the shipped pretrained model when `path` is None."""
    path = Path(path) if path is not None else PRETRAINED
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(Message("checkpoint.unreadable", "Can't read checkpoint {path}: {error}.",
                                      path=path, error=e.strerror or str(e))) from None
    return from_bytes(data)
