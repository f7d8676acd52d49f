"""Finished runs, kept so they can be listed, renamed, deleted and loaded again.

Locally, RunStore keeps them in a folder, one sub-folder per run:

    runs/<id>/run.json           id, name, created, config, per-epoch history, test accuracy
    runs/<id>/model.safetensors  the weights (model.files.checkpoint's format; never a pickle)

A run is written into a hidden temporary folder and renamed into place in one step, so
a server killed mid-save leaves at most a hidden folder that the list ignores; a folder
that is damaged anyway (edited, truncated, half-copied) is listed apart with the reason
(`scan()`), so the page can say which and offer to delete it; it is never fatal.
A hosted server uses MemoryRunStore instead, one per browser session, so no session sees
another's runs and nothing reaches the disk.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from model.files import checkpoint, metadata
from model.lesson.classifier import LinearClassifier
from model.message import Message, reason

FORMAT_VERSION = 1
RUN_FILE, MODEL_FILE = "run.json", "model.safetensors"
ID_PATTERN = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{8}")  # 20250101-120000-1a2b3c4d: sorts by time, can't escape the folder
MAX_NAME = 100
STALE_SECONDS = 3600  # a hidden temp folder this old belongs to a save or delete that was killed


class RunError(Exception):
    """A run id that is malformed or names no run, or a name that can't be used; the message says which."""


@dataclass
class RunRecord:
    id: str
    name: str
    created: str               # ISO 8601 UTC with microseconds, so records sort by it
    config: dict               # TrainConfig as a dict
    history: list[dict]        # one dict per finished epoch (epoch, train_loss, train_acc, test_acc, seconds)
    test_acc: float | None     # the last epoch's test accuracy; None if no epoch finished
    path: Path | None = None   # the run's folder; None for a run kept in memory
    epochs_trained: float | None = None  # epochs of minibatches, an unfinished last one too; None in older runs

    @property
    def epochs_done(self) -> float:
        """Epochs trained; for a run saved before they were kept, its finished epochs."""
        return len(self.history) if self.epochs_trained is None else self.epochs_trained


@dataclass(frozen=True)
class DamagedRun:
    """A run folder that can't be used: its id (for delete) and why, in words."""
    id: str
    reason: str  # a model.message.Message


def new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)


def check_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not ID_PATTERN.fullmatch(run_id):
        raise RunError(Message("runs.bad_id", "{run_id!r} is not a run id", run_id=run_id))
    return run_id


def _no_run(run_id: str) -> Message:
    return Message("runs.no_run", "There is no run {run_id!r} (was it deleted?).", run_id=run_id)


def check_name(name: str) -> str:
    name = " ".join(str(name).split())  # one line: names are shown in lists and menus
    if not name:
        raise RunError(Message("runs.name_empty", "A run's name can't be empty."))
    if len(name) > MAX_NAME:
        raise RunError(Message("runs.name_too_long", "A run's name can have at most {limit} characters.",
                               limit=MAX_NAME))
    # Control and format characters (Cc, Cf: a right-to-left override, zero-width marks) make a
    # name show as something other than what it is in every visitor's list.
    hidden = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in ("Cc", "Cf")})
    if hidden:
        raise RunError(Message("runs.name_hidden", "A run's name can't contain control or text-direction characters "
                               "({characters}); use letters, digits, spaces and punctuation.",
                               characters=", ".join(hidden[:3])))
    return name


def ended_in(history: list[dict]) -> int:
    """The epoch (from 1) a stopped or diverged run ended in: the one after its last full epoch."""
    return len(history) + 1


def default_name(config: dict, history: list[dict], test_acc: float | None, stopped: bool = False,
                 diverged: bool = False) -> Message:
    """E.g. "concise, lr 0.1, 10 epochs, 84.1%": enough to tell runs apart in a list. A run
    that stopped or diverged says in which epoch. A Message, so the app can name it in the
    learner's language."""
    impl = {"scratch": Message("runs.name_scratch", "scratch"),
            "concise": Message("runs.name_concise", "concise")}.get(config.get("impl"), str(config.get("impl", "model")))
    lr = Message("runs.name_lr", ", lr {lr:g}", lr=config["lr"]) if isinstance(config.get("lr"), (int, float)) else ""
    epochs, ending = config.get("epochs"), ""
    if isinstance(epochs, int):
        epoch = ended_in(history)
        ending = (Message("runs.name_diverged", ", diverged in epoch {epoch} of {epochs}", epoch=epoch, epochs=epochs)
                  if diverged else
                  Message("runs.name_stopped", ", stopped in epoch {epoch} of {epochs}", epoch=epoch, epochs=epochs)
                  if stopped else
                  Message("runs.name_epochs", ", {epochs} epochs", epochs=epochs) if epochs != 1 else
                  Message("runs.name_one_epoch", ", 1 epoch"))
    acc = Message("runs.name_acc", ", {acc:.1%}", acc=test_acc) if test_acc is not None else ""
    return Message("runs.name", "{impl}{lr}{ending}{acc}", impl=impl, lr=lr, ending=ending, acc=acc)


