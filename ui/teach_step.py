"""Teach it one step: the learner names a picture's true class and applies one SGD step of
cross-entropy on that picture alone, then sees the gradient (ŷ - y)xᵀ as ten pictures, the
changed templates and p(true) before and after; Undo takes the step back. Belongs on the
Predict page, under a prediction."""
from __future__ import annotations

import numpy as np
import streamlit as st

from model.lesson.classifier import LinearClassifier
from model.lesson.teach import sgd_step_on_one
from ui import pictures
from ui.i18n import t
from ui.layout import class_name

LEARNING_RATES = (0.0001, 0.001, 0.01, 0.1)


def _same_model(a: LinearClassifier, b: LinearClassifier) -> bool:
    return a is b or (np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
                      and (a.mean, a.std) == (b.mean, b.std))


def _apply(key: str, image28: np.ndarray, label: int, lr: float) -> None:
    state = st.session_state[key]
    state["step"] = sgd_step_on_one(state["models"][-1], image28, label, lr)
    state["models"].append(state["step"].classifier)


def _undo(key: str) -> None:
    state = st.session_state[key]
    if len(state["models"]) > 1:
        state["models"].pop()
    state["step"] = None  # the step shown is the one taken back


def model_in_use(classifier: LinearClassifier, key: str = "taught_model") -> LinearClassifier:
    """The model the page predicts with: the one taught from `classifier`, once a step was applied."""
    state = st.session_state.get(key)
    return state["models"][-1] if state is not None and _same_model(state["models"][0], classifier) else classifier


def teach_one_step(classifier: LinearClassifier, image28: np.ndarray, key: str = "taught_model") -> LinearClassifier:
    """The section for `classifier` and the picture `image28` (uint8 [28, 28]); returns the model
    now in use, the taught one after a step, for the rest of the page to predict with.

    st.session_state[key] holds {"models": [the classifier given, then one per step],
    "step": the last model.lesson.teach.TeachingStep or None}; a different classifier starts over."""
    state = st.session_state.get(key)
    if state is None or not _same_model(state["models"][0], classifier):
        state = st.session_state[key] = {"models": [classifier], "step": None}
    current = state["models"][-1]

    st.subheader(t("lesson.teach.title"))
    st.markdown(t("lesson.teach.text"))
    names = [class_name(k) for k in range(10)]  # fixed now: Streamlit may call a format_func outside this run
    left, right = st.columns(2)
    label = left.selectbox(t("lesson.teach.truth"), range(10), format_func=names.__getitem__,
                           index=int(current.predict(np.asarray(image28)[None])[0]), key=f"{key}_label")
    lr = right.select_slider(t("lesson.teach.lr"), LEARNING_RATES, value=0.001, key=f"{key}_lr",
                             help=t("lesson.teach.lr_help"))
    apply_col, undo_col = st.columns(2)
    apply_col.button(t("lesson.teach.apply"), key=f"{key}_apply", icon=":material/school:", width="stretch",
                     on_click=_apply, args=(key, np.asarray(image28), int(label), float(lr)))
    undo_col.button(t("lesson.teach.undo", steps=len(state["models"]) - 1), key=f"{key}_undo", icon=":material/undo:",
                    width="stretch", on_click=_undo, args=(key,), disabled=len(state["models"]) == 1)

    step = state["step"]
    if step is not None:
        st.metric(t("lesson.teach.p_true", name=names[step.label]), f"{step.after[step.label]:.2%}",
                  delta=t("lesson.teach.p_delta", before=step.before[step.label]))
        st.markdown(t("lesson.teach.gradient"))
        limit = float(np.percentile(np.abs(step.weight_gradient), 99.5)) or None
        pictures.image_grid([pictures.diverging(g, limit) for g in step.weight_gradient], names, width=84)
        st.markdown(t("lesson.teach.templates"))
        templates = step.classifier.templates()
        limit = float(np.percentile(np.abs(templates), 99)) or None
        pictures.image_grid([pictures.diverging(w, limit) for w in templates], names, width=84)
    elif len(state["models"]) > 1:
        st.caption(t("lesson.teach.steps_taken", steps=len(state["models"]) - 1))
    return state["models"][-1]
