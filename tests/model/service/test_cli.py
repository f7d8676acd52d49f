import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "model", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_train_json_prints_one_line_per_epoch_then_the_result(train_data, tmp_path):
    out = tmp_path / "m.safetensors"
    run = cli("train", "--epochs", "2", "--impl", "scratch", "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["epoch"] for line in lines[:2]] == [1, 2]
    assert set(lines[0]) == {"epoch", "train_loss", "train_acc", "test_acc", "seconds"}
    assert lines[2] == {"checkpoint": str(out), "test_acc": lines[1]["test_acc"]}
    assert lines[1]["test_acc"] > 0.75 and out.exists()

    evaluated = cli("evaluate", "--checkpoint", str(out), "--json")
    result = json.loads(evaluated.stdout)
    assert result["test_acc"] == pytest.approx(lines[1]["test_acc"], abs=1e-4)
    assert len(result["per_class"]) == 10 and 0 < result["per_class"]["Trouser"] <= 1


def test_evaluate_defaults_to_the_shipped_model(test_data):
    run = cli("evaluate", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["test_acc"] > 0.842  # beats scikit-learn's LogisticRegression


@pytest.mark.parametrize("args,reason", [
    (["train", "--lr", "-1"], "--lr: must be a positive number"),
    (["train", "--epochs", "zero"], "--epochs"),
    (["train", "--optimizer", "rmsprop"], "invalid choice"),
    (["fly"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(args, reason):
    run = cli(*args)
    assert run.returncode == 2
    assert reason in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_bad_checkpoint_is_one_line_not_a_traceback(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"\x80\x04junk")
    run = cli("evaluate", "--checkpoint", str(bad))
    assert run.returncode == 1
    assert "pickle" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_missing_dataset_is_one_line_with_the_fix(tmp_path):
    run = cli("data", "--root", str(tmp_path))
    assert run.returncode == 1
    assert "apt-get install dataset-fashion-mnist" in run.stderr and "Traceback" not in run.stderr


def test_data_and_evaluate_see_through_a_damaged_cache(test_data, tmp_path):
    """The reported case: bytes flipped inside the cached arrays (shape and dtype intact) and labels
    of 200 were used silently, and `data` still said the contents matched."""
    import numpy as np

    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path)}
    assert cli("data", env=env).returncode == 0  # builds this private cache
    cache = tmp_path / "softmax-studio"
    for labels_file in cache.glob("test-*-labels.npy"):
        labels = np.load(labels_file)
        labels[::3] = 200
        np.save(labels_file, labels)
    for images_file in cache.glob("test-*-images.npy"):
        raw = bytearray(images_file.read_bytes())
        raw[1000:200_000] = bytes(len(raw[1000:200_000]))
        images_file.write_bytes(bytes(raw))
    evaluated = cli("evaluate", "--json", env=env)
    assert json.loads(evaluated.stdout)["test_acc"] > 0.842  # the shipped model's score on the real labels
    assert "rebuilding them from the IDX files" in evaluated.stderr
    for labels_file in cache.glob("test-*-labels.npy"):  # damaged again, for `data` to find
        np.save(labels_file, np.full(10_000, 200, dtype=np.uint8))
    checked = cli("data", env=env)
    assert checked.returncode == 0 and "contents match the official Fashion-MNIST" in checked.stdout
    assert "damaged" in checked.stderr and "rebuilding them from the IDX files" in checked.stderr


def test_the_installed_softmax_studio_command_is_the_cli(test_data):
    """pyproject.toml declares the project; scripts/setup.sh installs it (pip install -e .)."""
    command = Path(sys.executable).with_name("softmax-studio")
    assert command.exists(), "run scripts/setup.sh (or pip install -e .) to install the project"
    run = subprocess.run([str(command), "evaluate", "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and json.loads(run.stdout)["test_acc"] > 0.842
