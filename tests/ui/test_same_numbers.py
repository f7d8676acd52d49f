"""ui.same_numbers: the button trains both implementations once and shows them agreeing."""
from streamlit.testing.v1 import AppTest

from ui import i18n


def app(seed, epochs):
    from ui.same_numbers import same_numbers

    same_numbers(seed, epochs)


def test_the_button_shows_both_curves_and_a_tiny_weight_difference(dataset_available):
    from ui.same_numbers import comparison

    comparison.clear()
    at = AppTest.from_function(app, args=(5, 1), default_timeout=120)
    at.run()
    assert not at.exception and len(at.metric) == 0  # nothing is trained before the button
    at.button(key="same_numbers_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics[i18n.text("en", "lesson.same.max_weight")]) < 1e-4
    assert float(metrics[i18n.text("en", "lesson.same.max_bias")]) < 1e-4
    assert metrics[i18n.text("en", "lesson.same.scratch_acc")] == metrics[i18n.text("en", "lesson.same.concise_acc")]
    result = comparison(5, 1)  # the cached run the page showed
    assert metrics[i18n.text("en", "lesson.same.max_weight")] == f"{result.max_weight_difference:.1e}"
    assert len(at.get("plotly_chart")) == 1

    at.run()  # a rerun shows the result again without the button
    assert not at.exception and len(at.metric) == 4 and comparison(5, 1) is result
