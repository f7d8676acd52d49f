import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.files import checkpoint

from model.service import runs
from model.lesson.classifier import LinearClassifier
from model.service.runs import (MODEL_FILE, RUN_FILE, STALE_SECONDS, MemoryRunStore, RunError, RunRecord, RunStore,
                        check_id, new_id)

ROOT = Path(__file__).resolve().parents[3]


def epoch(number: int, test_acc: float) -> dict:
    """One history entry, with every field a training writes."""
    return {"epoch": number, "train_loss": 0.6, "train_acc": test_acc, "test_acc": test_acc, "seconds": 0.1}


def small_classifier(seed=0, **meta) -> LinearClassifier:
    """A classifier with small random weights and the metadata a training leaves."""
    rng = np.random.default_rng(seed)
    meta = {"config": {"impl": "scratch", "lr": 0.1, "epochs": 2}, "test_acc": 0.5,
            "history": [epoch(1, 0.4), epoch(2, 0.5)], **meta}
    return LinearClassifier(rng.normal(0, 0.01, (10, 784)).astype(np.float32),
                            rng.normal(0, 0.01, 10).astype(np.float32), 0.0, 1.0, meta)


@pytest.fixture(scope="session")
def trained(train_data, test_data):
    """A real one-epoch lesson run, as the app would save it."""
    from model.lesson.config import preset
    from model.lesson.train import train

    return train(preset("lesson", epochs=1), *train_data, *test_data).classifier()


def same_model(a: LinearClassifier, b: LinearClassifier) -> bool:
    return np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias) and (a.mean, a.std) == (b.mean, b.std)


# --- RunStore on disk ---------------------------------------------------------------------

def test_a_trained_run_round_trips(tmp_path, trained, test_data):
    store = RunStore(tmp_path / "runs")
    record = store.save(trained)
    assert record.path == tmp_path / "runs" / record.id
    assert sorted(p.name for p in record.path.iterdir()) == [MODEL_FILE, RUN_FILE]
    assert record.config["epochs"] == 1 and record.config["impl"] == "concise"
    assert [h["epoch"] for h in record.history] == [1]
    assert record.test_acc == trained.metadata["test_acc"] > 0.7
    assert record.name == f"concise, lr 0.1, 1 epoch, {record.test_acc:.1%}"
    assert record.epochs_trained == 1.0
    loaded = store.load_classifier(record.id)
    assert same_model(loaded, trained)
    images = test_data[0][:500].numpy()
    assert np.array_equal(loaded.predict(images), trained.predict(images))
    assert store.list() == [record]


def test_a_run_saved_before_epochs_trained_was_kept_still_lists(tmp_path, store_with_one_good_run):
    store, good = store_with_one_good_run
    run_json = good.path / RUN_FILE
    raw = json.loads(run_json.read_text())
    run_json.write_text(json.dumps({k: v for k, v in raw.items() if k != "epochs_trained"}))
    assert [(r.id, r.epochs_trained) for r in store.list()] == [(good.id, None)]


def test_an_unnamed_run_that_stopped_or_diverged_says_in_which_epoch():
    store = MemoryRunStore()
    config = {"impl": "scratch", "lr": 50.0, "epochs": 5}
    stopped = store.save(small_classifier(config=config, stopped=True))
    diverged = store.save(small_classifier(config=config, diverged="The learning rate 50 is too large"))
    assert stopped.name == "scratch, lr 50, stopped in epoch 3 of 5, 50.0%"
    assert diverged.name == "scratch, lr 50, diverged in epoch 3 of 5, 50.0%"


def test_runs_are_listed_again_after_a_restart_newest_first(tmp_path):
    first = RunStore(tmp_path)
    saved = [first.save(small_classifier(i), name=f"run {i}") for i in range(3)]
    restarted = RunStore(tmp_path)
    listed = restarted.list()
    assert [r.name for r in listed] == ["run 2", "run 1", "run 0"]
    assert listed == saved[::-1]
    assert same_model(restarted.load_classifier(saved[0].id), small_classifier(0))


