"""The app in real Chromium: every page opens, training shows live curves and stops on
request, a drawing and an upload each get a prediction. Screenshots: tests/artifacts/."""
import io
import json
import statistics
import time

import numpy as np
import pytest

from tests.browser.conftest import shot, wait_until_idle

pytestmark = pytest.mark.browser

NO_TRACEBACK = "[data-testid=stException]"


def open_page(page, app_url, path: str, ready_text: str):
    page.goto(f"{app_url}/{path}")
    page.get_by_text(ready_text).first.wait_for(timeout=60_000)
    wait_until_idle(page)
    assert page.locator(NO_TRACEBACK).count() == 0


def test_home_page_shows_the_formulas_and_links(page, app_url):
    open_page(page, app_url, "", "The model in three formulas")
    page.locator(".katex").nth(2).wait_for(timeout=10_000)  # KaTeX loads lazily
    page.get_by_text("Try it").click()
    page.get_by_text("both agree").wait_for()
    # The lesson's code is sent when its expander opens.
    assert page.get_by_text("def softmax_naive(X):").count() == 0
    page.get_by_text("The lesson's code: softmax").click()
    page.get_by_text("def softmax_naive(X):").first.wait_for(timeout=10_000)
    shot(page, "home", tall=True)


def test_dataset_page_shows_images_statistics_and_pca(page, app_url):
    open_page(page, app_url, "dataset", "What an average garment looks like")
    # The three charts drawn by the basic bundle, each as wide as its place (two columns, then one).
    page.wait_for_function("() => document.querySelectorAll('.softmax-chart .main-svg').length >= 3 * 2", timeout=30_000)
    widths = page.locator(".softmax-chart").evaluate_all(
        "(charts) => charts.map((chart) => [chart.offsetWidth, chart.querySelector('.main-svg').getBoundingClientRect().width])")
    assert len(widths) == 3 and widths[2][0] > 1.8 * widths[0][0] > 0, widths
    assert all(abs(place - plot) <= 2 for place, plot in widths), widths  # each plot fills its place
    assert page.get_by_text("This chart could not load").count() == 0
    # The grid and the ten class means; images can still be arriving after the last chart.
    page.wait_for_function("() => [...document.querySelectorAll('.picture-grid img')].filter((img) => img.complete && img.naturalWidth > 0).length >= 32 + 10",
                           timeout=30_000)
    shot(page, "dataset", tall=True)
    # Filter to one class and jump to an index: the grid redraws without a full page run.
    page.locator(".st-key-ds_index input").fill("1000")
    page.keyboard.press("Enter")
    page.get_by_text("from index 1,000 on").wait_for()
    page.get_by_role("button", name="New random sample").click()
    page.get_by_text("(a random sample)").wait_for()
    wait_until_idle(page)
    assert page.locator(NO_TRACEBACK).count() == 0


def test_a_chart_whose_bundle_cannot_load_says_so(page, app_url):
    page.route("**/app/static/plotly-basic.min.js", lambda route: route.abort())
    open_page(page, app_url, "dataset", "What an average garment looks like")
    page.get_by_text("This chart could not load. Reload the page to try again.").nth(2).wait_for(timeout=30_000)
    assert page.locator(".softmax-chart .main-svg").count() == 0


def set_epochs(page, key: str) -> None:
    slider = page.locator(".st-key-cfg_epochs input[type=range]")
    slider.focus()
    page.keyboard.press(key)
    wait_until_idle(page)


