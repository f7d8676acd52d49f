"""The chapter's exercises as cards: a question, what to look for, and a one-click setup, a
link that opens the Train page with the settings in its URL (or the demo that answers it).
Belongs on the Home page, after the formulas and the overflow demo."""
from __future__ import annotations

import streamlit as st

from model.lesson.config import TrainConfig, preset
from model.service.settings import config_to_params
from ui import i18n
from ui.i18n import t
from ui.layout import PAGES

# Each exercise: its links, as (the page, the Train setup or None, the label's key in
# lesson.exercises, the values the label names).
EXERCISES: dict[str, list[tuple[str, TrainConfig | None, str, dict]]] = {
    "overflow": [("home", None, "open_home", {}), ("predict", None, "open_predict", {})],
    "log_zero": [("train", preset("lesson", impl="scratch", naive_softmax=True, lr=5.0, epochs=3), "log_zero.naive", {}),
                 ("train", preset("lesson", impl="scratch", lr=5.0, epochs=3), "log_zero.stable", {})],
    "epochs": [("train", preset("lesson", epochs=50), "open_train", {})],
    "learning_rates": [("train", preset("lesson", lr=lr), "learning_rates.link", {"lr": lr}) for lr in (0.01, 0.1, 1.0)],
    # 8 is the smallest batch a server allows (model.service.settings.Limits): ~1 s an epoch.
    "batch_size": [("train", preset("lesson", batch_size=size, epochs=3), "batch_size.link", {"batch_size": size})
                   for size in (8, 256)],
}


def exercise_links(lang: str) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """{exercise: [(page file, query parameters)]}: a Train link carries every setting
    (config_to_params, preset "lesson") and every link the language."""
    links = {}
    for name, setups in EXERCISES.items():
        links[name] = []
        for page, config, _, _ in setups:
            params = config_to_params(config, "lesson") if config is not None else {}
            links[name].append((PAGES[page], {**params, **i18n.link_params(lang)}))
    return links


def exercise_cards() -> None:
    """One card per exercise: the question, what to look for, and its one-click setups."""
    lang = i18n.language()
    st.subheader(t("lesson.exercises.title"))
    st.markdown(t("lesson.exercises.text"))
    links = exercise_links(lang)
    for name, setups in EXERCISES.items():
        with st.container(border=True):
            st.markdown(f"**{t(f'lesson.exercises.{name}.title')}**")
            st.markdown(t(f"lesson.exercises.{name}.question"))
            st.caption(t(f"lesson.exercises.{name}.look_for"))
            cols = st.columns(len(setups))
            for col, (_, _, label, values), (path, params) in zip(cols, setups, links[name]):
                col.page_link(path, label=t(f"lesson.exercises.{label}", **values), icon=":material/play_circle:",
                              query_params=params)
