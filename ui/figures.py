"""The plotly figures the pages draw: training curves, probabilities, heatmaps, the
confusion matrix and the dataset's charts. Builders take arrays and return figures; pages
place them.
"""
from __future__ import annotations

import functools
import html
import sys
import threading
from contextlib import contextmanager

import numpy as np
import streamlit as st

from ui import i18n
from ui.i18n import t
from ui.layout import class_name

# Tableau 10: ten colours that stay distinct for the ten classes.
CLASS_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#8c8c8c")
PLOTLY_CONFIG = {"displayModeBar": False}
# The page's font list (.streamlit/config.toml): plotly draws its own text, Chinese included.
FONTS = ("Source Sans, Source Sans Pro, PingFang SC, Hiragino Sans GB, Microsoft YaHei, Noto Sans CJK SC, "
         "Noto Sans SC, WenQuanYi Micro Hei, sans-serif")


# --- layout --------------------------------------------------------------------------------

MARGIN = dict(l=10, r=10, t=30, b=10)  # narrow: plotly's automargin widens it for the labels


LEGEND = dict(orientation="h", yanchor="top", y=-0.22, x=0)  # under the plot, a fifth of its height down
# Under the whole figure instead, the margin made to hold it: several long run names stack into
# rows, the plot shrinks, and a fifth of it no longer clears the epoch axis's title (a phone).
LEGEND_AT_BOTTOM = LEGEND | dict(yref="container", y=0, yanchor="bottom")


def base_layout(height: int, **extra) -> dict:
    """Every figure's layout: its height, the page's fonts, the legend under the plot, a
    narrow margin; `extra` adds to it or replaces a part (the margin, say)."""
    return dict(height=height, font=dict(family=FONTS), legend=LEGEND, margin=dict(MARGIN)) | extra


def layout(fig, height: int, **extra):
    """base_layout for a figure already built (the lesson's own figures build theirs so)."""
    return fig.update_layout(base_layout(height, **extra))


def _figure(traces: list[dict], layout_dict: dict):
    """The figure, from plain dicts. Plotly validates at every add_trace, update_layout or
    make_subplots; built from dicts it validates once. Figure building was about half the
    server's Python time with 30 sessions."""
    import plotly.graph_objects as go

    return go.Figure(dict(data=traces, layout=layout_dict))


# --- pandas and plotly, across sessions ---------------------------------------------------
# The drawing canvas makes Streamlit import pandas (~70 MB, so nothing imports it up front).
# While that import runs, pandas sits half-made in sys.modules, and plotly, building a figure
# for another session, probes it and fails ("partially initialized module 'pandas'"). So that
# first import and figure building take turns; once pandas is whole, nobody waits.
_PANDAS_LOCK = threading.Lock()


@contextmanager
def _pandas_gate():
    if hasattr(sys.modules.get("pandas"), "Series"):
        yield
        return
    with _PANDAS_LOCK:
        yield


def import_pandas() -> None:
    """Call before a widget that imports pandas (the drawing canvas)."""
    with _pandas_gate():
        import pandas  # noqa: F401


def figure_builder(build):
    """A plotly figure builder that never runs while pandas is half-imported."""
    @functools.wraps(build)
    def guarded(*args, **kwargs):
        with _pandas_gate():
            return build(*args, **kwargs)
    return guarded


# curves_figure's two panels, as make_subplots(rows=1, cols=2, horizontal_spacing=0.08) lays them out.
_PANEL_SPACING = 0.08
_PANEL_WIDTH = (1 - _PANEL_SPACING) / 2
_LEFT, _RIGHT = dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2")


def _panel_title(text: str, domain: list[float]) -> dict:
    """A subplot title as make_subplots writes it: centred above its panel."""
    return dict(text=text, x=sum(domain) / 2, xanchor="center", xref="paper", y=1.0, yanchor="bottom",
                yref="paper", showarrow=False, font=dict(size=16))


def _line(x, y, name: str, color: str, mode: str = "lines+markers", dash: str | None = None, **extra) -> dict:
    """A scatter trace drawn as a line in `color` (and `dash`, when given)."""
    line = dict(color=color) if dash is None else dict(color=color, dash=dash)
    # As arrays: plotly validates and copies a list of floats one by one, an array at once.
    return dict(type="scatter", x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float), mode=mode, name=name,
                line=line, **extra)


