"""model.service.jobs: the background training queue (fake trainers for the queueing, one real run for Stop)."""
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from model.service import jobs as jobs_module
from model.service.jobs import Status, TrainingQueue


class FakeConfig(SimpleNamespace):
    epochs = 2

    def validate(self):
        if getattr(self, "bad", False):
            raise ValueError("the learning rate must be a positive number, not -1")
        return self


def fake_runner(release: threading.Event, started: list | None = None):
    """A trainer that reports progress until released or stopped."""
    def run(config, *data, on_epoch, on_progress, should_stop):
        if started is not None:
            started.append(config)
        step = 0
        while not release.is_set() and not should_stop():
            step += 1
            on_progress(SimpleNamespace(epoch=1, fraction=min(step / 100, 1), train_loss=1 / step,
                                        train_acc=0.5, weight=None))
            time.sleep(0.002)
        on_epoch({"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "test_acc": 0.79, "seconds": 0.1})
        return SimpleNamespace(stopped=should_stop(), diverged=None, history=[])
    return run


def wait_for(predicate, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_runs_at_most_n_and_queues_the_rest_with_positions():
    release, started = threading.Event(), []
    queue = TrainingQueue(max_running=2, runner=fake_runner(release, started))
    jobs = [queue.submit(FakeConfig(n=i), ()) for i in range(4)]
    assert wait_for(lambda: len(started) == 2)
    assert [j.status for j in jobs] == [Status.RUNNING, Status.RUNNING, Status.QUEUED, Status.QUEUED]
    assert [j.position for j in jobs] == [None, None, 1, 2]
    assert jobs[3].snapshot().position == 2
    release.set()
    for job in jobs:
        assert job.wait(5)
    assert all(j.status is Status.DONE for j in jobs)
    assert queue.running == 0 and queue.waiting == 0


def test_a_queued_job_can_be_cancelled_and_the_line_moves_up():
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release))
    first, second, third = (queue.submit(FakeConfig(), ()) for _ in range(3))
    second.stop()  # in line, Stop cancels
    assert second.status is Status.CANCELLED and second.finished and second.result is None
    assert third.position == 1
    release.set()
    assert third.wait(5) and third.status is Status.DONE


def test_stop_ends_a_running_job_and_keeps_its_result():
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release))
    job = queue.submit(FakeConfig(), ())
    assert wait_for(lambda: job.snapshot().points)
    job.stop()
    assert job.wait(1)
    assert job.status is Status.DONE and job.result.stopped
    snap = job.snapshot()
    assert snap.points and snap.history and snap.fraction > 0


def test_a_failure_becomes_a_plain_message_and_frees_the_slot():
    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    queue = TrainingQueue(max_running=1, runner=broken)
    job = queue.submit(FakeConfig(), ())
    assert job.wait(5)
    assert job.status is Status.FAILED
    assert "boom" in job.error and "Traceback" not in job.error
    assert queue.running == 0


def test_an_invalid_config_is_refused_before_queueing():
    queue = TrainingQueue(max_running=1, runner=fake_runner(threading.Event()))
    with pytest.raises(ValueError, match="learning rate"):
        queue.submit(FakeConfig(bad=True), ())
    assert queue.waiting == 0 and queue.running == 0


def test_the_default_size_and_threads_follow_the_apps_rule():
    from model.service.settings import Settings, available_cpus, threads_per_training, training_cpus

    queue = TrainingQueue()  # in this process: all CPUs but one, which the pages keep
    assert queue.max_running == training_cpus()
    assert queue.threads_per_job == threads_per_training(queue.max_running)
    # The app's trainings run in niced child processes: one per CPU, one thread each on 2 CPUs.
    assert Settings().max_concurrent_trainings == available_cpus()
    assert Settings().torch_threads() == threads_per_training(available_cpus()) == max(1, training_cpus() // available_cpus())


def test_stop_on_a_real_training_keeps_the_learned_weights(train_data, test_data):
    from model.lesson.config import preset

    queue = TrainingQueue(max_running=1)
    job = queue.submit(preset("lesson", epochs=50), (*train_data, *test_data))
    assert wait_for(lambda: len(job.snapshot().points) >= 3, timeout=60)
    asked = time.perf_counter()
    job.stop()
    assert job.wait(1.0), "Stop must end training within a second"
    print(f"stop latency {1000 * (time.perf_counter() - asked):.1f} ms")
    assert job.status is Status.DONE and job.result.stopped
    classifier = job.result.classifier()
    images, labels = test_data
    accuracy = (classifier.predict(images.numpy()[:2000]) == labels.numpy()[:2000]).mean()
    assert accuracy > 0.5  # what it learned before the stop is kept


# --- a shared server: one place per session, a bounded line, nobody holds it after leaving ------

def test_one_owner_holds_one_place_however_often_it_submits():
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release))
    first = queue.submit(FakeConfig(), (), owner="session-a")
    again = [queue.submit(FakeConfig(), (), owner="session-a") for _ in range(5)]  # a burst of Start reruns
    other = queue.submit(FakeConfig(), (), owner="session-b")
    assert all(job is first for job in again)
    assert queue.running + queue.waiting == 2 and other.position == 1
    release.set()
    assert first.wait(5) and other.wait(5)
    assert queue.submit(FakeConfig(), (), owner="session-a") is not first  # once finished, a new one