def name_of(classifier: LinearClassifier) -> Message:
    """The default name of a just-trained classifier's run, from its metadata."""
    meta = classifier.metadata
    test_acc = meta.get("test_acc") if metadata.is_number(meta.get("test_acc")) else None
    return default_name(dict(meta.get("config") or {}), list(meta.get("history") or []), test_acc,
                        bool(meta.get("stopped")), bool(meta.get("diverged")))


def new_record(classifier: LinearClassifier, name: str | None) -> RunRecord:
    """A record for a just-trained classifier, from the metadata TrainResult.classifier() writes."""
    meta = classifier.metadata
    config, history = dict(meta.get("config") or {}), [dict(h) for h in meta.get("history") or []]
    test_acc = meta.get("test_acc") if metadata.is_number(meta.get("test_acc")) else None
    created = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    epochs_trained = meta.get("epochs_trained") if metadata.is_number(meta.get("epochs_trained")) else None
    return RunRecord(new_id(), check_name(str(name if name is not None else name_of(classifier))), created, config,
                     history, test_acc, epochs_trained=epochs_trained)


def _record_json(record: RunRecord) -> bytes:
    fields = {k: getattr(record, k) for k in ("id", "name", "created", "config", "history", "test_acc", "epochs_trained")}
    return json.dumps({"format_version": FORMAT_VERSION, **fields}, indent=1).encode()


