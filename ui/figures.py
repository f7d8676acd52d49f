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

def layout(fig, height: int, **extra):
    extra.setdefault("margin", dict(l=10, r=10, t=30, b=10))
    fig.update_layout(height=height, font=dict(family=FONTS),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0), **extra)
    return fig


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


@figure_builder
def curves_figure(runs: list[dict], height: int = 320):
    """Loss and accuracy against epochs for one or more runs.

    Each run: {"name", "history": per-epoch dicts, "points": in-epoch points (optional)}.
    One run draws train loss, train accuracy and test accuracy; several runs overlay their
    test accuracy and train loss, one colour per run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("figures.curves.loss"), t("figures.curves.accuracy")), horizontal_spacing=0.08)
    single = len(runs) == 1
    for i, run in enumerate(runs):
        color = CLASS_COLORS[i % 10]
        history, points = run.get("history") or [], run.get("points") or []
        epochs = [h["epoch"] for h in history]
        name = html.escape(run["name"])  # plotly reads tags (<a href>, <span style>) in trace names
        prefix = "" if single else f"{name}: "
        if points:
            fig.add_trace(go.Scatter(x=[p["x"] for p in points], y=[p["train_loss"] for p in points],
                                     mode="lines", name=prefix + t("figures.curves.train_loss"), line=dict(color=color),
                                     legendgroup=str(i), showlegend=single), 1, 1)
        elif history:
            fig.add_trace(go.Scatter(x=epochs, y=[h["train_loss"] for h in history], mode="lines+markers",
                                     name=prefix + t("figures.curves.train_loss"), line=dict(color=color),
                                     legendgroup=str(i), showlegend=single), 1, 1)
        if single:
            if points:
                fig.add_trace(go.Scatter(x=[p["x"] for p in points], y=[p["train_acc"] for p in points],
                                         mode="lines", name=t("figures.curves.train_acc"),
                                         line=dict(color=CLASS_COLORS[1])), 1, 2)
            elif history:
                fig.add_trace(go.Scatter(x=epochs, y=[h["train_acc"] for h in history], mode="lines+markers",
                                         name=t("figures.curves.train_acc"), line=dict(color=CLASS_COLORS[1])), 1, 2)
        if history:
            fig.add_trace(go.Scatter(x=epochs, y=[h["test_acc"] for h in history], mode="lines+markers",
                                     name=name if not single else t("figures.curves.test_acc"),
                                     line=dict(color=CLASS_COLORS[2] if single else color, dash="solid"),
                                     legendgroup=str(i)), 1, 2)
    fig.update_xaxes(title_text=t("figures.curves.epoch"), rangemode="tozero")
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    return layout(fig, height)


@figure_builder
def epochs_figure(history: list[dict], epochs: int, height: int = 320):
    """The chapter's own plot, as d2l's train_ch3 draws it with its Animator: train loss, train
    accuracy and test accuracy per epoch on one axis, epochs 1..`epochs`, y from 0.3 to 0.9
    (widened when a value falls outside)."""
    import plotly.graph_objects as go

    x = [h["epoch"] + 1 for h in history]  # d2l counts epochs from 1
    series = [("train_loss", t("figures.d2l.train_loss"), "solid"), ("train_acc", t("figures.d2l.train_acc"), "dash"),
              ("test_acc", t("figures.d2l.test_acc"), "dashdot")]
    fig = go.Figure([go.Scatter(x=x, y=[h[key] for h in history], mode="lines+markers", name=name,
                                line=dict(color=CLASS_COLORS[i], dash=dash))
                     for i, (key, name, dash) in enumerate(series)])
    values = [h[key] for h in history for key, _, _ in series if np.isfinite(h[key])]
    low, high = min([0.3, *values]), max([0.9, *values])
    fig.update_xaxes(title_text=t("figures.curves.epoch"), range=[1, max(epochs, 2)], dtick=max(1, epochs // 10))
    fig.update_yaxes(range=[low, high])
    return layout(fig, height)


@figure_builder
def probability_figure(probabilities: np.ndarray, height: int = 330):
    """The ten class probabilities as sorted horizontal bars, the top one highlighted."""
    import plotly.graph_objects as go

    order = np.argsort(probabilities)  # ascending: plotly draws the first bar at the bottom
    colors = ["#d0d5dd"] * 10
    colors[-1] = "#e15759"
    fig = go.Figure(go.Bar(x=probabilities[order], y=[class_name(k) for k in order], orientation="h",
                           marker_color=colors, text=[f"{p:.1%}" for p in probabilities[order]],
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%", showgrid=False)
    return layout(fig, height, margin=dict(l=10, r=10, t=10, b=10))


@figure_builder
def heatmap_figure(values: np.ndarray, height: int = 330, hover: str = "%{z:.3f}"):
    """A 28x28 signed map (red +, blue -), drawn square with row 0 at the top."""
    import plotly.graph_objects as go

    limit = float(np.abs(values).max()) or 1.0
    fig = go.Figure(go.Heatmap(z=values, zmid=0, zmin=-limit, zmax=limit, colorscale="RdBu_r",
                               hovertemplate=t("figures.heatmap.hover", value=hover) + "<extra></extra>",
                               colorbar=dict(thickness=10)))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, constrain="domain")
    return layout(fig, height, margin=dict(l=10, r=10, t=10, b=10))


@figure_builder
def confusion_figure(matrix: np.ndarray, height: int = 460):
    import plotly.graph_objects as go

    names = [class_name(k) for k in range(10)]
    fig = go.Figure(go.Heatmap(z=matrix, x=names, y=names, colorscale="Blues", texttemplate="%{z}",
                               hovertemplate=t("figures.confusion.hover") + "<extra></extra>",
                               showscale=False))
    fig.update_yaxes(autorange="reversed", title_text=t("figures.confusion.true"))
    fig.update_xaxes(title_text=t("figures.confusion.predicted"), tickangle=-35)
    return layout(fig, height)


@figure_builder
def per_class_figure(accuracy: np.ndarray, height: int = 460):
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=accuracy, y=[class_name(k) for k in range(10)], orientation="h",
                           marker_color=[CLASS_COLORS[k] for k in range(10)],
                           text=[f"{a:.1%}" for a in accuracy], textposition="inside",
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return layout(fig, height)


# Dataset figures are the same for everyone: built once per process and language
# (st.plotly_chart only reads them).

@st.cache_resource(show_spinner=False)
@figure_builder
def class_counts_figure(counts: dict, lang: str):
    """counts: {"train": int [10], "test": int [10]}, images per class."""
    import plotly.graph_objects as go

    names = [class_name(k, lang=lang) for k in range(10)]
    fig = go.Figure([go.Bar(name=i18n.text(lang, f"figures.counts.{split}", count=counts[split].sum()), x=names,
                            y=counts[split],
                            marker_color=color, hovertemplate="%{x}: %{y:,}<extra></extra>")
                     for split, color in (("train", CLASS_COLORS[0]), ("test", CLASS_COLORS[1]))])
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickangle=-35)
    return layout(fig, 380)


@st.cache_resource(show_spinner=False)
@figure_builder
def histogram_figure(hist: np.ndarray, lang: str):
    """hist: int [256], pixels per grey level."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=np.arange(256), y=hist, marker_color=CLASS_COLORS[0], marker_line_width=0,
                           hovertemplate=i18n.text(lang, "figures.histogram.hover") + "<extra></extra>"))
    fig.update_yaxes(type="log", title_text=i18n.text(lang, "figures.histogram.pixels"))
    fig.update_xaxes(title_text=i18n.text(lang, "figures.histogram.value"))
    fig.update_layout(bargap=0)
    return layout(fig, 300)


@st.cache_resource(show_spinner=False)
@figure_builder
def pca_figure(xy: np.ndarray, labels: np.ndarray, index: np.ndarray, ratio: np.ndarray, lang: str):
    """The images' positions on the first two principal components, one colour per class."""
    import plotly.graph_objects as go

    names = [html.escape(class_name(k, lang=lang)) for k in range(10)]
    fig = go.Figure([go.Scattergl(x=xy[labels == k, 0], y=xy[labels == k, 1], mode="markers", name=names[k],
                                  customdata=index[labels == k],
                                  marker=dict(color=CLASS_COLORS[k], size=5, opacity=0.75),
                                  hovertemplate=f"{names[k]} #%{{customdata}}<extra></extra>")
                     for k in range(10)])
    fig.update_xaxes(title_text=i18n.text(lang, "figures.pca.first", share=ratio[0]), zeroline=False)
    fig.update_yaxes(title_text=i18n.text(lang, "figures.pca.second", share=ratio[1]), zeroline=False)
    return layout(fig, 520)
