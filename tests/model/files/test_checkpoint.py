import json
import math
import pickle
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.files import checkpoint
from model.files.checkpoint import CheckpointError
from model.lesson.classifier import LinearClassifier
from model.lesson.config import PRESETS, TrainConfig


@pytest.fixture
def classifier():
    rng = np.random.default_rng(0)
    return LinearClassifier(rng.normal(0, 0.01, (10, 784)).astype(np.float32), rng.normal(0, 0.1, 10).astype(np.float32),
                            mean=0.286, std=0.353, metadata={"config": {"lr": 0.1}, "history": [EPOCH]})


EPOCH = {"epoch": 1, "train_loss": 0.6, "train_acc": 0.8, "test_acc": 0.79, "seconds": 0.2}


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
    assert TrainConfig.from_dict(pretrained.metadata["config"]) == PRESETS["best"]  # retrained when the preset changes
    images, labels = test_data
    accuracy = float((pretrained.predict(images.numpy()) == labels.numpy()).mean())
    assert accuracy > 0.8439  # scikit-learn LogisticRegression's, the practitioner's pick (bench/against_sklearn.py)
    assert accuracy == pytest.approx(pretrained.metadata["test_acc"], abs=1e-4)


def with_header_length_low_byte(classifier, low_byte):
    """Our own checkpoint, padded in its metadata until the header length's low byte is `low_byte`."""
    for pad in range(512):
        data = checkpoint.to_bytes(classifier, note="x" * pad)
        if data[0] == low_byte:
            return data
    raise AssertionError("no padding gave that header length")


def test_a_checkpoint_whose_first_byte_is_0x80_is_not_taken_for_a_pickle(classifier):
    data = with_header_length_low_byte(classifier, 0x80)  # 1 in 32 of our own files, before the fix
    loaded = checkpoint.from_bytes(data)
    assert np.array_equal(loaded.weight, classifier.weight)


@pytest.mark.parametrize("field,value,message", [
    ("test_acc", "0.9", "'test_acc' must be an accuracy"),
    ("test_acc", [0.9], "'test_acc' must be an accuracy"),
    ("test_acc", 1.5, "'test_acc' must be an accuracy"),
    ("history", "all of them", "'history' must be a list"),
    ("history", [{"epoch": 1, "train_loss": 0.5}], "has no 'train_acc'"),
    ("history", [dict(EPOCH, seconds="fast")], "'seconds'"),
    ("diverged", {"why": "x"}, "'diverged' must be a text"),
    ("stopped", "yes", "'stopped' true or false"),
    ("seconds", -1.0, "'seconds' must be a number of at least 0"),
    ("epochs_trained", "half", "'epochs_trained' must be a number"),
    ("config", [1, 2], "'config' must be a record"),
    ("classes", ["cat", "dog"], "other classes"),
    ("deep", json.loads("[" * 30 + "]" * 30), "nested more than 8 levels"),
    ("deeper", "RAW:" + "[" * 100_000 + "]" * 100_000, "nested more than 8 levels"),
    ("test_acc", "RAW:1" + "0" * 400, "'test_acc' must be an accuracy"),  # an int past float's range
    ("seconds", "RAW:1" + "0" * 400, "'seconds' must be a number of at least 0"),
    ("normalization", {"mean": 0.0, "std": 1e-320}, "normalization"),
    ("normalization", {"mean": 1e308, "std": 0.35}, "normalization"),
    ("normalization", {"mean": "0.3", "std": 0.35}, "normalization"),
])
def test_metadata_that_a_page_could_not_use_is_refused_with_its_field(classifier, field, value, message):
    header, body = header_and_body(checkpoint.to_bytes(classifier))
    meta = json.loads(header["__metadata__"]["softmax_studio"])
    meta[field] = "@@RAW@@" if isinstance(value, str) and value.startswith("RAW:") else value
    text = json.dumps(meta)
    if isinstance(value, str) and value.startswith("RAW:"):
        text = text.replace('"@@RAW@@"', value[4:])  # nesting json.dumps itself can't write
    header["__metadata__"]["softmax_studio"] = text
    with pytest.raises(CheckpointError, match=message):
        checkpoint.from_bytes(rebuild(header, body))


def check_checkpoint_bytes(data: bytes) -> None:
    """A checkpoint reader's contract: a CheckpointError with a message, or a model that predicts."""
    try:
        loaded = checkpoint.from_bytes(data)
    except CheckpointError as error:
        assert str(error)
        return
    probabilities = loaded.predict_proba(np.stack([np.zeros((28, 28)), np.full((28, 28), 255.0)]))
    assert np.isfinite(probabilities).all() and np.allclose(probabilities.sum(1), 1)
    assert loaded.metadata["test_acc"] is None or 0 <= loaded.metadata["test_acc"] <= 1


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID = checkpoint.to_bytes(LinearClassifier(np.zeros((10, 784), np.float32), np.zeros(10, np.float32), 0.3, 0.35,
                                             {"history": [EPOCH], "test_acc": 0.8}))


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_with_a_reason(data):
    check_checkpoint_bytes(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(VALID)))
def test_mutated_checkpoints_are_refused_or_still_predict(edits, cut):
    data = bytearray(VALID)
    for position, value in edits:
        data[position] = value
    check_checkpoint_bytes(bytes(data[:len(data) - cut]))


@FUZZ
@given(st.integers(0, 1500), st.text(max_size=40))
def test_mutated_metadata_text_is_refused_or_still_predicts(position, junk):
    header, body = header_and_body(VALID)
    text = header["__metadata__"]["softmax_studio"]
    position %= len(text)
    header["__metadata__"]["softmax_studio"] = text[:position] + junk + text[position + len(junk):]
    check_checkpoint_bytes(rebuild(header, body))


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=6)


@FUZZ
@given(st.sampled_from(["seconds", "epochs_trained"]), JSON)
def test_any_json_as_a_runs_time_or_epochs_is_refused_with_its_name_or_read_as_a_number(field, value):
    header, body = header_and_body(VALID)
    meta = json.loads(header["__metadata__"]["softmax_studio"])
    meta[field] = value
    header["__metadata__"]["softmax_studio"] = json.dumps(meta)
    try:
        loaded = checkpoint.from_bytes(rebuild(header, body))
    except CheckpointError as error:
        assert f"'{field}'" in str(error)
    else:
        shown = loaded.metadata[field]
        assert shown is None or (isinstance(shown, float) and math.isfinite(shown) and shown >= 0)
