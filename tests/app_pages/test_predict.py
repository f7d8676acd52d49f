"""app_pages/predict.py under AppTest: the two shipped models, a random test image, uploads and
their crop box, the camera, checkpoints, a run from Train, and Predict without the dataset."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.app_pages.conftest import assert_clean, decoded, open_page, pictures_shown, store, texts, train_one_epoch, untranslated


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


def test_predict_page_renders_with_the_robust_model_and_says_so():
    at = open_page("predict")
    assert at.title[0].value == "Predict"
    assert at.radio(key="predict_model").value == "pretrained:robust"
    assert "In use: the robust model, the default" in texts(at)
    assert at.segmented_control(key="predict_input").value == "Draw"
    assert at.slider(key="brush").value == 12
    assert "Draw a garment" in texts(at)


def test_both_shipped_models_are_listed_with_their_test_accuracy():
    from model.files import checkpoint

    at = open_page("predict")
    robust, best = (checkpoint.load(checkpoint.PRETRAINED.with_name(f"{name}.safetensors")).metadata["test_acc"]
                    for name in ("robust", "best"))
    options = at.radio(key="predict_model").options
    assert options[:2] == [f"Robust — for drawings and photos ({robust:.1%} on the test set)",
                           f"Best on the test set ({best:.1%})"]
    assert best > robust  # best stays the test-set champion
    at.radio(key="predict_model").set_value("pretrained:best").run()
    assert_clean(at)
    assert "In use: the `best` preset" in texts(at)


def two_garments() -> bytes:
    """A 360x180 PNG: a test-set trouser on the left half, a bag on the right, dark on white."""
    from model.files.data import load_split_numpy

    images, labels = load_split_numpy("test")
    trouser, bag = (255 - images[np.flatnonzero(labels == k)[0]] for k in (1, 8))
    photo = np.full((180, 360), 255, dtype=np.uint8)
    photo[6:174, 6:174] = np.kron(trouser, np.ones((6, 6), dtype=np.uint8))
    photo[6:174, 186:354] = np.kron(bag, np.ones((6, 6), dtype=np.uint8))
    return png(photo)


def test_the_crop_box_decides_what_is_predicted(dataset_available):
    """Cropping the two garments' picture to either one gives that one's answer. The box is in
    the preview's pixels: 300 wide, so a half is 150."""
    at = open_page("predict")
    at.segmented_control(key="predict_input").set_value("Upload").run()
    at.file_uploader(key="image_upload").upload("two.png", two_garments(), "image/png").run()
    assert_clean(at)
    assert "Drag the box" in texts(at)
    crop = f"crop_{at.session_state['image_upload'].file_id}"
    for left, answer in ((0, "Trouser"), (150, "Bag")):
        at.session_state[crop] = {"coords": {"left": left, "top": 0, "width": 150, "height": 150}}
        at.run()
        assert_clean(at)
        assert f"Prediction: **{answer}" in texts(at)


def test_a_picture_too_small_to_classify_gets_no_crop_box_and_says_why(dataset_available):
    at = open_page("predict")
    at.segmented_control(key="predict_input").set_value("Upload").run()
    at.file_uploader(key="image_upload").upload("dot.png", png(np.zeros((1, 1), np.uint8)), "image/png").run()
    assert_clean(at)
    assert "The picture is only 1×1 pixels: nothing to classify." in texts(at)
    assert "Drag the box" not in texts(at)


def test_predict_a_random_test_image(dataset_available):
    at = open_page("predict", take_apart=True)
    at.segmented_control(key="predict_input").set_value("Test image").run()
    assert_clean(at)
    assert "Prediction:" in texts(at) and "confident" in texts(at)
    # The answer's line and its bar give the same number: a 99.7% bar is not "100% confident".
    import json

    bars = json.loads(next(c for c in at.get("plotly_chart") if c.key == "probabilities").proto.spec)["data"][0]
    top = max(bars["text"], key=lambda text: float(text.rstrip("%")))
    assert f"{top} confident" in texts(at), top
    # probabilities, each pixel's contribution, why not the runner-up, softmax on these numbers
    assert len(at.get("plotly_chart")) == 4
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"probabilities", "contributions"} <= keys and any(k and k.startswith("explorer_") for k in keys)
    at.session_state["test_index"] = -1
    at.button(key="another").click().run()  # draws a new random index
    assert_clean(at)
    assert 0 <= at.session_state["test_index"] < 10_000


def test_predict_an_upload_and_refuse_a_non_image(dataset_available):
    from model.files.data import load_split_numpy

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
    from model.files import checkpoint

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
    train_one_epoch(at)
    run = store(at).list()[0]
    at.button(key="use_on_predict").click().run()
    assert_clean(at)
    assert at.title[0].value == "Predict"
    assert at.radio(key="predict_model").value == f"run:{run.id}"


def test_predict_still_works_without_the_dataset(no_dataset):
    at = open_page("predict")
    assert "Predict still works" in at.error[0].value
    assert at.radio(key="predict_model").value == "pretrained:robust"
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


def test_a_photo_from_the_camera_is_predicted(dataset_available):
    from model.files.data import load_split_numpy

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


