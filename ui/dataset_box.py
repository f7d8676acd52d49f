"""The dataset for a page, or one clear box saying it is missing, with the three ways to get it
(the Download button among them)."""
from __future__ import annotations

import streamlit as st

from model.files import data as fmnist
from model.files.data import DatasetError
from ui.i18n import explain, t
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
        headline = t("common.dataset.missing") if extra else t("common.dataset.missing_page")
        st.error(f"**{headline}** {extra}\n\n{explain(error)}", icon=":material/dataset:")
        if st.button(t("common.dataset.download"), key="download_dataset", icon=":material/download:"):
            _download()


def _download() -> None:
    bar = st.progress(0.0, text=t("common.dataset.connecting"))
    shown = {"step": -1}

    def progress(name: str, done: int, total: int) -> None:
        step = int(100 * done / total) if total else 0
        if step != shown["step"]:  # one update per percent, not per 64 KB chunk
            shown["step"] = step
            bar.progress(min(step, 100) / 100, text=t("common.dataset.progress", name=name, done=done / 1e6, total=total / 1e6))

    try:
        fmnist.download(progress=progress)
    except DatasetError as error:
        bar.empty()
        st.error(explain(error))
        return
    except Exception as error:  # noqa: BLE001 - no traceback on the page
        bar.empty()
        st.error(t("common.dataset.download_failed", error=f"{type(error).__name__}: {error}"))
        return
    dataset_split.clear()
    st.rerun()
