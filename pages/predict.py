"""Predict: show the model a garment (drawn, uploaded, photographed or from the test set) and see why it decides."""
import time

import numpy as np
import streamlit as st

from model import CLASSES
from model.classes import a_or_an
from model.checkpoint import CheckpointError
from model.imageio import ImageError
from pages import common, figures

common.header("Predict", "Show the model a garment. It shrinks the picture to 28×28 like the dataset, scores it against "
                         "the ten templates and turns the scores into probabilities with softmax.")


# --- which model ---------------------------------------------------------------------------

def _pretrained():
    try:
        return common.pretrained(), None
    except CheckpointError as error:
        return None, str(error)


pretrained, pretrained_error = _pretrained()
store = common.run_store()
common.collect_finished_job()
records = store.list()
options = (["pretrained"] if pretrained is not None else []) + [f"run:{r.id}" for r in records] + ["upload"]
if st.session_state.get("predict_model") not in options:
    st.session_state.predict_model = options[0]
names = {f"run:{r.id}": f"Run: {r.name}" for r in records}
if pretrained is not None:
    names["pretrained"] = f"Pretrained ({pretrained.metadata.get('test_acc', 0):.1%} on the test set)"
names["upload"] = "Upload a checkpoint…"

with st.sidebar:
    st.header("Model")
    chooser = st.radio if len(options) <= 6 else st.selectbox  # a long list of saved runs gets a menu
    choice = chooser("Which model predicts", options, key="predict_model", format_func=names.get,
                     help="The pretrained model ships with the app (the 'best' preset). Runs you train on the "
                          "Train page appear here too.")
    if pretrained_error:
        st.warning(f"The pretrained model can't be used: {pretrained_error}")
    classifier = None
    if choice == "pretrained":
        classifier = pretrained
    elif choice.startswith("run:"):
        try:
            classifier = store.load_classifier(choice[4:])
        except Exception as error:  # noqa: BLE001 - a damaged or deleted run is a message
            st.error(f"This run can't be loaded: {error}")
    else:
        upload = st.file_uploader("A .safetensors checkpoint from the Train page", type=["safetensors"],
                                  key="checkpoint_upload")
        if upload is not None:
            from model import checkpoint

            try:
                classifier = checkpoint.from_bytes(upload.getvalue())
                acc = classifier.metadata.get("test_acc")
                st.success(f"Loaded {common.plain(upload.name)}" + (f" ({acc:.1%} on the test set)." if acc else "."))
            except CheckpointError as error:
                st.error(str(error))

if classifier is None:
    st.info("Choose a model in the sidebar: a shipped one, one you trained, or a checkpoint file.",
            icon=":material/arrow_back:")
    st.stop()


# --- showing a prediction --------------------------------------------------------------------

def confidence_words(p: float) -> str:
    return "very sure" if p >= 0.9 else "fairly sure" if p >= 0.6 else "unsure"


def show_answer(probabilities: np.ndarray, true_label: int | None = None, note: str | None = None) -> None:
    order = np.argsort(-probabilities)
    top, second = int(order[0]), int(order[1])
    with st.container(key="prediction"):
        st.markdown(f"#### Prediction: **{common.class_name(top)}**")
        line = (f"{probabilities[top]:.0%} confident, {confidence_words(probabilities[top])}. "
                f"Runner-up: {CLASSES[second]} ({probabilities[second]:.0%}).")
        if true_label is not None:
            line += (" :green[:material/check_circle: Right.]" if true_label == top
                     else f" :red[:material/cancel: Wrong: it is {a_or_an(CLASSES[true_label])}.]")
        st.markdown(line)
        if note:
            st.caption(note)
    st.plotly_chart(figures.probability_figure(probabilities), config=figures.PLOTLY_CONFIG, key="probabilities")


