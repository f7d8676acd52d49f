"""Predict: show the model a garment (drawn, uploaded, photographed or from the test set) and see why it decides."""
import time

import numpy as np
import streamlit as st

from model import CLASSES
from model.files.classes import a_or_an
from model.files.checkpoint import CheckpointError
from model.files.image_files import ImageError
from ui import dataset_box, figures, layout, pictures, resources, session

# The models that ship with the app, the default first, and how each is listed ({acc}: its test accuracy).
SHIPPED = {"robust": "Robust — for drawings and photos ({acc} on the test set)",
           "best": "Best on the test set ({acc})"}
# The sidebar's caption for each: which model is in use and why the default is the default.
IN_USE = {
    "robust": "In use: the robust model, the default. It was also trained on mirrored garments, filled "
              "silhouettes and outline drawings, shifted, scaled and tilted a little, so it reads what people "
              "draw and photograph far better, for a little less accuracy on the dataset's own test images.",
    "best": "In use: the `best` preset, the most accurate on the dataset's own test images. It has only seen "
            "upright, filled, left-facing garments, so outline drawings and right-facing shoes fool it more "
            "often; the robust model (the default) is made for those.",
}

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


def _shipped():
    """({name: classifier} of the shipped models that load, [why each other one can't be used])."""
    models, errors = {}, []
    for name in SHIPPED:
        try:
            models[name] = resources.pretrained(name)
        except CheckpointError as error:
            errors.append(f"The shipped model '{name}' can't be used: {error}")
    return models, errors


def choose_model(shipped: dict, shipped_errors: list[str], store):
    """The sidebar's model picker: a shipped model, a saved run or an uploaded checkpoint; None until one loads."""
    records = store.list()
    options = [f"pretrained:{name}" for name in shipped] + [f"run:{r.id}" for r in records] + ["upload"]
    if st.session_state.get("predict_model") not in options:
        st.session_state.predict_model = options[0]
    chooser = st.radio if len(options) <= 7 else st.selectbox  # more than four saved runs get a menu
    shown = layout.plain if chooser is st.radio else str  # radio options are markdown, a menu's are text
    names = {f"run:{r.id}": f"Run: {shown(r.name)}" for r in records}
    for name, model in shipped.items():
        names[f"pretrained:{name}"] = SHIPPED[name].format(acc=f"{model.metadata.get('test_acc', 0):.1%}")
    names["upload"] = "Upload a checkpoint…"

    with st.sidebar:
        st.header("Model")
        choice = chooser("Which model predicts", options, key="predict_model", format_func=names.get,
                         help="Two models ship with the app: the robust one (the default) and the `best` preset. "
                              "Runs you train on the Train page appear here too.")
        for error in shipped_errors:
            st.warning(error)
        classifier = None
        if choice.startswith("pretrained:"):
            classifier = shipped[choice.removeprefix("pretrained:")]
            st.caption(IN_USE[choice.removeprefix("pretrained:")])
        elif choice.startswith("run:"):
            try:
                classifier = store.load_classifier(choice[4:])
            except Exception as error:  # noqa: BLE001 - a damaged or deleted run is a message
                st.error(f"This run can't be loaded: {error}")
        else:
            upload = st.file_uploader("A .safetensors checkpoint from the Train page", type=["safetensors"],
                                      key="checkpoint_upload")
            if upload is not None:
                from model.files import checkpoint

                try:
                    classifier = checkpoint.from_bytes(upload.getvalue())
                    acc = classifier.metadata.get("test_acc")
                    st.success(f"Loaded {layout.plain(upload.name)}" + (f" ({acc:.1%} on the test set)." if acc else "."))
                except CheckpointError as error:
                    st.error(str(error))
    return classifier


# --- showing a prediction --------------------------------------------------------------------

def confidence_words(p: float) -> str:
    return "very sure" if p >= 0.9 else "fairly sure" if p >= 0.6 else "unsure"