def test_train_one_epoch_shows_curves_and_results(page, app_url):
    open_page(page, app_url, "train", "are in the sidebar")
    shot(page, "train-setup")
    set_epochs(page, "Home")  # 1 epoch
    assert page.locator(".st-key-cfg_epochs input[type=range]").input_value() == "1"
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Test images it gets wrong").wait_for(timeout=60_000)
    wait_until_idle(page)
    curves = page.locator(".st-key-result_curves [data-testid=stPlotlyChart], "
                          "[data-testid=stPlotlyChart].st-key-result_curves")
    assert page.locator("[data-testid=stPlotlyChart] .main-svg").count() >= 3  # curves, confusion, per class
    assert page.get_by_text("Training loss").count() >= 1 and curves.count() + 1 >= 1
    assert page.locator(NO_TRACEBACK).count() == 0
    shot(page, "train-result", tall=True)
    # Only the open tab's chart is sent: opening the chapter's own plot draws it.
    assert page.locator(".st-key-result_d2l").count() == 0
    page.get_by_role("tab", name="Per epoch, as d2l draws it").click()
    page.locator(".st-key-result_d2l .main-svg").first.wait_for(timeout=30_000)
    assert page.locator(".st-key-result_curves").count() == 0
    # The files are made when the button is pressed: the checkpoint loads, and is this run's.
    from model.files import checkpoint

    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download model").click()
    classifier = checkpoint.from_bytes(open(download.value.path(), "rb").read())
    assert classifier.weight.shape == (10, 784) and len(classifier.metadata["history"]) == 1
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download metadata").click()
    assert json.loads(open(download.value.path()).read())["config"]["epochs"] == 1


def test_after_switching_language_the_next_click_on_train_works(page, app_url):
    """The browser keeps a choice's old label (English) after the switch; the next click sends it."""
    open_page(page, app_url, "train", "are in the sidebar")
    page.locator(".st-key-train_speed").get_by_text("Slow motion").click()  # chosen by its English label
    wait_until_idle(page)
    page.locator(".st-key-lang_toggle").get_by_text("中文").click()
    page.get_by_text("更多设置").first.wait_for(timeout=30_000)
    wait_until_idle(page)
    page.get_by_role("button", name="开始训练").click()
    page.get_by_role("button", name="停止").first.wait_for(timeout=60_000)  # slow motion: still training
    assert page.locator(NO_TRACEBACK).count() == 0
    assert page.get_by_text("This app has encountered an error").count() == 0
    assert "preset=lesson" in page.url and "lang=zh" in page.url  # the same preset, now in Chinese
    # Stopped here: a slow-motion training left running would be "started elsewhere" for the
    # tests after this one, which share the server.
    page.get_by_role("button", name="停止").first.click()
    page.get_by_text("保留了停止之前学到的权重").first.wait_for(timeout=30_000)


def test_training_shows_live_curves_and_stops_within_a_second(page, app_url):
    open_page(page, app_url, "train", "are in the sidebar")
    set_epochs(page, "End")  # the most epochs allowed: it will be stopped long before
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Training: epoch").wait_for(timeout=30_000)
    page.locator("[data-testid=stPlotlyChart] .main-svg").first.wait_for(timeout=30_000)
    page.get_by_text("The ten weight templates, as they learn").wait_for()
    page.wait_for_function("() => document.body.innerText.includes('Training: epoch 2')", timeout=60_000)
    shot(page, "train-live")
    # The learner opens the chapter's own plot while it trains: the results keep it open.
    page.get_by_role("tab", name="Per epoch, as d2l draws it").click()
    page.locator(".st-key-live_d2l .main-svg").first.wait_for(timeout=30_000)
    started = time.perf_counter()
    page.locator(".st-key-stop_job button").first.click()
    page.get_by_text("the weights learned up to the stop are kept").wait_for(timeout=10_000)
    stop_seconds = time.perf_counter() - started
    print(f"\nStop click -> stopped run shown: {stop_seconds * 1000:.0f} ms")
    assert stop_seconds < 3.0  # the job itself stops within one minibatch; the rest is the page redraw
    wait_until_idle(page)
    page.locator(".st-key-result_d2l .main-svg").first.wait_for(timeout=30_000)
    assert page.locator(".st-key-result_curves").count() == 0
    assert page.locator(NO_TRACEBACK).count() == 0
    shot(page, "train-stopped", tall=True)


