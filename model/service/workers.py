"""Trainings in child processes, so that a training never waits for the server's GIL.

In the server's own process a training thread gives up the GIL at every tensor op and must win
it back from the page threads that build charts for everyone else: with 30 sessions polling,
a fused run of 8 that takes 2.8 s alone took 10-20 s. A child process has an interpreter of its
own, so it trains at the speed of a core; it runs at a lower priority (NICE), so the pages
still answer first, and it uses the CPU the pages leave. A child may hold several lanes, a
thread each, that share its torch and dataset but take turns at its GIL.

    pool = TrainingProcesses(count=2, threads=1)   # two trainings at once, in two children
    pool.start(data)                   # optional: start the children now and give them the dataset
    results = pool.train(configs, *data, on_epoch=..., on_progress=..., should_stop=...)

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
    """`count` lanes, each training one run or one fused group at a time with `threads` torch
    threads, `lanes` of them to a child process. One lane per child (the default) trains fastest:
    two fused groups of 8 took 3.2 s side by side in two children and 4.5 s in two lanes of one,
    whose threads share its GIL; two lanes in one child save that child's memory (~550 MB: torch,
    the dataset). A child that dies is replaced at the next training."""

    def __init__(self, count: int = 1, threads: int = 1, lanes: int = 1):
        self.count, self.threads, self.lanes = max(1, count), max(1, threads), max(1, lanes)
        self._lock = threading.Lock()
        self._children: list[_Child] = []
        self._idle: list[_Lane] = []

    def start(self, data: Sequence | None = None) -> None:
        """Start the children now (each imports torch in the background, ~3 s) and send them `data`
        (the four tensors trainings will use, ~50 MB), so that the first training waits for neither."""
        with self._lock:
            if not self._children:
                for first in range(0, self.count, self.lanes):
                    self._add_child(min(self.lanes, self.count - first), data)

    def train(self, configs: Sequence, train_images, train_labels, test_images, test_labels,
              on_epoch: Callable[[int, dict], None] | None = None,
              on_progress: Callable[[int, Any], None] | None = None,
              should_stop: Callable[[int], bool] | None = None) -> list:
        """Train `configs` (one, or a group model.lesson.fused can train together) in a child;
        a list of TrainResult in their order. An error raised in the child is raised here."""
        lane = self._take()
        try:
            return lane.train(list(configs), (train_images, train_labels, test_images, test_labels),
                              on_epoch, on_progress, should_stop)
        finally:
            with self._lock:
                if lane.child in self._children:
                    self._idle.append(lane)

    @property
    def children(self) -> list["_Child"]:
        """The child processes now (for tests that kill one, and monitoring)."""
        with self._lock:
            return list(self._children)

    def close(self) -> None:
        """End the children (a training still running in one fails)."""
        with self._lock:
            children, self._children, self._idle = self._children, [], []
        for child in children:
            child.close()

    def _take(self) -> "_Lane":
        if not self._children:
            self.start()
        with self._lock:
            for child in [c for c in self._children if not c.alive()]:
                # Trainings in a dead child's lanes fail on their own; its lanes come back anew.
                self._children.remove(child)
                self._idle = [lane for lane in self._idle if lane.child is not child]
                self._add_child(len(child.lanes), None)
            if not self._idle:  # more trainings at once than lanes: the caller's bug
                raise RuntimeError(f"all {self.count} training lanes are busy")
            return self._idle.pop()

    def _add_child(self, lanes: int, data: Sequence | None) -> None:
        # Called with the lock held.
        child = _Child(lanes, self.threads, data)
        self._children.append(child)
        self._idle += child.lanes


class _Child:
    """The child process (`python -m model.service.workers`): one connection per lane, over
    Unix sockets that only a holder of the random key may join."""

    def __init__(self, lanes: int, threads: int, data: Sequence | None):
        key = secrets.token_bytes(32)
        self._listener = Listener(family="AF_UNIX", authkey=key)
        # A child of its own, not multiprocessing's spawn: that would run the server's main module again.
        self.process = subprocess.Popen([sys.executable, "-m", "model.service.workers", self._listener.address,
                                         str(threads), str(lanes)], stdin=subprocess.PIPE)
        self.process.stdin.write(key.hex().encode())  # not in argv, which any local user can read
        self.process.stdin.close()
        self._connections: list = []
        self._accepting = threading.Lock()
        self.lanes = [_Lane(self, i) for i in range(lanes)]
        self.data: Sequence | None = None  # what the child holds, to send the dataset once
        self.data_version = 0  # how many times it was sent: a lane's training waits for its version
        self.data_lock = threading.Lock()
        if data is not None:  # beside the server, while the child imports torch
            threading.Thread(target=self.lanes[0].send_data, args=(data,), daemon=True).start()

    def connection(self, index: int):
        """Lane `index`'s connection. The child makes them all before it reads any, so all are
        accepted at once: a lane sending the dataset on the first would otherwise fill its socket
        while the child still waits for the second to be accepted."""
        with self._accepting:
            if not self._connections:
                self._connections = [self._listener.accept() for _ in self.lanes]
                self._listener.close()
            return self._connections[index]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        for lane in self.lanes:
            try:
                lane.connection.send(("exit",))
            except OSError:
                pass
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for connection in self._connections:
            connection.close()

    def died(self) -> TrainingProcessDied:
        self.process.kill()
        log.error("the training process ended in the middle of a training (exit code %s)", self.process.wait())
        return TrainingProcessDied(Message(
            "workers.died", "The training process stopped unexpectedly (the server may have run out of memory). "
            "Press Start again; if it repeats, try fewer epochs or a larger batch size."))


class _Lane:
    """One lane of the child: trains one run or group at a time over its own connection."""

    def __init__(self, child: _Child, index: int):
        self.child, self.index = child, index

    @property
    def connection(self):
        return self.child.connection(self.index)

    def send_data(self, data: Sequence) -> int:
        """Send `data` unless the child holds it already; the version the child gives it."""
        child = self.child
        with child.data_lock:
            if child.data is not None and all(a is b for a, b in zip(child.data, data)):
                return child.data_version
            try:
                self.connection.send(("data", child.data_version + 1, tuple(t.numpy() for t in data)))
                child.data, child.data_version = data, child.data_version + 1
            except OSError:  # the child is gone: the training says so
                pass
            return child.data_version

    def train(self, configs, data, on_epoch, on_progress, should_stop) -> list:
        import torch

        stopped: set[int] = set()
        try:
            self.connection.send(("train", configs, self.send_data(data)))
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
            raise self.child.died() from None


def _result(config, state: dict, torch):
    from model.lesson.train import TrainResult

    return TrainResult(torch.from_numpy(state.pop("weight")), torch.from_numpy(state.pop("bias")),
                       config=config, **state)


# --- in the child ---------------------------------------------------------------------------

class _Shared:
    """What the child's lanes share: the dataset, whichever lane it came on, and their thread count."""

    def __init__(self, threads: int):
        self.threads, self.data, self.version = threads, None, 0
        self.arrived = threading.Condition()

    def put(self, version: int, data: tuple) -> None:
        with self.arrived:
            self.data, self.version = data, version
            self.arrived.notify_all()

    def get(self, version: int) -> tuple:
        """The dataset of `version` or later: another lane may still be reading it off its socket."""
        with self.arrived:
            self.arrived.wait_for(lambda: self.version >= version)
            return self.data


