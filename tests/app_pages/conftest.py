"""Shared AppTest fixtures and helpers for the page tests (one test file per page under pages/)."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path, monkeypatch):
    """Each test: local mode, an empty runs folder of its own, and settings read anew."""
    from ui import resources

    monkeypatch.setenv("SOFTMAX_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("SOFTMAX_STUDIO_HOSTED", raising=False)
    resources.settings_from_env.clear()
    resources.disk_store.clear()
    yield tmp_path / "runs"
    resources.settings_from_env.clear()
    resources.disk_store.clear()


@pytest.fixture
def no_dataset(tmp_path, monkeypatch):
    from ui import resources

    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))  # an empty folder, named explicitly
    resources.dataset_split.clear()
    yield
    monkeypatch.delenv("FASHION_MNIST_DIR")
    resources.dataset_split.clear()


def store(at: AppTest):
    """The run store the app used: this session's (hosted) or the runs folder (local)."""
    import os

    from model.service.runs import RunStore

    if "run_store" in at.session_state:
        return at.session_state["run_store"]
    return RunStore(os.environ["SOFTMAX_STUDIO_RUNS_DIR"])


def open_page(page: str | None = None, **session) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


class _GridPictures(HTMLParser):
    """The (caption, src) of each <figure> in ui.pictures.image_grid's HTML."""

    def __init__(self):
        super().__init__()
        self.found, self.src, self.caption = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.src = dict(attrs)["src"]
        elif tag == "figcaption":
            self.caption = ""

    def handle_data(self, data):
        if self.caption is not None:
            self.caption += data

    def handle_endtag(self, tag):
        if tag == "figure":
            self.found.append((self.caption, self.src))
            self.src = self.caption = None


def pictures_shown(at: AppTest) -> list[tuple[str, str]]:
    """(caption, URL) of every picture on the page: st.image's and the grids' (ui.pictures)."""
    found = [(image.caption, image.url) for element in at.get("image") for image in element.proto.imgs]
    for element in at.get("html"):
        if 'class="picture-grid"' in element.proto.body:
            parser = _GridPictures()
            parser.feed(element.proto.body)
            found += parser.found
    return found


def decoded(url: str):
    """The PIL image in a data:image/png;base64 URL (ui.pictures sends every picture as one)."""
    import base64
    import io

    from PIL import Image

    prefix = "data:image/png;base64,"
    assert url.startswith(prefix), url[:40]
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix):], validate=True)))


def wait_until(done, timeout: float) -> None:
    """Poll `done()` until it is true or `timeout` seconds have passed (the test's asserts judge)."""
    import time

    deadline = time.time() + timeout
    while not done() and time.time() < deadline:
        time.sleep(0.05)


def finish_training(at: AppTest, timeout: float = 120) -> None:
    job = at.session_state["training"]["job"]
    assert job.wait(timeout), "training did not finish"
    at.run()
    assert_clean(at)


def train_one_epoch(at: AppTest) -> None:
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)


# Words that stay as they are in the Chinese interface: names, formats, code, units, as d2l-zh
# writes them too.
KEPT_IN_CHINESE = {
    "softmax", "studio", "fashion", "mnist", "sgd", "adam", "pca", "logits", "logit", "logsumexp", "nan", "float32",
    "exp", "log", "torch", "optim", "sequential", "crossentropyloss", "png", "jpeg", "webp", "gif", "bmp",
    "safetensors", "json", "english", "relu", "python", "cosine", "debian", "apt", "get", "sudo", "install",
    "dataset", "data", "download", "model", "pytorch", "pickle", "lbfgs", "nn", "linear", "argmax", "float", "language",
}
_MARKUP = re.compile(r"<[^>]*>|`[^`]*`|\$[^$]*\$|:material/[a-z_]+:|:[a-z]+\[|https?://\S+|\S+\.(?:py|json|safetensors|gz)\b"
                     r"|#\d+|\b[a-z0-9]{8,}\b")


def untranslated(at: AppTest, names: tuple[str, ...] = ()) -> list[str]:
    """Texts the page shows that still hold English words (four letters or more), apart from
    what Chinese keeps as it is (KEPT_IN_CHINESE) and `names` (the user's own: run names)."""
    shown = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                                  "error", "success") for e in getattr(at, kind)]
    for kind in ("button", "selectbox", "radio", "slider", "number_input", "checkbox", "toggle", "text_input",
                 "multiselect", "segmented_control", "download_button", "expander", "tabs", "metric"):
        for widget in getattr(at, kind):
            shown.append(getattr(widget, "label", ""))
            shown += [str(o) for o in getattr(widget, "options", [])]
            if kind == "metric":
                shown.append(str(widget.value))
            if getattr(widget, "help", None):
                shown.append(widget.help)
    shown += [caption for caption, _ in pictures_shown(at)]
    offenders = []
    for text in shown:
        plain = str(text)
        for name in names:
            plain = plain.replace(name, " ")
        plain = _MARKUP.sub(" ", plain)
        words = [w for w in re.findall(r"[A-Za-z]{4,}", plain) if w.lower() not in KEPT_IN_CHINESE]
        if words:
            offenders.append(f"{words}: {text[:120]}")
    return offenders
