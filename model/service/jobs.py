"""Training in the background: one queue per server process, at most N trainings at once.

The app submits a TrainConfig and gets a Job back at once; the job trains in a worker
thread while the page polls it for live metrics, so the page never blocks. A job that
finds every slot busy waits in line and knows its place. Nothing here imports
streamlit, and the queue never lists jobs: whoever submitted a job holds the only
handle to it (the app keeps it in that user's session), so no user sees another's.

    queue = TrainingQueue(max_running=2, max_waiting=30, abandon_after=6.0)
    job = queue.submit(config, (train_images, train_labels, test_images, test_labels), owner=session_token)
    job.touch(); job.status, job.position, job.snapshot()   # poll (touching says someone still watches)
    job.stop()                                 # ends it within a minibatch, keeps what it learned

One owner (a browser session) holds at most one place: submitting again while its job is
unfinished returns that job. A job nobody has touched for `abandon_after` seconds (its tab
was closed, its connection dropped) is stopped if running, keeping what it learned, or
cancelled if waiting, so it can't hold the line for the people still there.
"""
from __future__ import annotations

import enum
import logging
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from model.files.data import DatasetError
from model.message import Message, reason
from model.service.settings import threads_per_training, training_cpus
from model.service.workers import TrainingProcessDied

log = logging.getLogger(__name__)
# A class presses Start within moments of each other: the first waits this long for the rest,
# so that they train in one fused pass (8 take 2-3 times one's time) instead of all waiting
# behind it; as long again after each mate that joins, and no longer once the group is full.
# One person alone waits it too, a moment against seconds of training.
GATHER_SECONDS = 0.3
GATHER_LIMIT = 1.5  # s after the first: the longest a group waits for mates that keep coming
# A training thread gives up the GIL at every tensor op and must win it back from the page
# threads (plotly figures, script runs), which by default keep it up to 5 ms each time: a
# fused epoch of 8 beside two busy Python threads took 4.6-7.7 s at 5 ms, 2.0 s at 1 ms
# (alone 0.6 s), while the Python threads kept ~75% of their pace.
SWITCH_INTERVAL = 0.001

# A training in slow motion, one minibatch per click, whose page hasn't polled it for this long
# is stopped (keeping what it learned): its thread would otherwise wait for a click forever.
STEP_IDLE = 600.0


class QueueFull(Exception):
    """Every place in line is taken; the message says so and what to do."""


class Status(str, enum.Enum):
    QUEUED = "queued"        # waiting for a free slot; see Job.position
    RUNNING = "running"
    DONE = "done"            # finished, stopped early or diverged: Job.result holds the weights
    CANCELLED = "cancelled"  # cancelled while queued: it never trained
    FAILED = "failed"        # raised an error: Job.error says what, in plain words


FINISHED = frozenset({Status.DONE, Status.CANCELLED, Status.FAILED})


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's live state, safe to draw from while training goes on."""
    status: Status
    position: int | None          # 1-based place in line while queued
    history: list[dict]           # one dict per finished epoch (epoch, train_loss, train_acc, test_acc, seconds)
    points: list[dict]            # in-epoch progress: x (epochs, fractional), train_loss, train_acc
    fraction: float               # of the whole run, 0..1
    weight: Any                   # latest weights [10, 784] (numpy) or None
    elapsed: float                # seconds spent training so far
    error: str | None = None
    batches: int = 0              # minibatches taken so far


def _default_runner(config, train_images, train_labels, test_images, test_labels, **callbacks):
    from model.lesson.train import train  # torch is imported here, in the worker, not by whoever imports jobs

    return train(config, train_images, train_labels, test_images, test_labels, **callbacks)


def _default_group_runner(configs, train_images, train_labels, test_images, test_labels, **callbacks):
    from model.lesson.fused import train_together

    return train_together(configs, train_images, train_labels, test_images, test_labels, **callbacks)


def _plain_error(error: BaseException) -> str:
    """A learner-facing sentence for a failure (the traceback goes to the server log only).
    A DatasetError, ValueError or TrainingProcessDied already says what was wrong and what to do."""
    if isinstance(error, MemoryError):
        return Message("jobs.out_of_memory", "The server ran out of memory while training. Try a smaller batch size, "
                       "or try again later.")
    if isinstance(error, (DatasetError, ValueError, TrainingProcessDied)):
        return reason(error)
    return Message("jobs.unexpected", "Training stopped with an unexpected error ({kind}: {error}). Try again; "
                   "if it repeats, report it.", kind=type(error).__name__, error=str(error))