def test_a_large_photo_goes_out_at_the_size_it_is_shown(dataset_available):
    from model.files.data import load_split_numpy

    images, labels = load_split_numpy("test")
    coat = np.kron(255 - images[np.flatnonzero(labels == 4)[0]], np.ones((24, 24), np.uint8))  # 672 px
    noise = np.random.default_rng(0).integers(0, 40, (768, 1024, 3), dtype=np.uint8)  # a camera's grain
    photo = np.full((768, 1024, 3), 215, np.uint8) - noise
    photo[48:720, 176:848] = np.minimum(photo[48:720, 176:848], coat[..., None])
    at = open_page("predict")
    at.segmented_control(key="predict_input").set_value("Upload").run()
    at.file_uploader(key="image_upload").upload("coat.png", png(photo), "image/png").run()
    assert_clean(at)
    assert "Prediction:" in texts(at)
    grid = next(e.proto.body for e in at.get("html") if "original" in e.proto.body)
    shown_width = int(re.search(r'width="(\d+)"', grid).group(1))
    original = decoded(next(url for caption, url in pictures_shown(at) if caption == "original"))
    # Shrunk for the 100 px it is shown at (twice that for sharp screens), not the 1024 px
    # decoded: every rerun of the page sends it again.
    assert max(original.size) <= 2 * shown_width < 1024
    assert len(grid) < 600_000, len(grid)


# --- in Chinese ----------------------------------------------------------------------------------

def test_predict_in_chinese_draw_mode_has_no_english_left():
    from ui import i18n

    at = open_page("predict", lang="zh")
    assert at.title[0].value == "预测"
    assert at.segmented_control(key="predict_input").value == "Draw"
    assert i18n.text("zh", "predict.draw.empty") in texts(at)
    assert i18n.text("zh", "predict.model.in_use_robust") in texts(at)
    assert untranslated(at) == []


def test_predict_in_chinese_a_test_image_names_its_class_in_chinese(dataset_available):
    from model import CLASSES_ZH
    from model.files.data import load_split_numpy

    _, labels = load_split_numpy("test")
    at = open_page("predict", lang="zh", test_index=0, take_apart=True)
    at.segmented_control(key="predict_input").set_value("Test image").run()
    assert_clean(at)
    shown = texts(at)
    heading = next(m.value for m in at.markdown if m.value.startswith("#### "))
    assert heading.startswith("#### 预测：**") and any(f"**{name}**" in heading for name in CLASSES_ZH), heading
    assert "置信度" in shown and "第二可能" in shown
    assert "正确" in shown or f"它是{CLASSES_ZH[labels[0]]}" in shown
    assert "为什么是" in shown and "偏置" in shown  # the why-section
    assert len(at.get("plotly_chart")) == 4  # probabilities, contributions, why not, softmax
    captions = [caption for caption, _ in pictures_shown(at)]
    assert f"测试图像 #0：{CLASSES_ZH[labels[0]]}" in captions, captions
    assert untranslated(at) == []


def test_predict_in_chinese_names_the_preprocessing_steps_in_chinese(dataset_available):
    from model.files.data import load_split_numpy

    images, labels = load_split_numpy("test")
    trouser = images[np.flatnonzero(labels == 1)[0]]
    at = open_page("predict", lang="zh")
    at.segmented_control(key="predict_input").set_value("Upload").run()
    at.file_uploader(key="image_upload").upload("trouser.png", png(np.kron(255 - trouser, np.ones((8, 8), np.uint8))),
                                                "image/png").run()
    assert_clean(at)
    assert "#### 预测：**裤子**" in texts(at)
    captions = [caption for caption, _ in pictures_shown(at)]
    assert captions[0] == "原图" and "最终的 28×28" in captions, captions  # model/files/preprocess.py's names
    assert "28×28 的输入 x" in captions and "裤子的模板（它的 784 个权重）" in captions
    assert untranslated(at) == []


def numbers(values) -> list[float]:
    """A plotly JSON array: a list, or {"dtype", "bdata"} (base64 of the raw numbers)."""
    import base64

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def probability_of(at, name: str) -> float:
    import json

    chart = next(c for c in at.get("plotly_chart") if c.key == "probabilities")
    bars = json.loads(chart.proto.spec)["data"][0]
    return dict(zip(bars["y"], numbers(bars["x"])))[name]


def test_one_taught_step_changes_the_answer_and_undo_brings_it_back(dataset_available):
    from model import CLASSES
    from model.files.data import load_split_numpy

    images, labels = load_split_numpy("test")
    at = open_page("predict", test_index=0, predict_input="Test image", take_apart=True)
    true = CLASSES[labels[0]]
    before = probability_of(at, true)
    at.selectbox(key="taught_model_label").set_value(int(labels[0]))
    at.select_slider(key="taught_model_lr").set_value(0.01).run()
    at.button(key="taught_model_apply").click().run()
    assert_clean(at)
    after = probability_of(at, true)
    assert after > before + 0.001  # the page now predicts with the taught model
    at.button(key="taught_model_undo").click().run()
    assert probability_of(at, true) == pytest.approx(before, abs=1e-9)


def test_a_blank_picture_is_refused_with_its_reason_in_chinese():
    at = open_page("predict", lang="zh")
    at.segmented_control(key="predict_input").set_value("Upload").run()
    at.file_uploader(key="image_upload").upload("blank.png", png(np.full((200, 200), 128, dtype=np.uint8)),
                                                "image/png").run()
    assert_clean(at)
    assert any("这张图片是空白的" in i.value for i in at.info), [i.value for i in at.info]
    assert untranslated(at) == []
