"""bench/real_inputs.py: its pictures are the same on every run, come from test images only,
and the held-out slice never overlaps the one preprocessing is tuned on."""
import io

import numpy as np
import pytest
from PIL import Image

from bench import real_inputs
from model.files.data import DatasetError


def test_slices_are_disjoint_and_inside_the_test_set():
    tune, report = set(real_inputs.SLICES["tune"]), set(real_inputs.SLICES["report"])
    assert not tune & report
    assert min(tune | report) >= 0 and max(tune | report) < 10_000


def test_every_kind_is_the_same_picture_on_every_run(test_split):
    images, labels = test_split
    for number, kind in enumerate(real_inputs.KINDS):
        index = int(real_inputs.choose(labels, real_inputs.SLICES["tune"], number, 10, seed=0)[3])
        first = real_inputs.make_input(number, index, images[index], int(labels[index]), seed=0)
        again = real_inputs.make_input(number, index, images[index].copy(), int(labels[index]), seed=0)
        other = real_inputs.make_input(number, index, images[index], int(labels[index]), seed=1)
        assert first == again, kind.name
        assert first != other, kind.name
        picture = Image.open(io.BytesIO(first))
        assert picture.format in ("PNG", "JPEG") and min(picture.size) >= 200, kind.name


def test_choice_covers_every_class_within_the_slice(test_split):
    _, labels = test_split
    for number, kind in enumerate(real_inputs.KINDS):
        chosen = real_inputs.choose(labels, real_inputs.SLICES["report"], number, 50, seed=0)
        assert len(chosen) == 50 and len(set(chosen.tolist())) == 50
        assert set(chosen.tolist()) <= set(real_inputs.SLICES["report"])
        assert set(labels[chosen].tolist()) == set(kind.classes)


def test_shoes_in_drawings_face_both_ways(test_split):
    images, labels = test_split
    sneakers = [int(i) for i in np.flatnonzero(labels[:200] == 7)]
    odd, even = [i for i in sneakers if i % 2][0], [i for i in sneakers if not i % 2][0]
    drawn = [n for n, kind in enumerate(real_inputs.KINDS) if kind.drawn][0]
    # As a non-shoe (label 0) the image is drawn as it is: so a shoe drawn at an odd index is its mirror image.
    as_is = lambda index, image: real_inputs.make_input(drawn, index, image, 0, seed=0)  # noqa: E731
    assert real_inputs.make_input(drawn, odd, images[odd], 7, seed=0) == as_is(odd, images[odd][:, ::-1].copy())
    assert real_inputs.make_input(drawn, even, images[even], 7, seed=0) == as_is(even, images[even])


def test_the_benchmark_never_reads_training_images(monkeypatch):
    def only_test(split, *args, **kwargs):
        assert split == "test", "the benchmark read the training images"
        return original(split, *args, **kwargs)

    original = real_inputs.load_split_numpy
    monkeypatch.setattr(real_inputs, "load_split_numpy", only_test)
    try:
        rows = real_inputs.run(None, "tune", limit=10, kinds=[0, 3])
    except DatasetError as e:
        pytest.skip(f"Fashion-MNIST not available: {e}")
    assert [row["input"] for row in rows] == [real_inputs.KINDS[0].name, real_inputs.KINDS[3].name]
    assert all(row["n"] == 10 and 0 <= row["accuracy"] <= 1 and 0 < row["raw"] <= 1 for row in rows)
