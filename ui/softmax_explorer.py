"""Softmax with real numbers: one picture's ten logits o, exp(o), their sum and ŷ in a table
that follows a temperature, a dragged logit and a scale that makes the lesson's naive softmax
overflow. Belongs on the Predict page, under the prediction it explains."""
from __future__ import annotations

import numpy as np
import streamlit as st

from model.lesson.softmax_steps import softmax_table
from ui import figures
from ui.i18n import t
from ui.layout import markdown_table


def softmax_explorer(logits: np.ndarray, class_names: list[str], key: str = "softmax_explorer") -> None:
    """The explorer for `logits` ([10], one picture's) with the classes named `class_names`;
    `key` prefixes its widgets' keys (two explorers on one page need two)."""
    logits = np.asarray(logits, dtype=np.float32)
    st.subheader(t("lesson.explorer.title"))
    st.markdown(t("lesson.explorer.text"))
    classes = list(range(len(class_names)))
    left, right = st.columns(2)
    temperature = left.slider(t("lesson.explorer.temperature"), 0.1, 5.0, 1.0, 0.1, key=f"{key}_temperature",
                              help=t("lesson.explorer.temperature_help"))
    scale = right.slider(t("lesson.explorer.scale"), 1, 50, 1, key=f"{key}_scale",
                         help=t("lesson.explorer.scale_help"))
    dragged = left.selectbox(t("lesson.explorer.drag_class"), classes, format_func=class_names.__getitem__,
                             index=int(logits.argmax()), key=f"{key}_drag_class")
    reach = float(np.ceil(np.abs(logits).max())) + 10.0
    changed = logits.copy()
    changed[dragged] = right.slider(t("lesson.explorer.drag", name=class_names[dragged]), -reach, reach,
                                    float(logits[dragged]), 0.1, key=f"{key}_drag_{dragged}")
    table = softmax_table(changed, temperature, scale)

    rows = [[class_names[k], _number(table["logits"][k]), _number(table["exp"][k]), _number(table["naive"][k]),
             f"{table['probabilities'][k]:.4f}"] for k in classes]
    rows.append([t("lesson.explorer.sum"), "", _number(table["sum"]), _number(table["naive"].sum()),
                 f"{table['probabilities'].sum():.4f}"])
    st.markdown(markdown_table([t("lesson.explorer.class"), "o", "exp(o)", t("lesson.explorer.naive"),
                                t("lesson.explorer.stable")], rows))
    if table["overflowed"]:
        st.error(t("lesson.explorer.overflowed", largest=float(table["logits"].max())), icon=":material/warning:")
    else:
        st.success(t("lesson.explorer.agree"))
    st.plotly_chart(probability_bars(table["probabilities"], class_names), config=figures.PLOTLY_CONFIG,
                    key=f"{key}_chart")

    truth = st.selectbox(t("lesson.explorer.truth"), classes, format_func=class_names.__getitem__,
                         index=int(logits.argmax()), key=f"{key}_truth")
    loss = 0.0 - float(table["log_probabilities"][truth])  # not -x: -log(1) would show as "-0.0000"
    st.metric(t("lesson.explorer.loss", name=class_names[truth]), f"{loss:.4f}",
              help=t("lesson.explorer.loss_help"))


def _number(value) -> str:
    """Four significant digits, inf and nan as the lesson's float32 gives them."""
    return f"{float(value):.4g}"


@figures.figure_builder
def probability_bars(probabilities: np.ndarray, class_names: list[str], height: int = 260):
    """ŷ as one bar per class, in class order, so a dragged logit's bar moves in place."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=class_names, y=probabilities, marker_color=figures.CLASS_COLORS[0],
                           text=[f"{p:.1%}" for p in probabilities], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%", title_text="ŷ")
    return figures.layout(fig, height)
