"""Every word the app shows, in English and Chinese: message catalogs looked up by key.

The catalogs are TOML files, one folder per language (ui/messages/en, ui/messages/zh), one file
per part of the app; a key is "file.name" ("train.start"). A message is a str.format template
when the code passes values ({acc:.1%}); one without values is shown as written (LaTeX braces).
English is the fallback for a key a language lacks, and tests/ui/test_i18n.py fails when either
catalog misses a key.

The language: ?lang=en|zh in the URL, else the one this session chose before (the URL's lang
is lost when Streamlit switches pages), else the browser's (st.context.locale), else English.
"""
from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import streamlit as st

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
MESSAGES = Path(__file__).with_name("messages")


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """{key: template} of one language, from every file in its folder."""
    entries: dict[str, str] = {}
    for path in sorted((MESSAGES / language).glob("*.toml")):
        with path.open("rb") as file:
            _flatten(tomllib.load(file), path.stem, entries)
    return entries


def _flatten(table: dict, prefix: str, into: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict):
            _flatten(value, key, into)
        else:
            into[key] = value


def language() -> str:
    """This page run's language, remembered in the session and written back into the URL."""
    asked = st.query_params.get("lang")
    if asked in LANGUAGES:
        chosen = asked
    elif st.session_state.get("lang") in LANGUAGES:
        chosen = st.session_state.lang
    else:
        locale = (st.context.locale or "").lower()
        chosen = "zh" if locale.startswith("zh") else DEFAULT
    if st.session_state.get("lang") != chosen:  # a write costs more than the read (t() asks on every string)
        st.session_state.lang = chosen
    return chosen


def t(key: str, **values) -> str:
    """The message `key` in this run's language, filled in with `values` (str.format)."""
    return text(language(), key, **values)


def text(lang: str, key: str, **values) -> str:
    template = _template(lang, key)
    if template is None:  # a catalog edited under a running server (Streamlit reruns the code, not this cache)
        catalog.cache_clear()
        template = _template(lang, key)
    if template is None:
        raise KeyError(key)  # a key English lacks is a bug
    return template.format(**values) if values else template


def _template(lang: str, key: str) -> str | None:
    template = catalog(lang).get(key)
    return catalog(DEFAULT).get(key) if template is None else template


def explain(thing, lang: str | None = None) -> str:
    """An engine message (model.message.Message, or an error raised with one) in `lang` (default:
    this run's language); anything else as its plain text. Values that are Messages are explained too."""
    from model.message import Message, reason

    message = reason(thing) if isinstance(thing, BaseException) else thing
    if not isinstance(message, Message):
        return str(message)
    lang = lang or language()
    template = catalog(lang).get(f"engine.{message.key}")
    if template is None:
        return str(message)
    values = {name: explain(value, lang) if isinstance(value, Message) else value
              for name, value in message.values.items()}
    return template.format(**values) if values else template


def keep_in_url(lang: str) -> None:
    """The language in this page's URL, so a copied or reloaded link keeps it."""
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang


def _switch() -> None:
    chosen = st.session_state.get("lang_toggle")
    if chosen in LANGUAGES:
        st.session_state.lang = chosen
        st.query_params["lang"] = chosen


def language_toggle(lang: str) -> None:
    """EN | 中文 on the page itself (a phone hides the sidebar)."""
    st.session_state.lang_toggle = lang
    st.segmented_control("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key="lang_toggle",
                         on_change=_switch, label_visibility="collapsed", required=True)


def link_params(lang: str) -> dict[str, str]:
    """Query parameters every link the app makes carries."""
    return {"lang": lang}
