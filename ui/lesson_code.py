"""The lesson's code beside each step: an expander with the formula and the very functions the
app runs, read from model/ so the code shown can't drift from the code that trains.

Where each step belongs: Home "softmax" and "cross_entropy"; Train "sgd", "concise" and
"evaluate_accuracy"; Predict "softmax" and "accuracy".
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import textwrap
import threading
from pathlib import Path

import streamlit as st

from ui.i18n import t

# Each step: its formula and the (module, qualified name) of the code that computes it.
STEPS = {
    "softmax": (r"\begin{aligned}\hat{y}_j &= \frac{\exp(o_j)}{\sum_k \exp(o_k)} \\ "
                r"&= \frac{\exp(o_j - \max_k o_k)}{\sum_k \exp(o_k - \max_k o_k)}\end{aligned}",
                [("model.lesson.scratch", "softmax_naive"), ("model.lesson.scratch", "log_softmax"),
                 ("model.lesson.scratch", "softmax")]),
    "cross_entropy": (r"\begin{aligned}l(\mathbf{y}, \hat{\mathbf{y}}) &= -\sum_j y_j \log \hat{y}_j = -\log \hat{y}_y \\ "
                      r"&= \max_k o_k - o_y \\ &\quad + \log \sum_k \exp(o_k - \max_k o_k)\end{aligned}",
                      [("model.lesson.scratch", "cross_entropy"),
                       ("model.lesson.scratch", "cross_entropy_from_logits")]),
    "accuracy": (r"\text{correct} = \sum_i \mathbb{1}\big[\operatorname{argmax}_j \hat{y}_{ij} = y_i\big]",
                 [("model.lesson.scratch", "accuracy")]),
    "evaluate_accuracy": (r"\begin{gathered}\text{accuracy} = \frac{1}{n} \sum_{i=1}^{n} \mathbb{1}\big[\hat{c}_i = y_i\big] \\ "
                          r"\hat{c}_i = \operatorname{argmax}_j \hat{y}_{ij}\end{gathered}",
                          [("model.lesson.scratch", "evaluate_accuracy"), ("model.lesson.scratch", "Accumulator")]),
    "sgd": (r"\begin{gathered}\mathbf{W} \leftarrow \mathbf{W} - \frac{\eta}{|\mathcal{B}|} \sum_{i \in \mathcal{B}} "
            r"\nabla_{\mathbf{W}}\, l^{(i)} \\ \nabla_{\mathbf{o}}\, l = \hat{\mathbf{y}} - \mathbf{y}\end{gathered}",
            [("model.lesson.train", "_ScratchLearner.step"), ("model.lesson.scratch", "HandOptimizer.step")]),
    "concise": (r"\begin{gathered}\mathbf{o} = \mathrm{Flatten}(\mathbf{X})\,\mathbf{W}^\top + \mathbf{b} \\ "
                r"l = \mathrm{CrossEntropyLoss}(\mathbf{o}, \mathbf{y}) \\ \mathrm{SGD}(\eta)\end{gathered}",
                [("model.lesson.concise", "ConciseSoftmaxRegression"), ("model.lesson.train", "_ConciseLearner"),
                 ("model.lesson.concise", "make_optimizer")]),
}


def lesson_code(step: str) -> None:
    """An expander with step `step` (a key of STEPS): what it computes, its formula and its code."""
    formula, sources = STEPS[step]
    # Its contents are made and sent only while it is open (a rerun when it opens): most visitors
    # never open it, and a class of 30 reaching its results at once would send them all.
    box = st.expander(t(f"lesson.code.{step}.title"), icon=":material/code:", key=f"lesson_code_{step}",
                      on_change="rerun")
    if not box.open:
        return
    with box:
        st.markdown(t(f"lesson.code.{step}.text"))
        st.latex(formula)
        for module, name in sources:
            path, code = source(module, name)
            st.caption(t("lesson.code.source", path=path, name=name))
            st.code(code, language="python")


# CPython 3.11's ast.parse is not thread-safe: two sessions parsing at once (a class opening Train
# together) raised "SystemError: AST constructor recursion depth mismatch" in one (CPython gh-106905).
PARSING = threading.Lock()


@functools.cache
def source(module: str, name: str) -> tuple[str, str]:
    """(the file relative to the project, the dedented source) of `name` ("Class.method" too) in
    `module`, exactly what inspect.getsource gives. Read from the file's syntax tree rather than
    by importing the module, so Home can show the lesson's code without paying for torch."""
    path = Path(importlib.util.find_spec(module).origin)
    text = path.read_text(encoding="utf-8")
    with PARSING:
        body = ast.parse(text).body
    for part in name.split("."):
        node = next(n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part)
        body = node.body
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = text.splitlines(keepends=True)[first - 1:node.end_lineno]
    root = Path(importlib.util.find_spec("model").origin).parent.parent
    return path.relative_to(root).as_posix(), textwrap.dedent("".join(lines))
