"""Dataset: browse Fashion-MNIST and look at it the ways a linear model does."""
import numpy as np
import streamlit as st

from ui import chart, dataset_box, figures, i18n, layout, pictures, resources
from ui.i18n import t

GRID = 32  # images per page of the browser


def _new_sample():
    st.session_state.ds_seed = st.session_state.get("ds_seed", 0) + 1
    st.session_state.ds_index = None


@st.fragment
def browser(data: dict):
    """The image grid; a fragment, so browsing reruns only this part of the page."""
    # Option texts made now: Streamlit may call a format_func outside this run's language.
    splits = {split: t(f"dataset.browser.{split}") for split in ("train", "test")}
    names = [layout.class_name(k) for k in range(10)]
    c1, c2, c3, c4 = st.columns([1.1, 2.6, 1.3, 1.3], vertical_alignment="bottom")
    split = c1.segmented_control(t("dataset.browser.split"), ["train", "test"], default="train", key="ds_split",
                                 required=True, format_func=splits.get)
    images, labels = data[split]
    classes = c2.multiselect(t("dataset.browser.classes"), list(range(10)), format_func=names.__getitem__, key="ds_classes",
                             placeholder=t("dataset.browser.all_classes"))
    index = c3.number_input(t("dataset.browser.jump"), min_value=0, max_value=len(images) - 1, value=None, step=1,
                            key="ds_index", placeholder=f"0 – {len(images) - 1:,}")
    c4.button(t("dataset.browser.new_sample"), icon=":material/casino:", on_click=_new_sample, width="stretch")

    pool = np.flatnonzero(np.isin(labels, classes)) if classes else np.arange(len(labels))
    if index is not None:
        start = int(np.searchsorted(pool, index))
        chosen = pool[start:start + GRID]
        where = t("dataset.browser.from_index", index=index)
        if start < len(pool) and pool[start] != index:
            where += t("dataset.browser.outside", index=index, what=layout.class_name(labels[index], article=True))
    else:
        rng = np.random.default_rng(st.session_state.get("ds_seed", 0))
        chosen = np.sort(rng.choice(pool, size=min(GRID, len(pool)), replace=False))
        where = t("dataset.browser.random")
    if len(chosen) == 0:
        st.info(t("dataset.browser.none_left"))
        return
    st.caption(t("dataset.browser.shown", count=len(chosen), total=len(pool), split=t(f"dataset.browser.{split}"), where=where))
    pictures.image_grid([images[i] for i in chosen], [f"{layout.class_name(labels[i])} #{i}" for i in chosen])


def class_means() -> None:
    st.subheader(t("dataset.means.title"))
    pictures.image_grid(pictures.class_mean_pictures("train"), [layout.class_name(k) for k in range(10)])
    st.caption(t("dataset.means.caption"))


def statistics() -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(t("dataset.stats.counts"))
        counts = {split: resources.class_counts(split) for split in ("train", "test")}
        chart.show(figures.class_counts_figure(counts, i18n.language()), key="counts")
        st.caption(t("dataset.stats.counts_caption"))
    with right:
        st.markdown(t("dataset.stats.histogram"))
        everything, names = t("dataset.stats.all_training"), [layout.class_name(k) for k in range(10)]
        hist_class = st.selectbox(t("dataset.stats.pixels_of"), [None, *range(10)], key="ds_hist_class", label_visibility="collapsed",
                                  format_func=lambda k: everything if k is None else names[k])
        hist = resources.pixel_histogram("train", hist_class)
        chart.show(figures.histogram_figure(hist, i18n.language()), key="hist")
        st.caption(t("dataset.stats.histogram_caption", black=hist[0] / hist.sum()))


def pca() -> None:
    st.subheader(t("dataset.pca.title"))
    projection = resources.pca_projection("train")
    chart.show(figures.pca_figure(*projection, i18n.language()), key="pca")
    st.caption(t("dataset.pca.caption", count=len(projection[0])))  # the points drawn


layout.header("dataset")
data = dataset_box.dataset()
if data is None:
    st.stop()
browser(data)
class_means()
statistics()
pca()
resources.warm_up()
