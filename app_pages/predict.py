"""Predict: show the model a garment (drawn, uploaded, photographed or from the test set) and see why it decides."""
import hashlib
import time

import numpy as np
import streamlit as st

from model.files.checkpoint import CheckpointError
from model.files.image_files import ImageError
from model.files.preprocess import MIN_GARMENT
from ui import dataset_box, figures, i18n, layout, pictures, resources, session
from ui.i18n import explain, t
from ui.lesson_code import lesson_code
from ui.softmax_explorer import softmax_explorer
from ui.teach_step import model_in_use, teach_one_step
from ui.why_not import why_not_section

# The models that ship with the app, the default first. How each is listed is the catalog's
# "predict.model.<name>" ({acc}: its test accuracy), and the sidebar's caption saying which model
# is in use and why the default is the default "predict.model.in_use_<name>".
SHIPPED = ("robust", "best")

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
            errors.append(t("predict.model.shipped_broken", name=name, error=explain(error)))
    return models, errors


def choose_model(shipped: dict, shipped_errors: list[str], store):
    """The sidebar's model picker: a shipped model, a saved run or an uploaded checkpoint; None until one loads."""
    records = store.list()
    options = [f"pretrained:{name}" for name in shipped] + [f"run:{r.id}" for r in records] + ["upload"]
    if st.session_state.get("predict_model") not in options:
        st.session_state.predict_model = options[0]
    chooser = st.radio if len(options) <= 7 else st.selectbox  # more than four saved runs get a menu
    shown = layout.plain if chooser is st.radio else str  # radio options are markdown, a menu's are text
    names = {f"run:{run_id}": t("predict.model.run", name=shown(name)) for run_id, name in layout.run_names(records).items()}
    for name, model in shipped.items():
        names[f"pretrained:{name}"] = t(f"predict.model.{name}", acc=model.metadata.get("test_acc", 0))
    names["upload"] = t("predict.model.upload")

    with st.sidebar:
        st.header(t("predict.model.header"))
        choice = chooser(t("predict.model.which"), options, key="predict_model", format_func=names.get,
                         help=t("predict.model.help"))
        for error in shipped_errors:
            st.warning(error)
        classifier = None
        if choice.startswith("pretrained:"):
            classifier = shipped[choice.removeprefix("pretrained:")]
            st.caption(t(f"predict.model.in_use_{choice.removeprefix('pretrained:')}"))
        elif choice.startswith("run:"):
            try:
                classifier = store.load_classifier(choice[4:])
            except Exception as error:  # noqa: BLE001 - a damaged or deleted run is a message
                st.error(t("predict.model.run_broken", error=explain(error)))
        else:
            upload = st.file_uploader(t("predict.model.checkpoint"), type=["safetensors"],
                                      key="checkpoint_upload")
            if upload is not None:
                from model.files import checkpoint

                try:
                    classifier = checkpoint.from_bytes(upload.getvalue())
                    acc = classifier.metadata.get("test_acc")
                    st.success(t("predict.model.loaded_acc", name=layout.plain(upload.name), acc=acc) if acc
                               else t("predict.model.loaded", name=layout.plain(upload.name)))
                except CheckpointError as error:
                    st.error(explain(error))
    return classifier


# --- showing a prediction --------------------------------------------------------------------

def confidence_words(p: float) -> str:
    return t("predict.answer.very_sure" if p >= 0.9 else "predict.answer.fairly_sure" if p >= 0.6
             else "predict.answer.unsure")


def show_answer(probabilities: np.ndarray, true_label: int | None = None, note: str | None = None) -> None:
    order = np.argsort(-probabilities)
    top, second = int(order[0]), int(order[1])
    with st.container(key="prediction"):
        st.markdown(t("predict.answer.heading", name=layout.class_name(top)))
        line = t("predict.answer.line", p=probabilities[top], words=confidence_words(probabilities[top]),
                 second=layout.class_name(second), q=probabilities[second])
        if true_label is not None:
            line += (t("predict.answer.right") if true_label == top
                     else t("predict.answer.wrong", what=layout.class_name(true_label, article=True)))
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


