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