@figure_builder
def curves_figure(runs: list[dict], height: int = 320):
    """Loss and accuracy against epochs for one or more runs.

    Each run: {"name", "history": per-epoch dicts, "points": in-epoch points (optional)}.
    One run draws train loss, train accuracy and test accuracy; several runs overlay their
    test accuracy and train loss, one colour per run, each named once in the legend (by its
    train loss until its first epoch ends)."""
    single = len(runs) == 1
    traces = []
    for i, run in enumerate(runs):
        color = CLASS_COLORS[i % 10]
        history, points = run.get("history") or [], run.get("points") or []
        epochs = [h["epoch"] for h in history]
        name = html.escape(run["name"])  # plotly reads tags (<a href>, <span style>) in trace names
        prefix = "" if single else f"{name}: "
        if points:  # the training side: in-epoch points when the run has them, else one per epoch
            steps, steps_x, mode = points, [p["x"] for p in points], "lines"
        else:
            steps, steps_x, mode = history, epochs, "lines+markers"
        if steps:
            traces.append(_line(steps_x, [s["train_loss"] for s in steps], prefix + t("figures.curves.train_loss"),
                                color, mode, legendgroup=str(i), showlegend=single or not history, **_LEFT))
            if single:
                traces.append(_line(steps_x, [s["train_acc"] for s in steps], t("figures.curves.train_acc"),
                                    CLASS_COLORS[1], mode, **_RIGHT))
        if history:
            traces.append(_line(epochs, [h["test_acc"] for h in history],
                                name if not single else t("figures.curves.test_acc"),
                                CLASS_COLORS[2] if single else color, dash="solid", legendgroup=str(i), **_RIGHT))
    epoch_axis = dict(title=dict(text=t("figures.curves.epoch")), rangemode="tozero")
    left, right = [0.0, _PANEL_WIDTH], [_PANEL_WIDTH + _PANEL_SPACING, 1.0]
    return _figure(traces, base_layout(
        height, legend=LEGEND_AT_BOTTOM,
        xaxis=dict(domain=left, **epoch_axis), xaxis2=dict(domain=right, anchor="y2", **epoch_axis),
        # Its ticks outside: a phone's gap holds none. An accuracy lies in [0, 1], one point or many.
        yaxis2=dict(anchor="x2", side="right", tickformat=".0%", autorangeoptions=dict(clipmin=0, clipmax=1)),
        annotations=[_panel_title(t("figures.curves.loss"), left), _panel_title(t("figures.curves.accuracy"), right)]))


