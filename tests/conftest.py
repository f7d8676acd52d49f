"""Shared fixtures. Tests run on the real Fashion-MNIST; where it is missing they skip,
except in CI (CI=true), where a missing dataset is a failure."""
import os

import pytest

from model.files.data import DatasetError, load_split, load_split_numpy


def _load(split, loader=load_split):
    try:
        return loader(split)
    except DatasetError as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run on the real dataset: {e}")
        pytest.skip(f"Fashion-MNIST not available: {e}")


@pytest.fixture(scope="session")
def train_data():
    """(images uint8 [60000, 28, 28], labels int64 [60000])."""
    return _load("train")


@pytest.fixture(scope="session")
def test_data():
    """(images uint8 [10000, 28, 28], labels int64 [10000])."""
    return _load("test")


@pytest.fixture(scope="session")
def test_split():
    """The test split as numpy arrays (images uint8 [10000, 28, 28], labels uint8 [10000]), no torch."""
    return _load("test", load_split_numpy)


@pytest.fixture(scope="session")
def dataset_available():
    """Skip a test that needs Fashion-MNIST where it is missing (fail in CI), without loading torch."""
    from model.files.data import locate

    try:
        locate("train"), locate("test")
    except DatasetError as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run on the real dataset: {e}")
        pytest.skip(f"Fashion-MNIST not available: {e}")