def test_a_full_line_refuses_with_a_reason_and_a_freed_place_takes_the_next():
    from model.service.jobs import QueueFull

    release = threading.Event()
    queue = TrainingQueue(max_running=1, max_waiting=2, runner=fake_runner(release))
    held = [queue.submit(FakeConfig(), (), owner=f"s{i}") for i in range(3)]  # 1 running, 2 waiting
    with pytest.raises(QueueFull, match="2 trainings are already waiting.*Try again"):
        queue.submit(FakeConfig(), (), owner="s3")
    held[2].stop()  # one leaves the line
    assert queue.submit(FakeConfig(), (), owner="s3").position == 2
    release.set()


def test_jobs_nobody_watches_are_stopped_or_cancelled_and_the_line_drains():
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release), abandon_after=0.3)
    gone = [queue.submit(FakeConfig(), (), owner=f"gone{i}") for i in range(3)]  # start, then close the tab
    present = queue.submit(FakeConfig(), (), owner="here")
    # Past the worker's first torch import; this page polls all along.
    assert wait_for(lambda: present.touch() or gone[0].snapshot().points or gone[0].finished, timeout=10)
    started = time.monotonic()
    while present.status is not Status.RUNNING and time.monotonic() - started < 5:
        present.touch()  # this one's page keeps polling
        _ = present.position
        time.sleep(0.05)
    waited = time.monotonic() - started
    assert present.status is Status.RUNNING and waited < 1.5, waited
    assert gone[0].wait(1) and gone[0].status is Status.DONE and gone[0].result.stopped  # what it learned is kept
    for job in gone[1:]:  # dropped from the line, or (had it just started) stopped at its first minibatch
        assert job.wait(1) and (job.status is Status.CANCELLED or job.result.stopped)
    assert all(j.abandoned for j in gone) and not present.abandoned
    for _ in range(10):  # still watched: not abandoned however long it runs
        present.touch()
        time.sleep(0.05)
    assert present.status is Status.RUNNING
    release.set()
    assert present.wait(5) and not present.result.stopped


def test_without_an_abandon_time_nothing_is_abandoned():
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release))
    job = queue.submit(FakeConfig(), ())
    time.sleep(0.2)
    assert job.status is Status.RUNNING and not job.should_stop()
    release.set()
    assert job.wait(5) and not job.abandoned


def test_a_dataset_or_settings_error_is_shown_as_its_own_words():
    from model.files.data import DatasetError

    for error in (DatasetError("Fashion-MNIST file x is missing. Install it with apt."), ValueError("lr must be > 0")):
        def broken(*args, error=error, **kwargs):
            raise error
        job = TrainingQueue(max_running=1, runner=broken).submit(FakeConfig(), ())
        assert job.wait(5) and job.error == str(error)


# --- fused groups -----------------------------------------------------------------------------

def test_waiting_jobs_that_share_their_minibatches_start_together():
    from model.lesson.config import preset

    release, groups = threading.Event(), []

    def group_runner(configs, *data, on_epoch, on_progress, should_stop):
        groups.append([c.lr for c in configs])
        while not release.is_set():
            time.sleep(0.002)
        for k in range(len(configs)):
            on_epoch(k, {"epoch": 1, "lr": configs[k].lr})
        return [SimpleNamespace(lr=c.lr) for c in configs]

    def runner(config, *data, on_epoch, on_progress, should_stop):
        groups.append([config.lr])
        while not release.is_set():
            time.sleep(0.002)
        return SimpleNamespace(lr=config.lr)

    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=1, runner=runner, group_runner=group_runner, max_fused=3, gather_seconds=0)
    first = queue.submit(preset("lesson", lr=0.5), data, owner="a")
    waiting = [queue.submit(preset("lesson", lr=lr), data, owner=f"b{lr}") for lr in (0.01, 0.02, 0.03, 0.04)]
    other_seed = queue.submit(preset("lesson", lr=0.1, seed=7), data, owner="c")
    release.set()
    for job in (first, *waiting, other_seed):
        assert job.wait(5)
    assert groups == [[0.5], [0.01, 0.02, 0.03], [0.04], [0.1]]  # at most 3 together; other seeds apart
    assert [j.result.lr for j in waiting] == [0.01, 0.02, 0.03, 0.04]
    assert [j.snapshot().history for j in waiting[:3]] == [[{"epoch": 1, "lr": lr}] for lr in (0.01, 0.02, 0.03)]


