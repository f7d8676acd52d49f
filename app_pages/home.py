"""Home: what the app is, the lesson's three formulas, and the softmax overflow demo."""
import streamlit as st

from ui import dataset_box, i18n, layout, resources
from ui.exercises import exercise_cards
from ui.lesson_code import lesson_code
from ui.i18n import t

CARDS = {"dataset": ":material/grid_view:", "train": ":material/model_training:", "predict": ":material/draw:"}


def page_cards() -> None:
    cols = st.columns(3)
    for col, (page, icon) in zip(cols, CARDS.items()):
        with col.container(border=True):
            st.page_link(layout.PAGES[page], label=t(f"common.nav.{page}"), icon=icon,
                         query_params=i18n.link_params(i18n.language()))
            st.caption(t(f"home.cards.{page}"))


def formulas() -> None:
    st.subheader(t("home.formulas.title"))
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(t("home.formulas.linear"))
        st.latex(r"\mathbf{o} = \mathbf{x}\mathbf{W} + \mathbf{b},\qquad \mathbf{W}\in\mathbb{R}^{784\times 10},\ "
                 r"\mathbf{b}\in\mathbb{R}^{10}")
        st.markdown(t("home.formulas.softmax"))
        st.latex(r"\hat{y}_j = \mathrm{softmax}(\mathbf{o})_j = \frac{\exp(o_j)}{\sum_k \exp(o_k)}")
    with right:
        st.markdown(t("home.formulas.loss"))
        st.latex(r"l(\mathbf{y}, \hat{\mathbf{y}}) = -\sum_{j} y_j \log \hat{y}_j = -\log \hat{y}_y")
        st.markdown(t("home.formulas.sgd"))


def code() -> None:
    left, right = st.columns(2, gap="large")
    with left:
        lesson_code("softmax")
    with right:
        lesson_code("cross_entropy")


def overflow_demo() -> None:
    st.subheader(t("home.overflow.title"))
    st.markdown(t("home.overflow.text"))
    if st.toggle(t("home.overflow.try"), key="overflow_demo"):
        import torch

        from model.lesson.scratch import softmax, softmax_naive

        scale = st.slider(t("home.overflow.scale"), 1, 50, 1, help=t("home.overflow.scale_help"))
        logits = torch.tensor([[1.0, 2.0, 3.0]]) * scale
        naive, stable = softmax_naive(logits)[0].tolist(), softmax(logits)[0].tolist()
        shown = ", ".join(f"{v:g}" for v in logits[0].tolist())
        c1, c2 = st.columns(2)
        c1.metric(t("home.overflow.naive"), ", ".join(f"{p:.3f}" for p in naive))
        c2.metric(t("home.overflow.stable"), ", ".join(f"{p:.3f}" for p in stable))
        if any(p != p for p in naive):
            st.error(t("home.overflow.overflowed", scores=shown), icon=":material/warning:")
        else:
            st.success(t("home.overflow.agree", scores=shown))


layout.header("home")
dataset_box.dataset_notice(t("home.dataset_extra"))
page_cards()
formulas()
code()
overflow_demo()
exercise_cards()
resources.warm_up()
