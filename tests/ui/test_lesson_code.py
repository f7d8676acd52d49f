"""ui.lesson_code: each step's expander shows the formula and exactly the code model/ runs."""
import importlib
import inspect
import textwrap

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import untranslated
from ui import i18n
from ui.lesson_code import STEPS


def run_step(step: str, lang: str = "en", opened: bool = True) -> AppTest:
    def app(step):
        from ui.lesson_code import lesson_code

        lesson_code(step)

    at = AppTest.from_function(app, args=(step,), default_timeout=30)
    at.query_params["lang"] = lang
    if opened:
        at.session_state[f"lesson_code_{step}"] = True  # the learner opened it
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def getsource(module: str, name: str) -> str:
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return textwrap.dedent(inspect.getsource(obj))


@pytest.mark.parametrize("step", list(STEPS))
def test_the_code_shown_is_the_code_that_runs_with_its_formula(step):
    at = run_step(step)
    formula, sources = STEPS[step]
    # st.code drops the source's final newline
    assert [c.value for c in at.code] == [getsource(module, name).rstrip("\n") for module, name in sources]
    assert [latex.value for latex in at.latex] == [f"$$\n{formula}\n$$"]  # st.latex wraps it in $$
    assert at.expander[0].label == i18n.text("en", f"lesson.code.{step}.title")


def test_a_closed_step_sends_only_its_title():
    at = run_step("sgd", opened=False)
    assert at.expander[0].label == i18n.text("en", "lesson.code.sgd.title")
    assert len(at.code) == 0 and len(at.latex) == 0


def test_the_steps_name_the_lessons_functions():
    shown = {name for _, sources in STEPS.values() for _, name in sources}
    assert {"softmax_naive", "cross_entropy", "accuracy", "evaluate_accuracy", "HandOptimizer.step",
            "ConciseSoftmaxRegression"} <= shown
    at = run_step("softmax")
    assert "def softmax_naive(X):" in at.code[0].value and "torch.exp(X)" in at.code[0].value


def test_chinese_labels_every_step_in_chinese():
    at = run_step("sgd", "zh")
    assert at.expander[0].label == "课程代码：小批量随机梯度下降"
    for step in STEPS:
        assert untranslated(run_step(step, "zh")) == [], step
