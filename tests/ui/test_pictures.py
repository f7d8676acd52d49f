"""ui.pictures: pictures go out at their own size, as PNG data URLs, encoded once per content."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import decoded, pictures_shown
from ui import pictures


def test_a_picture_is_encoded_once_per_content_as_a_png_of_its_own_size():
    image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    first = pictures.cached_png_url(image)
    assert pictures.cached_png_url(image.copy()) is first  # the same pixels: the same bytes, not encoded again
    assert pictures.cached_png_url(255 - image) is not first
    decoded_first = decoded(first)
    assert decoded_first.format == "PNG" and decoded_first.size == (28, 28)
    assert np.array_equal(np.asarray(decoded_first), image)
    photo_step = np.kron(image, np.ones((5, 5), np.uint8))  # 140x140: one learner's, not remembered
    assert pictures.cached_png_url(photo_step) is not pictures.cached_png_url(photo_step)
    assert np.array_equal(np.asarray(decoded(pictures.cached_png_url(photo_step))), photo_step)


def grid_app(captions=("a", "b", "c")):
    import numpy as np

    from ui import pictures

    pictures.image_grid([np.full((28, 28), k * 20, dtype=np.uint8) for k in range(len(captions))], list(captions))


def test_the_grid_sends_every_picture_inside_the_page_as_a_png_with_its_caption():
    at = AppTest.from_function(grid_app).run()
    assert not at.exception
    assert len(at.get("image")) == 0 and len(at.get("html")) == 1  # one element for the whole grid
    shown = pictures_shown(at)
    assert [caption for caption, _ in shown] == ["a", "b", "c"]
    # In the message, not a media file the browser fetches one request at a time; a PNG, not a
    # JPEG (which blurs the pixels), with each picture's own pixels.
    assert [np.asarray(decoded(url)).max() for _, url in shown] == [0, 20, 40]


def test_grid_captions_are_text_not_markup():
    at = AppTest.from_function(grid_app, args=(['<img src=x onerror="alert(1)"> & "b"'],)).run()
    body = at.get("html")[0].proto.body
    assert "<img src=x" not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp;" in body
    assert pictures_shown(at)[0][0] == '<img src=x onerror="alert(1)"> & "b"'


def test_template_pictures_are_each_rows_own_diverging_picture_made_once():
    from ui.pictures import diverging, template_pictures

    weight = np.random.default_rng(0).normal(0, 0.01, (10, 784)).astype(np.float32)
    weight[3] = 0.0  # an untrained class: white, not a division by zero
    weight[5] *= 100  # scaled on its own, not by the others
    made = template_pictures(weight)
    assert len(made) == 10 and all(p.shape == (28, 28, 3) and p.dtype == np.uint8 for p in made)
    assert all(np.array_equal(p, diverging(row.reshape(28, 28))) for p, row in zip(made, weight))
    assert (made[3] == [247, 247, 247]).all()
    assert template_pictures(weight.copy()) is made  # the same weights: remembered, not made again
    weight[0, 0] += 1.0
    assert template_pictures(weight) is not made


@settings(max_examples=60, deadline=None)
@given(height=st.integers(1, 1500), width=st.integers(1, 1500), colour=st.booleans(), shown=st.integers(20, 400))
def test_fitted_pictures_fit_twice_their_display_width_and_keep_their_shape(height, width, colour, shown):
    image = np.random.default_rng(height * width).integers(0, 256, (height, width, 3) if colour else (height, width),
                                                           dtype=np.uint8)
    out = pictures.fitted(image, shown)
    assert out.dtype == np.uint8 and out.shape[2:] == image.shape[2:]
    if max(height, width) <= 2 * shown:
        assert out is image or np.array_equal(out, image)  # small enough: as it is
    else:
        assert max(out.shape[:2]) <= 2 * shown
        factor = max(height, width) / max(out.shape[:2])
        assert abs(height / factor - out.shape[0]) <= 1 and abs(width / factor - out.shape[1]) <= 1  # not distorted
