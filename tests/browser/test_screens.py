"""Every page on a desktop (1400x1000) and a phone (390x844), in English and Chinese, and Predict
and Train on a tablet with its sidebar open (1024x768): nothing runs off the side or is cut off,
the key elements are in view where a user needs them, and a screenshot of each
(tests/artifacts/screen-<page>-<lang>-<size>.png) to look at."""
import re

import pytest

from tests.browser.conftest import ARTIFACTS, wait_until_idle
from tests.browser.test_app import NO_TRACEBACK, draw, set_epochs
from tests.browser.test_predict_drawing import TROUSER
from model import CLASSES, CLASSES_ZH
from ui import i18n

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}
READY = {"home": "home.formulas.title", "dataset": "dataset.means.title", "train": "train.controls.start",
         "predict": "predict.draw.empty"}


def ready_text(lang: str, key: str) -> str:
    return re.sub(r"[*#`]", "", i18n.text(lang, key)).strip()[:12]


@pytest.fixture(params=[(lang, size) for lang in ("en", "zh") for size in SIZES], ids=lambda p: f"{p[0]}-{p[1]}")
def screen(browser, request):
    lang, size = request.param
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, lang, size
    context.close()
    assert not errors, errors


def open_screen(page, app_url, path: str, lang: str, name: str) -> None:
    page.goto(f"{app_url}/{'' if path == 'home' else path}?lang={lang}")
    page.get_by_text(ready_text(lang, READY[path])).first.wait_for(timeout=60_000)
    wait_until_idle(page)
    page.wait_for_timeout(500)  # images and charts finish drawing
    assert page.locator(NO_TRACEBACK).count() == 0
    assert_fits_the_width(page)
    assert page.locator("[data-testid=stTitle] h1, h1").first.inner_text().strip() == i18n.text(lang, f"{path}.title")


def assert_fits_the_width(page) -> None:
    """Nothing runs off the side: of the document, nor of the main block (Streamlit scrolls that
    one, so a table wider than a phone widens it, not the document)."""
    width = page.viewport_size["width"]
    wide = page.evaluate("""() => [document.documentElement, document.querySelector('[data-testid=stMain]')]
          .map((element) => element.scrollWidth)""")
    assert max(wide) <= width, f"the page runs off the side: {wide} px wide on a {width} px screen"


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1 \
        and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 1