def show_answer(probabilities: np.ndarray, true_label: int | None = None, note: str | None = None) -> None:
    order = np.argsort(-probabilities)
    top, second = int(order[0]), int(order[1])
    with st.container(key="prediction"):
        st.markdown(f"#### Prediction: **{layout.class_name(top)}**")
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
    return pictures.enlarge(out, max(1, 140 // side)) if side < 140 else out


def show_steps(steps) -> None:
    st.markdown("**From your picture to the model's input**")
    cols = st.columns(max(len(steps), 6))
    for i, (col, (name, picture)) in enumerate(zip(cols, steps)):
        # From the third step on the garment is light on black: pad with black.
        col.image(square(picture, None if i < 2 else 0), caption=name, width="stretch")


def show_why(classifier, image28: np.ndarray, probabilities: np.ndarray) -> None:
    label = int(np.argmax(probabilities))
    contributions = classifier.contributions(image28, label)
    logit = float(contributions.sum() + classifier.bias[label])
    st.markdown(f"**Why {CLASSES[label]}? Each pixel's contribution to its score**")
    c1, c2, c3 = st.columns([1, 1, 1.5], vertical_alignment="center")
    c1.image(pictures.enlarge(image28, 6), caption="the 28×28 input x", width="stretch")
    c2.image(pictures.enlarge(pictures.diverging(classifier.templates()[label]), 6),
             caption=f"the {CLASSES[label]} template (its 784 weights)", width="stretch")
    c3.plotly_chart(figures.heatmap_figure(contributions, height=300), config=figures.PLOTLY_CONFIG,
                    key="contributions")
    c3.caption("weight × input, pixel by pixel (hover to read the numbers)")
    st.caption(f"Red pixels push the score of {CLASSES[label]} up, blue ones push it down. All 784 contributions plus "
               f"the bias ({float(classifier.bias[label]):+.2f}) add up to its score o = {logit:.2f}; softmax turns "
               "the ten scores into the probabilities above.")


def show_prediction(prediction, took: float, what: str = "The picture") -> None:
    """A Prediction from model.files.predict: the answer, the preprocessing steps, and why."""
    if prediction.empty:
        st.info(prediction.message, icon=":material/info:")
        show_steps(prediction.preprocessed.steps)
        return
    show_answer(prediction.probabilities,
                note=f"{what} was preprocessed and classified on the server in {took * 1000:.0f} ms.")


def attempt(work):
    """(work()'s result or None, seconds it took): an unusable picture becomes a message, never a traceback."""
    started = time.perf_counter()
    try:
        return work(), time.perf_counter() - started
    except ImageError as error:
        st.error(str(error), icon=":material/broken_image:")
    except Exception as error:  # noqa: BLE001 - never a traceback on the page
        st.error(f"This picture can't be used ({type(error).__name__}: {error}). Try another one.")
    return None, 0.0


def predict_bytes(classifier, data: bytes):
    """(Prediction or None, seconds) for a file's bytes."""
    from model.files.predict import predict_bytes

    return attempt(lambda: predict_bytes(classifier, data))


CROP_PREVIEW = 300  # px, the crop box's picture along its longest side: fits the left column, and a phone


def cropped(picture, key: str):
    """The part of `picture` inside a box the user drags over it (streamlit-cropper); the whole
    picture until the box is moved. `key` must be new for each picture, so a new one starts uncropped."""
    from PIL import Image
    from streamlit_cropper import st_cropper

    from model.files.image_files import to_rgb_or_l

    width, height = picture.size
    scale = CROP_PREVIEW / max(width, height)
    preview = to_rgb_or_l(picture).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                          Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BOX)
    box = st_cropper(preview, default_coords=(0, preview.width, 0, preview.height), return_type="box",
                     should_resize_image=False, box_color="#ff4b4b", key=key)
    st.caption("Drag the box or its corners to frame one garment: only what is inside it is classified.")
    left = min(max(0, round(box["left"] / scale)), width - 1)
    top = min(max(0, round(box["top"] / scale)), height - 1)
    right = min(max(left + 1, round((box["left"] + box["width"]) / scale)), width)
    bottom = min(max(top + 1, round((box["top"] + box["height"]) / scale)), height)
    return picture.crop((left, top, right, bottom))


def two_columns():
    return st.columns([1, 1.25], gap="large")


def below(classifier, prediction) -> None:
    if prediction is not None and not prediction.empty:
        show_steps(prediction.preprocessed.steps)
        show_why(classifier, prediction.preprocessed.image28, prediction.probabilities)


def input_mode() -> str:
    return st.segmented_control("Input", ["Draw", "Upload", "Camera", "Test image"], default="Draw", key="predict_input",
                                required=True, label_visibility="collapsed",
                                format_func={"Draw": ":material/draw: Draw", "Upload": ":material/upload: Upload",
                                             "Camera": ":material/photo_camera: Camera",
                                             "Test image": ":material/casino: Test image"}.get)


@st.fragment
def draw(classifier) -> None:
    """A fragment: a stroke reruns only this part, so the answer comes back fast."""
    from streamlit_drawable_canvas import st_canvas

    left, right = two_columns()
    with left:
        # 12 px on the 280 px canvas is ~1.5-2 px once a garment is shrunk to 28x28, as thin as the
        # outlines the robust model learned, and two trouser legs drawn ~25 px apart keep a gap
        # between them (at 24 px, the old default, they merge into one shape).
        brush = st.slider("Brush", 4, 60, 12, key="brush",
                          help="Thin strokes keep the gaps that tell garments apart (between trouser legs, under "
                               "a sleeve). Thick ones are quicker for filling a shape in.")
        figures.import_pandas()  # st_canvas imports it; see figures._pandas_gate
        canvas = st_canvas(stroke_width=brush, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw", return_image_data=True, key="canvas")
        st.caption("Draw one garment, large and upright: its outline, or fill it in. "
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
            prediction, took = predict_bytes(classifier, canvas.image_bytes)
            if prediction is not None:
                show_prediction(prediction, took, what=f"Your drawing ({len(objects)} stroke"
                                                       f"{'s' if len(objects) != 1 else ''})")
    below(classifier, prediction)


def upload_or_camera(classifier, mode: str) -> None:
    """A file or a camera shot, cropped to one garment, then its prediction."""
    left, right = two_columns()
    with left:
        if mode == "Upload":
            file = st.file_uploader("A picture of one garment", key="image_upload",
                                    help="PNG, JPEG, WebP, GIF or BMP. A plain background works best.")
        else:
            file = st.camera_input("Photograph one garment on a plain background", key="camera")
        picture = None
        if file is not None:
            from model.files.image_files import decode_image

            picture, _ = attempt(lambda: decode_image(file.getvalue()))
            if picture is not None:
                picture = cropped(picture, key=f"crop_{file.file_id}")
    prediction = None
    with right:
        if file is None:
            st.info("Works best with one garment, flat or hanging, on a plain background that differs from it.",
                    icon=":material/photo_camera:" if mode == "Camera" else ":material/upload:")
        elif picture is not None:
            from model.files.predict import predict_image

            prediction, took = attempt(lambda: predict_image(classifier, picture))
            if prediction is not None:
                show_prediction(prediction, took)
    below(classifier, prediction)


def test_image(classifier, have_dataset: bool) -> None:
    """A random Fashion-MNIST test image, read as it is, with its true class."""
    data = dataset_box.dataset() if have_dataset else None
    if data is None:
        st.info("Random test images come from Fashion-MNIST, which is not on this server (see above).",
                icon=":material/dataset:")
        return
    images, labels = data["test"]
    if "test_index" not in st.session_state:
        st.session_state.test_index = int(np.random.default_rng().integers(len(images)))
    left, right = two_columns()
    with left:
        if st.button("Pick another test image", icon=":material/casino:", key="another"):
            st.session_state.test_index = int(np.random.default_rng().integers(len(images)))
        index = st.session_state.test_index
        image28 = images[index]
        st.image(pictures.enlarge(image28, 8), caption=f"Test image #{index}: {a_or_an(CLASSES[labels[index]])}", width=224)
        st.caption("Test images are already 28×28 Fashion-MNIST pictures: the model reads them as they are.")
    from model.files.predict import predict_dataset_image

    started = time.perf_counter()
    prediction = predict_dataset_image(classifier, image28)
    with right:
        took = (time.perf_counter() - started) * 1000
        show_answer(prediction.probabilities, true_label=int(labels[index]),
                    note=f"Classified on the server in {took:.1f} ms." if took < 10 else
                    f"Classified on the server in {took:.0f} ms.")
    show_why(classifier, image28, prediction.probabilities)


layout.header("predict")
shipped, shipped_errors = _shipped()
store = session.run_store()
session.collect_finished_job()
classifier = choose_model(shipped, shipped_errors, store)
if classifier is None:
    st.info("Choose a model in the sidebar: a shipped one, one you trained, or a checkpoint file.",
            icon=":material/arrow_back:")
    st.stop()
have_dataset = dataset_box.dataset_notice("Predict still works: draw, upload or photograph a garment "
                                     "(only the random test images need the dataset).")
mode = input_mode()
if mode == "Draw":
    draw(classifier)
elif mode in ("Upload", "Camera"):
    upload_or_camera(classifier, mode)
else:
    test_image(classifier, have_dataset)
resources.warm_up()