def step_name(name: str) -> str:
    """A preprocessing step's name (model/files/preprocess.py names them in English) in this
    run's language: the catalog's "predict.steps.<name>", the name itself for one it lacks."""
    key = f"predict.steps.{name}"
    return t(key) if key in i18n.catalog(i18n.DEFAULT) else name


def show_steps(steps) -> None:
    st.markdown(t("predict.answer.steps_title"))
    # From the third step on the garment is light on black: pad with black.
    pictures.image_grid([square(picture, None if i < 2 else 0) for i, (_, picture) in enumerate(steps)],
                        [step_name(name) for name, _ in steps], width=100)  # three in a row on a phone


def show_why(classifier, image28: np.ndarray, probabilities: np.ndarray) -> None:
    label = int(np.argmax(probabilities))
    contributions = classifier.contributions(image28, label)
    logit = float(contributions.sum() + classifier.bias[label])
    name = layout.class_name(label)
    st.markdown(t("predict.why.title", name=name))
    # 6x28 px each: side by side on a phone too, no larger than the picture they explain; 8x28
    # where the column holds that (ui.layout's CSS): on a desktop, made wide enough for it.
    left, right = st.columns([1.15, 0.85], vertical_alignment="center")
    with left.container(key="why_pair"):
        pictures.image_grid([image28, pictures.template_pictures(classifier.weight)[label]],
                            [t("predict.why.input"), t("predict.why.template", name=name)], width=168)
    right.plotly_chart(figures.heatmap_figure(contributions, height=300), config=figures.PLOTLY_CONFIG,
                       key="contributions")
    right.caption(t("predict.why.heatmap"))
    st.caption(t("predict.why.caption", name=name, bias=float(classifier.bias[label]), logit=logit))


def show_prediction(prediction, took: float, what: str | None = None) -> None:
    """A Prediction from model.files.predict: the answer, the preprocessing steps, and why.
    `what`: the timing note's subject (default "The picture")."""
    if prediction.empty:
        st.info(explain(prediction.message), icon=":material/info:")
        show_steps(prediction.preprocessed.steps)
        return
    show_answer(prediction.probabilities,
                note=t("predict.answer.timing", what=what or t("predict.answer.the_picture"), ms=took * 1000))


def attempt(work):
    """(work()'s result or None, seconds it took): an unusable picture becomes a message, never a traceback."""
    started = time.perf_counter()
    try:
        return work(), time.perf_counter() - started
    except ImageError as error:
        st.error(explain(error), icon=":material/broken_image:")
    except Exception as error:  # noqa: BLE001 - never a traceback on the page
        st.error(t("predict.answer.unusable", kind=type(error).__name__, error=error))
    return None, 0.0


def predict_bytes(classifier, data: bytes):
    """(Prediction or None, seconds) for a file's bytes."""
    from model.files.predict import predict_bytes

    return attempt(lambda: predict_bytes(classifier, data))


CROP_PREVIEW = 300  # px, the crop box's picture along its longest side: fits the left column, and a phone
# px, the crop box's line. The cropper draws it outside the box's width and height, so a box as
# large as the picture has its right and bottom sides, and their corners, off the canvas: the
# first box is smaller by this much, and counts as the whole picture.
CROP_LINE = 3


def cropped(picture, key: str):
    """The part of `picture` inside a box the user drags over it (streamlit-cropper); the whole
    picture until the box is moved. `key` must be new for each picture, so a new one starts uncropped."""
    from PIL import Image

    from model.files.image_files import to_rgb_or_l

    st_cropper = resources.import_component("streamlit_cropper").st_cropper

    width, height = picture.size
    scale = CROP_PREVIEW / max(width, height)
    preview = to_rgb_or_l(picture).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                          Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BOX)
    first = (0, preview.width - CROP_LINE, 0, preview.height - CROP_LINE)
    box = st_cropper(preview, default_coords=first, return_type="box", should_resize_image=False,
                     box_color="#ff4b4b", stroke_width=CROP_LINE, key=key)
    st.caption(t("predict.upload.crop"))
    if (box["left"], box["top"], box["width"], box["height"]) == (0, 0, first[1], first[3]):
        return picture  # not moved yet (a moved box is reported with its line)
    left = min(max(0, round(box["left"] / scale)), width - 1)
    top = min(max(0, round(box["top"] / scale)), height - 1)
    right = min(max(left + 1, round((box["left"] + box["width"]) / scale)), width)
    bottom = min(max(top + 1, round((box["top"] + box["height"]) / scale)), height)
    return picture.crop((left, top, right, bottom))


