"""Checks for the JSON that files bring in (checkpoint metadata, run records).

Anyone can hand the app a checkpoint, and a run folder on disk can be edited or damaged, so
every field a page reads is checked here for type, range, size and depth: a bad file is
refused with a reason (MetadataError, a ValueError) instead of crashing a page later.
"""
from __future__ import annotations

import json
import math

from model.message import Message

MAX_DEPTH = 8           # our own records nest 4 deep (metadata > config/history > entry > value)
MAX_HISTORY = 10_000    # epochs; the server allows at most a few hundred
MAX_TEXT = 1_000        # characters in a free-text field (a name, a divergence message)
EPOCH_FIELDS = ("epoch", "train_loss", "train_acc", "test_acc", "seconds")  # what a history entry holds


class MetadataError(ValueError):
    """A field that is missing, of the wrong type or out of range; the message names it."""


def parse_json(data: bytes | str) -> object:
    """JSON from a file, no deeper than MAX_DEPTH; MetadataError for anything else."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MetadataError(Message("metadata.not_json", "it is not valid JSON")) from None
    except RecursionError:  # the decoder recurses once per level
        raise MetadataError(_too_deep()) from None
    if depth(value) > MAX_DEPTH:
        raise MetadataError(_too_deep())
    return value


def _too_deep() -> Message:
    return Message("metadata.too_deep", "it is nested more than {limit} levels deep", limit=MAX_DEPTH)


def depth(value: object) -> int:
    """How deeply lists and dicts nest in `value` (a number or string is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def is_number(value: object) -> bool:
    """A finite int or float within float's range (JSON's true/false are not numbers here)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # JSON's 1000...0 of 400 digits: an int no float can hold
        return False


def accuracy(value: object, name: str = "test_acc") -> float | None:
    """None, or a fraction in [0, 1]."""
    if value is None:
        return None
    if not is_number(value) or not 0 <= value <= 1:
        raise MetadataError(Message("metadata.accuracy", "'{name}' must be an accuracy between 0 and 1, not {value}",
                                    name=name, value=_show(value)))
    return float(value)


def amount(value: object, name: str) -> float | None:
    """None, or a finite number >= 0 (seconds, epochs)."""
    if value is None:
        return None
    if not is_number(value) or value < 0:
        raise MetadataError(Message("metadata.amount", "'{name}' must be a number of at least 0, not {value}",
                                    name=name, value=_show(value)))
    return float(value)


def text(value: object, name: str, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise MetadataError(Message("metadata.text", "'{name}' must be a text of at most {limit} characters, "
                                    "not {value}", name=name, limit=MAX_TEXT, value=_show(value)))
    return value


def history(value: object) -> list[dict]:
    """A list of finished epochs, each with every EPOCH_FIELDS entry a finite number."""
    if not isinstance(value, list) or len(value) > MAX_HISTORY:
        raise MetadataError(Message("metadata.history", "'history' must be a list of at most {limit} epochs, "
                                    "not {value}", limit=MAX_HISTORY, value=_show(value)))
    for number, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            raise MetadataError(Message("metadata.entry_not_record", "history entry {number} is not a record of "
                                        "an epoch", number=number))
        for key in EPOCH_FIELDS:
            if key not in entry:
                raise MetadataError(Message("metadata.entry_missing", "history entry {number} has no '{field}'",
                                            number=number, field=key))
            if not is_number(entry[key]):
                raise MetadataError(Message("metadata.entry_not_number", "history entry {number} has '{field}' "
                                            "{value}, not a number", number=number, field=key,
                                            value=_show(entry[key])))
    return value


def _show(value: object) -> str:
    shown = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return shown if len(shown) <= 40 else shown[:37] + "..."
