"""ui.teach_step: one SGD step raises p(true), the page gets the taught model, Undo gives back
the original weights exactly."""
import numpy as np
from streamlit.testing.v1 import AppTest

from model import CLASSES
from model.files import checkpoint
from tests.app_pages.conftest import pictures_shown
from ui import i18n


def app(classifier, image):
    import streamlit as st

    from ui.teach_step import teach_one_step

    st.session_state.in_use = teach_one_step(classifier, image, "taught")


def test_a_step_raises_p_true_and_undo_restores_the_weights(test_split):
    images, labels = test_split
    best = checkpoint.load(checkpoint.PRETRAINED.with_name("best.safetensors"))
    image, wrong_class = images[0], (int(labels[0]) + 3) % 10
    original_weight, original_bias = best.weight.copy(), best.bias.copy()
    before = best.predict_proba(image[None])[0][wrong_class]

    at = AppTest.from_function(app, args=(best, image), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["in_use"] is best and at.button(key="taught_undo").disabled
    at.selectbox(key="taught_label").set_value(wrong_class).run()
    at.button(key="taught_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]

    taught = at.session_state["in_use"]
    after = taught.predict_proba(image[None])[0][wrong_class]
    assert after > before
    assert not np.array_equal(taught.weight, original_weight)
    assert at.metric[0].value == f"{after:.2%}"
    assert at.metric[0].label == i18n.text("en", "lesson.teach.p_true", name=CLASSES[wrong_class])
    assert len(pictures_shown(at)) == 20  # ten gradients, ten templates

    at.button(key="taught_undo").click().run()
    restored = at.session_state["in_use"]
    assert np.array_equal(restored.weight, original_weight) and np.array_equal(restored.bias, original_bias)
    assert at.button(key="taught_undo").disabled and len(at.metric) == 0
