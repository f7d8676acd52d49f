"""ui.resources: how often a watched training redraws as more people train, and a component
package imported beside other threads."""
from types import SimpleNamespace

import pytest

from ui import resources


@pytest.mark.parametrize("running, waiting, seconds", [(1, 0, 0.5), (2, 6, 0.5), (2, 7, 1.0), (16, 0, 1.0),
                                                       (2, 15, 2.0), (16, 24, 2.0)])
def test_a_class_redraws_its_trainings_less_often_than_one_learner(monkeypatch, running, waiting, seconds):
    monkeypatch.setattr(resources, "training_queue", lambda: SimpleNamespace(running=running, waiting=waiting))
    assert resources.redraw_seconds() == seconds


def test_a_component_import_survives_inspect_getmodule_answering_none_once(monkeypatch):
    """CPython's inspect.getmodule is not thread-safe: beside another thread's imports it can
    answer None, and Streamlit's declare_component then raises. The second try imports it."""
    import inspect
    import sys

    real, calls = inspect.getmodule, []

    def racing(obj, *args):
        calls.append(obj)
        return None if len(calls) == 1 else real(obj, *args)

    monkeypatch.delitem(sys.modules, "streamlit_cropper", raising=False)
    monkeypatch.setattr(inspect, "getmodule", racing)
    with pytest.raises(RuntimeError, match="module is None"):  # what the page hit without the retry
        import streamlit_cropper  # noqa: F401
    calls.clear()
    cropper = resources.import_component("streamlit_cropper")
    assert callable(cropper.st_cropper) and len(calls) >= 2  # failed once, then imported


def test_a_component_import_raises_other_errors_at_once(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "broken_component", None)  # an import that fails otherwise
    with pytest.raises(ImportError):
        resources.import_component("broken_component")


def test_results_are_drawn_a_few_at_a_time_and_a_page_never_waits_past_its_patience():
    import threading
    import time

    from ui.resources import RESULTS_AT_ONCE, results_turn

    entered, leave = [], threading.Event()

    def page(patience):
        with results_turn(patience):
            entered.append(time.monotonic())
            leave.wait(5)

    started = time.monotonic()
    pages = [threading.Thread(target=page, args=(5.0,)) for _ in range(RESULTS_AT_ONCE + 1)]
    for thread in pages:
        thread.start()
    time.sleep(0.3)
    assert len(entered) == RESULTS_AT_ONCE  # the next one waits for a turn
    impatient = threading.Thread(target=page, args=(0.2,))
    impatient.start()
    time.sleep(0.6)
    assert len(entered) == RESULTS_AT_ONCE + 1  # past its patience it drew without a turn; the third still waits
    leave.set()
    for thread in (*pages, impatient):
        thread.join(2)
    assert len(entered) == RESULTS_AT_ONCE + 2 and time.monotonic() - started < 3


def test_a_page_holding_a_turn_takes_none_again_for_its_results():
    """The Train page holds one for its whole rerun and results() asks again: that must not wait
    (with every other turn taken it would wait out its patience)."""
    import threading
    import time

    from ui.resources import RESULTS_AT_ONCE, results_turn

    holding, leave = threading.Barrier(RESULTS_AT_ONCE), threading.Event()

    def other_page():
        with results_turn(5.0):
            holding.wait(2)
            leave.wait(5)

    others = [threading.Thread(target=other_page) for _ in range(RESULTS_AT_ONCE - 1)]
    for thread in others:
        thread.start()
    with results_turn(5.0):
        holding.wait(2)  # every turn is taken now, one of them here
        started = time.monotonic()
        with results_turn(1.0):
            waited = time.monotonic() - started
    leave.set()
    for thread in others:
        thread.join(2)
    assert waited < 0.1