@figure_builder
def epochs_figure(history: list[dict], epochs: int, height: int = 320):
    """The chapter's own plot, as d2l's train_ch3 draws it with its Animator: train loss, train
    accuracy and test accuracy per epoch on one axis, epochs 1..`epochs`, y from 0.3 to 0.9
    (widened when a value falls outside)."""
    x = [h["epoch"] for h in history]  # counted from 1, as d2l's train_ch3 plots them (epoch + 1 of its 0-based loop)
    series = [("train_loss", t("figures.d2l.train_loss"), "solid"), ("train_acc", t("figures.d2l.train_acc"), "dash"),
              ("test_acc", t("figures.d2l.test_acc"), "dashdot")]
    traces = [_line(x, [h[key] for h in history], name, CLASS_COLORS[i], dash=dash)
              for i, (key, name, dash) in enumerate(series)]
    values = [h[key] for h in history for key, _, _ in series if np.isfinite(h[key])]
    low, high = min([0.3, *values]), max([0.9, *values])
    return _figure(traces, base_layout(
        height, yaxis=dict(range=[low, high]),
        xaxis=dict(title=dict(text=t("figures.curves.epoch")), range=[1, max(epochs, 2)], dtick=max(1, epochs // 10))))


@figure_builder
def probability_figure(probabilities: np.ndarray, height: int = 330):
    """The ten class probabilities as sorted horizontal bars, the top one highlighted."""
    order = np.argsort(probabilities)  # ascending: plotly draws the first bar at the bottom
    colors = ["#d0d5dd"] * 10
    colors[-1] = "#e15759"
    bars = dict(type="bar", x=probabilities[order], y=[class_name(k) for k in order], orientation="h",
                marker=dict(color=colors), text=[f"{p:.1%}" for p in probabilities[order]],
                textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:.2%}<extra></extra>")
    return _figure([bars], base_layout(height, margin=dict(l=10, r=10, t=10, b=10),
                                       xaxis=dict(range=[0, 1.15], tickformat=".0%", showgrid=False)))


@figure_builder
def heatmap_figure(values: np.ndarray, height: int = 330, hover: str = "%{z:.3f}"):
    """A 28x28 signed map (red +, blue -), drawn square with row 0 at the top."""
    limit = float(np.abs(values).max()) or 1.0
    heatmap = dict(type="heatmap", z=values, zmid=0, zmin=-limit, zmax=limit, colorscale="RdBu_r",
                   hovertemplate=t("figures.heatmap.hover", value=hover) + "<extra></extra>",
                   colorbar=dict(thickness=10))
    return _figure([heatmap], base_layout(
        height, margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(showticklabels=False, showgrid=False, constrain="domain"),
        yaxis=dict(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False)))


@figure_builder
def confusion_figure(matrix: np.ndarray, height: int = 460):
    names = [class_name(k) for k in range(10)]
    heatmap = dict(type="heatmap", z=matrix, x=names, y=names, colorscale="Blues", texttemplate="%{z}",
                   hovertemplate=t("figures.confusion.hover") + "<extra></extra>", showscale=False)
    return _figure([heatmap], base_layout(
        height, xaxis=dict(title=dict(text=t("figures.confusion.predicted")), tickangle=-35),
        yaxis=dict(autorange="reversed", title=dict(text=t("figures.confusion.true")))))


@figure_builder
def per_class_figure(accuracy: np.ndarray, height: int = 460):
    bars = dict(type="bar", x=accuracy, y=[class_name(k) for k in range(10)], orientation="h",
                marker=dict(color=[CLASS_COLORS[k] for k in range(10)]),
                text=[f"{a:.1%}" for a in accuracy], textposition="inside",
                hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    return _figure([bars], base_layout(height, xaxis=dict(range=[0, 1], tickformat=".0%"),
                                       yaxis=dict(autorange="reversed")))


# Dataset figures are the same for everyone: built once per process and language
# (drawing only reads them). Their margins already hold their labels and legend (measured in
# Chromium, both languages, desktop): automargin (ui.chart) would otherwise draw each twice,
# ~0.15-0.3 s more in a new tab; it still widens them for another font or a narrow screen.
def _margin(left: int, bottom: int) -> dict:
    return MARGIN | dict(l=left, b=bottom)


@st.cache_resource(show_spinner=False)
@figure_builder
def class_counts_figure(counts: dict, lang: str):
    """counts: {"train": int [10], "test": int [10]}, images per class."""
    names = [class_name(k, lang=lang) for k in range(10)]
    bars = [dict(type="bar", name=i18n.text(lang, f"figures.counts.{split}", count=counts[split].sum()), x=names,
                 y=counts[split], marker=dict(color=color), hovertemplate="%{x}: %{y:,}<extra></extra>")
            for split, color in (("train", CLASS_COLORS[0]), ("test", CLASS_COLORS[1]))]
    return _figure(bars, base_layout(380, barmode="group", xaxis=dict(tickangle=-35), margin=_margin(45, 100)))


@st.cache_resource(show_spinner=False)
@figure_builder
def histogram_figure(hist: np.ndarray, lang: str):
    """hist: int [256], pixels per grey level."""
    bars = dict(type="bar", x=np.arange(256), y=hist, marker=dict(color=CLASS_COLORS[0], line=dict(width=0)),
                hovertemplate=i18n.text(lang, "figures.histogram.hover") + "<extra></extra>")
    return _figure([bars], base_layout(
        300, bargap=0, margin=_margin(52, 44), xaxis=dict(title=dict(text=i18n.text(lang, "figures.histogram.value"))),
        yaxis=dict(type="log", title=dict(text=i18n.text(lang, "figures.histogram.pixels")))))


@st.cache_resource(show_spinner=False)
@figure_builder
def pca_figure(xy: np.ndarray, labels: np.ndarray, index: np.ndarray, ratio: np.ndarray, lang: str):
    """The images' positions on the first two principal components, one colour per class."""
    names = [html.escape(class_name(k, lang=lang)) for k in range(10)]
    points = [dict(type="scatter", x=xy[labels == k, 0], y=xy[labels == k, 1], mode="markers", name=names[k],
                   customdata=index[labels == k], marker=dict(color=CLASS_COLORS[k], size=5, opacity=0.75),
                   hovertemplate=f"{names[k]} #%{{customdata}}<extra></extra>")
              for k in range(10)]
    return _figure(points, base_layout(
        520, margin=_margin(40, 125),
        xaxis=dict(title=dict(text=i18n.text(lang, "figures.pca.first", share=ratio[0])), zeroline=False),
        yaxis=dict(title=dict(text=i18n.text(lang, "figures.pca.second", share=ratio[1])), zeroline=False)))