def test_rename_persists_and_tidies_whitespace(tmp_path):
    store = RunStore(tmp_path)
    record = store.save(small_classifier())
    renamed = store.rename(record.id, "  my   best\nrun ")
    assert renamed.name == "my best run"
    assert [r.name for r in RunStore(tmp_path).list()] == ["my best run"]
    assert sorted(p.name for p in record.path.iterdir()) == [MODEL_FILE, RUN_FILE]  # no temp file left


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_refused_and_the_old_one_kept(tmp_path, name):
    store = RunStore(tmp_path)
    record = store.save(small_classifier(), name="kept")
    with pytest.raises(RunError):
        store.rename(record.id, name)
    with pytest.raises(RunError):
        store.save(small_classifier(), name=name)
    assert [r.name for r in store.list()] == ["kept"]


def test_delete_removes_the_run_and_its_files(tmp_path):
    store = RunStore(tmp_path)
    keep, gone = store.save(small_classifier(1)), store.save(small_classifier(2))
    store.delete(gone.id)
    assert store.list() == [keep]
    assert sorted(p.name for p in tmp_path.iterdir()) == [keep.id]
    with pytest.raises(RunError, match="no run"):
        store.delete(gone.id)
    with pytest.raises(RunError, match="no run"):
        store.load_classifier(gone.id)
    with pytest.raises(RunError, match="no run"):
        store.rename(gone.id, "x")


@pytest.mark.parametrize("bad", ["..", "../etc", "/tmp", "20250101-120000-abcdeg", "20250101-120000-abcdef/..",
                                 ".tmp-20250101-120000-abcdef-1", "", None])
def test_run_ids_that_could_escape_the_folder_are_refused(tmp_path, bad):
    store = RunStore(tmp_path / "runs")
    for action in (store.delete, store.load_classifier, store.get, lambda i: store.rename(i, "x")):
        with pytest.raises(RunError, match="not a run id"):
            action(bad)
    assert list(tmp_path.iterdir()) == []


def test_ids_are_unique_and_valid():
    ids = {new_id() for _ in range(200)}
    assert len(ids) == 200 and all(check_id(i) for i in ids)


def test_an_empty_or_missing_folder_lists_nothing(tmp_path):
    assert RunStore(tmp_path / "not-yet").list() == []
    assert RunStore(tmp_path).list() == []


def test_a_diverged_model_is_refused_before_anything_is_written(tmp_path):
    broken = small_classifier()
    broken.weight[0, 0] = np.nan
    with pytest.raises(checkpoint.CheckpointError):
        RunStore(tmp_path).save(broken)
    assert list(tmp_path.iterdir()) == []


# --- half-written and damaged runs --------------------------------------------------------

@pytest.fixture
def store_with_one_good_run(tmp_path):
    store = RunStore(tmp_path)
    return store, store.save(small_classifier(), name="good")


def copy_of(record, tmp_path) -> "os.PathLike":
    """A second run folder made from `record`'s files under a fresh id, to be damaged."""
    run_id = new_id()
    while (tmp_path / run_id).exists():
        run_id = new_id()
    folder = tmp_path / run_id
    folder.mkdir()
    raw = json.loads((record.path / RUN_FILE).read_text())
    (folder / RUN_FILE).write_text(json.dumps({**raw, "id": run_id, "name": "damaged"}))
    (folder / MODEL_FILE).write_bytes((record.path / MODEL_FILE).read_bytes())
    return folder


def test_a_killed_save_leaves_a_temp_folder_that_is_not_listed(tmp_path, store_with_one_good_run):
    store, good = store_with_one_good_run
    tmp = tmp_path / f".tmp-{new_id()}-123"
    tmp.mkdir()
    (tmp / MODEL_FILE).write_bytes((good.path / MODEL_FILE).read_bytes()[:1000])
    assert store.list() == [good]
    assert RunStore(tmp_path).list() == [good]


@pytest.mark.parametrize("step", [MODEL_FILE, RUN_FILE, "rename"])
def test_a_save_interrupted_at_any_step_leaves_nothing(tmp_path, monkeypatch, step):
    def interrupt(*args):
        raise KeyboardInterrupt  # how a stop mid-save looks from inside

    if step == "rename":
        monkeypatch.setattr(runs.os, "rename", interrupt)
    else:
        write = runs._write_synced
        monkeypatch.setattr(runs, "_write_synced", lambda path, data: (interrupt if path.name == step else write)(path, data))
    store = RunStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        store.save(small_classifier())
    monkeypatch.undo()
    assert store.list() == []
    assert list(tmp_path.iterdir()) == []


