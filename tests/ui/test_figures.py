"""ui/figures.py: the figures show the numbers they are given, and building them is safe
while another session's canvas imports pandas."""
from tests.app_pages.conftest import ROOT


def test_figures_built_while_the_canvas_imports_pandas_never_see_it_half_made():
    import subprocess
    import sys

    # A fresh interpreter, so pandas really is imported for the first time while another
    # thread builds figures, as when one session draws and another watches its curves.
    code = """
import threading
from ui import figures
errors, done = [], threading.Event()
def draw_curves():
    history = [{"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "test_acc": 0.8}]
    while not done.is_set():
        try:
            figures.curves_figure([{"name": "run", "history": history}])
        except Exception as e:
            errors.append(repr(e))
            return
worker = threading.Thread(target=draw_curves)
worker.start()
figures.import_pandas()
done.set()
worker.join()
import sys
print(errors or "ok", hasattr(sys.modules["pandas"], "Series"))
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["ok", "True"]


def test_the_probability_bars_and_the_curves_show_the_numbers_they_are_given(dataset_available):
    import numpy as np

    from model import CLASSES

    from model.files import checkpoint
    from model.files.data import load_split_numpy
    from ui import figures

    images, labels = load_split_numpy("test")
    probabilities = checkpoint.load().predict_proba(images[:1])[0]
    bars = figures.probability_figure(probabilities).data[0]
    assert list(bars.x) == sorted(probabilities)  # ascending: the most likely class is the top bar
    assert bars.y[-1].startswith(CLASSES[int(np.argmax(probabilities))])
    assert bars.marker.color[-1] != bars.marker.color[0]  # and it alone is highlighted

    history = [{"epoch": 1, "train_loss": 0.6, "train_acc": 0.79, "test_acc": 0.81},
               {"epoch": 2, "train_loss": 0.5, "train_acc": 0.83, "test_acc": 0.82}]
    curves = figures.curves_figure([{"name": "run", "history": history}])
    by_name = {trace.name: trace for trace in curves.data}
    assert list(by_name["test accuracy"].y) == [0.81, 0.82]
    assert list(by_name["train loss"].y) == [0.6, 0.5]
    assert curves.layout.yaxis2.tickformat == ".0%"
