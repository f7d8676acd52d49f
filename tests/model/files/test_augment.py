"""model/files/augment.py on small generated pictures, and the shipped robust model it trained."""
import numpy as np
import pytest

from model.files import augment
from model.files.augment import Mix


def square(filled: bool = True) -> np.ndarray:
    """A 28x28 picture: a 16x16 square, filled or as a 1-px frame, at 200 of 255."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[6:22, 6:22] = 200
    if not filled:
        image[7:21, 7:21] = 0
    return image


def test_flipped_mirrors_left_and_right():
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 10, 3] = 255
    assert augment.flipped(image)[0, 10, 24] == 255 and augment.flipped(image).sum() == image.sum()


def test_a_silhouette_fills_the_shape_at_full_brightness_and_fills_28_px_as_preprocessing_leaves_it():
    frame = np.zeros((28, 28), dtype=np.uint8)
    frame[6:22, 10:18] = 200  # 16 tall, 8 wide, hollow
    frame[7:21, 11:17] = 0
    silhouette, = augment.silhouettes(frame[None])
    assert (silhouette[:, 8:20] == 255).all()  # the frame's hole filled in, its height 28 now
    assert silhouette[:, :6].max() == 0 and silhouette[:, 22:].max() == 0  # 14 wide, centred, on black


def trouser(gap: int) -> np.ndarray:
    """Two 24-px legs, `gap` px apart, under a waistband: 12 px wide in all."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[2:26, 8:20] = 200
    image[12:26, 14 - gap // 2:14 + gap - gap // 2] = 0
    return image


def test_a_thick_brush_closes_the_gap_between_trouser_legs_and_widens_the_shape():
    thin, medium, thick = augment.silhouettes(np.stack([trouser(2)] * 3), [0.0, 2.0, 4.0])
    assert thin[16:26, 13:15].max() == 0            # traced exactly, the legs stay apart
    assert medium[16:26, 13:15].min() == 255        # a 2-px brush closes a 2-px gap
    widths = [int((s[5] > 127).sum()) for s in (thin, thick)]  # across the waistband
    assert widths == [14, 16]                       # 12 of 24 px wide, then (12 + 4) of (24 + 4), at 28 tall
    assert all((s[:, 10] == 255).all() for s in (thin, thick))  # each is 28 px tall again
    assert np.array_equal(thin, augment.silhouettes(trouser(2)[None])[0])  # no brush is a 0-px brush


def test_an_outline_is_a_light_stroke_of_the_width_asked_for_on_black():
    thin, thick = augment.outlines(np.stack([square(), square()]), [1.0, 3.0])
    for outline, width in ((thin, 1), (thick, 3)):
        assert outline.max() == 255
        assert (outline[6:22, 6:6 + width] == 255).all()  # the left edge, `width` px wide
        assert outline[6 + width + 1:22 - width - 1, 6 + width + 1:22 - width - 1].max() == 0  # hollow inside
        assert outline[:5].max() == 0


def test_an_open_outline_bridges_narrow_gaps_and_leaves_the_hems_undrawn():
    trouser = np.zeros((28, 28), dtype=np.uint8)
    trouser[2:26, 8:13] = trouser[2:26, 15:20] = 200  # two legs, 2 px apart...
    trouser[2:8, 8:20] = 200                          # ...under a waistband
    traced, = augment.outlines(trouser[None], 1.0)
    simplified, = augment.open_outlines(trouser[None], 1.0)
    assert traced[12:22, 12:16].max() == 255           # the traced outline follows the gap between the legs
    assert simplified[12:22, 11:17].max() == 0         # the simplified one draws the legs as one shape
    assert simplified[23:].max() == 0 and traced[23:].max() == 255  # and leaves the hems open
    assert (simplified[4:20, 8] == 255).all() and simplified[2, 8:20].min() > 0  # sides and waistband drawn


def test_jitter_and_contrast_are_deterministic_and_nothing_when_asked_for_nothing():
    images = np.stack([square(), square(filled=False)])
    same = augment.jittered(images, np.random.default_rng(0), max_shift=0, scales=(1, 1), max_rotation=0)
    assert np.array_equal(same, images)
    a = augment.jittered(images, np.random.default_rng(1))
    assert np.array_equal(a, augment.jittered(images, np.random.default_rng(1))) and not np.array_equal(a, images)
    contrasted = augment.recontrasted(np.stack([np.linspace(0, 255, 784).reshape(28, 28).astype(np.uint8)] * 8),
                                      np.random.default_rng(2))
    assert (contrasted.max(axis=(1, 2)) == 255).all() and (contrasted[:, 0, 0] == 0).all()
    assert len({c.tobytes() for c in contrasted}) > 1


def test_an_augmented_set_holds_the_originals_and_copies_with_their_labels():
    images = np.stack([square(), square(filled=False), augment.flipped(square()[None])[0]])
    labels = np.array([3, 5, 7], dtype=np.uint8)
    mix = Mix(copies=4, silhouette=0.3, outline=0.3, open_outline=0.2)
    x, y = augment.augmented_set(images, labels, mix, seed=0)
    assert x.shape == (15, 28, 28) and x.dtype == np.uint8
    assert sorted(y.tolist()) == sorted(labels.tolist() * 5)
    assert all(any(np.array_equal(image, original) for image in x) for original in images)
    again = augment.augmented_set(images, labels, mix, seed=0)
    assert np.array_equal(x, again[0]) and np.array_equal(y, again[1])


@pytest.fixture(scope="module")
def shipped():
    from model.files import checkpoint

    return {name: checkpoint.load(checkpoint.PRETRAINED.with_name(f"{name}.safetensors"))
            for name in ("robust", "best")}


def test_the_shipped_robust_model_is_accurate_and_reads_drawings_thick_brushes_and_mirrored_shoes(shipped, test_data):
    robust = shipped["robust"]
    assert "drawings and photos" in robust.metadata["description"]
    assert robust.metadata["config"]["normalize"] == "standardize" and len(robust.metadata["history"]) >= 1
    images, labels = test_data[0].numpy()[:3000], test_data[1].numpy()[:3000]
    accuracy = float((robust.predict(test_data[0].numpy()) == test_data[1].numpy()).mean())
    assert accuracy >= 0.82 and accuracy == pytest.approx(robust.metadata["test_acc"], abs=1e-4)
    for view in (augment.flipped(images), augment.outlines(images, 2.0), augment.silhouettes(images, 4.0)):
        scores = {name: float((model.predict(view) == labels).mean()) for name, model in shipped.items()}
        assert scores["robust"] > scores["best"] + 0.1, scores
