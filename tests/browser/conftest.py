"""Browser-test fixtures: the app under `streamlit run` on a free port, and Debian's Chromium.

Screenshots go to tests/artifacts/ (git-ignored)."""
import os
from pathlib import Path

import pytest

from bench.appserver import CHROMIUM, VIEWPORT, chromium, stop_server, wait_until_idle  # noqa: F401 - for the tests
from bench.appserver import start_server as start_app_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


def start_server(env: dict | None = None, log_name: str = "server.log", watch_files: bool = False):
    """(process, url) of `streamlit run app.py`, logging to tests/artifacts/<log_name>."""
    return start_app_server(env, ARTIFACTS / log_name, watch_files, timeout=60)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, dataset_available):
    runs = tmp_path_factory.mktemp("runs")
    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": str(runs)})
    yield url
    stop_server(process)
    log = (ARTIFACTS / "server.log").read_text()
    assert "Traceback" not in log, f"the server logged an error (tests/artifacts/server.log):\n{log[-3000:]}"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {CHROMIUM} is missing (install chromium).")
        pytest.skip(f"{CHROMIUM} not installed")
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str, tall: bool = False) -> Path:
    """Save a screenshot at 1280x900, or of the whole page height when `tall`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if tall:
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(height, 6000))})
        page.wait_for_timeout(800)  # plotly charts resize
    page.screenshot(path=str(path))
    if tall:
        page.set_viewport_size(VIEWPORT)
    return path