def two_columns():
    return st.columns([1, 1.25], gap="large")


def below(chosen, prediction) -> None:
    if prediction is not None and not prediction.empty:
        show_steps(prediction.preprocessed.steps)
        take_apart(chosen, prediction.preprocessed.image28, prediction.probabilities)


def take_apart(chosen, image28: np.ndarray, probabilities: np.ndarray, true_label: int | None = None) -> None:
    """The prediction taken apart, step by step as the lesson builds it: each pixel's vote, why
    not the runner-up (or the true class it missed), softmax on these very numbers, one SGD step
    on this picture (with undo), and the lesson's code. `chosen`: the model picked in the
    sidebar, before any step taught it."""
    classifier = model_in_use(chosen)
    show_why(classifier, image28, probabilities)
    # Asked for, not drawn with every answer: a stroke's answer stays fast, and a class of 30
    # clicking through test images doesn't pay for sections nobody opened.
    if not st.toggle(t("predict.lesson.toggle"), key="take_apart", help=t("predict.lesson.toggle_help")):
        return
    order = np.argsort(-probabilities)
    predicted = int(order[0])
    other = true_label if true_label is not None and true_label != predicted else int(order[1])
    why_not_section(classifier, image28, predicted, other)
    # Keyed by the picture, so a new picture starts the explorer on its own top class.
    picture = hashlib.blake2b(np.ascontiguousarray(image28).tobytes(), digest_size=6).hexdigest()
    softmax_explorer(classifier.logits(np.asarray(image28)[None])[0], [layout.class_name(k) for k in range(10)],
                     key=f"explorer_{picture}")
    teach_one_step(chosen, image28)
    for column, step in zip(st.columns(2), ("softmax", "accuracy")):
        with column:
            lesson_code(step)


def input_mode() -> str:
    # The values stay English (the session and the tests use them); what is shown comes from the catalog.
    shown = {"Draw": t("predict.input.draw"), "Upload": t("predict.input.upload"), "Camera": t("predict.input.camera"),
             "Test image": t("predict.input.test_image")}
    return st.segmented_control(t("predict.input.label"), list(shown), default="Draw", key="predict_input",
                                required=True, label_visibility="collapsed", format_func=shown.get)


