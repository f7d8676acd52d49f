"""The dataset for a page, or one clear box saying it is missing, with the three ways to get it
(the Download button among them)."""
from __future__ import annotations

import streamlit as st

from model.files import data as fmnist
from model.files.data import DatasetError
from ui.resources import dataset_split


def dataset() -> dict | None:
    """{"train": (images, labels), "test": (...)}, or None after showing the missing-dataset box.
    Call it once per page run."""
    try:
        return {split: dataset_split(split) for split in fmnist.SPLITS}
    except DatasetError as error:
        dataset_missing_box(error)
        return None


def dataset_notice(extra: str = "") -> bool:
    """For pages that can work without the dataset: True if it is there (found, not loaded);
    otherwise show the missing-dataset box, with `extra` saying what still works, and False."""
    try:
        for split in fmnist.SPLITS:
            fmnist.locate(split)
    except DatasetError as error:
        dataset_missing_box(error, extra)
        return False
    return True


def dataset_missing_box(error: Exception, extra: str = "") -> None:
    """One clear box: what is missing and the three ways to fix it, with a Download button."""
    with st.container(border=True):
        headline = ("Fashion-MNIST is not on this server." if extra else
                    "Fashion-MNIST is not on this server, so this page can't work yet.")
        st.error(f"**{headline}** {extra}\n\n{error}", icon=":material/dataset:")
        if st.button("Download Fashion-MNIST (30 MB)", key="download_dataset", icon=":material/download:"):
            _download()


def _download() -> None:
    bar = st.progress(0.0, text="Connecting…")
    shown = {"step": -1}

    def progress(name: str, done: int, total: int) -> None:
        step = int(100 * done / total) if total else 0
        if step != shown["step"]:  # one update per percent, not per 64 KB chunk
            shown["step"] = step
            bar.progress(min(step, 100) / 100, text=f"{name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    try:
        fmnist.download(progress=progress)
    except DatasetError as error:
        bar.empty()
        st.error(str(error))
        return
    except Exception as error:  # noqa: BLE001 - no traceback on the page
        bar.empty()
        st.error(f"The download failed ({type(error).__name__}: {error}). Check the internet connection "
                 "or install the dataset with `sudo apt-get install dataset-fashion-mnist`.")
        return
    dataset_split.clear()
    st.rerun()
