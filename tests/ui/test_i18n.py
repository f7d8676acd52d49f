"""The message catalogs: both languages hold the same keys with the same placeholders, every key
the code asks for exists, and the language follows ?lang=, the session, the browser, English."""
import re
from pathlib import Path

import pytest

from tests.app_pages.conftest import open_page
from ui import i18n

ROOT = Path(__file__).resolve().parents[2]


def placeholders(template: str) -> set[str]:
    # A regex, not string.Formatter: texts without values keep LaTeX's (\frac{a}{b}) and
    # plotly's (%{x}) braces as they are, and {{ }} is a literal brace.
    template = template.replace("{{", "").replace("}}", "")
    return set(re.findall(r"(?<![\\%])\{([a-z_0-9]+)(?:[:!][^{}]*)?\}", template))


def test_both_catalogs_hold_the_same_keys_and_placeholders():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    assert len(en) > 20
    assert sorted(set(en) - set(zh)) == [], "keys missing in the Chinese catalog"
    assert sorted(set(zh) - set(en)) == [], "keys missing in the English catalog"
    wrong = {key: (placeholders(en[key]), placeholders(zh[key])) for key in en
             if placeholders(en[key]) != placeholders(zh[key])}
    assert wrong == {}


def test_every_key_the_code_uses_is_in_the_catalog():
    used = set()
    for path in [ROOT / "app.py", *ROOT.glob("app_pages/*.py"), *ROOT.glob("ui/*.py")]:
        used |= set(re.findall(r"\b(?:t|text)\((?:\s*lang,)?\s*\"([a-z_]+\.[a-z0-9_.]+)\"", path.read_text()))
    assert len(used) > 20
    assert sorted(used - set(i18n.catalog("en"))) == []


def test_chinese_uses_the_d2l_terms():
    zh = "\n".join(i18n.catalog("zh").values())
    for term in ("softmax回归", "交叉熵损失", "小批量随机梯度下降", "上溢", "LogSumExp技巧"):
        assert term in zh, term


@pytest.mark.parametrize(("session", "query", "locale", "expected"), [
    ({}, {}, None, "en"),
    ({}, {"lang": "zh"}, None, "zh"),
    ({"lang": "zh"}, {}, None, "zh"),
    ({"lang": "zh"}, {"lang": "en"}, None, "en"),
    ({}, {"lang": "xx"}, None, "en"),
])
def test_the_language_comes_from_the_url_then_the_session(session, query, locale, expected):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert at.session_state["lang"] == expected
    assert at.query_params["lang"] == [expected] or at.query_params["lang"] == expected
    assert at.title[0].value == i18n.text(expected, "home.title")
    assert at.caption[0].value == i18n.text(expected, "home.cards.dataset")


def test_the_toggle_switches_the_language_and_the_url():
    at = open_page(None)
    assert at.caption[0].value == i18n.text("en", "home.cards.dataset")
    at.segmented_control(key="lang_toggle").set_value("zh").run()
    assert at.session_state["lang"] == "zh"
    assert at.caption[0].value == i18n.text("zh", "home.cards.dataset")
    at.switch_page("app_pages/dataset.py").run()  # the URL's lang is gone; the session keeps it
    assert at.title[0].value == i18n.text("zh", "dataset.title")
