""""Same numbers?": the from-scratch and the concise implementation trained with one seed, their
curves overlaid and how far apart their weights end. Belongs on the Train page, beside the
choice of implementation."""
from __future__ import annotations

import streamlit as st

from ui import figures, resources
from ui.i18n import t


@st.cache_resource(show_spinner=False, max_entries=8)
def comparison(seed: int, epochs: int):
    """Both trainings for (seed, epochs), once per server: a class pressing the button together
    waits for one run instead of starting thirty."""
    from model.lesson.compare import compare_implementations

    return compare_implementations(*resources.training_tensors(), seed=seed, epochs=epochs)


@figures.figure_builder
def comparison_figure(result, height: int = 320):
    """Training loss and test accuracy per epoch, from scratch (solid) over concise (dashed)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(t("lesson.same.train_loss"), t("lesson.same.test_acc")))
    runs = ((t("lesson.same.scratch"), result.scratch, "solid", "circle", figures.CLASS_COLORS[0]),
            (t("lesson.same.concise"), result.concise, "dash", "circle-open", figures.CLASS_COLORS[1]))
    for name, history, dash, marker, color in runs:
        epochs = [h["epoch"] for h in history]
        for col, metric in ((1, "train_loss"), (2, "test_acc")):
            fig.add_trace(go.Scatter(x=epochs, y=[h[metric] for h in history], mode="lines+markers", name=name,
                                     line=dict(color=color, dash=dash), marker=dict(symbol=marker, size=10),
                                     legendgroup=name, showlegend=col == 1), 1, col)
    fig.update_xaxes(title_text=t("lesson.same.epoch"), dtick=1)
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    return figures.layout(fig, height)


def same_numbers(seed: int = 0, epochs: int = 3) -> None:
    """A button that trains the lesson preset both ways with `seed` for `epochs` epochs (needs the
    dataset), then both curves overlaid and max |ΔW|, max |Δb| between the two models."""
    st.subheader(t("lesson.same.title"))
    st.markdown(t("lesson.same.text", epochs=epochs, seed=seed))
    asked = st.session_state.setdefault("same_numbers", set())
    if st.button(t("lesson.same.run"), key="same_numbers_run", icon=":material/compare_arrows:"):
        asked.add((seed, epochs))
    if (seed, epochs) not in asked:
        return
    with st.spinner(t("lesson.same.running")):
        result = comparison(seed, epochs)
    st.plotly_chart(comparison_figure(result), config=figures.PLOTLY_CONFIG)
    cols = st.columns(4)
    cols[0].metric(t("lesson.same.max_weight"), f"{result.max_weight_difference:.1e}")
    cols[1].metric(t("lesson.same.max_bias"), f"{result.max_bias_difference:.1e}")
    cols[2].metric(t("lesson.same.scratch_acc"), f"{result.scratch[-1]['test_acc']:.2%}")
    cols[3].metric(t("lesson.same.concise_acc"), f"{result.concise[-1]['test_acc']:.2%}")
    st.caption(t("lesson.same.why"))
