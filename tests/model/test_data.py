import gzip
import shutil

import numpy as np
import pytest
import torch

import model
from model import data
from model.data import DEBIAN_DIR, DatasetError, load_split, load_split_numpy


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
    assert not data.is_available()
    with pytest.raises(DatasetError, match="was not found"):
        data.locate("train")


def test_unknown_split_is_a_value_error():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.locate("validation")


def test_class_names_in_english_and_chinese():
    assert len(model.CLASSES) == len(model.CLASSES_ZH) == 10
    assert model.CLASSES[0] == "T-shirt/top" and model.CLASSES[9] == "Ankle boot"
    assert model.CLASSES_ZH[0] == "T恤" and model.CLASSES_ZH[9] == "短靴"