def recording_runners(wait=None):
    """(groups, runner, group_runner): each pass they train appends its learning rates to
    groups; a pass first waits for `wait` (an Event) when one is given."""
    groups = []

    def group_runner(configs, *data, on_epoch, on_progress, should_stop):
        groups.append([c.lr for c in configs])
        if wait is not None:
            wait.wait(5)
        return [SimpleNamespace(lr=c.lr) for c in configs]

    def runner(config, *data, on_epoch, on_progress, should_stop):
        groups.append([config.lr])
        return SimpleNamespace(lr=config.lr)

    return groups, runner, group_runner


def test_a_job_that_finds_the_slot_free_waits_a_moment_for_mates_to_train_with():
    from model.lesson.config import preset

    groups, runner, group_runner = recording_runners()
    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=1, runner=runner, group_runner=group_runner, max_fused=8, gather_seconds=0.3)
    first = queue.submit(preset("lesson", lr=0.5), data, owner="a")
    assert first.status is Status.RUNNING  # it holds the slot while it waits
    mates = [queue.submit(preset("lesson", lr=lr), data, owner=f"b{lr}") for lr in (0.01, 0.02)]
    time.sleep(0.5)
    late = queue.submit(preset("lesson", lr=0.03), data, owner="c")
    for job in (first, *mates, late):
        assert job.wait(5)
    assert groups == [[0.5, 0.01, 0.02], [0.03]]
    assert first.finished_at - first.submitted_at >= 0.3


def test_a_full_group_starts_without_waiting_out_the_gathering_moment():
    """A class's first clicks fill a group: it trains at once, not when the moment ends, and
    the next ones, waiting behind it, fill the next."""
    from model.lesson.config import preset

    everyone_clicked = threading.Event()
    groups, runner, group_runner = recording_runners(wait=everyone_clicked)
    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=1, runner=runner, group_runner=group_runner, max_fused=3, gather_seconds=5.0)
    jobs = [queue.submit(preset("lesson", lr=lr), data, owner=str(lr)) for lr in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]
    everyone_clicked.set()
    for job in jobs:
        assert job.wait(5)
    assert groups == [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    # Each group took its mates at once, not at the end of the 5 s moment.
    assert jobs[1].started_at - jobs[0].submitted_at < 1 and jobs[4].started_at - jobs[3].started_at < 1


def test_equal_settings_count_once_toward_a_groups_size():
    """They train once (model.lesson.fused): a class on one preset fills one group, not four."""
    from model.lesson.config import preset

    groups, runner, group_runner = recording_runners()
    before = threading.Event()

    def first_runner(config, *data, **callbacks):  # holds the slot until the class is in line
        before.wait(5)
        return runner(config, *data, **callbacks)

    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=1, runner=first_runner, group_runner=group_runner, max_fused=3,
                          gather_seconds=0.1)
    ahead = queue.submit(preset("lesson", lr=0.9, seed=7), data, owner="ahead")
    lrs = (0.1, 0.1, 0.2, 0.1, 0.2, 0.1, 0.4, 0.3, 0.1, 0.4)
    jobs = [queue.submit(preset("lesson", lr=lr), data, owner=str(i)) for i, lr in enumerate(lrs)]
    time.sleep(0.2)  # past their gathering moment: the first group takes its mates at once
    before.set()
    for job in (ahead, *jobs):
        assert job.wait(5)
    # Three settings (0.1, 0.2, 0.4) with every copy of them waiting; 0.3 is a fourth.
    assert groups == [[0.9], [0.1, 0.1, 0.2, 0.1, 0.2, 0.1, 0.4, 0.1, 0.4], [0.3]]
    assert [j.result.lr for j in jobs] == list(lrs)


