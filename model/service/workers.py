"""Trainings in child processes, so that a training never waits for the server's GIL.

In the server's own process a training thread gives up the GIL at every tensor op and must win
it back from the page threads that build charts for everyone else: with 30 sessions polling,
a fused run of 8 that takes 2.8 s alone took 10-20 s. A child process has an interpreter of its
own, so it trains at the speed of a core; it runs at a lower priority (NICE), so the pages
still answer first, and it uses the CPU the pages leave.

    pool = TrainingProcesses(count=1, threads=1)
    pool.start()                       # optional: spawn now (torch's import takes ~3 s), not at the first run
    results = pool.train(configs, data, on_epoch=..., on_progress=..., should_stop=...)

`train` has the queue's runner signature (model.service.jobs): callbacks take the model's index
first. One config trains with model.lesson.train.train, several with model.lesson.fused; the
numbers are those of training in-process (a test compares them).
"""
from __future__ import annotations

import logging
import os
import pickle
import secrets
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Client, Listener
from typing import Any, Callable, Sequence

from model.message import Message

log = logging.getLogger(__name__)
NICE = 5             # a page's script run outweighs a training ~3:1 on a busy CPU (CFS weights 1024 vs 335)
WEIGHT_EVERY = 0.25  # s: how often a child sends a model's live weights (30 KB each) for the templates
POLL = 0.05          # s: how often the server side asks should_stop() while a child trains
SEND_EVERY = 0.05    # s: how often a child sends its progress, as one message
STOPS_EVERY = 0.01   # s: how often a child looks for stop requests (a minibatch takes 0.4-5 ms)


class TrainingProcessDied(RuntimeError):
    """The child training process ended in the middle of a training (killed, out of memory)."""


class TrainingProcesses:
    """Up to `count` child processes, each training one run or one fused group at a time with
    `threads` torch threads. A child that dies is replaced at the next training."""

    def __init__(self, count: int = 1, threads: int = 1):
        self.count, self.threads = max(1, count), max(1, threads)
        self._lock = threading.Lock()
        self._idle: list[_Child] = []
        self._started = 0

    def start(self, data: Sequence | None = None) -> None:
        """Start the children now (they import torch in the background, ~3 s) and send them `data`
        (the four tensors trainings will use, ~50 MB), so that the first training waits for neither."""
        with self._lock:
            while self._started < self.count:
                self._idle.append(_Child(self.threads, data))
                self._started += 1

    def train(self, configs: Sequence, train_images, train_labels, test_images, test_labels,
              on_epoch: Callable[[int, dict], None] | None = None,
              on_progress: Callable[[int, Any], None] | None = None,
              should_stop: Callable[[int], bool] | None = None) -> list:
        """Train `configs` (one, or a group model.lesson.fused can train together) in a child;
        a list of TrainResult in their order. An error raised in the child is raised here."""
        child = self._take()
        try:
            return child.train(list(configs), (train_images, train_labels, test_images, test_labels),
                               on_epoch, on_progress, should_stop)
        finally:
            self._give_back(child)

    def close(self) -> None:
        """End the idle children (busy ones end when their training does and they are given back)."""
        with self._lock:
            children, self._idle = self._idle, []
            self.count = 0
        for child in children:
            child.close()

    def _take(self) -> "_Child":
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._started += 1
        return _Child(self.threads)

    def _give_back(self, child: "_Child") -> None:
        with self._lock:
            if child.alive() and len(self._idle) < self.count:
                self._idle.append(child)
                return
            self._started -= 1
        child.close()


class _Child:
    """One child process (`python -m model.service.workers`) and the server's end of its
    connection: a Unix socket that only a holder of the random key may join."""

    def __init__(self, threads: int, data: Sequence | None = None):
        key = secrets.token_bytes(32)
        self._listener = Listener(family="AF_UNIX", authkey=key)
        # A child of its own, not multiprocessing's spawn: that would run the server's main module again.
        self.process = subprocess.Popen([sys.executable, "-m", "model.service.workers", self._listener.address,
                                         str(threads)], stdin=subprocess.PIPE)
        self.process.stdin.write(key.hex().encode())  # not in argv, which any local user can read
        self.process.stdin.close()
        self._connection = None
        self.data: Sequence | None = None  # what the child holds, to send the dataset once
        self._sending = threading.Thread(target=self._send_data, args=(data,), daemon=True) if data else None
        if self._sending:
            self._sending.start()  # beside the server, while the child imports torch

    @property
    def connection(self):
        if self._connection is None:  # the child connects as soon as it runs, before importing torch
            self._connection = self._listener.accept()
            self._listener.close()
        return self._connection

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        try:
            self.connection.send(("exit",))
        except OSError:
            pass
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.connection.close()

    def _send_data(self, data: Sequence) -> None:
        try:
            self.connection.send(("data", tuple(t.numpy() for t in data)))
            self.data = data
        except OSError:  # the child is gone: its next training says so
            pass

    def train(self, configs, data, on_epoch, on_progress, should_stop) -> list:
        import torch

        stopped: set[int] = set()
        if self._sending is not None:
            self._sending.join()
            self._sending = None
        try:
            if self.data is None or not all(a is b for a, b in zip(self.data, data)):
                self.connection.send(("data", tuple(t.numpy() for t in data)))
                self.data = data
            self.connection.send(("train", configs))
            weights: dict[int, Any] = {}
            asked = 0.0
            while True:
                if self.connection.poll(POLL):
                    message = self.connection.recv()
                    if message[0] == "events":
                        for kind, k, value in message[1]:
                            if kind == "epoch" and on_epoch is not None:
                                on_epoch(k, value)
                            elif kind == "progress" and on_progress is not None:
                                if value.weight is None:  # sent now and then: the last one stands meanwhile
                                    value.weight = weights.get(k)
                                weights[k] = value.weight
                                on_progress(k, value)
                    elif message[0] == "done":
                        return [_result(config, state, torch) for config, state in zip(configs, message[1])]
                    elif message[0] == "failed":
                        raise message[1]
                if should_stop is not None and time.monotonic() - asked >= POLL:
                    asked = time.monotonic()
                    for k in set(range(len(configs))) - stopped:
                        if should_stop(k):
                            stopped.add(k)
                            self.connection.send(("stop", k))
        except (EOFError, OSError):
            self.process.kill()
            log.error("the training process ended in the middle of a training (exit code %s)", self.process.wait())
            raise TrainingProcessDied(Message(
                "workers.died", "The training process stopped unexpectedly (the server may have run out of memory). "
                "Press Start again; if it repeats, try fewer epochs or a larger batch size.")) from None


