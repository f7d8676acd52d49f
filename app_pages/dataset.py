"""Dataset: browse Fashion-MNIST and look at it the ways a linear model does."""
import numpy as np
import streamlit as st

from model import CLASSES
from model.files.classes import a_or_an
from ui import dataset_box, figures, layout, pictures, resources

GRID = 32  # images per page of the browser


def _new_sample():
    st.session_state.ds_seed = st.session_state.get("ds_seed", 0) + 1
    st.session_state.ds_index = None


@st.fragment
def browser(data: dict):
    """The image grid; a fragment, so browsing reruns only this part of the page."""
    c1, c2, c3, c4 = st.columns([1.1, 2.6, 1.3, 1.3], vertical_alignment="bottom")
    split = c1.segmented_control("Split", ["train", "test"], default="train", key="ds_split", required=True)
    images, labels = data[split]
    classes = c2.multiselect("Classes", list(range(10)), format_func=layout.class_name, key="ds_classes",
                             placeholder="All ten classes")
    index = c3.number_input("Jump to index", min_value=0, max_value=len(images) - 1, value=None, step=1,
                            key="ds_index", placeholder=f"0 – {len(images) - 1:,}")
    c4.button("New random sample", icon=":material/casino:", on_click=_new_sample, width="stretch")

    pool = np.flatnonzero(np.isin(labels, classes)) if classes else np.arange(len(labels))
    if index is not None:
        start = int(np.searchsorted(pool, index))
        chosen = pool[start:start + GRID]
        where = f"from index {index:,} on"
        if start < len(pool) and pool[start] != index:
            where += f" (image {index:,} is {a_or_an(CLASSES[labels[index]])}, outside the chosen classes)"
    else:
        rng = np.random.default_rng(st.session_state.get("ds_seed", 0))
        chosen = np.sort(rng.choice(pool, size=min(GRID, len(pool)), replace=False))
        where = "a random sample"
    if len(chosen) == 0:
        st.info("No images from that index on in the chosen classes.")
        return
    st.caption(f"{len(chosen)} of {len(pool):,} {split} images ({where}). The number is the image's index.")
    pictures.image_grid([pictures.dataset_png(split, int(i)) for i in chosen], [f"{CLASSES[labels[i]]} #{i}" for i in chosen])


def class_means() -> None:
    st.subheader("What an average garment looks like")
    pictures.image_grid(pictures.class_mean_pngs("train"), list(CLASSES), per_row=10)
    st.caption("Each picture is the mean of the 6,000 training images of its class. Softmax regression scores an "
               "image by comparing it with one weight template per class, and good templates end up resembling these.")


def statistics() -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Images per class**")
        counts = {split: resources.class_counts(split) for split in ("train", "test")}
        st.plotly_chart(figures.class_counts_figure(counts), config=figures.PLOTLY_CONFIG, key="counts")
        st.caption("Balanced: every class has 6,000 training and 1,000 test images, so always guessing one class "
                   "would score 10%.")
    with right:
        st.markdown("**Pixel-intensity histogram**")
        hist_class = st.selectbox("Pixel values of", [None, *range(10)], key="ds_hist_class", label_visibility="collapsed",
                                  format_func=lambda k: "all training images" if k is None else layout.class_name(k))
        hist = resources.pixel_histogram("train", hist_class)
        st.plotly_chart(figures.histogram_figure(hist), config=figures.PLOTLY_CONFIG, key="hist")
        st.caption(f"{hist[0] / hist.sum():.0%} of these pixels are pure black background. The model sees each pixel "
                   "as a number, pixel / 255, and flattens the 28×28 image into 784 of them.")


def pca() -> None:
    st.subheader("The 784-dimensional images, flattened to two (PCA)")
    st.plotly_chart(figures.pca_figure(*resources.pca_projection("train")), config=figures.PLOTLY_CONFIG, key="pca")
    st.caption("2,000 random training images projected on the two directions in which the pixels vary most. "
               "Trousers, bags and footwear form their own clouds; shirts, pullovers and coats overlap, and those are "
               "the classes a linear model confuses most.")


layout.header("Dataset", "Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28×28 pixels of "
                         "gray (0 = black, 255 = white), in ten classes.")
data = dataset_box.dataset()
if data is None:
    st.stop()
browser(data)
class_means()
statistics()
pca()
resources.warm_up()