def test_jobs_a_gathering_group_can_take_wait_for_it_instead_of_starting_beside_it():
    """Two free slots and a class on one preset: one pass for all (the second slot would train
    a copy alone, the whole training again), while other settings still start beside it."""
    from model.lesson.config import preset

    groups, runner, group_runner = recording_runners()
    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=2, runner=runner, group_runner=group_runner, max_fused=2, gather_seconds=0.3)
    jobs = [queue.submit(preset("lesson", lr=lr), data, owner=str(i)) for i, lr in enumerate((0.1, 0.1, 0.1, 0.2, 0.3, 0.3))]
    for job in jobs:
        assert job.wait(5)
    assert sorted(groups) == [[0.1, 0.1, 0.1, 0.2], [0.3, 0.3]]  # 0.3, a third setting, in a pass of its own


def test_a_group_keeps_gathering_while_mates_keep_coming(monkeypatch):
    """On a busy server a class's Starts reach the line over more than one gathering moment:
    each mate that joins extends it (to GATHER_LIMIT at most); after a gap the group trains."""
    from model.lesson.config import preset

    monkeypatch.setattr(jobs_module, "GATHER_LIMIT", 2.5)
    groups, runner, group_runner = recording_runners()
    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=1, runner=runner, group_runner=group_runner, max_fused=8, gather_seconds=1.0)
    jobs = [queue.submit(preset("lesson", lr=0.1), data, owner="first")]
    for lr in (0.2, 0.3, 0.4, 0.5):  # one every 0.3 s: past the first moment, within a moment of each other
        time.sleep(0.3)
        jobs.append(queue.submit(preset("lesson", lr=lr), data, owner=str(lr)))
    time.sleep(1.6)  # a moment after the last mate: its group has gone
    jobs.append(queue.submit(preset("lesson", lr=0.6), data, owner="late"))
    for job in jobs:
        assert job.wait(5)
    assert groups == [[0.1, 0.2, 0.3, 0.4, 0.5], [0.6]]


def test_a_group_gathering_behind_a_stopped_first_starts_at_once():
    """Stop pressed while a group gathers for its first: the mates waiting train now (the first
    ends at its first minibatch), not at the end of the moment."""
    from model.lesson.config import preset

    groups, runner, group_runner = recording_runners()
    data = (object(), object(), object(), object())
    queue = TrainingQueue(max_running=1, runner=runner, group_runner=group_runner, max_fused=8, gather_seconds=5.0)
    first = queue.submit(preset("lesson", lr=0.1), data, owner="first")
    mate = queue.submit(preset("lesson", lr=0.2), data, owner="mate")
    time.sleep(0.2)
    first.stop()
    assert mate.wait(5) and groups == [[0.1, 0.2]]
    assert mate.started_at - first.submitted_at < 1.5  # not the 5 s moment


def test_a_snapshot_never_shows_a_place_in_line_for_a_job_that_just_left_it(monkeypatch):
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release))
    queue.submit(FakeConfig(), ())
    job = queue.submit(FakeConfig(), ())

    def leaves_the_line_as_asked(asked):  # a group takes it between reading its status and its place
        asked.status = Status.RUNNING
        return None

    monkeypatch.setattr(queue, "_position", leaves_the_line_as_asked)
    snap = job.snapshot()
    assert (snap.status, snap.position) == (Status.RUNNING, None)
    release.set()


def test_a_fused_group_of_real_trainings_gives_each_its_own_numbers(train_data, test_data):
    from model.lesson.config import preset
    from model.lesson.train import train

    data = (train_data[0][:6000], train_data[1][:6000], test_data[0][:2000], test_data[1][:2000])
    queue = TrainingQueue(max_running=1, max_fused=8)
    blocker = queue.submit(preset("lesson", epochs=1, lr=0.1, seed=9), data)  # holds the slot while the rest queue
    jobs = [queue.submit(preset("lesson", epochs=2, lr=lr), data) for lr in (0.02, 0.05, 0.1)]
    for job in (blocker, *jobs):
        assert job.wait(60) and job.status is Status.DONE
    for job in jobs:
        alone = train(job.config, *data)
        assert np.allclose(job.result.weight.numpy(), alone.weight.numpy(), atol=1e-5)
        assert [h["epoch"] for h in job.snapshot().history] == [1, 2]


# --- slow motion: a training to watch, one minibatch at a time ---------------------------------

