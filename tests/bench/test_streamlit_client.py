"""bench/streamlit_client.py against the real app under `streamlit run` (hosted mode): what the
websocket load test relies on, checked here so the bench can't quietly stop measuring."""
import asyncio
import re

import pytest

from bench.streamlit_client import AppError, StreamlitClient
from tests.browser.conftest import ARTIFACTS, start_server, stop_server


@pytest.fixture(scope="module")
def hosted_url(dataset_available):
    process, url = start_server({"SOFTMAX_STUDIO_HOSTED": "1"}, log_name="server-websocket.log")
    yield url
    stop_server(process)
    assert "Traceback" not in (ARTIFACTS / "server-websocket.log").read_text()


async def train_then_predict(url: str, lr: float) -> dict:
    async with StreamlitClient(url) as app:
        await app.open("train", f"preset=lesson&epochs=1&lr={lr}&seed=3")
        assert f"lr={lr}" in app.query and "cfg_lr" in app.widgets  # the link's setup, in the URL
        await app.click("start")
        while "download_model" not in app.widgets:  # the live fragment's polls, until the results
            assert app.fragment is not None, "neither a running job nor its results"
            await app.poll_fragment()
        await app.open("predict")
        await app.choose("predict_input", "Test image")
        await app.click("another")
        return {"runs": list(app.element("predict_model").options),
                "answered": re.search(r"Test image #\d+", app.text()) and "Classified on the server" in app.text()}


def test_two_sessions_train_and_predict_over_the_websocket_and_see_only_their_own_runs(hosted_url):
    async def both():
        return await asyncio.gather(train_then_predict(hosted_url, 0.11), train_then_predict(hosted_url, 0.12))

    for lr, seen in zip((0.11, 0.12), asyncio.run(both())):
        assert seen["answered"]
        runs = [name for name in seen["runs"] if re.search(r"\blr \d", name)]
        assert len(runs) == 1 and f"lr {lr:g}," in runs[0], seen["runs"]


def test_a_missing_widget_is_a_clear_error(hosted_url):
    async def click_nothing():
        async with StreamlitClient(hosted_url) as app:
            await app.open("predict")
            await app.click("no_such_button")

    with pytest.raises(AppError, match="no widget with key 'no_such_button'"):
        asyncio.run(click_nothing())


def test_a_server_that_goes_away_is_a_clear_error_not_a_hang():
    process, url = start_server(log_name="server-websocket-stopped.log")

    async def click_after_the_server_stops():
        async with StreamlitClient(url, timeout=30) as app:
            await app.open("")
            stop_server(process)
            await app.open("dataset")

    with pytest.raises(AppError, match="closed the connection"):
        asyncio.run(click_after_the_server_stops())
