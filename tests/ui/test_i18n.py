"""The message catalogs: both languages hold the same keys with the same placeholders, every key
the code asks for exists, every engine message has its Chinese, and the language follows ?lang=,
the session, the browser, English."""
import ast
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
    # The engine's messages are English at their raise sites (model.message.Message): only zh has "engine.".
    en, zh = ({key: value for key, value in i18n.catalog(lang).items() if not key.startswith("engine.")}
              for lang in ("en", "zh"))
    assert not any(key.startswith("engine.") for key in i18n.catalog("en")), "English engine texts live in model/"
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


def engine_messages() -> dict[str, str]:
    """{key: English template} of every Message("key", "template", ...) written in model/."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "model").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Message"):
                continue
            key, template = (node.args + [None, None])[:2]
            if path.name == "message.py" and not isinstance(key, ast.Constant):
                continue  # Message's own unpickling passes the key through
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert isinstance(key, ast.Constant) and isinstance(template, ast.Constant), \
                f"{where}: a Message needs a literal key and template"
            assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", key.value), f"{where}: key {key.value!r}"
            assert found.setdefault(key.value, template.value) == template.value, \
                f"{where}: key {key.value!r} is used for two different texts"
    return found


def test_every_engine_message_has_its_chinese_with_the_same_placeholders():
    messages = engine_messages()
    assert len(messages) > 50
    for group in ("image", "metadata", "data", "checkpoint", "predict", "runs"):
        assert any(key.startswith(f"{group}.") for key in messages), group
    zh = {key.removeprefix("engine."): value for key, value in i18n.catalog("zh").items() if key.startswith("engine.")}
    assert sorted(set(messages) - set(zh)) == [], "engine messages missing in ui/messages/zh/engine.toml"
    assert sorted(set(zh) - set(messages)) == [], "Chinese engine messages the code no longer uses"
    wrong = {key: (placeholders(messages[key]), placeholders(zh[key])) for key in messages
             if placeholders(messages[key]) != placeholders(zh[key])}
    assert wrong == {}
    for key, template in zh.items():  # each formats as the English does (a number fits :.0f, :g and !r)
        template.format(**dict.fromkeys(placeholders(template), 1.5))
    # A template of placeholders alone (a run's name, put together from its parts) has no words.
    untranslated = [key for key, value in zh.items() if not re.search(r"[\u3000-\u9fff\uff00-\uffef]", value)
                    and re.sub(r"\{[a-z_]+(?:[:!][^{}]*)?\}", "", value).strip()]
    assert untranslated == []  # Chinese words, or at least Chinese punctuation


@pytest.fixture
def in_language(monkeypatch):
    def use(lang: str) -> None:
        monkeypatch.setattr(i18n, "language", lambda: lang)
    return use


def test_explain_shows_an_engine_error_in_the_run_s_language(in_language):
    from model.files.image_files import ImageError, decode_image

    with pytest.raises(ImageError) as caught:
        decode_image(b"")
    english = "The file is empty (0 bytes). Choose an image file (PNG, JPEG, WebP, GIF or BMP)."
    assert str(caught.value) == english
    in_language("zh")
    assert i18n.explain(caught.value) == "文件是空的（0 字节）。请选择一个图像文件（PNG、JPEG、WebP、GIF 或 BMP）。"
    in_language("en")
    assert i18n.explain(caught.value) == english
    assert i18n.explain(ValueError("not a Message")) == "not a Message"  # anything else: its own text


def test_explain_translates_a_reason_inside_a_reason(in_language):
    import json

    import numpy as np
    from safetensors.numpy import save

    from model.files import checkpoint
    from model.message import reason

    meta = {"format_version": 1, "classes": list(checkpoint.CLASSES), "normalization": {"mean": 0.3, "std": 0.35},
            "test_acc": 1.5}
    data = save({"weight": np.zeros((10, 784), np.float32), "bias": np.zeros(10, np.float32)},
                metadata={checkpoint.META_KEY: json.dumps(meta)})
    with pytest.raises(checkpoint.CheckpointError) as caught:
        checkpoint.from_bytes(data)
    english = "The checkpoint's metadata can't be used: 'test_acc' must be an accuracy between 0 and 1, not 1.5."
    assert str(caught.value) == english
    message = reason(caught.value)
    assert message.key == "checkpoint.bad_metadata" and message.values["reason"].key == "metadata.accuracy"
    in_language("zh")
    assert i18n.explain(caught.value) == "检查点的元数据无法使用：“test_acc”必须是 0 到 1 之间的精度，而不是 1.5。"
    in_language("en")
    assert i18n.explain(caught.value) == english


def test_engine_messages_survive_pickling():
    import pickle

    from model.files.image_files import _describe_unsupported
    from model.message import Message

    message = Message("image.unsupported", "this is {what}", what=_describe_unsupported(b"%PDF-1.7"))
    copy = pickle.loads(pickle.dumps(message))
    assert (copy, copy.key, copy.template, copy.values) == (message, message.key, message.template, message.values)
    assert copy.values["what"].key == "image.kind_pdf"


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


def test_a_key_added_to_a_catalog_under_a_running_server_is_found(tmp_path, monkeypatch):
    for lang in ("en", "zh"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "page.toml").write_text('title = "Old"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "MESSAGES", tmp_path)
    i18n.catalog.cache_clear()
    try:
        assert i18n.text("zh", "page.title") == "Old"
        (tmp_path / "en" / "page.toml").write_text('title = "Old"\nadded = "New {n}"\n', encoding="utf-8")
        assert i18n.text("zh", "page.added", n=2) == "New 2"  # read again, English as the fallback
        with pytest.raises(KeyError):
            i18n.text("en", "page.nowhere")
    finally:
        monkeypatch.undo()
        i18n.catalog.cache_clear()
    assert i18n.text("en", "home.title") != "Old"  # the real catalogs again
