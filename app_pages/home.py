"""Home: what the app is, the lesson's three formulas, and the softmax overflow demo."""
import streamlit as st

from ui import dataset_box, layout, resources

CARDS = [
    ("dataset", "Dataset", ":material/grid_view:",
     "70,000 grayscale 28×28 pictures of ten kinds of clothing: browse, average and project them."),
    ("train", "Train", ":material/model_training:", "Fit the ten weight templates with minibatch SGD and watch the curves."),
    ("predict", "Predict", ":material/draw:", "Draw, upload or photograph a garment and see why the model decides."),
]


def page_cards() -> None:
    cols = st.columns(3)
    for col, (page, label, icon, line) in zip(cols, CARDS):
        with col.container(border=True):
            st.page_link(layout.PAGES[page], label=label, icon=icon)
            st.caption(line)


def formulas() -> None:
    st.subheader("The model in three formulas")
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**1. A linear layer** turns an image's 784 pixels $\\mathbf{x}$ into ten scores (logits):")
        st.latex(r"\mathbf{o} = \mathbf{x}\mathbf{W} + \mathbf{b},\qquad \mathbf{W}\in\mathbb{R}^{784\times 10},\ "
                 r"\mathbf{b}\in\mathbb{R}^{10}")
        st.markdown("**2. Softmax** turns the scores into probabilities that are positive and sum to 1:")
        st.latex(r"\hat{y}_j = \mathrm{softmax}(\mathbf{o})_j = \frac{\exp(o_j)}{\sum_k \exp(o_k)}")
    with right:
        st.markdown("**3. Cross-entropy** is the loss: minus the log of the probability given to the true class $y$:")
        st.latex(r"l(\mathbf{y}, \hat{\mathbf{y}}) = -\sum_{j} y_j \log \hat{y}_j = -\log \hat{y}_y")
        st.markdown("Training lowers the average loss with **minibatch SGD**, "
                    "$\\mathbf{W} \\leftarrow \\mathbf{W} - \\eta\\, \\nabla_{\\mathbf{W}}\\, l$; "
                    "the prediction is the class with the largest $\\hat{y}_j$ (the same as the largest $o_j$). "
                    "Each column of $\\mathbf{W}$ is a 28×28 template: the Train page shows them as they learn.")


def overflow_demo() -> None:
    st.subheader("Why the lesson's softmax can overflow")
    st.markdown("The lesson computes `exp(o) / exp(o).sum()` directly. In float32, `exp` of a score above about 88 "
                "is infinity, and infinity divided by infinity is NaN. Subtracting the largest score first "
                "(the *log-sum-exp trick*) gives the same probabilities without overflowing.")
    if st.toggle("Try it", key="overflow_demo"):
        import torch

        from model.lesson.scratch import softmax, softmax_naive

        scale = st.slider("Make the scores larger", 1, 50, 1, help="The scores are [1, 2, 3] times this number.")
        logits = torch.tensor([[1.0, 2.0, 3.0]]) * scale
        naive, stable = softmax_naive(logits)[0].tolist(), softmax(logits)[0].tolist()
        shown = ", ".join(f"{v:g}" for v in logits[0].tolist())
        c1, c2 = st.columns(2)
        c1.metric("Naive softmax (the lesson's)", ", ".join(f"{p:.3f}" for p in naive))
        c2.metric("Stable softmax (log-sum-exp)", ", ".join(f"{p:.3f}" for p in stable))
        if any(p != p for p in naive):
            st.error(f"Scores {shown}: exp() overflowed to infinity, so the naive softmax gives NaN. "
                     "The stable version still works.", icon=":material/warning:")
        else:
            st.success(f"Scores {shown}: both agree. Push the slider past about 30 (3 × 30 > 88) to see the overflow.")


layout.header("Softmax Studio",
              "Softmax regression on Fashion-MNIST: look at the data, train a model and watch it learn, "
              "then show it a garment of your own.")
dataset_box.dataset_notice("The Dataset and Train pages need it; Predict works without it.")
page_cards()
formulas()
overflow_demo()
resources.warm_up()