def test_one_minibatch_at_a_time_takes_exactly_the_minibatches_advanced(train_data, test_data):
    from model.lesson.config import preset
    from model.lesson.train import train

    config = preset("lesson", epochs=1, batch_size=6000)  # 10 minibatches an epoch
    release = threading.Event()
    fake = fake_runner(release)

    def runner(config, *data, **callbacks):
        return (fake if isinstance(config, FakeConfig) else train)(config, *data, **callbacks)

    queue = TrainingQueue(max_running=1, runner=runner)
    busy = queue.submit(FakeConfig(), (), owner="someone else")
    assert wait_for(lambda: busy.status is Status.RUNNING)  # the one slot is taken ...
    job = queue.submit(config, (*train_data, *test_data), owner="learner", pace=0)
    assert job.status is Status.RUNNING  # ... and slow motion starts beside it anyway
    time.sleep(0.3)
    assert job.snapshot().batches == 0  # nothing happens until it is asked
    job.advance(3)
    assert wait_for(lambda: len(job.snapshot().points) == 3, timeout=30)
    time.sleep(0.3)
    snap = job.snapshot()
    assert snap.batches == 3 and len(snap.points) == 3  # every minibatch reported, none more taken
    job.advance(7)
    assert job.wait(30) and job.status is Status.DONE
    alone = train(config, *train_data, *test_data)
    # The same numbers as at full speed (up to the order of float sums, which torch's thread count sets).
    np.testing.assert_allclose(job.result.weight.numpy(), alone.weight.numpy(), atol=1e-6)
    assert job.result.history[0]["test_acc"] == pytest.approx(alone.history[0]["test_acc"], abs=2e-4)
    assert busy.status is Status.RUNNING
    release.set()


def test_a_paced_training_takes_a_minibatch_every_pace_seconds_and_stops_at_once(train_data, test_data):
    from model.lesson.config import preset

    queue = TrainingQueue(max_running=1)
    job = queue.submit(preset("lesson", epochs=1), (*train_data, *test_data), pace=0.05)
    time.sleep(1.0)
    taken = job.snapshot().batches
    assert 8 <= taken <= 21, taken  # ~20 at 20 a second, fewer on a busy machine; never the whole epoch
    asked = time.perf_counter()
    job.stop()
    assert job.wait(1.0) and time.perf_counter() - asked < 0.5
    assert job.result.stopped


def test_a_step_by_step_training_nobody_advances_or_watches_is_stopped(monkeypatch, train_data, test_data):
    from model.lesson.config import preset
    from model.service import jobs

    monkeypatch.setattr(jobs, "STEP_IDLE", 0.5)
    queue = TrainingQueue(max_running=1)
    job = queue.submit(preset("lesson", epochs=1), (*train_data, *test_data), pace=0)
    assert job.wait(10), "a forgotten step-by-step training must end on its own"
    assert job.abandoned and job.result.stopped


# --- a sweep: one setting at several values, trained together --------------------------------

def test_a_sweep_trains_its_values_in_one_pass_each_with_its_own_job(train_data, test_data):
    from dataclasses import replace

    from model.lesson.config import preset

    groups = []

    def group_runner(configs, *data, **callbacks):
        from model.lesson.fused import train_together

        groups.append([c.lr for c in configs])
        return train_together(configs, *data, **callbacks)

    queue = TrainingQueue(max_running=1, max_fused=8, group_runner=group_runner)
    base = preset("lesson", epochs=1)
    jobs = queue.submit_sweep([replace(base, lr=lr) for lr in (0.01, 0.1, 1.0)], (*train_data, *test_data),
                              owner="learner")
    assert queue.submit_sweep([base], (*train_data, *test_data), owner="learner") == jobs  # one place per owner
    assert all(job.wait(60) for job in jobs)
    assert groups == [[0.01, 0.1, 1.0]]  # one fused pass
    accuracies = [job.result.history[0]["test_acc"] for job in jobs]
    assert len(set(accuracies)) == 3 and accuracies[1] > accuracies[0]  # each its own model: lr 0.1 beats 0.01


def test_a_naive_softmax_sweep_trains_its_values_one_after_another(train_data, test_data):
    from dataclasses import replace

    from model.lesson.config import preset

    groups = []

    def group_runner(configs, *data, **callbacks):
        groups.append(len(configs))
        raise AssertionError("a naive-softmax training must not be fused")

    queue = TrainingQueue(max_running=1, max_fused=8, group_runner=group_runner, gather_seconds=0.3)
    base = preset("lesson", epochs=1, impl="scratch", naive_softmax=True)
    small = (train_data[0][:3000], train_data[1][:3000], test_data[0][:1000], test_data[1][:1000])
    jobs = queue.submit_sweep([replace(base, lr=lr) for lr in (0.1, 3.0)], small, owner="learner")
    assert all(job.wait(60) for job in jobs) and groups == []
    calm, wild = (job.result for job in jobs)
    assert calm.diverged is None and wild.diverged  # lr 3 overflows the naive softmax, as alone