def save(page, name: str) -> None:
    """The screen as the user sees it, and the whole page below it (Streamlit scrolls its main
    block, not the document, so the window is made as tall as the page for that one)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 8000)})
    page.wait_for_timeout(800)  # charts resize
    page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"))
    page.set_viewport_size(size)


def test_home(screen, app_url):
    page, lang, size = screen
    open_screen(page, app_url, "home", lang, "home")
    assert in_view(page, page.locator(".st-key-lang_toggle"))  # the language toggle, on a phone too
    save(page, f"screen-home-{lang}-{size}")


def test_dataset_grids_keep_several_pictures_per_row(screen, app_url):
    page, lang, size = screen
    open_screen(page, app_url, "dataset", lang, "dataset")
    page.wait_for_function("() => document.querySelectorAll('.picture-grid img').length >= 42")
    tops = page.evaluate("() => [...document.querySelectorAll('.picture-grid figure')].slice(0, 4)"
                         ".map((e) => Math.round(e.getBoundingClientRect().top))")
    assert len(set(tops[:3])) == 1, tops  # the first three samples share a row, on a phone too
    save(page, f"screen-dataset-{lang}-{size}")


def test_train_key_settings_and_start_are_on_the_page(screen, app_url):
    page, lang, size = screen
    open_screen(page, app_url, "train", lang, "train")
    main = page.locator("[data-testid=stMain]")
    for key in ("cfg_preset", "cfg_impl", "cfg_epochs", "cfg_lr", "start"):
        assert main.locator(f".st-key-{key}").count() == 1, key  # not hidden in the sidebar
    start = main.locator(".st-key-start button")
    start.scroll_into_view_if_needed()
    assert in_view(page, start)
    page.evaluate("() => window.scrollTo(0, 0)")
    save(page, f"screen-train-{lang}-{size}")


def test_train_results_charts_keep_their_labels_apart(screen, app_url):
    page, lang, size = screen
    open_screen(page, app_url, "train", lang, "train")
    set_epochs(page, "Home")  # 1 epoch
    page.locator(".st-key-start button").click()
    page.locator(".st-key-result_curves .main-svg").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    chart = page.locator(".st-key-result_curves")
    chart.scroll_into_view_if_needed()
    edges = lambda css: [b["x"] for b in (e.bounding_box() for e in chart.locator(css).all()) if b]  # noqa: E731
    # The accuracy panel's own labels lie right of it, not in the gap beside the loss panel.
    assert min(edges(".y2tick text")) >= max(edges(".x2tick text")), "accuracy ticks crowd the gap"
    assert max(edges(".ytick text")) < min(edges(".x2tick text"))
    # The legend, in rows under the plot on a phone, clears the epoch axes' titles.
    titles = [box["y"] + box["height"] for box in (e.bounding_box() for e in chart.locator(".xtitle, .x2title").all())]
    assert chart.locator(".legend").bounding_box()["y"] >= max(titles) - 1, "the legend covers an axis title"
    page.locator(".st-key-runs_table table").wait_for()
    assert_fits_the_width(page)  # the runs table too
    page.locator(".st-key-runs_table").screenshot(path=str(ARTIFACTS / f"screen-train-runs-{lang}-{size}.png"),
                                                  style="[data-testid=stHeader] {display: none}")  # it would cover the table
    save(page, f"screen-train-result-{lang}-{size}")


def test_predict_answer_is_in_view_after_a_drawing(screen, app_url):
    page, lang, size = screen
    open_screen(page, app_url, "predict", lang, "predict")
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    for stroke in TROUSER:
        draw(page, stroke)
        page.wait_for_timeout(400)
    page.locator(".st-key-prediction").wait_for(timeout=20_000)
    wait_until_idle(page)
    answer = page.locator(".st-key-answer_glance" if size == "phone" else ".st-key-prediction")
    assert (CLASSES_ZH[1] if lang == "zh" else CLASSES[1]) in answer.inner_text()  # the trouser, read
    assert in_view(page, canvas) and in_view(page, answer)  # drawing and answer seen together
    slider, drawing = page.locator(".st-key-brush").bounding_box(), canvas.bounding_box()
    assert slider["y"] + slider["height"] <= drawing["y"] + 1  # nothing overlaps the canvas
    # The model picker's names aren't cut off.
    assert page.evaluate("""() => [...document.querySelectorAll('[data-testid=stSidebar] [role=radiogroup] label')]
          .every((label) => label.scrollWidth <= label.clientWidth + 1)""")
    # Why: the input and the template side by side, enlarged by a whole number, no larger than the canvas.
    trouser = CLASSES_ZH[1] if lang == "zh" else CLASSES[1]
    why = [page.locator(".picture-grid figure").filter(has_text=text).locator("img") for text in
           (i18n.text(lang, "predict.why.input"), i18n.text(lang, "predict.why.template", name=trouser))]
    assert [picture.count() for picture in why] == [1, 1]
    boxes = [picture.bounding_box() for picture in why]
    assert all(box["width"] % 28 == 0 and box["width"] <= drawing["width"] for box in boxes), boxes
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1, boxes  # one row, on a phone too
    assert boxes[0]["width"] == (168 if size == "phone" else 224), boxes  # larger where the column holds it
    save(page, f"screen-predict-{lang}-{size}")


def test_the_browsers_language_chooses_chinese_and_the_toggle_switches_on_a_phone(browser, app_url):
    context = browser.new_context(viewport=SIZES["phone"], locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{app_url}/train")  # no ?lang=: the browser's locale decides
        page.get_by_text(i18n.text("zh", "train.controls.start")).first.wait_for(timeout=60_000)
        wait_until_idle(page)
        assert "lang=zh" in page.url  # and the URL now says so, for a link copied from here
        page.locator(".st-key-lang_toggle").get_by_text("English").click()
        page.get_by_text(i18n.text("en", "train.controls.start")).first.wait_for(timeout=30_000)
        assert "lang=en" in page.url
        page.locator("[data-testid=stMain] .st-key-cfg_epochs").wait_for()  # the page itself, not a reload elsewhere
    finally:
        context.close()


@pytest.mark.parametrize("path,steps", [("home", ("softmax", "cross_entropy")),
                                        ("train", ("sgd", "concise", "evaluate_accuracy"))])
def test_every_formula_of_the_lessons_code_fits_its_box(screen, app_url, path, steps):
    page, lang, size = screen
    open_screen(page, app_url, path, lang, path)
    for step in steps:
        # Opening a box reruns the page to send its code; a click during that rerun can be lost.
        wait_until_idle(page)
        box = page.locator(f".st-key-lesson_code_{step}")
        box.locator("summary").click()
        box.locator(".katex-display").first.wait_for(timeout=30_000)
    wait_until_idle(page)
    widths = page.evaluate("() => [...document.querySelectorAll('.katex-display')].map(e => [e.scrollWidth, e.clientWidth])")
    assert len(widths) >= len(steps)
    # A few pixels of KaTeX's italic overhang aside, no formula is wider than its box (it would scroll, cut before).
    assert all(scroll <= client + 3 for scroll, client in widths), widths


INSIDE_ITS_COLUMN = """(element) => {
  let column = element;  // its column, out through a component's shadow root
  while (!column.matches?.('[data-testid=stColumn]')) column = column.parentElement ?? column.getRootNode().host;
  const box = element.getBoundingClientRect(), edges = column.getBoundingClientRect();
  return box.left >= edges.left - 1 && box.right <= edges.right + 1;
}"""
UNCUT = "(element) => [element, ...element.querySelectorAll('*')].every((e) => e.scrollWidth <= e.clientWidth + 1)"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_tablet_with_the_sidebar_open_stacks_the_columns_that_would_cut_things_off(browser, app_url, lang):
    """At 1024x768 the sidebar stays open and leaves the main block ~525 px: side by side, the
    canvas's column was 219 px for a 280 px canvas, the language toggle lost a button, Start read
    "Start tr…". There the columns stack, as on a phone."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    try:
        open_screen(page, app_url, "predict", lang, "predict")
        assert page.locator("[data-testid=stSidebar]").bounding_box()["width"] > 200  # open
        for element in (page.locator("canvas.upper-canvas"), *page.locator(".st-key-lang_toggle button").all()):
            assert element.evaluate(INSIDE_ITS_COLUMN)
        open_screen(page, app_url, "train", lang, "train")
        for key in ("start", "lang_toggle"):
            assert page.locator(f".st-key-{key}").evaluate(UNCUT), key
        for button in page.locator(".st-key-lang_toggle button").all():
            assert button.evaluate(INSIDE_ITS_COLUMN)
        save(page, f"screen-train-{lang}-tablet")
    finally:
        context.close()
