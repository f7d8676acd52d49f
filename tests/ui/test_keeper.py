"""ui.keeper: a finished training's run is saved once, whoever asks first, named in the language
of the page that started it; a failed save is tried again by the next asker."""
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from model.lesson.classifier import LinearClassifier
from ui import keeper


class CountingStore:
    def __init__(self, fail_first: bool = False):
        self.saved, self.fail_first = [], fail_first

    def save(self, classifier, name):
        if self.fail_first:
            self.fail_first = False
            raise OSError(28, "No space left on device")
        self.saved.append(name)
        return SimpleNamespace(id=f"run-{len(self.saved)}")


def finished_job(job_id: str):
    meta = {"config": {"impl": "concise", "lr": 0.1, "epochs": 1}, "history": [], "test_acc": 0.8}
    classifier = LinearClassifier(np.zeros((10, 784), np.float32), np.zeros(10, np.float32), 0.0, 1.0, meta)
    return SimpleNamespace(id=job_id, finished=True, result=SimpleNamespace(classifier=lambda: classifier))


def test_a_run_is_kept_once_when_the_queue_and_its_page_ask_at_the_same_moment():
    job, store = finished_job("job-race"), CountingStore()
    keeper.started([job], "zh", store)
    ids = []
    askers = [threading.Thread(target=lambda: ids.append(keeper.keep(job, store))) for _ in range(8)]
    askers.append(threading.Thread(target=keeper.on_finished, args=(job,)))
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert store.saved == ["简洁实现，学习率 0.1，1 个迭代周期，80.0%"] and set(ids) == {"run-1"}


def test_the_queue_keeps_only_what_a_page_said_to_keep_and_a_failed_save_is_tried_again():
    hosted, local = finished_job("job-hosted"), finished_job("job-local")
    store = CountingStore(fail_first=True)
    keeper.started([hosted], "en", None)  # a hosted page: its session keeps it
    keeper.on_finished(hosted)
    keeper.started([local], "en", store)
    with pytest.raises(OSError):  # the disk is full as it ends: nothing is remembered
        keeper.on_finished(local)
    assert store.saved == []
    assert keeper.keep(local, store) == "run-1" and store.saved == ["concise, lr 0.1, 1 epoch, 80.0%"]


def test_a_local_training_is_found_until_it_ends_by_its_store_only():
    store, other_store = CountingStore(), CountingStore()
    one = SimpleNamespace(id="job-one", owner="a", finished=False)
    sweep = [SimpleNamespace(id=f"job-sweep-{k}", owner="a", finished=False) for k in range(3)]
    keeper.started([one], "en", store)
    keeper.started(sweep, "en", store, sweep_setting="lr")
    keeper.started([SimpleNamespace(id="job-hosted", owner="b", finished=False)], "en", None)  # kept by its page only
    assert keeper.still_training(store) == (sweep, "lr")  # the newest
    assert keeper.still_training(other_store) is None
    for job in sweep[:2]:
        job.finished = True
    assert keeper.still_training(store) == (sweep, "lr")  # one of the sweep still learns
    sweep[2].finished = True
    assert keeper.still_training(store) == ([one], None)
    one.finished = True
    assert keeper.still_training(store) is None