def test_a_sweep_of_settings_that_cant_share_minibatches_is_refused():
    from dataclasses import replace

    from model.lesson.config import preset

    queue = TrainingQueue(max_running=1, runner=fake_runner(threading.Event()))
    base = preset("lesson")
    with pytest.raises(ValueError, match="can't train together"):
        queue.submit_sweep([base, replace(base, batch_size=128)], ())
    assert queue.waiting == 0


def paced_runner(fraction_per_second: float, release: threading.Event):
    """A trainer whose progress grows at a steady rate; it ends once released (or on Stop)."""
    def run(config, *data, on_epoch, on_progress, should_stop):
        started = time.monotonic()
        while not release.is_set() and not should_stop():
            fraction = min((time.monotonic() - started) * fraction_per_second, 0.99)
            on_progress(SimpleNamespace(epoch=1, fraction=fraction, train_loss=1.0, train_acc=0.5, weight=None))
            time.sleep(0.01)
        return SimpleNamespace(stopped=False, diverged=None, history=[])
    return run


def test_a_page_waits_for_a_job_about_to_end_and_not_for_one_far_from_it():
    near, far = threading.Event(), threading.Event()
    fast = TrainingQueue(max_running=1, runner=paced_runner(2.0, near)).submit(FakeConfig(), ())  # ~0.5 s in all
    slow = TrainingQueue(max_running=1, runner=paced_runner(0.02, far)).submit(FakeConfig(), ())  # ~50 s in all
    assert wait_for(lambda: fast.snapshot().fraction > 0.6 and slow.snapshot().fraction > 0)
    threading.Timer(0.3, near.set).start()
    began = time.monotonic()
    assert fast.wait_if_ending(within=3.0)  # its end was due within 3 s: the page waited for it
    assert 0.2 < time.monotonic() - began < 2.0
    began = time.monotonic()
    assert not slow.wait_if_ending(within=3.0)  # tens of seconds left: the page draws it at once
    assert time.monotonic() - began < 0.1
    far.set()
    assert slow.wait(5) and slow.wait_if_ending(within=3.0)  # a finished job needs no wait


def test_a_queued_job_is_not_waited_for():
    release = threading.Event()
    queue = TrainingQueue(max_running=1, runner=fake_runner(release))
    queue.submit(FakeConfig(), ())
    queued = queue.submit(FakeConfig(), ())
    began = time.monotonic()
    assert not queued.wait_if_ending(within=3.0) and time.monotonic() - began < 0.1
    release.set()


def test_on_finished_hears_of_each_job_that_ends_with_a_result_once_even_if_it_raises():
    heard, release = [], threading.Event()

    def listener(job):
        heard.append(job)
        raise OSError("disk full")  # logged; the job and the queue go on

    queue = TrainingQueue(max_running=1, runner=fake_runner(release), on_finished=listener)
    first, waiting = queue.submit(FakeConfig(lr=0.1), ()), queue.submit(FakeConfig(lr=0.2), ())
    waiting.stop()  # leaves the line without a result: nothing to keep
    release.set()
    assert first.wait(5) and wait_for(lambda: heard == [first])
    failed = TrainingQueue(max_running=1, runner=lambda *a, **k: 1 / 0, on_finished=listener).submit(FakeConfig(), ())
    assert failed.wait(5) and failed.status is Status.FAILED
    time.sleep(0.1)
    assert heard == [first] and queue.running == 0


def test_running_for_others_leaves_out_the_asking_owners_own_jobs():
    release = threading.Event()
    queue = TrainingQueue(max_running=3, runner=fake_runner(release))
    mine, theirs = queue.submit(FakeConfig(lr=0.1), (), owner="me"), queue.submit(FakeConfig(lr=0.2), (), owner="you")
    assert wait_for(lambda: queue.running == 2)
    assert queue.running_for_others("me") == 1 and queue.running_for_others("you") == 1
    assert queue.running_for_others(None) == 2  # a session that never trained: everyone's are others'
    release.set()
    assert mine.wait(5) and theirs.wait(5) and queue.running_for_others(None) == 0