def _result(config, state: dict, torch):
    from model.lesson.train import TrainResult

    return TrainResult(torch.from_numpy(state.pop("weight")), torch.from_numpy(state.pop("bias")),
                       config=config, **state)


# --- in the child ---------------------------------------------------------------------------

def serve(connection, threads: int) -> None:
    """A child's life: take the dataset and trainings from the connection until told to exit
    or the server is gone (its end closes)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before torch's import: no larger thread pool first
    try:
        os.nice(NICE)
    except OSError:  # not allowed here: train at the server's priority
        pass
    data, torch = None, None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if torch is None:  # after the first message: the dataset the server sends at once comes in first
            import torch

            torch.set_num_threads(threads)
        if message[0] == "exit":
            return
        if message[0] == "data":
            data = tuple(torch.from_numpy(array) for array in message[1])
            continue
        if message[0] != "train":
            continue  # a stop for a training that has already ended
        outbox = _Outbox(connection)
        try:
            ending = ("done", _train(message[1], data, connection, outbox))
        except (EOFError, OSError):  # the server is gone
            return
        except Exception as error:  # noqa: BLE001 - the server's side raises it, the page says it
            try:
                pickle.dumps(error)
            except Exception:  # noqa: BLE001 - an error that can't travel becomes its text
                error = RuntimeError(f"{type(error).__name__}: {error}")
            ending = ("failed", error)
        if not outbox.close(ending):
            return


class _Outbox:
    """Events on their way to the server, sent by a thread of their own every SEND_EVERY seconds
    as one message: the training never waits for a busy server to read them."""

    def __init__(self, connection):
        self.connection, self.events, self.lock = connection, [], threading.Lock()
        self.done, self.broken = threading.Event(), False
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def put(self, kind: str, k: int, value) -> None:
        if self.broken:
            raise BrokenPipeError("the server is gone")
        with self.lock:
            self.events.append((kind, k, value))

    def _send(self) -> None:
        while not self.broken:
            finished = self.done.wait(SEND_EVERY)
            with self.lock:
                events, self.events = self.events, []
            try:
                if events:
                    self.connection.send(("events", events))
            except OSError:
                self.broken = True
            if finished:
                return

    def close(self, ending) -> bool:
        """Send what is left, then `ending`; False if the server is gone."""
        self.done.set()
        self.thread.join()
        try:
            self.connection.send(ending)
        except OSError:
            return False
        return not self.broken


class _Stops:
    """The stop requests that have arrived, looked for at most every STOPS_EVERY seconds."""

    def __init__(self, connection):
        self.connection, self.models, self.looked = connection, set(), 0.0

    def __call__(self, k: int) -> bool:
        now = time.monotonic()
        if now - self.looked >= STOPS_EVERY:
            self.looked = now
            while self.connection.poll(0):
                message = self.connection.recv()
                if message[0] == "stop":
                    self.models.add(message[1])
        return k in self.models


def _train(configs, data, connection, outbox: _Outbox) -> list[dict]:
    from model.lesson.fused import train_together
    from model.lesson.train import train

    sent: dict[int, float] = {}
    should_stop = _Stops(connection)

    def on_progress(k, progress):
        now = time.monotonic()
        if now - sent.get(k, -WEIGHT_EVERY) < WEIGHT_EVERY and progress.fraction < 1:
            progress.weight = None
        else:
            sent[k] = now
            progress.weight = progress.weight.copy()
        outbox.put("progress", k, progress)

    def on_epoch(k, metrics):
        outbox.put("epoch", k, metrics)

    if len(configs) == 1:
        results = [train(configs[0], *data, on_epoch=lambda m: on_epoch(0, m), on_progress=lambda p: on_progress(0, p),
                         should_stop=lambda: should_stop(0))]
    else:
        results = train_together(configs, *data, on_epoch=on_epoch, on_progress=on_progress, should_stop=should_stop)
    return [{"weight": r.weight.numpy().copy(), "bias": r.bias.numpy().copy(), "normalization": r.normalization,
             "history": r.history, "stopped": r.stopped, "diverged": r.diverged, "test_acc": r.test_acc}
            for r in results]


def main(argv: list[str] | None = None) -> None:
    address, threads = (argv or sys.argv[1:])[:2]
    key = bytes.fromhex(sys.stdin.read().strip())
    with Client(address, family="AF_UNIX", authkey=key) as connection:
        serve(connection, int(threads))


if __name__ == "__main__":
    main()
