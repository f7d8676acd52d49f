"""python -m model predict: one line per image, JSON on request, exit 0/1/2, never a traceback."""
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.files import checkpoint
from model.files.classes import CLASSES
from model.lesson.classifier import LinearClassifier
from model.files.data import DatasetError, load_split_numpy

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args):
    result = subprocess.run([sys.executable, "-m", "model", "predict", *map(str, args)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def encode(image, fmt):
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def split():
    try:
        return load_split_numpy("train"), load_split_numpy("test")
    except DatasetError as e:
        pytest.skip(f"Fashion-MNIST not available: {e}")


@pytest.fixture(scope="module")
def model_file(split, tmp_path_factory):
    """A real checkpoint: a ridge-regression linear model on 10,000 training images (a second to fit)."""
    (images, labels), _ = split
    x = np.hstack([images[:10_000].reshape(10_000, -1) / 255.0, np.ones((10_000, 1))])
    w = np.linalg.solve(x.T @ x + 10.0 * np.eye(785), x.T @ np.eye(10)[labels[:10_000]])
    classifier = LinearClassifier(w[:-1].T.astype(np.float32).copy(), w[-1].astype(np.float32))
    return checkpoint.save(classifier, tmp_path_factory.mktemp("model") / "ridge.safetensors")


@pytest.fixture(scope="module")
def files(split, tmp_path_factory):
    """Good and bad files, by name; the good ones hold test images whose label we know."""
    _, (images, labels) = split
    folder = tmp_path_factory.mktemp("images")
    trouser = int(np.flatnonzero(labels == 1)[0])
    boot = int(np.flatnonzero(labels == 9)[0])
    photo = Image.fromarray(255 - images[boot]).resize((300, 300), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (700, 500), (250, 250, 250))
    canvas.paste(photo.convert("RGB"), (340, 120))
    good_png = encode(Image.fromarray(images[trouser]), "PNG")
    content = {
        "trouser.png": good_png,
        "boot-photo.png": encode(canvas, "JPEG"),  # a JPEG with the wrong name: read by content
        "notes.jpg": b"this is not a picture\n",   # a text file with an image's name
        "empty.png": b"",
        "truncated.png": good_png[:len(good_png) // 2],
        "blank.png": encode(Image.new("RGB", (200, 200), "white"), "PNG"),
        "bomb.png": png_header_only(60000, 60000),
    }
    paths = {}
    for name, data in content.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    paths["missing.png"] = folder / "missing.png"
    paths["folder"] = folder
    return paths


def png_header_only(width, height):
    """A PNG that claims width x height (8-bit gray) and holds one compressed row."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(width + 1))) + chunk(b"IEND", b""))


GOOD = {"trouser.png": "Trouser", "boot-photo.png": "Ankle boot"}
BAD = ["notes.jpg", "empty.png", "truncated.png", "blank.png", "bomb.png", "missing.png", "folder"]


def test_mixed_files_one_line_each_in_order_exit_1(files, model_file):
    order = ["trouser.png", *BAD[:3], "boot-photo.png", *BAD[3:]]
    result = run_cli("--checkpoint", model_file, *(files[n] for n in order))
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and result.stderr == ""
    assert len(lines) == len(order)
    for name, line in zip(order, lines):
        assert line.startswith(f"{files[name]}: ")
        if name in GOOD:
            assert line.startswith(f"{files[name]}: {GOOD[name]} (") and line.endswith("%)")
        else:
            assert ": error: " in line
    said = dict(zip(order, lines))
    assert "Unsupported file" in said["notes.jpg"] and "text file" in said["notes.jpg"]
    assert "empty" in said["empty.png"]
    assert "truncated or damaged" in said["truncated.png"]
    assert "nothing to classify" in said["blank.png"]
    assert "megapixels" in said["bomb.png"]
    assert "No such file" in said["missing.png"]
    assert "folder" in said["folder"]


def test_json_lines_have_the_documented_fields(files, model_file):
    order = ["trouser.png", "notes.jpg", "boot-photo.png", "blank.png"]
    result = run_cli("--json", "--checkpoint", model_file, *(files[n] for n in order))
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(files[n]) for n in order]
    for name, record in zip(order, records):
        if name in GOOD:
            assert set(record) == {"file", "class", "label", "probabilities"}
            probabilities = record["probabilities"]
            assert len(probabilities) == 10 and all(isinstance(p, float) for p in probabilities)
            assert abs(sum(probabilities) - 1) < 1e-6
            assert record["label"] == int(np.argmax(probabilities)) and record["class"] == CLASSES[record["label"]]
            assert record["class"] == GOOD[name]
        else:
            assert set(record) == {"file", "error"} and record["error"]


def test_all_predicted_exit_0(files, model_file):
    result = run_cli("--json", "--checkpoint", model_file, files["trouser.png"], files["boot-photo.png"])
    assert result.returncode == 0
    assert [json.loads(line)["class"] for line in result.stdout.splitlines()] == ["Trouser", "Ankle boot"]


@pytest.mark.parametrize("args", [[], ["--bogus", "x.png"]], ids=["no images", "unknown option"])
def test_bad_arguments_exit_2_in_one_line(args):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "error" in result.stderr


def test_bad_checkpoint_is_one_line_exit_1(files):
    result = run_cli("--checkpoint", files["notes.jpg"], files["trouser.png"])
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "checkpoint" in result.stderr


def test_predict_file_refuses_a_huge_file_before_reading_it(tmp_path, monkeypatch):
    from model.files import predict
    from model.files.image_files import ImageError

    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(5000))
    monkeypatch.setattr(predict, "MAX_BYTES", 1000)
    monkeypatch.setattr(predict.Path, "read_bytes", lambda self: pytest.fail("read a file over the limit"))
    with pytest.raises(ImageError, match="limit is"):
        predict.predict_file(None, big)


def test_a_dataset_image_is_read_as_it_is(test_data):
    from model.files import checkpoint
    from model.files.predict import predict_dataset_image

    model = checkpoint.load()
    images = test_data[0].numpy()
    answers = [predict_dataset_image(model, images[i]) for i in range(200)]
    assert [a.label for a in answers] == list(model.predict(images[:200]))
    assert all(np.isclose(a.probabilities.sum(), 1) and a.confidence == a.probabilities.max() for a in answers)