@dataclass(eq=False)
class Job:
    """One training run: queued, then running in a worker thread, then finished."""
    config: Any
    _queue: "TrainingQueue" = field(repr=False)
    _data: Sequence | None = field(repr=False)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: Status = Status.QUEUED
    result: Any = None                 # the TrainResult once DONE
    error: str | None = None           # the reason once FAILED
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    stop_requested_at: float | None = None
    owner: str | None = None           # who submitted it (a session's token): one place each
    abandoned: bool = False            # stopped or cancelled because nobody touched it in time
    pace: float | None = None          # slow motion: seconds between minibatches; 0: one per advance()

    def __post_init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._history: list[dict] = []
        self._points: list[dict] = []
        self._progress = None  # the latest model.lesson.train.Progress
        self._seen = time.monotonic()  # last touch()
        self._joined = time.monotonic()  # when it joined the line, on the clock that never steps
        self._gathers_from = self._joined  # when its group's gathering moment starts, should it be first
        self._batches = 0
        self._granted = threading.Semaphore(0)  # minibatches advance() allows (pace 0)

    # -- what the page reads -------------------------------------------------------------
    @property
    def position(self) -> int | None:
        """1-based place in line while queued; None once it has started."""
        return self._queue._position(self)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def snapshot(self) -> Snapshot:
        with self._lock:
            progress = self._progress
            status = self.status
            history, points = list(self._history), list(self._points)
        position = self.position if status is Status.QUEUED else None
        if status is Status.QUEUED and position is None:
            status = self.status  # it left the line (started with a group, or was cancelled) in between
        end = self.finished_at or time.time()
        return Snapshot(status=status, position=position,
                        history=history, points=points,
                        fraction=progress.fraction if progress else 0.0,
                        weight=progress.weight if progress else None,
                        elapsed=(end - self.started_at) if self.started_at else 0.0, error=self.error,
                        batches=self._batches)

    # -- what the page does ----------------------------------------------------------------
    def touch(self) -> None:
        """Someone is still watching (the page calls this on every run and poll)."""
        self._seen = time.monotonic()

    def unseen_for(self) -> float:
        return time.monotonic() - self._seen

    def stop(self) -> None:
        """Stop: a running job ends within one minibatch and keeps its weights; a queued one is cancelled."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.time()
        self._stop.set()
        self._queue._cancel_if_queued(self)

    def advance(self, count: int = 1) -> None:
        """Slow motion, one minibatch at a time (pace 0): let the training take `count` more."""
        for _ in range(count):
            self._granted.release()

    def should_stop(self) -> bool:
        """Asked by the trainer before every minibatch: a stop request, or nobody watching. In
        slow motion it first waits for the minibatch's turn."""
        if self.pace is not None:
            self._wait_turn()
        if not self._stop.is_set() and self._queue.is_abandoned(self):
            log.info("training job %s: its session went away %.0f s ago; stopping it", self.id, self.unseen_for())
            self.abandoned = True
            self.stop()
        if not self._stop.is_set():
            self._batches += 1
        return self._stop.is_set()

    def _wait_turn(self) -> None:
        if self.pace:
            self._stop.wait(self.pace)
            return
        # One minibatch per advance(); a page nobody has touched for STEP_IDLE seconds is gone.
        while not self._stop.is_set() and not self._granted.acquire(timeout=0.25):
            if self.unseen_for() > STEP_IDLE or self._queue.is_abandoned(self):
                self.abandoned = True
                self.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is finished (for tests and scripts); True if it is."""
        return self._finished.wait(timeout)

    def wait_if_ending(self, within: float) -> bool:
        """If this running job, at its pace so far, ends within `within` seconds, wait for its end
        (at most that long); whether it is finished. A page that polls every `within` seconds
        then shows the results as the training ends instead of up to a poll later (a second on
        average with 30 people training). A queued or slow-motion job is not waited for."""
        with self._lock:
            progress = self._progress
        if self.finished:
            return True
        if self.status is not Status.RUNNING or self.pace is not None or progress is None or not progress.fraction:
            return False
        spent = time.time() - (self.started_at or time.time())
        if spent * (1 - progress.fraction) / progress.fraction > within:
            return False
        return self._finished.wait(within)

    # -- what the worker calls -----------------------------------------------------------
    def _on_epoch(self, metrics: dict) -> None:
        with self._lock:
            self._history.append(dict(metrics))

    def _on_progress(self, progress) -> None:
        point = {"x": progress.fraction * self.config.epochs, "train_loss": progress.train_loss,
                 "train_acc": progress.train_acc, "epoch": progress.epoch}
        with self._lock:
            self._points.append(point)
            self._progress = progress


class TrainingQueue:
    """Runs at most `max_running` jobs at once (default: model.service.settings.training_cpus(), all
    CPUs this process may use but one); the rest wait in line.

    Each worker limits torch to `threads_per_job` threads (default: model.service.settings'
    threads_per_training) so concurrent trainings share the cores instead of thrashing.
    At most `max_waiting` jobs wait (None: no limit); a job untouched for `abandon_after`
    seconds is abandoned (None: never). When a slot frees, waiting jobs of up to `max_fused`
    distinct settings (equal ones train once, however many) that share their minibatches
    (model.lesson.config.fuse_key) and their data start together in one pass (model.lesson.fused):
    a class pressing Start at once waits for a few fused runs, not thirty.
    A job that finds a slot free waits until `gather_seconds` after its submission, or after the
    last mate that joined (GATHER_LIMIT at most), for such mates first, or until its group is
    full, so the first click of a class doesn't train alone while the rest wait for it.
    `runner` trains one config (model.lesson.train.train by default), `group_runner` several
    (model.lesson.fused.train_together), both in a worker thread of this process; tests pass fakes.
    With `processes` (model.service.workers.TrainingProcesses) every training but a slow-motion one
    runs in a child process instead, out of reach of this process's GIL. `on_finished(job)` is
    called for each job that ends with a result, in the worker thread, after waiters are woken:
    the app keeps the run there, so a tab closed while it trained loses nothing.
    """

    def __init__(self, max_running: int | None = None, threads_per_job: int | None = None,
                 runner: Callable | None = None, max_waiting: int | None = None,
                 abandon_after: float | None = None, max_fused: int = 1, group_runner: Callable | None = None,
                 gather_seconds: float = GATHER_SECONDS, processes=None,
                 on_finished: Callable[[Job], None] | None = None):
        self.max_running = max(1, int(max_running or training_cpus()))
        self.threads_per_job = max(1, int(threads_per_job or threads_per_training(self.max_running)))
        self.max_waiting = max_waiting
        self.abandon_after = abandon_after
        self.max_fused = max(1, max_fused)
        self.gather_seconds = gather_seconds if self.max_fused > 1 else 0.0
        self._runner = runner or _default_runner
        self._group_runner = group_runner or _default_group_runner
        self._processes = processes
        self._on_finished = on_finished
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a job joined the line: a gathering group may be full
        self._waiting: deque[Job] = deque()
        self._running: set[Job] = set()
        self._gathering: list[Job] = []  # the first jobs of groups still gathering their mates
        self._slots_busy = 0  # worker threads training, each one job or one fused group

    def submit(self, config, data: Sequence, owner: str | None = None, pace: float | None = None) -> Job:
        """Queue a training of `config` on data = (train_images, train_labels, test_images, test_labels).

        A config that can't train raises ValueError here, before anything is queued; a full
        line raises QueueFull. If `owner` already has an unfinished job, that job is returned.
        A job in slow motion (`pace`: seconds between minibatches, 0 for one per Job.advance())
        starts at once, beside the slots: it waits far more than it computes, so it must not
        hold a slot while a class waits.
        """
        config.validate()
        with self._lock:
            self._drop_abandoned()
            held = self._held_by(owner)
            if held:
                return held[0]
            self._refuse_if_full()
            job = Job(config, self, tuple(data), owner=owner, pace=pace)
            if pace is not None:
                self._begin(job)
                threading.Thread(target=self._work, args=([job], False, False), name=f"slow-{job.id}",
                                 daemon=True).start()
                return job
            self._waiting.append(job)
            self._start_ready()
            self._arrived.notify_all()
        return job

    def submit_sweep(self, configs: Sequence, data: Sequence, owner: str | None = None) -> list[Job]:
        """Queue several trainings that share their minibatches (a sweep of one setting) as one
        place in line: they wait together and train together in one fused pass, each its own
        Job (a naive-softmax sweep trains its values one after another: model.lesson.config.fuse_key).
        Configs that can't train together raise ValueError; `owner` gets back what it holds."""
        from model.lesson.config import fuse_key

        for config in configs:
            config.validate()
        if len({fuse_key(c) for c in configs}) != 1:
            raise ValueError(Message("jobs.not_a_sweep", "These settings can't train together: only the learning "
                                     "rate, weight decay, optimizer, schedule and a non-zero initial std may differ."))
        with self._lock:
            self._drop_abandoned()
            held = self._held_by(owner)
            if held:
                return held
            self._refuse_if_full()
            jobs = [Job(config, self, tuple(data), owner=owner) for config in configs]
            self._waiting.extend(jobs)  # side by side in line, so the first one's pass takes the others
            self._start_ready()
            self._arrived.notify_all()
        return jobs

    def _held_by(self, owner: str | None) -> list[Job]:
        """The unfinished jobs of `owner` (lock held): one place each, a sweep's several."""
        return [j for j in (*self._running, *self._waiting) if owner is not None and j.owner == owner]

    def _refuse_if_full(self) -> None:
        # Called with the lock held.
        if (self.max_waiting is not None and len(self._running) >= self.max_running
                and len(self._waiting) >= self.max_waiting):
            raise QueueFull(Message("jobs.queue_full", "The server is busy: all {slots} training slot(s) are taken "
                                    "and {waiting} trainings are already waiting, the most it queues. Try again "
                                    "in a minute or two.", slots=self.max_running, waiting=len(self._waiting)))

    def is_abandoned(self, job: Job) -> bool:
        return self.abandon_after is not None and job.unseen_for() > self.abandon_after

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def running_for_others(self, owner: str | None) -> int:
        """Running jobs that `owner` does not hold (all of them for None)."""
        with self._lock:
            return sum(job.owner is None or job.owner != owner for job in self._running)

    def _position(self, job: Job) -> int | None:
        with self._lock:
            self._drop_abandoned()
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def _cancel_if_queued(self, job: Job) -> None:
        with self._lock:
            if job in self._waiting:
                self._cancel(job)
            self._arrived.notify_all()  # a group gathering behind a stopped first starts at once

    def _drop_abandoned(self) -> None:
        """Cancel waiting jobs nobody watches any more (called with the lock held)."""
        for job in [j for j in self._waiting if self.is_abandoned(j)]:
            log.info("training job %s: its session went away while it waited; cancelling it", job.id)
            job.abandoned = True
            self._cancel(job)

    def _cancel(self, job: Job) -> None:
        # Called with the lock held.
        self._waiting.remove(job)
        job.status = Status.CANCELLED
        job.finished_at = time.time()
        job._data = None
        job._finished.set()

    def _start_ready(self) -> None:
        # Called with the lock held.
        self._drop_abandoned()
        while self._waiting and self._slots_busy < self.max_running:
            if any(self._waiting[0] in self._mates(first) for first in self._gathering):
                # It trains with the group gathering now, not in a pass of its own beside it; if
                # that group fills without it, its own gathering starts then, not at its Start.
                self._waiting[0]._gathers_from = time.monotonic()
                break
            first = self._waiting.popleft()
            self._begin(first)
            # Past its gathering moment (it waited in line), its mates are already here.
            gathers = time.monotonic() < first._gathers_from + self.gather_seconds
            if gathers:
                self._gathering.append(first)
            group = [first] if gathers else [first, *self._take_mates(first)]
            self._slots_busy += 1
            threading.Thread(target=self._work, args=(group, gathers), name=f"train-{first.id}",
                             daemon=True).start()

    def _begin(self, job: Job) -> None:
        # Called with the lock held.
        self._running.add(job)
        job.status = Status.RUNNING
        job.started_at = time.time()

    def _mates(self, first: Job) -> list[Job]:
        """The waiting jobs that can train with `first`, as many as fit in its group (lock held)."""
        if self.max_fused == 1:
            return []
        from model.lesson.config import fuse_key, numbers_key

        key = fuse_key(first.config)
        if key is None:  # it trains alone
            return []
        rows, mates = {numbers_key(first.config)}, []  # equal configs train once: they count once
        for job in self._waiting:
            row = numbers_key(job.config)
            if (fuse_key(job.config) == key and all(a is b for a, b in zip(job._data, first._data))
                    and (row in rows or len(rows) < self.max_fused)):
                rows.add(row)
                mates.append(job)
        return mates

    def _gather(self, first: Job) -> None:
        """Wait (lock held) for `first`'s mates: until its group is full or `first` is stopped, or
        `gather_seconds` after the last mate joined the line (after `first`, if none has), and
        GATHER_LIMIT after `first` at most: on a busy server a class's Starts reach the line over
        more than one gathering moment. A mate nobody watches any more does not count."""
        limit = first._gathers_from + max(GATHER_LIMIT, self.gather_seconds)
        while not first._stop.is_set():
            self._drop_abandoned()
            mates = self._mates(first)
            if self._distinct([first, *mates]) == self.max_fused:
                return
            last = max((j._joined for j in mates), default=first._gathers_from)
            wait = min(last + self.gather_seconds, limit) - time.monotonic()
            if wait <= 0:
                return
            self._arrived.wait(wait)

    @staticmethod
    def _distinct(group: list[Job]) -> int:
        from model.lesson.config import numbers_key

        return len({numbers_key(job.config) for job in group})

    def _take_mates(self, first: Job) -> list[Job]:
        """The waiting jobs that can train with `first`, now running beside it (lock held)."""
        mates = self._mates(first)
        for job in mates:
            self._waiting.remove(job)
            self._begin(job)
        return mates

    def _work(self, group: list[Job], gathers: bool, holds_slot: bool = True) -> None:
        try:
            if gathers:
                with self._lock:
                    try:
                        self._gather(group[0])
                        group += self._take_mates(group[0])
                    finally:
                        self._gathering.remove(group[0])
                    self._start_ready()  # the jobs it left may start beside it
            log.info("training %d job(s) together: %s", len(group), ", ".join(j.id for j in group))
            if self._processes is not None and group[0].pace is None:
                results = self._processes.train([j.config for j in group], *group[0]._data, **self._callbacks(group))
            else:
                results = self._train_here(group)
            for job, result in zip(group, results):
                job.result, job.status = result, Status.DONE
        except Exception as error:  # noqa: BLE001 - any failure becomes a message on the page
            log.exception("training job(s) %s failed", ", ".join(j.id for j in group))
            for job in group:
                job.error, job.status = _plain_error(error), Status.FAILED
        finally:
            with self._lock:
                for job in group:
                    job.finished_at = time.time()
                    job._data = None
                    self._running.discard(job)
                if holds_slot:
                    self._slots_busy -= 1
                self._start_ready()
            for job in group:
                job._finished.set()
            for job in group:
                self._tell_finished(job)

    def _train_here(self, group: list[Job]) -> list:
        """The group trained in this thread (slow motion, or no child processes)."""
        self._limit_threads()
        if len(group) > 1:
            return self._group_runner([j.config for j in group], *group[0]._data, **self._callbacks(group))
        job = group[0]
        # In slow motion every minibatch is drawn: progress after each one.
        paced = {} if job.pace is None else {"report_every": 1}
        return [self._runner(job.config, *job._data, on_epoch=job._on_epoch, on_progress=job._on_progress,
                             should_stop=job.should_stop, **paced)]

    def _tell_finished(self, job: Job) -> None:
        if self._on_finished is None or job.result is None:
            return
        try:
            self._on_finished(job)
        except Exception:  # noqa: BLE001 - the page that holds the job still has it
            log.exception("on_finished failed for training job %s", job.id)

    @staticmethod
    def _callbacks(group: list[Job]) -> dict:
        """A group runner's callbacks, which take the model's index first, to each job's own."""
        return dict(on_epoch=lambda k, m: group[k]._on_epoch(m), on_progress=lambda k, p: group[k]._on_progress(p),
                    should_stop=lambda k: group[k].should_stop())

    def _limit_threads(self) -> None:
        # Only for a training in this process: with trainings in children a shorter interval
        # only hands the GIL between page threads more often (more of their CPU, measured).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))  # the whole process's, once
        try:
            import torch
        except ImportError:  # a fake runner in tests may not need torch
            return
        # OpenMP's thread count is per calling thread: this limits this worker only.
        torch.set_num_threads(self.threads_per_job)
