"""Every page under Streamlit's AppTest: it renders without an exception, its main widgets
exist, and the Train page's training leaves a run with metrics in the session."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(page: str | None = None, **session) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def finish_training(at: AppTest, timeout: float = 120) -> None:
    job = at.session_state["train_job"]
    assert job.wait(timeout), "training did not finish"
    at.run()
    assert_clean(at)


# --- Home ---------------------------------------------------------------------------------

def test_home_renders_with_formulas_and_the_overflow_demo():
    at = open_page()
    assert at.title[0].value == "Softmax Studio"
    assert len(at.latex) >= 3
    at.toggle(key="overflow_demo").set_value(True).run()
    assert_clean(at)
    assert "both agree" in texts(at)
    at.slider[0].set_value(50).run()
    assert "NaN" in texts(at)


# --- Dataset ------------------------------------------------------------------------------

def test_dataset_page_renders_its_widgets_and_charts(dataset_available):
    at = open_page("dataset")
    assert at.title[0].value == "Dataset"
    assert at.segmented_control(key="ds_split").value == "train"
    assert at.multiselect(key="ds_classes").value == []
    assert at.number_input(key="ds_index").value is None
    assert at.button[0].label == "New random sample"
    assert len(at.get("plotly_chart")) == 3  # class counts, histogram, PCA
    assert "32 of 60,000 train images (a random sample)" in texts(at)


def test_dataset_filters_jumps_and_switches_split(dataset_available):
    at = open_page("dataset")
    at.multiselect(key="ds_classes").set_value([1]).run()
    assert "of 6,000 train images" in texts(at)
    at.number_input(key="ds_index").set_value(100).run()
    assert "from index 100 on" in texts(at)
    at.segmented_control(key="ds_split").set_value("test").run()
    assert_clean(at)
    assert "of 1,000 test images" in texts(at)
    at.button[0].click().run()  # a fresh random sample clears the index
    assert at.number_input(key="ds_index").value is None
    assert "(a random sample)" in texts(at)


# --- Train --------------------------------------------------------------------------------

SETTINGS = ["cfg_preset", "cfg_impl", "cfg_epochs", "cfg_lr", "cfg_batch_size", "cfg_optimizer", "cfg_schedule",
            "cfg_normalize", "cfg_weight_decay", "cfg_init_std", "cfg_naive_softmax", "cfg_seed"]


def test_train_page_has_every_setting_and_the_presets(dataset_available):
    at = open_page("train")
    assert at.title[0].value == "Train"
    for key in SETTINGS:
        assert key in at.session_state, key
    assert at.selectbox(key="cfg_preset").value == "lesson"
    assert at.radio(key="cfg_impl").value == "concise"
    assert at.slider(key="cfg_epochs").value == 10
    assert at.number_input(key="cfg_lr").value == 0.1
    assert at.button(key="start").label == "Start training"
    at.selectbox(key="cfg_preset").set_value("best").run()
    assert_clean(at)
    from model.config import PRESETS

    best = PRESETS["best"]
    assert at.selectbox(key="cfg_optimizer").value == best.optimizer
    assert at.number_input(key="cfg_lr").value == best.lr
    assert at.slider(key="cfg_epochs").value == best.epochs
    assert at.checkbox(key="cfg_naive_softmax").disabled  # only the from-scratch softmax can be naive
    assert "No runs yet" in texts(at)


def test_a_short_training_leaves_a_run_with_metrics_in_the_session(dataset_available):
    at = open_page("train")
    at.radio(key="cfg_impl").set_value("scratch")
    at.slider(key="cfg_epochs").set_value(2).run()
    at.button(key="start").click().run()
    assert_clean(at)
    assert at.button(key="start").disabled  # one training at a time per session
    finish_training(at)
    runs = at.session_state["run_store"].list()
    assert len(runs) == 1
    run = runs[0]
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert run.config["impl"] == "scratch" and 0.75 < run.test_acc < 0.9
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{run.test_acc:.1%}" and metrics["Epochs"] == "2 of 2"
    assert len(at.get("plotly_chart")) >= 3  # curves, confusion matrix, per-class accuracy
    assert at.get("download_button")
    assert not at.button(key="start").disabled

    # A second run: both are listed and their curves can be overlaid.
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)
    assert len(at.session_state["run_store"].list()) == 2
    assert len(at.multiselect(key="compare_runs").value) == 2
    assert at.dataframe


def test_stop_keeps_what_was_learned(dataset_available):
    at = open_page("train")
    at.slider(key="cfg_epochs").set_value(50).run()
    at.button(key="start").click().run()
    job = at.session_state["train_job"]
    import time

    deadline = time.time() + 60
    while not job.snapshot().points and time.time() < deadline:
        time.sleep(0.05)
    at.run()
    at.button(key="stop_job").click().run()
    assert_clean(at)
    assert job.finished and job.result.stopped
    assert "the weights learned up to the stop are kept" in texts(at)
    run = at.session_state["run_store"].list()[0]
    assert "stopped in epoch" in run.name and run.test_acc > 0.5


def test_divergence_is_a_plain_message_and_keeps_the_last_good_weights(dataset_available):
    at = open_page("train")
    at.radio(key="cfg_impl").set_value("scratch").run()
    at.checkbox(key="cfg_naive_softmax").check()
    at.number_input(key="cfg_lr").set_value(10.0)
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)
    errors = [e.value for e in at.error]
    assert any("too large" in e and "smaller" in e for e in errors), errors
    run = at.session_state["run_store"].list()[0]
    assert "diverged" in run.name
    classifier = at.session_state["run_store"].load_classifier(run.id)
    assert np.isfinite(classifier.weight).all()


# --- Predict ------------------------------------------------------------------------------

def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


def test_predict_page_renders_with_the_pretrained_model():
    at = open_page("predict")
    assert at.title[0].value == "Predict"
    assert at.radio(key="predict_model").value == "pretrained"
    assert at.segmented_control(key="predict_input").value == "Draw"
    assert at.slider(key="brush").value == 24
    assert "Draw a garment" in texts(at)


def test_predict_a_random_test_image(dataset_available):
    at = open_page("predict")
    at.segmented_control(key="predict_input").set_value("Test image").run()
    assert_clean(at)
    assert "Prediction:" in texts(at) and "confident" in texts(at)
    assert len(at.get("plotly_chart")) == 2  # probabilities, contributions
    at.session_state["test_index"] = -1
    at.button(key="another").click().run()  # draws a new random index
    assert_clean(at)
    assert 0 <= at.session_state["test_index"] < 10_000


def test_predict_an_upload_and_refuse_a_non_image(dataset_available):
    from model.data import load_split_numpy

    images, labels = load_split_numpy("test")
    trouser = images[np.flatnonzero(labels == 1)[0]]
    photo = np.kron(255 - trouser, np.ones((8, 8), dtype=np.uint8))  # dark on white, 224x224
    at = open_page("predict")
    at.segmented_control(key="predict_input").set_value("Upload").run()
    at.file_uploader(key="image_upload").upload("trouser.png", png(photo), "image/png").run()
    assert_clean(at)
    assert "Prediction: **Trouser" in texts(at)
    at.file_uploader(key="image_upload").upload("notes.txt", b"hello, not a picture", "text/plain").run()
    assert_clean(at)
    assert any("Unsupported file" in e.value for e in at.error)


def test_predict_with_an_uploaded_checkpoint_or_a_broken_one(tmp_path):
    from model import checkpoint

    at = open_page("predict")
    at.radio(key="predict_model").set_value("upload").run()
    assert "Choose a model" in texts(at)
    at.file_uploader(key="checkpoint_upload").upload("bad.safetensors", b"\x80\x04 pickle", "application/octet-stream").run()
    assert_clean(at)
    assert any("pickle" in e.value.lower() for e in at.error)
    data = checkpoint.to_bytes(checkpoint.load())
    at.file_uploader(key="checkpoint_upload").upload("model.safetensors", data, "application/octet-stream").run()
    assert_clean(at)
    assert any("Loaded model.safetensors" in s.value for s in at.success)
    assert "Draw a garment" in texts(at)


def test_a_run_can_be_used_on_predict(dataset_available):
    at = open_page("train")
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)
    run = at.session_state["run_store"].list()[0]
    at.button(key="use_on_predict").click().run()
    assert_clean(at)
    assert at.title[0].value == "Predict"
    assert at.radio(key="predict_model").value == f"run:{run.id}"


# --- without the dataset ------------------------------------------------------------------

@pytest.fixture
def no_dataset(tmp_path, monkeypatch):
    from pages import common

    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))  # an empty folder, named explicitly
    common._split.clear()
    yield
    monkeypatch.delenv("FASHION_MNIST_DIR")
    common._split.clear()


@pytest.mark.parametrize("page", ["dataset", "train"])
def test_a_missing_dataset_is_one_clear_box_with_the_fix(no_dataset, page):
    at = open_page(page)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Fashion-MNIST is not available" in errors[0]
    assert "apt-get install dataset-fashion-mnist" in errors[0] and "FASHION_MNIST_DIR" in errors[0]
    assert at.button(key="download_dataset").label.startswith("Download Fashion-MNIST")


def test_predict_still_works_without_the_dataset(no_dataset):
    at = open_page("predict")
    assert not at.error
    assert at.radio(key="predict_model").value == "pretrained"
    at.segmented_control(key="predict_input").set_value("Upload").run()
    photo = np.zeros((100, 100), dtype=np.uint8)
    photo[20:80, 40:60] = 255
    at.file_uploader(key="image_upload").upload("shape.png", png(photo), "image/png").run()
    assert_clean(at)
    assert "Prediction:" in texts(at)
    at.segmented_control(key="predict_input").set_value("Test image").run()
    assert_clean(at)
    assert any("Fashion-MNIST is not available" in e.value for e in at.error)
