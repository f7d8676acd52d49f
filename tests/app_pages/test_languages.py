"""Every page in both languages: in Chinese no English word is left (untranslated), in English
the same page shows the English catalog's texts; the titles come from each catalog."""
import pytest

from tests.app_pages.conftest import assert_clean, open_page, untranslated
from ui import i18n

PAGES = ["home", "dataset", "train", "predict"]


def opened(page: str, lang: str):
    at = open_page(None if page == "home" else page, lang=lang, take_apart=True)
    if page == "home":
        at.toggle(key="overflow_demo").set_value(True).run()  # the demo's own texts too
    elif page == "predict":
        at.segmented_control(key="predict_input").set_value("Test image").run()  # an answer taken apart
    assert_clean(at)
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_speaks_chinese(page, dataset_available):
    at = opened(page, "zh")
    assert at.title[0].value == i18n.text("zh", f"{page}.title")
    assert untranslated(at) == []


@pytest.mark.parametrize("page", PAGES)
def test_every_page_speaks_english(page, dataset_available):
    at = opened(page, "en")
    assert at.title[0].value == i18n.text("en", f"{page}.title")
    chinese = [e.value for kind in ("markdown", "caption", "info", "subheader") for e in getattr(at, kind)
               if any("\u4e00" <= c <= "\u9fff" for c in e.value) and "中文" not in e.value]
    assert chinese == []  # and nothing Chinese slips into the English page
