import gzip
import shutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model
from model.files import data
from model.files.data import DEBIAN_DIR, DatasetError, load_split, load_split_numpy


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A private cache folder, so a test sees a cold load and leaves no trace."""
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def copy_split(split, folder, compressed=True):
    """The split's two real files copied into `folder` (gz as shipped, or decompressed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in data.FILES[split]:
        src = DEBIAN_DIR / f"{name}.gz"
        if not src.exists():
            pytest.skip("needs Debian's dataset-fashion-mnist files")
        if compressed:
            paths.append(shutil.copy(src, folder / src.name))
        else:
            with gzip.open(src) as f:
                (folder / name).write_bytes(f.read())
            paths.append(folder / name)
    return paths


def test_splits_have_the_documented_shapes_and_types(train_data, test_data):
    for (images, labels), n in ((train_data, 60_000), (test_data, 10_000)):
        assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
        assert labels.shape == (n,) and labels.dtype == torch.int64
        # Fashion-MNIST is balanced: every class has exactly a tenth of each split.
        assert torch.bincount(labels, minlength=10).tolist() == [n // 10] * 10


def test_loader_matches_torchvision_parsing_of_the_same_files(tmp_path, isolated_cache):
    from torchvision.datasets import FashionMNIST

    raw = tmp_path / "FashionMNIST" / "raw"
    for split in data.SPLITS:
        copy_split(split, raw, compressed=False)
    for train in (True, False):
        reference = FashionMNIST(str(tmp_path), train=train, download=False)
        images, labels = load_split("train" if train else "test", root=tmp_path)
        assert torch.equal(images, reference.data)
        assert torch.equal(labels, reference.targets)


def test_warm_load_comes_from_the_cache_and_equals_the_cold_one(tmp_path, isolated_cache):
    copy_split("test", tmp_path)
    cold = load_split_numpy("test", root=tmp_path)
    assert len(list(isolated_cache.glob("test-*.npy"))) == 2
    warm = load_split_numpy("test", root=tmp_path)
    assert np.array_equal(cold[0], warm[0]) and np.array_equal(cold[1], warm[1])


def test_a_damaged_cache_is_ignored_not_trusted(tmp_path, isolated_cache):
    copy_split("test", tmp_path)
    good = load_split_numpy("test", root=tmp_path)
    for cached in isolated_cache.glob("test-*-images.npy"):
        cached.write_bytes(cached.read_bytes()[:1000])
    again = load_split_numpy("test", root=tmp_path)
    assert np.array_equal(good[0], again[0])


def test_a_missing_file_is_named_with_the_fix(tmp_path, isolated_cache):
    images_file, labels_file = copy_split("test", tmp_path)
    labels_file.unlink()
    with pytest.raises(DatasetError) as info:
        load_split("test", root=tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(info.value)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)


def test_a_truncated_file_is_refused_and_named(tmp_path, isolated_cache):
    images_file, _ = copy_split("test", tmp_path)
    content = images_file.read_bytes()
    images_file.write_bytes(content[: len(content) // 2])
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz.*truncated or corrupt"):
        load_split("test", root=tmp_path)


def test_changed_content_fails_the_checksum(tmp_path, isolated_cache):
    images_file, _ = copy_split("test", tmp_path, compressed=False)
    content = bytearray(images_file.read_bytes())
    content[5000] ^= 0xFF  # one pixel: shape and counts stay right, only the checksum can tell
    images_file.write_bytes(bytes(content))
    with pytest.raises(DatasetError, match="checksum"):
        load_split("test", root=tmp_path)


def test_environment_variable_is_searched_before_the_system_folder(tmp_path, isolated_cache, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="missing in .*empty"):
        data.locate("test")


def test_nothing_found_anywhere_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", tmp_path / "a")
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "b")
    with pytest.raises(DatasetError, match="was not found"):
        data.locate("train")


def test_unknown_split_is_a_value_error():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.locate("validation")


def test_class_names_in_english_and_chinese():
    assert len(model.CLASSES) == len(model.CLASSES_ZH) == 10
    assert model.CLASSES[0] == "T-shirt/top" and model.CLASSES[9] == "Ankle boot"
    assert model.CLASSES_ZH[0] == "T恤" and model.CLASSES_ZH[9] == "短靴"


@pytest.mark.parametrize("damage", ["flipped pixel bytes", "labels of 200", "garbage", "huge declared shape"])
def test_a_cache_that_no_longer_holds_the_official_contents_is_rebuilt_with_a_note(tmp_path, isolated_cache,
                                                                                    caplog, damage):
    copy_split("test", tmp_path)
    good = load_split_numpy("test", root=tmp_path)
    images_file = next(isolated_cache.glob("test-*-images.npy"))
    labels_file = next(isolated_cache.glob("test-*-labels.npy"))
    if damage == "flipped pixel bytes":  # shape and dtype intact, so only a checksum can tell
        raw = bytearray(images_file.read_bytes())
        for offset in (500, 200_000, 7_000_000):
            raw[offset] ^= 0xFF
        images_file.write_bytes(bytes(raw))
    elif damage == "labels of 200":
        labels = np.load(labels_file)
        labels[::7] = 200
        np.save(labels_file, labels)
    elif damage == "garbage":
        images_file.write_bytes(bytes(range(256)) * 100)
    else:
        raw = images_file.read_bytes().replace(b"(10000, 28, 28)", b"(99999999, 28)  ")
        images_file.write_bytes(raw)
    again = load_split_numpy("test", root=tmp_path)
    assert np.array_equal(good[0], again[0]) and np.array_equal(good[1], again[1])
    assert "damaged" in caplog.text and "rebuilding them from the IDX files" in caplog.text
    caplog.clear()
    load_split_numpy("test", root=tmp_path)  # the rebuilt cache is trusted again, silently
    assert "damaged" not in caplog.text


def test_the_checksums_of_the_arrays_are_those_of_the_official_files(tmp_path, isolated_cache):
    import hashlib

    copy_split("test", tmp_path)
    images, labels = load_split_numpy("test", root=tmp_path)  # a cold load: parsed from the checked IDX files
    assert (hashlib.sha256(images.data).hexdigest(), hashlib.sha256(labels.data).hexdigest()) == data.ARRAY_SHA256["test"]


FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def real_test_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idx")
    return {path.name: path.read_bytes() for path in map(__import__("pathlib").Path, copy_split("test", folder))}


@FUZZ
@given(st.sampled_from(["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]),
       st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(0, 10**7), st.booleans())
def test_mutated_idx_files_are_refused_with_the_fix(tmp_path_factory, monkeypatch, real_test_files, name, edits, cut,
                                                    decompress):
    """Random mutations of the real files, gzipped or not: a DatasetError naming the file, or (when
    a mutation happens to change nothing) the official contents."""
    folder = tmp_path_factory.mktemp("mutated")
    for other, content in real_test_files.items():
        (folder / other).write_bytes(content)
    raw = bytearray(gzip.decompress(real_test_files[name]) if decompress else real_test_files[name])
    for position, value in edits:
        raw[position % len(raw)] = value
    target = folder / (name.removesuffix(".gz") if decompress else name)
    (folder / name).unlink()
    target.write_bytes(bytes(raw[:max(1, len(raw) - cut % len(raw))]))
    monkeypatch.setattr(data, "CACHE_DIR", folder / "cache")
    try:
        images, labels = load_split_numpy("test", root=folder)
    except DatasetError as error:
        assert target.name in str(error) and "apt-get install dataset-fashion-mnist" in str(error)
        return
    assert images.shape == (10_000, 28, 28) and int(labels.max()) <= 9


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 8_000_000), st.integers(0, 255)), min_size=1, max_size=6),
       st.booleans(), st.integers(0, 8_000_000))
def test_mutated_cache_files_give_the_official_arrays(tmp_path_factory, monkeypatch, real_test_files, edits,
                                                      labels_file, cut):
    folder = tmp_path_factory.mktemp("cached")
    for other, content in real_test_files.items():
        (folder / other).write_bytes(content)
    monkeypatch.setattr(data, "CACHE_DIR", folder / "cache")
    good = load_split_numpy("test", root=folder)
    cached = next(data.CACHE_DIR.glob(f"test-*-{'labels' if labels_file else 'images'}.npy"))
    raw = bytearray(cached.read_bytes())
    for position, value in edits:
        raw[position % len(raw)] = value
    cached.write_bytes(bytes(raw[:max(1, len(raw) - cut % len(raw))]))
    again = load_split_numpy("test", root=folder)
    assert np.array_equal(good[0], again[0]) and np.array_equal(good[1], again[1])
