"""A run name is text, whatever it holds: in real Chromium, a name written as a markdown image or
an HTML tag makes no visitor's browser fetch anything, links nowhere, and shows as the characters
it is."""
import http.server
import threading

import numpy as np
import pytest

from model.lesson.classifier import LinearClassifier
from model.service.runs import RunStore
from tests.browser.conftest import ARTIFACTS, start_server, stop_server


@pytest.fixture
def tracker():
    """A local web server that records every path a browser asks it for."""
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()


def test_a_run_named_like_an_image_is_shown_as_text_and_fetches_nothing(tmp_path, tracker, browser, dataset_available):
    url, asked = tracker
    name = f"![x]({url}/m.png) <img src={url}/h.png>"
    epoch = {"epoch": 1, "train_loss": 0.6, "train_acc": 0.8, "test_acc": 0.8, "seconds": 0.1}
    classifier = LinearClassifier(np.zeros((10, 784), np.float32), np.zeros(10, np.float32), 0.0, 1.0,
                                  {"config": {"impl": "concise", "lr": 0.1, "epochs": 1}, "history": [epoch],
                                   "test_acc": 0.8})
    runs = tmp_path / "runs"
    RunStore(runs).save(classifier, name=name)  # local mode: every visitor sees the shared runs
    process, app = start_server({"SOFTMAX_STUDIO_RUNS_DIR": str(runs)}, log_name="server-hostile-names.log")
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app}/train")
        page.get_by_text("Saved runs").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # time for any image the page holds to be fetched
        shown = page.inner_text("body").replace("\u2060", "")  # the word joiners that keep URLs text
        links = page.locator(f"a[href^='{url}']").count()
        page.screenshot(path=str(ARTIFACTS / "train-hostile-name.png"), full_page=True)
        page.close()
    finally:
        stop_server(process)
    assert asked == [] and links == 0
    assert f"![x]({url}/m.png)" in shown and f"<img src={url}/h.png>" in shown
