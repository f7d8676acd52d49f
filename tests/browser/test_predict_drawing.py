"""Predict as people use it, in real Chromium, with its defaults (the brush, the robust model): a
trouser drawn the way people draw one, and a crop box dragged over an upload. Screenshots:
tests/artifacts/."""
import io

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import shot, wait_until_idle
from tests.browser.test_app import NO_TRACEBACK, SEEN, choose_input, draw, open_page
from tests.app_pages.test_predict import two_garments

pytestmark = pytest.mark.browser

# A trouser as most people draw one, in fractions of the canvas: no filling, no hems.
TROUSER = [
    [(0.36, 0.12), (0.64, 0.12)],  # the waistband
    [(0.36, 0.12), (0.32, 0.9)],   # the left leg, from the waistband's end, spreading a little
    [(0.64, 0.12), (0.68, 0.9)],   # the right leg
    [(0.5, 0.12), (0.5, 0.36)],    # the centre seam, down to where the legs part
]


def test_a_trouser_drawn_as_waistband_legs_and_seam_is_a_trouser(page, app_url):
    open_page(page, app_url, "predict", "Draw a garment on the black square")
    page.locator("canvas.upper-canvas").wait_for()
    for n, stroke in enumerate(TROUSER, 1):
        draw(page, stroke)
        page.wait_for_function(SEEN, arg=n, timeout=10_000, polling="raf")
        page.wait_for_timeout(300)  # a person takes a moment between strokes
    wait_until_idle(page)
    answer = page.locator(".st-key-prediction").inner_text()
    shot(page, "predict-draw-trouser", tall=True)
    assert "Prediction: Trouser" in answer, answer
    assert page.locator(NO_TRACEBACK).count() == 0


def test_dragging_the_crop_box_changes_what_is_predicted(page, app_url, dataset_available):
    open_page(page, app_url, "predict", "Draw a garment on the black square")
    choose_input(page, "Upload")
    page.locator("input[type=file]").set_input_files({"name": "two.png", "mimeType": "image/png",
                                                       "buffer": two_garments()})
    page.locator(".st-key-prediction").wait_for(timeout=30_000)
    wait_until_idle(page)
    frame = page.locator("iframe[title='streamlit_cropper.st_cropper']")
    cropper = frame.bounding_box()
    # The box starts as the whole 300x150 preview, all four sides on screen (its line is drawn
    # outside its size: a box of the picture's own size lost the right and bottom ones).
    page.wait_for_timeout(500)  # the cropper's canvas draws after its iframe loads
    box = np.asarray(Image.open(io.BytesIO(frame.screenshot())).convert("RGB"), dtype=int)
    canvas = box[:150, :300]
    red = (canvas[..., 0] > 200) & (canvas[..., 1] < 120) & (canvas[..., 2] < 120)  # #ff4b4b
    sides = {"left": red[20:130, :4], "right": red[20:130, -5:], "top": red[:4, 40:260], "bottom": red[-5:, 40:260]}
    assert all(side.any(axis=1 if name in ("left", "right") else 0).mean() > 0.9 for name, side in sides.items()), \
        {name: float(side.any(axis=1 if name in ("left", "right") else 0).mean()) for name, side in sides.items()}
    # Drag its right edge's handle to the middle.
    page.mouse.move(cropper["x"] + 299, cropper["y"] + 75)
    page.mouse.down()
    page.mouse.move(cropper["x"] + 140, cropper["y"] + 75, steps=10)
    page.mouse.up()
    page.wait_for_function("() => document.querySelector('.st-key-prediction')?.innerText.includes('Trouser')",
                           timeout=10_000)
    wait_until_idle(page)
    shot(page, "predict-upload-cropped", tall=True)
    assert page.locator(NO_TRACEBACK).count() == 0
