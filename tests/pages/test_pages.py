"""Every page under Streamlit's AppTest: it renders without an exception, its main widgets
exist, and the Train page's training leaves a run with metrics in the session."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path, monkeypatch):
    """Each test: local mode, an empty runs folder of its own, and settings read anew."""
    from pages import common

    monkeypatch.setenv("SOFTMAX_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("SOFTMAX_STUDIO_HOSTED", raising=False)
    common._settings.clear()
    common._disk_store.clear()
    yield tmp_path / "runs"
    common._settings.clear()
    common._disk_store.clear()


def store(at: AppTest):
    """The run store the app used: this session's (hosted) or the runs folder (local)."""
    import os

    from model.runs import RunStore

    if "run_store" in at.session_state:
        return at.session_state["run_store"]
    return RunStore(os.environ["SOFTMAX_STUDIO_RUNS_DIR"])


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


def test_the_warm_up_runs():
    from pages.common import warm_up_work

    warm_up_work()  # raises if an import or the engine's API drifted


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
    assert "start" not in [b.key for b in at.button]  # one training at a time per session: Start became Stop
    assert at.button(key="stop_job")
    finish_training(at)
    runs = store(at).list()
    assert len(runs) == 1
    run = runs[0]
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert run.config["impl"] == "scratch" and 0.75 < run.test_acc < 0.9
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{run.test_acc:.1%}" and metrics["Epochs"] == "2 of 2"
    assert len(at.get("plotly_chart")) >= 3  # curves, confusion matrix, per-class accuracy
    assert at.get("download_button")
    assert not at.button(key="start").disabled and "stop_job" not in [b.key for b in at.button]

    # A second run: both are listed and their curves can be overlaid.
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)
    assert len(store(at).list()) == 2
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
    run = store(at).list()[0]
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
    run = store(at).list()[0]
    assert "diverged" in run.name
    classifier = store(at).load_classifier(run.id)
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
    run = store(at).list()[0]
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


@pytest.mark.parametrize("page", [None, "dataset", "train", "predict"])
def test_a_missing_dataset_is_one_clear_box_with_the_fix(no_dataset, page):
    at = open_page(page)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Fashion-MNIST is not on this server" in errors[0]
    assert "apt-get install dataset-fashion-mnist" in errors[0] and "FASHION_MNIST_DIR" in errors[0]
    assert at.button(key="download_dataset").label.startswith("Download Fashion-MNIST")


def test_predict_still_works_without_the_dataset(no_dataset):
    at = open_page("predict")
    assert "Predict still works" in at.error[0].value
    assert at.radio(key="predict_model").value == "pretrained"
    at.segmented_control(key="predict_input").set_value("Upload").run()
    photo = np.zeros((100, 100), dtype=np.uint8)
    photo[20:80, 40:60] = 255
    at.file_uploader(key="image_upload").upload("shape.png", png(photo), "image/png").run()
    assert_clean(at)
    assert "Prediction:" in texts(at)
    at.segmented_control(key="predict_input").set_value("Test image").run()
    assert_clean(at)
    assert len(at.error) == 1  # still one box
    assert any("test images come from fashion-mnist" in i.value.lower() for i in at.info)


# --- shareable setups (query parameters) --------------------------------------------------

def open_link(query: dict, **env) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/train.py")
    at.query_params.update(query)
    at.run()
    assert_clean(at)
    return at


def test_a_link_opens_the_same_setup(dataset_available):
    at = open_link({"preset": "best", "lr": "0.003", "epochs": "7", "impl": "scratch", "optimizer": "momentum"})
    assert at.selectbox(key="cfg_preset").value == "best"
    assert at.number_input(key="cfg_lr").value == 0.003
    assert at.slider(key="cfg_epochs").value == 7
    assert at.radio(key="cfg_impl").value == "scratch"
    assert at.selectbox(key="cfg_optimizer").value == "momentum"
    assert at.selectbox(key="cfg_normalize").value == "standardize"  # from the preset
    assert not at.warning
    # The URL now holds the whole setup, and the share box shows it.
    assert at.query_params["lr"] == "0.003" and at.query_params["epochs"] == "7"
    assert any("lr=0.003" in c.value and "epochs=7" in c.value for c in at.code)


def test_bad_values_in_a_link_are_corrected_with_a_visible_note(dataset_available):
    at = open_link({"lr": "abc", "epochs": "100000", "batch_size": "-5", "optimizer": "rmsprop",
                    "seed": "1.5", "preset": "fastest", "naive_softmax": "maybe"})
    notes = "\n".join(w.value for w in at.warning)
    from model.config import TrainConfig

    from model.settings import Limits

    limits, default = Limits(), TrainConfig()
    assert "'abc'" in notes and "learning rate" in notes
    assert "100000" in notes and str(limits.max_epochs) in notes
    assert "'rmsprop'" in notes and "'fastest'" in notes and "'maybe'" in notes and "'1.5'" in notes
    assert at.number_input(key="cfg_lr").value == default.lr
    assert at.slider(key="cfg_epochs").value == limits.max_epochs
    assert at.number_input(key="cfg_batch_size").value == limits.min_batch_size
    assert at.selectbox(key="cfg_optimizer").value == default.optimizer
    assert at.number_input(key="cfg_seed").value == default.seed
    assert at.query_params["epochs"] == str(limits.max_epochs)  # the URL now holds what is used
    # The notes stay until the learner changes a setting.
    at.run()
    assert at.warning
    at.slider(key="cfg_epochs").set_value(3).run()
    assert not at.warning


