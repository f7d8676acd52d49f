"""ui.pictures: pictures go out at their own size, as PNG, encoded once per content."""
import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from ui import pictures


def test_a_picture_is_encoded_once_per_content_as_a_png_of_its_own_size():
    image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    first = pictures.cached_png(image)
    assert pictures.cached_png(image.copy()) is first  # the same pixels: the same bytes, not encoded again
    assert pictures.cached_png(255 - image) is not first
    decoded = Image.open(io.BytesIO(first))
    assert decoded.format == "PNG" and decoded.size == (28, 28)
    assert np.array_equal(np.asarray(decoded), image)


def grid_app():
    import numpy as np

    from ui import pictures

    pictures.image_grid([np.full((28, 28), k * 20, dtype=np.uint8) for k in range(3)], ["a", "b", "c"])


def test_the_grid_sends_every_picture_as_a_png_with_its_caption():
    at = AppTest.from_function(grid_app).run()
    assert not at.exception
    images = at.get("image")
    assert [image.proto.imgs[0].caption for image in images] == ["a", "b", "c"]
    # A PNG, not the JPEG Streamlit makes of a picture without alpha unless told (it blurs the pixels).
    assert all(image.proto.imgs[0].url.endswith(".png") for image in images)


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