def test_a_server_killed_while_saving_never_corrupts_the_list(tmp_path):
    # A real SIGKILL at a random moment of a busy save loop: whatever is left, every listed
    # run loads, and at most a hidden temp folder is left over.
    code = ("import sys; from tests.model.service.test_runs import small_classifier; "
            "from model.service.runs import RunStore; s = RunStore(sys.argv[1]); c = small_classifier(); print('ready', flush=True)\n"
            "while True: s.save(c)")
    for delay in (0.05, 0.2, 0.5):
        proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE)
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store = RunStore(tmp_path)
    listed = store.list()
    assert listed
    for record in listed:
        store.load_classifier(record.id)
    visible = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert sorted(p.name for p in visible) == sorted(r.id for r in listed)


DAMAGE_REASONS = {
    "no run.json": "run.json is missing", "run.json empty": "not valid JSON", "run.json not JSON": "not valid JSON",
    "run.json a list": "not a record", "run.json wrong id": "belongs to another run",
    "run.json wrong version": "format version", "run.json bad history": "'history' must be a list",
    "history without seconds": "has no 'seconds'", "history with a text loss": "'train_loss'",
    "test_acc a text": "'test_acc'", "name with a right-to-left override": "U+202E",
    "epochs_trained negative": "'epochs_trained'", "name not a text": "'name'", "nested 100000 deep": "nested more than", "no model": "No such file",
    "model truncated": "checkpoint", "model empty": "empty", "model garbage": "checkpoint",
}


@pytest.mark.parametrize("damage", list(DAMAGE_REASONS))
def test_a_damaged_run_is_listed_apart_with_its_reason_and_the_rest_still_list(tmp_path, store_with_one_good_run,
                                                                               damage):
    store, good = store_with_one_good_run
    folder = copy_of(good, tmp_path)
    run_json, model = folder / RUN_FILE, folder / MODEL_FILE
    raw = json.loads(run_json.read_text())
    if damage == "no run.json":
        run_json.unlink()
    elif damage == "run.json empty":
        run_json.write_bytes(b"")
    elif damage == "run.json not JSON":
        run_json.write_bytes(run_json.read_bytes()[:40])
    elif damage == "run.json a list":
        run_json.write_text("[1, 2]")
    elif damage == "run.json wrong id":
        run_json.write_text(json.dumps({**raw, "id": good.id}))
    elif damage == "run.json wrong version":
        run_json.write_text(json.dumps({**raw, "format_version": 99}))
    elif damage == "run.json bad history":
        run_json.write_text(json.dumps({**raw, "history": "lots"}))
    elif damage == "history without seconds":
        run_json.write_text(json.dumps({**raw, "history": [{k: v for k, v in h.items() if k != "seconds"}
                                                           for h in raw["history"]]}))
    elif damage == "history with a text loss":
        run_json.write_text(json.dumps({**raw, "history": [{**raw["history"][0], "train_loss": "low"}]}))
    elif damage == "test_acc a text":
        run_json.write_text(json.dumps({**raw, "test_acc": "99%"}))
    elif damage == "name with a right-to-left override":
        run_json.write_text(json.dumps({**raw, "name": "run \u202egnp.exe"}))
    elif damage == "epochs_trained negative":
        run_json.write_text(json.dumps({**raw, "epochs_trained": -1}))
    elif damage == "name not a text":
        run_json.write_text(json.dumps({**raw, "name": ["a"]}))
    elif damage == "nested 100000 deep":
        run_json.write_text(json.dumps({**raw, "config": "@"}).replace('"@"', "[" * 100_000 + "]" * 100_000))
    elif damage == "no model":
        model.unlink()
    elif damage == "model truncated":
        model.write_bytes(model.read_bytes()[:-100])
    elif damage == "model empty":
        model.write_bytes(b"")
    elif damage == "model garbage":
        model.write_bytes(os.urandom(2000))
    assert store.list() == [good]
    assert RunStore(tmp_path).list() == [good]
    records, damaged = store.scan()
    assert records == [good] and [d.id for d in damaged] == [folder.name]
    assert DAMAGE_REASONS[damage] in damaged[0].reason
    store.delete(folder.name)  # the page's Delete works on a damaged run
    assert store.scan() == ([good], [])