STROKES = [  # a pair of trousers, then a few more strokes (fractions of the canvas)
    [(0.3, 0.15), (0.7, 0.15), (0.7, 0.9), (0.58, 0.9), (0.5, 0.4), (0.42, 0.9), (0.3, 0.9), (0.3, 0.15)],
    [(0.36, 0.2), (0.64, 0.2)],
    [(0.36, 0.3), (0.45, 0.6)],
    [(0.64, 0.3), (0.55, 0.6)],
    [(0.36, 0.25), (0.64, 0.25)],
]
SEEN = """(n) => { const e = document.querySelector('.st-key-prediction');
  if (e && e.innerText.includes('(' + n + ' stroke')) { window.__seen = performance.now(); return true; }
  return false; }"""


def draw(page, points) -> None:
    box = page.locator("canvas.upper-canvas").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * points[0][0], y + h * points[0][1])
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(x + w * fx, y + h * fy, steps=6)
    page.mouse.up()


def test_drawing_is_predicted_fast(page, app_url):
    open_page(page, app_url, "predict", "Draw a garment on the black square")
    page.locator("canvas.upper-canvas").wait_for()
    page.evaluate("() => document.addEventListener('mouseup', () => { window.__up = performance.now(); }, true)")
    latencies = []
    for n, stroke in enumerate(STROKES, 1):
        draw(page, stroke)
        page.wait_for_function(SEEN, arg=n, timeout=10_000, polling="raf")
        latencies.append(page.evaluate("() => window.__seen - window.__up"))
        page.wait_for_timeout(300)  # a person takes a moment between strokes
    text = page.locator(".st-key-prediction").inner_text()
    print(f"\nstroke end -> prediction on screen (ms): {', '.join(f'{v:.0f}' for v in latencies)}; "
          f"median {statistics.median(latencies):.0f}")
    assert "Prediction:" in text and "confident" in text
    assert statistics.median(latencies) < 400, latencies  # target 200 ms; generous for a loaded CI machine
    wait_until_idle(page)
    page.get_by_text("From your picture to the model's input").wait_for()
    page.get_by_text("Each pixel's contribution to its score").wait_for()
    assert page.locator(NO_TRACEBACK).count() == 0
    shot(page, "predict-draw", tall=True)


def choose_input(page, name: str) -> None:
    page.locator(".st-key-predict_input").get_by_role("radio", name=name).click()
    wait_until_idle(page)


def garment_photo() -> bytes:
    """A test-set ankle boot as a 'photo': dark on white, 10x larger, as PNG."""
    from PIL import Image

    from model.files.data import load_split_numpy

    images, labels = load_split_numpy("test")
    boot = images[np.flatnonzero(labels == 9)[0]]
    picture = Image.fromarray(255 - boot).resize((280, 280), Image.Resampling.BICUBIC).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_uploaded_image_is_predicted(page, app_url):
    open_page(page, app_url, "predict", "Draw a garment on the black square")
    choose_input(page, "Upload")
    page.locator("input[type=file]").wait_for(state="attached")
    page.locator("input[type=file]").set_input_files(
        {"name": "boot.png", "mimeType": "image/png", "buffer": garment_photo()})
    page.locator(".st-key-prediction").wait_for(timeout=30_000)
    wait_until_idle(page)
    assert "Ankle boot" in page.locator(".st-key-prediction").inner_text()
    page.get_by_text("inverted").first.wait_for()  # the dark-on-white photo was inverted
    assert page.locator(NO_TRACEBACK).count() == 0
    shot(page, "predict-upload", tall=True)


def test_random_test_image_and_unusable_upload(page, app_url):
    open_page(page, app_url, "predict", "Draw a garment on the black square")
    choose_input(page, "Test image")
    page.locator(".st-key-prediction").wait_for(timeout=30_000)
    wait_until_idle(page)
    shot(page, "predict-test-image", tall=True)
    choose_input(page, "Upload")
    page.locator("input[type=file]").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture at all"})
    page.get_by_text("Unsupported file").wait_for(timeout=30_000)
    assert page.locator(NO_TRACEBACK).count() == 0


