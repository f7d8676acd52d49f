"""The ui package under AppTest: the warm-up (ui.resources), the missing-dataset box every page
shows (ui.dataset_box), start-up without torch, and saving a finished training's run (ui.session)."""
import pytest

from tests.app_pages.conftest import ROOT, assert_clean, open_page, store


def test_the_warm_up_loads_torch_but_not_the_optimizers_compiler_and_freezes_the_heap():
    import subprocess
    import sys

    # In a fresh interpreter: what the warm-up imports is what an idle server carries.
    code = ("import gc, sys; from ui.resources import warm_up_work; warm_up_work(); "
            "print('torch' in sys.modules, 'torch._dynamo' in sys.modules, 'pandas' in sys.modules, "
            "gc.get_freeze_count(), len(gc.get_objects()))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    *modules, frozen, tracked = run.stdout.split()
    assert modules == ["True", "False", "False"]
    # The start-up heap is out of the collector's sight: a full collection walks a small rest.
    assert int(frozen) > 100_000 and int(tracked) < int(frozen) // 10


# --- without the dataset ------------------------------------------------------------------

@pytest.mark.parametrize("page", [None, "dataset", "train", "predict"])
def test_a_missing_dataset_is_one_clear_box_with_the_fix(no_dataset, page):
    at = open_page(page)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Fashion-MNIST is not on this server" in errors[0]
    assert "apt-get install dataset-fashion-mnist" in errors[0] and "FASHION_MNIST_DIR" in errors[0]
    assert at.button(key="download_dataset").label.startswith("Download Fashion-MNIST")


# --- start-up -----------------------------------------------------------------------------

def test_the_first_page_imports_neither_torch_nor_torchvision():
    """Start-up stays fast: Home (and Predict) render without torch; the warm-up imports it
    in the background afterwards."""
    import subprocess
    import sys

    code = f"""
import sys
from streamlit.testing.v1 import AppTest
from ui import resources
resources.warm_up = lambda: None
at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60)
at.run()
assert not at.exception, at.exception
at.switch_page("app_pages/predict.py").run()
assert not at.exception, at.exception
print(sorted(m for m in ("torch", "torchvision") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- a finished training's run -------------------------------------------------------------

def test_a_click_that_interrupts_saving_a_finished_run_neither_loses_nor_doubles_it(dataset_available,
                                                                                     monkeypatch):
    """A click reruns the script: Streamlit stops the running one at its next Streamlit call
    (st.session_state included). Simulate a click landing while a finished run is being
    evaluated, then let the next script run in: the run must be there, once."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from ui import resources

    at = open_page("train", cfg_epochs=1)
    at.button(key="start").click().run()
    assert at.session_state["training"]["job"].wait(120)

    clicked = []
    evaluate, yield_point = resources.evaluate, script_runner.ScriptRunner._maybe_handle_execution_control_request

    def evaluate_then_click(classifier):
        result = evaluate(classifier)
        clicked.append(True)
        return result

    def stop_at_the_first_yield_after_the_click(self):
        if clicked and self._is_in_script_thread():
            clicked.clear()
            raise StopException()
        return yield_point(self)

    with monkeypatch.context() as patch:
        patch.setattr(resources, "evaluate", evaluate_then_click)
        patch.setattr(script_runner.ScriptRunner, "_maybe_handle_execution_control_request",
                      stop_at_the_first_yield_after_the_click)
        at.run()  # the interrupted run
    assert not clicked, "the simulated click never stopped the script"
    at.run()
    assert_clean(at)
    runs = store(at).list()
    assert len(runs) == 1 and "1 epoch" in runs[0].name
    assert at.get("download_button")  # and its results are on the page