def test_changing_a_setting_updates_the_url(dataset_available):
    at = open_page("train")
    at.number_input(key="cfg_lr").set_value(0.25).run()
    assert at.query_params["lr"] == "0.25"
    at.run()  # the page's own URL is not mistaken for a new link
    assert at.number_input(key="cfg_lr").value == 0.25 and not at.warning


# --- where runs are kept -------------------------------------------------------------------

def train_one_epoch(at: AppTest) -> None:
    at.slider(key="cfg_epochs").set_value(1).run()
    at.button(key="start").click().run()
    finish_training(at)


def test_locally_a_run_is_saved_and_listed_in_a_fresh_session(dataset_available, fresh_settings):
    at = open_page("train")
    train_one_epoch(at)
    assert (fresh_settings).is_dir() and len(list(fresh_settings.iterdir())) == 1
    fresh = open_page("train")  # a new browser session (and, as far as the store knows, a restart)
    runs = store(fresh).list()
    assert len(runs) == 1
    assert any(runs[0].name in str(s.value) for s in fresh.subheader)
    assert "listed again after a restart" in texts(fresh)


def test_hosted_runs_stay_in_their_session(dataset_available, monkeypatch):
    from pages import common

    monkeypatch.setenv("SOFTMAX_STUDIO_HOSTED", "1")
    common._settings.clear()
    at = open_page("train")
    train_one_epoch(at)
    assert len(store(at).list()) == 1
    fresh = open_page("train")
    assert store(fresh).list() == []
    assert "No runs yet" in texts(fresh)
    assert not Path(__import__("os").environ["SOFTMAX_STUDIO_RUNS_DIR"]).exists()  # nothing on disk


def test_runs_can_be_renamed_and_deleted(dataset_available):
    at = open_page("train")
    train_one_epoch(at)
    run = store(at).list()[0]
    at.text_input(key=f"rename_{run.id}").set_value("my first model")
    at.button(key="rename_run").click().run()
    assert_clean(at)
    assert store(at).get(run.id).name == "my first model"
    assert any("my first model" in s.value for s in at.subheader)
    at.text_input(key=f"rename_{run.id}").set_value("   ")
    at.button(key="rename_run").click().run()
    assert any("can't be empty" in e.value for e in at.error)
    at.button(key="delete_run").click().run()
    assert_clean(at)
    assert store(at).list() == []
    assert "No runs yet" in texts(at)


def test_a_photo_from_the_camera_is_predicted(dataset_available):
    from model.data import load_split_numpy

    images, labels = load_split_numpy("test")
    bag = images[np.flatnonzero(labels == 8)[0]]
    at = open_page("predict")
    at.segmented_control(key="predict_input").set_value("Camera").run()
    assert_clean(at)
    photo = io.BytesIO()
    Image.fromarray(np.kron(255 - bag, np.ones((10, 10), np.uint8))).convert("RGB").save(photo, "JPEG")
    at.camera_input(key="camera").upload("photo.jpg", photo.getvalue(), "image/jpeg").run()
    assert_clean(at)
    assert "Prediction:" in texts(at)


def test_a_second_training_waits_in_line_and_can_be_cancelled(dataset_available, monkeypatch):
    from pages import common

    monkeypatch.setenv("SOFTMAX_STUDIO_MAX_TRAININGS", "1")
    common._settings.clear()
    common.training_queue.clear()
    try:
        first = open_page("train")
        first.slider(key="cfg_epochs").set_value(50).run()
        first.button(key="start").click().run()
        second = open_page("train")  # another browser session
        second.slider(key="cfg_epochs").set_value(1).run()
        second.button(key="start").click().run()
        assert_clean(second)
        assert "You are number **1** in line" in texts(second)
        second.button(key="stop_job").click().run()
        assert_clean(second)
        assert second.session_state["train_job"].status.value == "cancelled"
        assert "cancelled before it started" in texts(second)
        assert "start" in [b.key for b in second.button]
        first.session_state["train_job"].stop()
        finish_training(first)
    finally:
        common._settings.clear()
        common.training_queue.clear()


def test_the_first_page_imports_neither_torch_nor_torchvision():
    """Start-up stays fast: Home (and Predict) render without torch; the warm-up imports it
    in the background afterwards."""
    import subprocess
    import sys

    code = f"""
import sys
from streamlit.testing.v1 import AppTest
import pages.common as common
common.warm_up = lambda: None
at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60)
at.run()
assert not at.exception, at.exception
at.switch_page("pages/predict.py").run()
assert not at.exception, at.exception
print(sorted(m for m in ("torch", "torchvision") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