def test_a_shared_link_is_the_first_request_of_a_fresh_server(browser, dataset_available, tmp_path):
    """A deep link as a new server's very first request still goes through app.py (top
    navigation, page config), and its bad values are corrected with a visible note."""
    from tests.browser.conftest import VIEWPORT, start_server, stop_server

    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": str(tmp_path)}, log_name="server-deeplink.log")
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/train?preset=best&lr=abc&epochs=3&optimizer=rmsprop")
        page.get_by_text("The link's settings were corrected").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        assert page.locator("[data-testid=stTopNavLink], [data-testid=stNavSectionHeader], header a").count() >= 3 or \
            page.get_by_role("link", name="Predict").count() >= 1
        assert page.locator(".st-key-cfg_epochs input[type=range]").input_value() == "3"
        assert "lr=abc" not in page.url and "epochs=3" in page.url  # the URL now holds what is used
        shot(page, "train-shared-link")
        page.get_by_role("button", name="Share").click()
        page.get_by_text("Copy link to this setup").wait_for()
        assert "epochs=3" in page.locator("[data-testid=stCode]").filter(has_text="/train?").inner_text()
        shot(page, "train-share-popover")
        page.close()
    finally:
        stop_server(process)


def test_without_the_dataset_each_page_says_so_and_predict_still_works(browser, tmp_path):
    from tests.browser.conftest import VIEWPORT, start_server, stop_server

    empty = tmp_path / "no-dataset"
    empty.mkdir()
    process, url = start_server({"FASHION_MNIST_DIR": str(empty), "SOFTMAX_STUDIO_RUNS_DIR": str(tmp_path / "runs")},
                                log_name="server-no-dataset.log")
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/dataset")
        page.get_by_text("Fashion-MNIST is not on this server").wait_for(timeout=60_000)
        download = page.get_by_role("button", name="Download Fashion-MNIST")
        download.first.wait_for(timeout=30_000)  # drawn just after the text on a busy machine
        assert download.count() == 1
        shot(page, "dataset-missing")
        page.goto(f"{url}/predict")
        page.get_by_text("Predict still works").wait_for(timeout=30_000)
        choose_input(page, "Upload")
        page.locator("input[type=file]").set_input_files(
            {"name": "boot.png", "mimeType": "image/png", "buffer": garment_photo_without_dataset()})
        page.locator(".st-key-prediction").wait_for(timeout=30_000)
        wait_until_idle(page)
        assert page.locator(NO_TRACEBACK).count() == 0
        shot(page, "predict-without-dataset")
        page.close()
    finally:
        stop_server(process)


def garment_photo_without_dataset() -> bytes:
    """A dark trouser-like shape on white, drawn without the dataset."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(picture).polygon([(70, 20), (130, 20), (140, 180), (110, 180), (100, 70), (90, 180), (60, 180)],
                                    fill=(40, 40, 60))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_a_reload_mid_training_shows_it_still_running_and_stop_keeps_it(page, app_url):
    open_page(page, app_url, "train", "are in the sidebar")
    set_epochs(page, "End")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Training: epoch").wait_for(timeout=30_000)
    page.reload()  # a new session of the same learner
    page.get_by_text("Training: epoch").wait_for(timeout=30_000)
    page.locator(".st-key-stop_job button").first.click()
    page.get_by_text("the weights learned up to the stop are kept").first.wait_for(timeout=10_000)
    assert page.get_by_text("started elsewhere").count() == 0
    assert page.locator(NO_TRACEBACK).count() == 0


def test_enter_in_the_rename_field_saves_the_name(page, app_url):
    open_page(page, app_url, "train", "are in the sidebar")
    set_epochs(page, "Home")  # one epoch
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Results: concise").first.wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Rename").first.click()
    field = page.get_by_label("New name")
    field.fill("my trousers model")
    field.press("Enter")
    page.get_by_text("Results: my trousers model").first.wait_for(timeout=10_000)
    assert page.locator(NO_TRACEBACK).count() == 0
