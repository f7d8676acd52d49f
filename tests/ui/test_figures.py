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


def chart_texts(fig) -> list[str]:
    """Every text a figure shows: trace names, axis and subplot titles, hover templates, ticks."""
    found = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("name", "text", "hovertemplate", "x", "y"):
            found.append(node)

    walk(fig.to_plotly_json())
    return found


def every_other_chart(history: list, lang: str) -> list:
    """Every chart ui.figures draws but the curves, from small made-up numbers."""
    import numpy as np

    from ui import figures

    rng = np.random.default_rng(0)
    return [figures.epochs_figure(history, epochs=10),
            figures.probability_figure(np.full(10, 0.1)),
            figures.heatmap_figure(rng.normal(size=(28, 28))),
            figures.confusion_figure(np.eye(10, dtype=int)),
            figures.per_class_figure(np.full(10, 0.8)),
            figures.class_counts_figure({"train": np.full(10, 6000), "test": np.full(10, 1000)}, lang),
            figures.histogram_figure(np.arange(256), lang),
            figures.pca_figure(rng.normal(size=(20, 2)), np.arange(20) % 10, np.arange(20), np.array([0.3, 0.2]), lang)]


def test_every_chart_speaks_chinese(monkeypatch):
    import re

    from tests.app_pages.conftest import KEPT_IN_CHINESE
    from ui import figures, i18n

    monkeypatch.setattr(i18n, "language", lambda: "zh")
    history = [{"epoch": 0, "train_loss": 0.6, "train_acc": 0.79, "test_acc": 0.81},
               {"epoch": 1, "train_loss": 0.5, "train_acc": 0.83, "test_acc": 0.82}]
    points = [{"x": 0.5, "train_loss": 0.7, "train_acc": 0.7}]
    built = [figures.curves_figure([{"name": "运行一", "history": history, "points": points}]),
             figures.curves_figure([{"name": "甲", "history": history}, {"name": "乙", "history": history}]),
             *every_other_chart(history, "zh")]
    for fig in built:
        texts = chart_texts(fig)
        assert any(re.search(r"[\u4e00-\u9fff]", text) for text in texts), texts
        english = [w for text in texts for w in re.findall(r"[A-Za-z]{4,}", re.sub(r"%\{[^}]*\}|<[^>]*>", "", text))
                   if w.lower() not in KEPT_IN_CHINESE]
        assert english == [], english


def test_the_chapters_chart_draws_the_three_series_per_epoch_as_train_ch3_does():
    from ui import figures

    # As the trainers write it: epoch 1 is the first (the chart once drew it at 2, and epoch 10 off its axis).
    history = [{"epoch": e, "train_loss": 0.8 - 0.1 * e, "train_acc": 0.7 + 0.03 * e, "test_acc": 0.72 + 0.02 * e}
               for e in range(1, 4)]
    fig = figures.epochs_figure(history, epochs=10)
    assert [list(trace.x) for trace in fig.data] == [[1, 2, 3]] * 3
    assert [trace.name for trace in fig.data] == ["train loss", "train acc", "test acc"]
    assert [round(v, 6) for v in fig.data[2].y] == [0.74, 0.76, 0.78]
    assert tuple(fig.layout.xaxis.range) == (1, 10) and tuple(fig.layout.yaxis.range) == (0.3, 0.9)


def test_one_runs_curves_put_the_loss_left_and_the_accuracies_right_and_every_chart_shares_fonts_and_legend():
    from ui import figures

    history = [{"epoch": 0, "train_loss": 0.6, "train_acc": 0.79, "test_acc": 0.81},
               {"epoch": 1, "train_loss": 0.5, "train_acc": 0.83, "test_acc": 0.82}]
    curves = figures.curves_figure([{"name": "run", "history": history}])
    panels = {trace.name: (trace.xaxis, trace.yaxis) for trace in curves.data}
    assert panels == {"train loss": ("x", "y"), "train accuracy": ("x2", "y2"), "test accuracy": ("x2", "y2")}
    axes = curves.layout
    assert axes.xaxis.domain[1] < axes.xaxis2.domain[0]  # side by side, apart
    assert (axes.xaxis2.anchor, axes.yaxis2.anchor) == ("y2", "x2")
    titles = {a.text: a.x for a in axes.annotations}
    assert list(titles) == ["Training loss", "Accuracy"]
    assert titles["Training loss"] == sum(axes.xaxis.domain) / 2 and titles["Accuracy"] == sum(axes.xaxis2.domain) / 2

    built = [curves, *every_other_chart(history, "en")]
    for fig in built:
        assert fig.layout.font.family == figures.FONTS
        legend = fig.layout.legend
        under = ("bottom", 0, "container") if fig is curves else ("top", -0.22, None)  # run names: many rows
        assert (legend.orientation, legend.x) == ("h", 0) and (legend.yanchor, legend.y, legend.yref) == under


def test_overlaid_runs_are_each_named_once_in_the_legend_before_and_after_their_first_epoch():
    from ui import figures

    point = {"x": 0.5, "train_loss": 0.9, "train_acc": 0.7}
    epoch = {"epoch": 1, "train_loss": 0.8, "train_acc": 0.75, "test_acc": 0.79, "seconds": 1.0}
    runs = [{"name": "lr 0.1", "history": [epoch], "points": [point]}, {"name": "lr 1", "history": [], "points": [point]}]
    shown = [trace.name for trace in figures.curves_figure(runs).data if trace.showlegend is not False]
    assert shown == ["lr 0.1", "lr 1: train loss"]  # the second is still in its first epoch, yet named