def _parse_record(data: bytes, folder: Path) -> RunRecord:
    """A record from run.json's bytes; ValueError (or a subclass) saying what is malformed."""
    raw = metadata.parse_json(data)
    if not isinstance(raw, dict):
        raise ValueError(Message("runs.not_record", "its run.json is not a record"))
    if raw.get("format_version") != FORMAT_VERSION:
        raise ValueError(Message("runs.version", "its run.json is not of format version {version}",
                                 version=FORMAT_VERSION))
    if raw.get("id") != folder.name:
        raise ValueError(Message("runs.other_id", "its run.json belongs to another run (the id differs from the "
                                 "folder's)"))
    if not isinstance(raw.get("config"), dict):
        raise ValueError(Message("runs.no_config", "its run.json has no settings ('config')"))
    try:
        name = check_name(metadata.text(raw.get("name"), "name", optional=False))
    except RunError as error:
        raise ValueError(Message("runs.bad_name", "its name can't be shown: {reason}", reason=reason(error))) from None
    return RunRecord(raw["id"], name, metadata.text(raw.get("created"), "created", optional=False), raw["config"],
                     metadata.history(raw.get("history")), metadata.accuracy(raw.get("test_acc")), folder,
                     metadata.amount(raw.get("epochs_trained"), "epochs_trained"))


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())  # on disk before the rename that publishes it


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems can't open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class RunStore:
    """Runs in a folder on disk, shared by everyone using this server (meant for local use)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.evicted: list[RunRecord] = []  # as MemoryRunStore's; the disk keeps every run
        self._sweep()

    def list(self) -> list[RunRecord]:
        """Every intact run, newest first."""
        return self.scan()[0]

    def scan(self) -> tuple[list[RunRecord], list[DamagedRun]]:
        """(intact runs newest first, damaged runs with the reason each can't be used).
        Hidden folders (a save or delete under way) and stray files are neither."""
        records, damaged = [], []
        try:
            folders = [p for p in self.root.iterdir() if ID_PATTERN.fullmatch(p.name) and p.is_dir()]
        except OSError:  # no runs folder yet (or it was removed): no runs
            return [], []
        for folder in folders:
            try:
                record = _parse_record((folder / RUN_FILE).read_bytes(), folder)
                checkpoint.load(folder / MODEL_FILE)
            except FileNotFoundError as error:
                damaged.append(DamagedRun(folder.name, Message("runs.file_missing", "its {file} is missing",
                                                               file=Path(error.filename or RUN_FILE).name)))
                continue
            except OSError as error:
                damaged.append(DamagedRun(folder.name, Message("runs.unreadable", "it can't be read ({error})",
                                                               error=error.strerror or str(error))))
                continue
            except (ValueError, checkpoint.CheckpointError) as error:
                damaged.append(DamagedRun(folder.name, reason(error)))
                continue
            records.append(record)
        return (sorted(records, key=lambda r: (r.created, r.id), reverse=True),
                sorted(damaged, key=lambda d: d.id, reverse=True))

    def save(self, classifier: LinearClassifier, name: str | None = None) -> RunRecord:
        """Save a finished run and return its record. The run appears in the list whole or not at all."""
        record = new_record(classifier, name)
        model_bytes = checkpoint.to_bytes(classifier)
        checkpoint.from_bytes(model_bytes)  # refuse now what list() would hide forever (e.g. NaN weights)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{record.id}-{os.getpid()}"
        tmp.mkdir()
        try:
            _write_synced(tmp / MODEL_FILE, model_bytes)
            _write_synced(tmp / RUN_FILE, _record_json(record))
            os.rename(tmp, self.root / record.id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _sync_dir(self.root)
        record.path = self.root / record.id
        return record

    def get(self, run_id: str) -> RunRecord:
        folder = self._folder(run_id)
        try:
            return _parse_record((folder / RUN_FILE).read_bytes(), folder)
        except FileNotFoundError:
            raise RunError(_no_run(run_id)) from None
        except (OSError, ValueError) as e:
            raise RunError(Message("runs.damaged", "Run {run_id!r} is damaged: {reason}.", run_id=run_id,
                                   reason=reason(e))) from None

    def rename(self, run_id: str, name: str) -> RunRecord:
        """Give a run a new name; run.json is replaced in one step, never half-written."""
        record = self.get(run_id)
        record.name = check_name(name)
        tmp = record.path / f".{RUN_FILE}.{os.getpid()}.{secrets.token_hex(3)}.tmp"
        try:
            _write_synced(tmp, _record_json(record))
            os.replace(tmp, record.path / RUN_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return record

    def delete(self, run_id: str) -> None:
        """Remove a run. It leaves the list at once (one rename); the files go after."""
        folder = self._folder(run_id)
        trash = self.root / f".trash-{run_id}-{secrets.token_hex(3)}"
        try:
            os.rename(folder, trash)
        except FileNotFoundError:
            raise RunError(_no_run(run_id)) from None
        shutil.rmtree(trash, ignore_errors=True)

    def load_classifier(self, run_id: str) -> LinearClassifier:
        """The run's model (checked by model.files.checkpoint; raises CheckpointError if damaged)."""
        folder = self._folder(run_id)
        if not (folder / MODEL_FILE).exists():
            raise RunError(_no_run(run_id))
        return checkpoint.load(folder / MODEL_FILE)

    def _folder(self, run_id: str) -> Path:
        return self.root / check_id(run_id)

    def _sweep(self) -> None:
        """Remove temp and trash folders left by a save or delete that was killed long ago."""
        try:
            leftovers = [p for p in self.root.iterdir() if p.name.startswith((".tmp-", ".trash-")) and p.is_dir()]
        except OSError:
            return
        for folder in leftovers:
            try:
                if time.time() - folder.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue


class MemoryRunStore:
    """The same operations for one browser session's runs, in memory (hosted mode).

    Keeps the newest `keep` runs (a model is ~31 KB) so a long session can't grow without bound;
    `evicted` lists the runs the last save removed to stay within it, so the page can say so."""

    def __init__(self, keep: int = 20):
        self.keep = keep
        self.evicted: list[RunRecord] = []
        self._runs: dict[str, tuple[RunRecord, LinearClassifier]] = {}

    def list(self) -> list[RunRecord]:
        return sorted((record for record, _ in self._runs.values()), key=lambda r: (r.created, r.id), reverse=True)

    def scan(self) -> tuple[list[RunRecord], list[DamagedRun]]:
        return self.list(), []  # nothing in memory can be damaged by a disk

    def save(self, classifier: LinearClassifier, name: str | None = None) -> RunRecord:
        record = new_record(classifier, name)
        self._runs[record.id] = (record, classifier)
        self.evicted = self.list()[self.keep:]
        for old in self.evicted:
            del self._runs[old.id]
        return record

    def get(self, run_id: str) -> RunRecord:
        return self._entry(run_id)[0]

    def rename(self, run_id: str, name: str) -> RunRecord:
        record = self._entry(run_id)[0]
        record.name = check_name(name)
        return record

    def delete(self, run_id: str) -> None:
        self._entry(run_id)
        del self._runs[run_id]

    def load_classifier(self, run_id: str) -> LinearClassifier:
        return self._entry(run_id)[1]

    def _entry(self, run_id: str) -> tuple[RunRecord, LinearClassifier]:
        try:
            return self._runs[check_id(run_id)]
        except KeyError:
            raise RunError(_no_run(run_id)) from None