def test_the_undamaged_copy_is_listed(tmp_path, store_with_one_good_run):
    # The control for the test above: copy_of itself makes a valid run.
    store, good = store_with_one_good_run
    folder = copy_of(good, tmp_path)
    assert {r.path for r in store.list()} == {good.path, folder}


def test_stray_files_and_folders_are_ignored(tmp_path, store_with_one_good_run):
    store, good = store_with_one_good_run
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / new_id()).write_text("a file named like a run")
    assert store.list() == [good]


def test_a_restart_sweeps_only_stale_leftovers(tmp_path, store_with_one_good_run):
    _, good = store_with_one_good_run
    old, fresh = tmp_path / f".tmp-{new_id()}-1", tmp_path / f".trash-{new_id()}"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / RUN_FILE).write_text("{}")
    long_ago = time.time() - STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    assert RunStore(tmp_path).list() == [good]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([good.id, fresh.name])


# --- MemoryRunStore (hosted) --------------------------------------------------------------

def test_names_with_control_or_direction_characters_are_refused():
    for name in ("a\u202eb", "zero\u200bwidth", "bell\x07"):
        with pytest.raises(RunError, match="control or text-direction"):
            runs.check_name(name)
    assert runs.check_name("  lr 0.1,\tbatch 256 — 中文  ") == "lr 0.1, batch 256 — 中文"


def test_the_memory_store_says_which_runs_a_save_removed():
    store = MemoryRunStore(keep=2)
    first, second = store.save(small_classifier(1)), store.save(small_classifier(2))
    assert store.evicted == []
    third = store.save(small_classifier(3))
    assert store.evicted == [first] and store.list() == [third, second]


def test_memory_store_does_what_the_disk_store_does():
    store = MemoryRunStore()
    a, b = store.save(small_classifier(1)), store.save(small_classifier(2), name="second")
    assert isinstance(a, RunRecord) and a.path is None
    assert store.list() == [b, a]
    assert same_model(store.load_classifier(a.id), small_classifier(1))
    assert store.rename(a.id, " first ").name == "first"
    assert store.get(a.id).name == "first"
    store.delete(b.id)
    assert store.list() == [a]
    with pytest.raises(RunError, match="no run"):
        store.load_classifier(b.id)
    with pytest.raises(RunError, match="not a run id"):
        store.delete("../x")


def test_sessions_do_not_share_memory_stores():
    mine, theirs = MemoryRunStore(), MemoryRunStore()
    record = mine.save(small_classifier())
    assert theirs.list() == []
    with pytest.raises(RunError):
        theirs.load_classifier(record.id)


def test_memory_store_keeps_only_the_newest_runs():
    store = MemoryRunStore(keep=3)
    saved = [store.save(small_classifier(i), name=f"run {i}") for i in range(5)]
    assert store.list() == saved[:1:-1]


# --- fuzzing: whatever a run folder holds, the list is intact runs plus damaged ones with a reason --

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def check_scan(store: RunStore, good: RunRecord, folder) -> None:
    records, damaged = store.scan()
    assert good in records
    assert len(records) + len(damaged) == 2
    for record in records:  # an intact run is one a page can show
        assert isinstance(record.name, str) and all(isinstance(h["seconds"], (int, float)) for h in record.history)
        store.load_classifier(record.id)
    assert all(d.id == folder.name and d.reason for d in damaged)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_run_json_bytes_are_a_damaged_run(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("runs")
    store = RunStore(root)
    good = store.save(small_classifier(), name="good")
    folder = copy_of(good, root)
    (folder / RUN_FILE).write_bytes(data)
    check_scan(store, good, folder)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
       st.sampled_from([RUN_FILE, MODEL_FILE]))
def test_mutated_run_files_are_intact_or_a_damaged_run(tmp_path_factory, edits, which):
    root = tmp_path_factory.mktemp("runs")
    store = RunStore(root)
    good = store.save(small_classifier(), name="good")
    folder = copy_of(good, root)
    data = bytearray((folder / which).read_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    (folder / which).write_bytes(bytes(data))
    check_scan(store, good, folder)
