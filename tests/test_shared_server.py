"""The hosted app under `streamlit run`, driven over its websocket the way hostile or careless
visitors drive it: a burst of Start reruns, and sessions that start a long training and leave."""
import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.streamlit_client import StreamlitClient
from tests.browser.conftest import ARTIFACTS, start_server, stop_server

WORST = "preset=lesson&epochs=50&batch_size=8&optimizer=adam"  # minutes of a core: the longest link allowed


@pytest.fixture
def hosted_url(dataset_available):
    # One training at a time, so whoever holds the slot decides everyone else's wait.
    process, url = start_server({"SOFTMAX_STUDIO_HOSTED": "1", "SOFTMAX_STUDIO_MAX_TRAININGS": "1"},
                                log_name="server-shared.log")
    yield url
    stop_server(process)
    assert "Traceback" not in (ARTIFACTS / "server-shared.log").read_text()


async def press_start_repeatedly(app: StreamlitClient, times: int) -> None:
    """Start sent `times` times back to back, not waiting for any run to finish."""
    widget = app.widget_id("start")
    for _ in range(times):
        message = BackMsg()
        message.rerun_script.query_string, message.rerun_script.page_script_hash = app.query, app.page_hash
        message.rerun_script.widget_states.widgets.extend([WidgetState(id=widget, trigger_value=True)])
        await app._ws.send(message.SerializeToString())


def run(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API (the browser tests) keeps an
    event loop running in this one for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def place_in_line(app: StreamlitClient) -> int | None:
    found = re.search(r"number \*\*(\d+)\*\* in line", app.text())
    return int(found.group(1)) if found else None


def test_sessions_that_start_and_leave_do_not_hold_the_line(hosted_url):
    async def visit():
        for _ in range(3):  # each starts the worst training there is, then closes the tab
            async with StreamlitClient(hosted_url) as gone:
                await gone.open("train", WORST)
                await gone.click("start")
        async with StreamlitClient(hosted_url) as later:
            await later.open("train", "preset=lesson&epochs=1")
            await later.click("start")
            first_place = place_in_line(later)
            started = time.perf_counter()
            while "download_model" not in later.widgets and time.perf_counter() - started < 60:
                await later.poll_fragment()
            return first_place, time.perf_counter() - started, "download_model" in later.widgets

    first_place, waited, finished = run(visit())
    assert first_place is not None and first_place >= 1  # behind the abandoned ones at first
    assert finished and waited < 20, f"the later visitor waited {waited:.1f} s behind sessions that had left"


def test_a_burst_of_start_reruns_holds_one_place(hosted_url):
    async def visit():
        async with StreamlitClient(hosted_url) as eager:
            await eager.open("train", WORST)
            for _ in range(3):  # Streamlit drops a rerun's trigger now and then when the next one interrupts it
                await press_start_repeatedly(eager, 8)
                await asyncio.sleep(2)
                await eager.open("train")
                if "stop_job" in eager.widgets:
                    break
            async with StreamlitClient(hosted_url) as other:
                await other.open("train", "preset=lesson&epochs=1")
                await other.click("start")
                position = place_in_line(other)
            await eager.click("stop_job")
            started = time.perf_counter()
            while "stop_job" in eager.widgets and time.perf_counter() - started < 30:
                await eager.poll_fragment()  # a first training's set-up may outlast the click's rerun
            return position, "stop_job" in eager.widgets

    position, still_training = run(visit())
    assert position == 1  # exactly one training ahead: the eager session's only one
    assert not still_training  # and it is the one its Stop stops