WARM_UP_IMAGES = 512


def warm_up(data: tuple) -> None:
    """One epoch on a few images as the process gets its dataset, before anyone presses Start: a
    process's first training pays torch.optim's and autograd's first-call set-up (0.9 s here,
    against 1.4 s for the whole lesson preset), and the first learner would wait for it."""
    from model.lesson.config import preset
    from model.lesson.train import train

    train(preset("lesson", epochs=1), *(part[:WARM_UP_IMAGES] for part in data))


def serve(connection, shared: _Shared) -> None:
    """A lane's life: take the dataset and trainings from its connection until told to exit or
    the server is gone (its end closes)."""
    import torch

    torch.set_num_threads(shared.threads)  # OpenMP's count is per calling thread: this lane's
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message[0] == "exit":
            return
        if message[0] == "data":
            first = shared.version == 0
            shared.put(message[1], tuple(torch.from_numpy(array) for array in message[2]))
            if first:
                warm_up(shared.data)
            continue
        if message[0] != "train":
            continue  # a stop for a training that has already ended
        outbox = _Outbox(connection)
        try:
            ending = ("done", _train(message[1], shared.get(message[2]), connection, outbox))
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
    from model.lesson.analysis import evaluate_many
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
    # Each result's test-set evaluation too (for its results page): computed here it costs this
    # niced process, not the server's pages, at the moment its learner waits; a group's together.
    evaluations = evaluate_many([r.classifier() for r in results], data[2].numpy(), data[3].numpy())
    return [{"weight": r.weight.numpy().copy(), "bias": r.bias.numpy().copy(), "normalization": r.normalization,
             "history": r.history, "stopped": r.stopped, "diverged": r.diverged, "test_acc": r.test_acc,
             "seconds": r.seconds, "epochs_trained": r.epochs_trained, "evaluation": evaluation}
            for r, evaluation in zip(results, evaluations)]


def main(argv: list[str] | None = None) -> None:
    address, threads, lanes = (argv or sys.argv[1:])[:3]
    key = bytes.fromhex(sys.stdin.read().strip())
    connections = [Client(address, family="AF_UNIX", authkey=key) for _ in range(int(lanes))]
    os.environ["OMP_NUM_THREADS"] = threads  # before torch's import: no larger thread pool first
    try:
        os.nice(NICE)
    except OSError:  # not allowed here: train at the server's priority
        pass
    import torch  # noqa: F401 - after connecting: the dataset, sent at once, waits in the socket meanwhile

    shared = _Shared(int(threads))
    lanes = [threading.Thread(target=serve, args=(connection, shared)) for connection in connections]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()


if __name__ == "__main__":
    main()