@st.fragment
def draw(classifier) -> None:
    """A fragment: a stroke reruns only this part, so the answer comes back fast."""
    st_canvas = resources.import_component("streamlit_drawable_canvas").st_canvas
    left, right = two_columns()
    with left:
        # 12 px on the 280 px canvas is ~1.5-2 px once a garment is shrunk to 28x28, as thin as the
        # outlines the robust model learned, and two trouser legs drawn ~25 px apart keep a gap
        # between them (at 24 px, the old default, they merge into one shape).
        brush = st.slider(t("predict.draw.brush"), 4, 60, 12, key="brush", help=t("predict.draw.brush_help"))
        glance = st.empty()  # the answer in one line right above the canvas, where the columns stack (ui.layout's CSS)
        figures.import_pandas()  # st_canvas imports it; see figures._pandas_gate
        canvas = st_canvas(stroke_width=brush, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw", return_image_data=True, key="canvas")
        st.caption(t("predict.draw.caption"))
        # data=b"": a dict payload would make Streamlit import pandas to look for dataframes in it.
        SEND_ON_STROKE_END(key="send_on_stroke_end", data=b"")
    objects = (canvas.json_data or {}).get("objects") or []
    prediction = None
    with right:
        if not objects or canvas.image_bytes is None:
            st.info(t("predict.draw.empty"), icon=":material/draw:")
        else:
            prediction, took = predict_bytes(model_in_use(classifier), canvas.image_bytes)
            if prediction is not None:
                what = t("predict.draw.what_one" if len(objects) == 1 else "predict.draw.what_many", count=len(objects))
                show_prediction(prediction, took, what=what)
    with glance.container(key="answer_glance"):
        if prediction is not None and not prediction.empty:
            top = int(np.argmax(prediction.probabilities))
            st.markdown(t("predict.draw.glance", name=layout.class_name(top), p=prediction.probabilities[top]))
        else:
            st.caption(t("predict.draw.glance_empty"))
    below(classifier, prediction)


def upload_or_camera(classifier, mode: str) -> None:
    """A file or a camera shot, cropped to one garment, then its prediction."""
    left, right = two_columns()
    with left:
        if mode == "Upload":
            file = st.file_uploader(t("predict.upload.file"), key="image_upload", help=t("predict.upload.file_help"))
        else:
            file = st.camera_input(t("predict.upload.camera"), key="camera")
        picture = None
        if file is not None:
            from model.files.image_files import decode_image

            picture, _ = attempt(lambda: decode_image(file.getvalue()))
            if picture is not None and min(picture.size) >= MIN_GARMENT:  # a speck has nothing to crop: the answer says so
                picture = cropped(picture, key=f"crop_{file.file_id}")
    prediction = None
    with right:
        if file is None:
            st.info(t("predict.upload.empty"),
                    icon=":material/photo_camera:" if mode == "Camera" else ":material/upload:")
        elif picture is not None:
            from model.files.predict import predict_image

            prediction, took = attempt(lambda: predict_image(model_in_use(classifier), picture))
            if prediction is not None:
                show_prediction(prediction, took)
    below(classifier, prediction)


@st.fragment
def test_image(classifier, have_dataset: bool) -> None:
    """A fragment: a random Fashion-MNIST test image, read as it is, with its true class. "Another"
    reruns only this part, as a stroke does in draw()."""
    data = dataset_box.dataset() if have_dataset else None
    if data is None:
        st.info(t("predict.test_image.no_dataset"), icon=":material/dataset:")
        return
    images, labels = data["test"]
    if "test_index" not in st.session_state:
        st.session_state.test_index = int(np.random.default_rng().integers(len(images)))
    left, right = two_columns()
    with left:
        if st.button(t("predict.test_image.another"), icon=":material/casino:", key="another"):
            st.session_state.test_index = int(np.random.default_rng().integers(len(images)))
        index = st.session_state.test_index
        image28 = images[index]
        pictures.picture(image28, t("predict.test_image.caption", index=index,
                                    what=layout.class_name(labels[index], article=True)), 224)
        st.caption(t("predict.test_image.as_they_are"))
    from model.files.predict import predict_dataset_image

    started = time.perf_counter()
    prediction = predict_dataset_image(model_in_use(classifier), image28)
    with right:
        took = (time.perf_counter() - started) * 1000
        show_answer(prediction.probabilities, true_label=int(labels[index]),
                    note=t("predict.test_image.timing_fast" if took < 10 else "predict.test_image.timing", ms=took))
    take_apart(classifier, image28, prediction.probabilities, true_label=int(labels[index]))


layout.header("predict")
shipped, shipped_errors = _shipped()
store = session.run_store()
session.collect_finished_job()
classifier = choose_model(shipped, shipped_errors, store)
if classifier is None:
    st.info(t("predict.choose_model"), icon=":material/arrow_back:")
    st.stop()
have_dataset = dataset_box.dataset_notice(t("predict.dataset_extra"))
mode = input_mode()
if mode == "Draw":
    draw(classifier)
elif mode in ("Upload", "Camera"):
    upload_or_camera(classifier, mode)
else:
    test_image(classifier, have_dataset)
resources.warm_up()
