import json
import pickle
import struct

import numpy as np
import pytest

from model import checkpoint
from model.checkpoint import CheckpointError
from model.classifier import LinearClassifier


@pytest.fixture
def classifier():
    rng = np.random.default_rng(0)
    return LinearClassifier(rng.normal(0, 0.01, (10, 784)).astype(np.float32), rng.normal(0, 0.1, 10).astype(np.float32),
                            mean=0.286, std=0.353, metadata={"config": {"lr": 0.1}, "history": [{"epoch": 1}]})


def header_and_body(data):
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + size]), data[8 + size:]


def rebuild(header, body):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def test_round_trip_keeps_weights_normalization_and_metadata(classifier, tmp_path):
    path = checkpoint.save(classifier, tmp_path / "run" / "m.safetensors", test_acc=0.84)
    loaded = checkpoint.load(path)
    assert np.array_equal(loaded.weight, classifier.weight) and np.array_equal(loaded.bias, classifier.bias)
    assert (loaded.mean, loaded.std) == (classifier.mean, classifier.std)
    assert loaded.metadata["config"] == {"lr": 0.1} and loaded.metadata["test_acc"] == 0.84
    assert loaded.metadata["classes"][0] == "T-shirt/top" and loaded.metadata["format_version"] == 1
    assert list(tmp_path.glob("run/.*tmp")) == []  # the temporary file was renamed away


def test_a_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "model.pt"
    evil.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError, match="pickle"):
        checkpoint.load(evil)
    assert not marker.exists()


def test_a_torch_save_file_is_refused(tmp_path):
    import torch

    path = tmp_path / "model.pt"
    torch.save({"weight": torch.zeros(10, 784), "bias": torch.zeros(10)}, path)
    with pytest.raises(CheckpointError, match="pickle"):
        checkpoint.load(path)


@pytest.mark.parametrize("mutate,message", [
    (lambda h: h.pop("bias"), "holds tensors"),
    (lambda h: h.update(extra=h["bias"]), "holds tensors"),
    (lambda h: h["weight"].update(shape=[784, 10]), "shape"),
    (lambda h: h["bias"].update(dtype="F64"), "float32"),
    (lambda h: h.pop("__metadata__"), "not a Softmax Studio checkpoint"),
    (lambda h: h["__metadata__"].update(softmax_studio=json.dumps({"format_version": 99})), "version 99"),
])
def test_wrong_contents_are_refused_with_a_reason(classifier, mutate, message):
    header, body = header_and_body(checkpoint.to_bytes(classifier))
    mutate(header)
    with pytest.raises(CheckpointError, match=message):
        checkpoint.from_bytes(rebuild(header, body))


def test_nan_weights_are_refused(classifier):
    weight = classifier.weight.copy()
    weight[3, 100] = np.nan
    bad = LinearClassifier(weight, classifier.bias, classifier.mean, classifier.std)
    with pytest.raises(CheckpointError, match="NaN"):
        checkpoint.from_bytes(checkpoint.to_bytes(bad))


def test_bad_normalization_is_refused(classifier):
    bad = LinearClassifier(classifier.weight, classifier.bias, 0.0, 0.0)
    with pytest.raises(CheckpointError, match="normalization"):
        checkpoint.from_bytes(checkpoint.to_bytes(bad))


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"abc", "too short"),
    (struct.pack("<Q", 10**12) + b"{}", "bad or truncated header"),
    (struct.pack("<Q", 4) + b"\xff\xfe{}", "unreadable header"),
    (b"GIF89a" + bytes(200), "not a valid safetensors"),
])
def test_garbage_is_refused(data, message):
    with pytest.raises(CheckpointError, match=message):
        checkpoint.from_bytes(data)


def test_truncated_tensor_data_is_refused(classifier):
    data = checkpoint.to_bytes(classifier)
    with pytest.raises(CheckpointError):
        checkpoint.from_bytes(data[:-100])


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="Can't read"):
        checkpoint.load(tmp_path / "nope.safetensors")


def test_the_shipped_pretrained_model_is_the_best_preset_and_accurate(test_data):
    pretrained = checkpoint.load()
    assert pretrained.metadata["config"]["optimizer"] == "adam"
    images, labels = test_data
    accuracy = float((pretrained.predict(images.numpy()) == labels.numpy()).mean())
    assert accuracy > 0.842  # scikit-learn LogisticRegression, the benchmark's best linear model
    assert accuracy == pytest.approx(pretrained.metadata["test_acc"], abs=1e-4)
