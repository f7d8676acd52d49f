"""ui.exercises: every card's one-click setup is a link the Train page reads without correcting it."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model.lesson.config import TrainConfig
from model.service.settings import Limits, config_from_params
from tests.app_pages.conftest import untranslated
from ui import i18n
from ui.exercises import EXERCISES, exercise_links

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_link_opens_its_setup_without_corrections(lang):
    links = exercise_links(lang)
    assert set(links) == set(EXERCISES)
    for name, setups in EXERCISES.items():
        for (page, config, _, _), (path, params) in zip(setups, links[name], strict=True):
            assert path == f"app_pages/{page}.py" and params["lang"] == lang
            read, preset, notes = config_from_params(params, Limits())
            assert notes == [], (name, notes)
            if config is not None:
                assert read == config and preset == "lesson"
            else:
                assert read == TrainConfig() and set(params) == {"lang"}


def test_the_setups_are_the_exercises():
    configs = {name: [config for _, config, _, _ in setups] for name, setups in EXERCISES.items()}
    assert [c.lr for c in configs["learning_rates"]] == [0.01, 0.1, 1.0]
    assert [c.batch_size for c in configs["batch_size"]] == [Limits().min_batch_size, 256]
    assert configs["epochs"][0].epochs == 50
    assert [c.naive_softmax for c in configs["log_zero"]] == [True, False]


# st.page_link only links to pages st.navigation knows, found relative to the entry script: an
# entry script beside a link to the app's pages that registers them (without running one).
ENTRY = """
import streamlit as st

from ui.exercises import exercise_cards
from ui.layout import PAGES

st.navigation([st.Page(path) for path in PAGES.values()], position="hidden")
exercise_cards()
"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cards_show_a_question_and_a_link_per_setup(lang, tmp_path):
    (tmp_path / "app_pages").symlink_to(ROOT / "app_pages")
    (tmp_path / "entry.py").write_text(ENTRY)
    at = AppTest.from_file(str(tmp_path / "entry.py"), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    links = at.get("page_link")
    assert len(links) == sum(len(setups) for setups in EXERCISES.values())
    assert links[2].proto.label == i18n.text(lang, "lesson.exercises.log_zero.naive")
    assert "lr=0.01" in links[5].proto.query_string and f"lang={lang}" in links[5].proto.query_string
    assert [c.value for c in at.caption] == [i18n.text(lang, f"lesson.exercises.{name}.look_for") for name in EXERCISES]
    if lang == "zh":
        assert untranslated(at) == []
