"""From a mistake to its reason: "Why Coat and not Pullover?" as each pixel's vote x·(w_a - w_b)
for one class over the other. Belongs on the Predict page, beside a prediction (and the
runner-up or the true class), and under a mistake in the Train page's results."""
from __future__ import annotations

import numpy as np
import streamlit as st

from model.lesson.classifier import LinearClassifier
from model.lesson.why_not import why_not
from ui import figures, pictures
from ui.i18n import t
from ui.layout import class_name


def why_not_section(classifier: LinearClassifier, image28: np.ndarray, predicted: int, other: int) -> None:
    """Why `classifier` ranks class `predicted` above class `other` for `image28` (uint8 [28, 28]):
    the picture, the map of pixel votes and the numbers that add up to the logit difference."""
    answer = why_not(classifier, image28, predicted, other)
    chosen, rival = class_name(predicted), class_name(other)
    st.subheader(t("lesson.why_not.title", chosen=chosen, other=rival))
    st.markdown(t("lesson.why_not.text"))
    picture_col, map_col = st.columns([1, 2], vertical_alignment="center")
    pictures.picture(image28, t("lesson.why_not.picture"), 168, where=picture_col)
    with map_col:
        st.plotly_chart(figures.heatmap_figure(answer.pixel_votes, height=300), config=figures.PLOTLY_CONFIG)
    st.caption(t("lesson.why_not.numbers", chosen=chosen, other=rival, difference=answer.logit_difference,
                 pixels=float(answer.pixel_votes.sum()), bias=answer.bias_difference))
