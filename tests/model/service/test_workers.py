"""model.service.workers: trainings in a child process give the numbers of training in-process,
report as they go, stop alone, and survive a child that dies."""
import os
import signal
import sys
import threading

import numpy as np
import pytest
import torch

from model.lesson.config import preset
from model.lesson.fused import train_together
from model.lesson.train import train
from model.service.jobs import Status, TrainingQueue
from model.service.workers import TrainingProcessDied, TrainingProcesses
from tests.model.service.test_jobs import wait_for

CONFIGS = [preset("lesson", epochs=2, lr=0.05), preset("lesson", epochs=2, lr=0.2, weight_decay=1e-3),
           preset("lesson", epochs=2, lr=0.01, optimizer="adam", impl="scratch")]


@pytest.fixture(autouse=True, scope="module")
def threads_as_the_children():
    """What these tests train here, they train with the children's one thread: two threads split
    the products' sums another way, which moves lr 0.2's weights by 1.4e-6 in 2 epochs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small(train_data, test_data):
    """6,000 real training images and 2,000 real test images."""
    return train_data[0][:6000], train_data[1][:6000], test_data[0][:2000], test_data[1][:2000]


@pytest.fixture(scope="module")
def pool():
    processes = TrainingProcesses(count=1, threads=1)
    processes.start()
    yield processes
    processes.close()


def test_a_group_trained_in_a_child_matches_training_it_here(pool, small):
    there = pool.train(CONFIGS, *small)
    here = train_together(CONFIGS, *small)
    for a, b in zip(there, here):
        assert torch.allclose(a.weight, b.weight, atol=1e-6) and torch.allclose(a.bias, b.bias, atol=1e-6)
        assert [h["train_loss"] for h in a.history] == pytest.approx([h["train_loss"] for h in b.history], rel=1e-6)
        assert a.test_acc == b.test_acc and a.config is not None and not a.stopped


def test_each_result_from_a_child_carries_its_test_set_evaluation(pool, small):
    """The results page takes it instead of evaluating on the server: it must be the one the server would compute."""
    from model.lesson.analysis import evaluate

    for result in pool.train(CONFIGS[:2], *small):
        here = evaluate(result.classifier(), small[2].numpy(), small[3].numpy())
        assert len(result.evaluation.labels) == 2000
        assert np.array_equal(result.evaluation.predicted, here.predicted)
        assert np.array_equal(result.evaluation.matrix, here.matrix)
        assert np.allclose(result.evaluation.confidence, here.confidence, rtol=1e-12)
        assert result.evaluation.accuracy == pytest.approx(result.test_acc, abs=1e-3)  # float32 in training: a tie may flip


def test_one_config_trains_alone_in_the_child_and_reports_as_it_goes(pool, small):
    config = preset("lesson", epochs=2, impl="concise")
    epochs, progress = [], []
    [there] = pool.train([config], *small, on_epoch=lambda k, m: epochs.append((k, m["epoch"])),
                         on_progress=lambda k, p: progress.append((k, p)))
    here = train(config, *small)
    assert torch.allclose(there.weight, here.weight, atol=1e-6)
    assert epochs == [(0, 1), (0, 2)]
    assert len(progress) >= 20 and all(k == 0 for k, _ in progress)
    assert all(p.weight is not None and p.weight.shape == (10, 784) for _, p in progress)  # between sends, the last one
    assert progress[-1][1].fraction == 1.0
    assert torch.allclose(torch.from_numpy(progress[-1][1].weight), here.weight, atol=1e-6)  # the last sent is final


def test_one_model_of_a_group_stops_alone(pool, train_data, test_data):
    data = (*train_data, test_data[0][:2000], test_data[1][:2000])
    configs = [preset("lesson", epochs=6, lr=lr) for lr in (0.05, 0.1)]
    epochs = []
    first, second = pool.train(configs, *data, on_epoch=lambda k, m: epochs.append(k),
                               should_stop=lambda k: k == 1 and 1 in epochs)  # after its first epoch
    assert second.stopped and 1 <= len(second.history) < 6
    assert not first.stopped and len(first.history) == 6
    alone = train(configs[0], *data)
    assert torch.allclose(first.weight, alone.weight, atol=1e-6)  # its mate's stop did not disturb it


def test_an_error_in_the_child_is_raised_here_with_its_message(pool, small):
    images, labels, test_images, test_labels = small
    with pytest.raises(IndexError, match="index out of range"):  # ten labels for 6,000 images
        pool.train([preset("lesson", epochs=1)], images, labels[:10], test_images, test_labels)
    [again] = pool.train([preset("lesson", epochs=1)], *small)  # the child is still there and trains
    assert len(again.history) == 1


def test_a_child_killed_mid_training_fails_that_training_and_the_next_one_works(small):
    processes = TrainingProcesses(count=1, threads=1)
    processes.start()
    [child] = processes.children
    killed = []

    def kill_once(k):
        if not killed and child.alive():
            os.kill(child.process.pid, signal.SIGKILL)
            killed.append(True)
        return False

    try:
        with pytest.raises(TrainingProcessDied) as died:
            processes.train([preset("lesson", epochs=5)], *small, should_stop=kill_once)
        assert "Press Start again" in str(died.value) and died.value.args[0].key == "workers.died"
        [result] = processes.train([preset("lesson", epochs=1)], *small)
        assert len(result.history) == 1
    finally:
        processes.close()


@pytest.mark.parametrize("lanes", [1, 2])
def test_the_children_end_when_the_server_side_of_their_connections_close(lanes):
    processes = TrainingProcesses(count=2, threads=1, lanes=lanes)
    processes.start()
    children = processes.children
    assert len(children) == 2 // lanes
    for child in children:
        for lane in child.lanes:
            lane.connection.close()  # as when the server process dies
    for child in children:
        child.process.wait(timeout=30)
        assert child.process.returncode == 0


# Two lanes in one child: the dataset comes on one lane and both wait for it.
@pytest.mark.parametrize("lanes, data_at_start", [(1, True), (2, True), (2, False)])
def test_two_trainings_at_once_give_the_numbers_of_training_here(small, lanes, data_at_start):
    processes = TrainingProcesses(count=2, threads=1, lanes=lanes)
    processes.start(small if data_at_start else None)
    try:
        groups = [CONFIGS[:2], CONFIGS[2:]]
        results = [None, None]
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, processes.train(groups[i], *small)))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        for configs, there in zip(groups, results):
            here = train_together(configs, *small) if len(configs) > 1 else [train(configs[0], *small)]
            for a, b in zip(there, here):
                assert torch.allclose(a.weight, b.weight, atol=1e-6)
        assert len(processes.children) == 2 // lanes
    finally:
        processes.close()


def test_the_queue_trains_its_jobs_in_the_children(pool, small):
    queue = TrainingQueue(max_running=1, max_fused=8, processes=pool, gather_seconds=0.2)
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default; an in-process training's test may have shortened it
    try:
        jobs = [queue.submit(config, small, owner=str(i)) for i, config in enumerate(CONFIGS)]
        assert all(job.wait(120) for job in jobs)
        assert sys.getswitchinterval() == 0.005  # the page threads' own: the training ran elsewhere
    finally:
        sys.setswitchinterval(before)
    assert [job.status for job in jobs] == [Status.DONE] * 3
    here = train_together(CONFIGS, *small)
    for job, b in zip(jobs, here):
        assert torch.allclose(job.result.weight, b.weight, atol=1e-6)
        assert len(job.snapshot().history) == 2 and job.snapshot().weight is not None


def test_a_queued_job_whose_child_dies_fails_with_a_message_that_says_what_to_do(small, train_data, test_data):
    processes = TrainingProcesses(count=1, threads=1)
    processes.start()
    [child] = processes.children
    queue = TrainingQueue(max_running=1, processes=processes)
    try:
        job = queue.submit(preset("lesson", epochs=20), (*train_data, *test_data), owner="a")
        assert wait_for(lambda: job.snapshot().points, timeout=60)  # it trains in the child
        os.kill(child.process.pid, signal.SIGKILL)
        assert job.wait(30) and job.status is Status.FAILED
        assert job.error.key == "workers.died" and "Press Start again" in job.error
    finally:
        processes.close()

