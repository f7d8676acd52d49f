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

from model import CLASSES
from ui.layout import class_name

# Tableau 10: ten colours that stay distinct for the ten classes.
CLASS_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#8c8c8c")
PLOTLY_CONFIG = {"displayModeBar": False}


# --- layout --------------------------------------------------------------------------------

def layout(fig, height: int, **extra):
    extra.setdefault("margin", dict(l=10, r=10, t=30, b=10))
    fig.update_layout(height=height,
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

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Training loss", "Accuracy"), horizontal_spacing=0.08)
    single = len(runs) == 1
    for i, run in enumerate(runs):
        color = CLASS_COLORS[i % 10]
        history, points = run.get("history") or [], run.get("points") or []
        epochs = [h["epoch"] for h in history]
        name = html.escape(run["name"])  # plotly reads tags (<a href>, <span style>) in trace names
        prefix = "" if single else f"{name}: "
        if points:
            fig.add_trace(go.Scatter(x=[p["x"] for p in points], y=[p["train_loss"] for p in points],
                                     mode="lines", name=f"{prefix}train loss", line=dict(color=color),
                                     legendgroup=str(i), showlegend=single), 1, 1)
        elif history:
            fig.add_trace(go.Scatter(x=epochs, y=[h["train_loss"] for h in history], mode="lines+markers",
                                     name=f"{prefix}train loss", line=dict(color=color),
                                     legendgroup=str(i), showlegend=single), 1, 1)
        if single:
            if points:
                fig.add_trace(go.Scatter(x=[p["x"] for p in points], y=[p["train_acc"] for p in points],
                                         mode="lines", name="train accuracy",
                                         line=dict(color=CLASS_COLORS[1])), 1, 2)
            elif history:
                fig.add_trace(go.Scatter(x=epochs, y=[h["train_acc"] for h in history], mode="lines+markers",
                                         name="train accuracy", line=dict(color=CLASS_COLORS[1])), 1, 2)
        if history:
            fig.add_trace(go.Scatter(x=epochs, y=[h["test_acc"] for h in history], mode="lines+markers",
                                     name=name if not single else "test accuracy",
                                     line=dict(color=CLASS_COLORS[2] if single else color, dash="solid"),
                                     legendgroup=str(i)), 1, 2)
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
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
                               hovertemplate=f"row %{{y}}, col %{{x}}: {hover}<extra></extra>",
                               colorbar=dict(thickness=10)))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, constrain="domain")
    return layout(fig, height, margin=dict(l=10, r=10, t=10, b=10))


@figure_builder
def confusion_figure(matrix: np.ndarray, height: int = 460):
    import plotly.graph_objects as go

    names = list(CLASSES)
    fig = go.Figure(go.Heatmap(z=matrix, x=names, y=names, colorscale="Blues", texttemplate="%{z}",
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
                               showscale=False))
    fig.update_yaxes(autorange="reversed", title_text="true class")
    fig.update_xaxes(title_text="predicted class", tickangle=-35)
    return layout(fig, height)


@figure_builder
def per_class_figure(accuracy: np.ndarray, height: int = 460):
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=accuracy, y=list(CLASSES), orientation="h",
                           marker_color=[CLASS_COLORS[k] for k in range(10)],
                           text=[f"{a:.1%}" for a in accuracy], textposition="inside",
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return layout(fig, height)


# Dataset figures are the same for everyone: built once per process (st.plotly_chart only reads them).

@st.cache_resource(show_spinner=False)
@figure_builder
def class_counts_figure(counts: dict):
    """counts: {"train": int [10], "test": int [10]}, images per class."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Bar(name=f"{split} ({counts[split].sum():,})", x=list(CLASSES), y=counts[split],
                            marker_color=color, hovertemplate="%{x}: %{y:,}<extra></extra>")
                     for split, color in (("train", CLASS_COLORS[0]), ("test", CLASS_COLORS[1]))])
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickangle=-35)
    return layout(fig, 380)


@st.cache_resource(show_spinner=False)
@figure_builder
def histogram_figure(hist: np.ndarray):
    """hist: int [256], pixels per grey level."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=np.arange(256), y=hist, marker_color=CLASS_COLORS[0], marker_line_width=0,
                           hovertemplate="value %{x}: %{y:,} pixels<extra></extra>"))
    fig.update_yaxes(type="log", title_text="pixels (log scale)")
    fig.update_xaxes(title_text="pixel value (0 black … 255 white)")
    fig.update_layout(bargap=0)
    return layout(fig, 300)


@st.cache_resource(show_spinner=False)
@figure_builder
def pca_figure(xy: np.ndarray, labels: np.ndarray, index: np.ndarray, ratio: np.ndarray):
    """The images' positions on the first two principal components, one colour per class."""
    import plotly.graph_objects as go

    fig = go.Figure([go.Scattergl(x=xy[labels == k, 0], y=xy[labels == k, 1], mode="markers", name=CLASSES[k],
                                  customdata=index[labels == k],
                                  marker=dict(color=CLASS_COLORS[k], size=5, opacity=0.75),
                                  hovertemplate=f"{CLASSES[k]} #%{{customdata}}<extra></extra>")
                     for k in range(10)])
    fig.update_xaxes(title_text=f"1st principal component ({ratio[0]:.0%} of the variance)", zeroline=False)
    fig.update_yaxes(title_text=f"2nd principal component ({ratio[1]:.0%})", zeroline=False)
    return layout(fig, 520)