def square(picture, fill=None) -> np.ndarray:
    """A step's picture padded to a square (with `fill`, default its own border colour), and
    small ones enlarged without smoothing, so the row of steps lines up and pixels stay visible."""
    picture = np.asarray(picture)
    h, w = picture.shape[:2]
    if fill is None:
        border = np.concatenate([picture[0], picture[-1], picture[:, 0], picture[:, -1]])
        fill = np.median(border, axis=0).astype(picture.dtype)
    side = max(h, w)
    out = np.empty((side, side) + picture.shape[2:], dtype=picture.dtype)
    out[...] = fill
    out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = picture
    return common.enlarge(out, max(1, 140 // side)) if side < 140 else out


def show_steps(steps) -> None:
    st.markdown("**From your picture to the model's input**")
    cols = st.columns(max(len(steps), 6))
    for i, (col, (name, picture)) in enumerate(zip(cols, steps)):
        # From the third step on the garment is light on black: pad with black.
        col.image(square(picture, None if i < 2 else 0), caption=name, width="stretch")


def show_why(image28: np.ndarray, probabilities: np.ndarray) -> None:
    label = int(np.argmax(probabilities))
    contributions = classifier.contributions(image28, label)
    logit = float(contributions.sum() + classifier.bias[label])
    st.markdown(f"**Why {CLASSES[label]}? Each pixel's contribution to its score**")
    c1, c2, c3 = st.columns([1, 1, 1.5], vertical_alignment="center")
    c1.image(common.enlarge(image28, 6), caption="the 28×28 input x", width="stretch")
    c2.image(common.enlarge(common.diverging(classifier.templates()[label]), 6),
             caption=f"the {CLASSES[label]} template (its 784 weights)", width="stretch")
    c3.plotly_chart(figures.heatmap_figure(contributions, height=300), config=figures.PLOTLY_CONFIG,
                    key="contributions")
    c3.caption("weight × input, pixel by pixel (hover to read the numbers)")
    st.caption(f"Red pixels push the score of {CLASSES[label]} up, blue ones push it down. All 784 contributions plus "
               f"the bias ({float(classifier.bias[label]):+.2f}) add up to its score o = {logit:.2f}; softmax turns "
               "the ten scores into the probabilities above.")


def show_prediction(prediction, took: float, what: str = "The picture") -> None:
    """A Prediction from model.predict: the answer, the preprocessing steps, and why."""
    if prediction.empty:
        st.info(prediction.message, icon=":material/info:")
        show_steps(prediction.preprocessed.steps)
        return
    show_answer(prediction.probabilities,
                note=f"{what} was preprocessed and classified on the server in {took * 1000:.0f} ms.")


def predict_bytes(data: bytes):
    """(Prediction or None, seconds); an unusable file becomes a message."""
    from model.predict import predict_bytes

    started = time.perf_counter()
    try:
        return predict_bytes(classifier, data), time.perf_counter() - started
    except ImageError as error:
        st.error(str(error), icon=":material/broken_image:")
    except Exception as error:  # noqa: BLE001 - never a traceback on the page
        st.error(f"This picture can't be used ({type(error).__name__}: {error}). Try another one.")
    return None, 0.0


def two_columns():
    return st.columns([1, 1.25], gap="large")


def below(prediction) -> None:
    if prediction is not None and not prediction.empty:
        show_steps(prediction.preprocessed.steps)
        show_why(prediction.preprocessed.image28, prediction.probabilities)


# --- the four inputs ---------------------------------------------------------------------------

have_dataset = common.dataset_notice("Predict still works: draw, upload or photograph a garment "
                                     "(only the random test images need the dataset).")
mode = st.segmented_control("Input", ["Draw", "Upload", "Camera", "Test image"], default="Draw", key="predict_input",
                            required=True, label_visibility="collapsed",
                            format_func={"Draw": ":material/draw: Draw", "Upload": ":material/upload: Upload",
                                         "Camera": ":material/photo_camera: Camera",
                                         "Test image": ":material/casino: Test image"}.get)


# streamlit-drawable-canvas waits 200 ms after a stroke before it sends the drawing (a fixed
# debounce in its frontend). This helper presses the canvas's own "Update the app with this
# drawing" toolbar button the moment a stroke ends, which sends at once and cancels the wait.
# Without it (say the toolbar changes) drawings still arrive, 200 ms later.
SEND_ON_STROKE_END = st.components.v2.component("softmax_studio.send_on_stroke_end", js="""
export default function () {
  if (window.__softmaxStudioSendOnStrokeEnd) return;
  window.__softmaxStudioSendOnStrokeEnd = true;
  const selector = 'button[aria-label="Update the app with this drawing"]';
  document.addEventListener('pointerup', (event) => {
    const path = event.composedPath();
    if (!path.some((node) => node.classList && node.classList.contains('upper-canvas'))) return;
    for (const node of path) {
      const button = node.querySelector && node.querySelector(selector);
      if (button) { setTimeout(() => button.click(), 0); return; }
    }
  }, true);
}
""")


@st.fragment
def draw() -> None:
    """A fragment: a stroke reruns only this part, so the answer comes back fast."""
    from streamlit_drawable_canvas import st_canvas

    left, right = two_columns()
    with left:
        brush = st.slider("Brush", 4, 60, 24, key="brush", help="Thick strokes look more like the dataset's "
                                                               "filled silhouettes.")
        figures.import_pandas()  # st_canvas imports it; see figures._pandas_gate
        canvas = st_canvas(stroke_width=brush, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw", return_image_data=True, key="canvas")
        st.caption("Draw one garment, light on dark like the dataset, and fill its shape. "
                   "Use the canvas toolbar to undo or clear.")
        # data=b"": a dict payload would make Streamlit import pandas to look for dataframes in it.
        SEND_ON_STROKE_END(key="send_on_stroke_end", data=b"")
    objects = (canvas.json_data or {}).get("objects") or []
    prediction = None
    with right:
        if not objects or canvas.image_bytes is None:
            st.info("Draw a garment on the black square: a T-shirt, trousers, a bag, a shoe…",
                    icon=":material/draw:")
        else:
            prediction, took = predict_bytes(canvas.image_bytes)
            if prediction is not None:
                show_prediction(prediction, took, what=f"Your drawing ({len(objects)} stroke"
                                                       f"{'s' if len(objects) != 1 else ''})")
    below(prediction)


if mode == "Draw":
    draw()
elif mode in ("Upload", "Camera"):
    left, right = two_columns()
    with left:
        if mode == "Upload":
            file = st.file_uploader("A picture of one garment", key="image_upload",
                                    help="PNG, JPEG, WebP, GIF or BMP. A plain background works best.")
        else:
            file = st.camera_input("Photograph one garment on a plain background", key="camera")
    prediction = None
    with right:
        if file is None:
            st.info("Works best with one garment, flat or hanging, on a plain background that differs from it.",
                    icon=":material/photo_camera:" if mode == "Camera" else ":material/upload:")
        else:
            prediction, took = predict_bytes(file.getvalue())
            if prediction is not None:
                show_prediction(prediction, took)
    below(prediction)
else:
    data = common.dataset() if have_dataset else None
    if data is None:
        st.info("Random test images come from Fashion-MNIST, which is not on this server (see above).",
                icon=":material/dataset:")
        st.stop()
    images, labels = data["test"]
    if "test_index" not in st.session_state:
        st.session_state.test_index = int(np.random.default_rng().integers(len(images)))
    left, right = two_columns()
    with left:
        if st.button("Pick another test image", icon=":material/casino:", key="another"):
            st.session_state.test_index = int(np.random.default_rng().integers(len(images)))
        index = st.session_state.test_index
        image28 = images[index]
        st.image(common.enlarge(image28, 8), caption=f"Test image #{index}: {a_or_an(CLASSES[labels[index]])}", width=224)
        st.caption("Test images are already 28×28 Fashion-MNIST pictures: the model reads them as they are.")
    started = time.perf_counter()
    probabilities = classifier.predict_proba(image28[None])[0]
    with right:
        took = (time.perf_counter() - started) * 1000
        show_answer(probabilities, true_label=int(labels[index]),
                    note=f"Classified on the server in {took:.1f} ms." if took < 10 else
                    f"Classified on the server in {took:.0f} ms.")
    show_why(image28, probabilities)

common.warm_up()
