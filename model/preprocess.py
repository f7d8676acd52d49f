"""Any picture -> a 28x28 image made the way Fashion-MNIST's were, so the model can read it.

Fashion-MNIST was made from Zalando's product photos (Xiao et al. 2017, section 2): trim the
background, resize the longest edge to 28, sharpen, centre on a 28x28 canvas, negate,
grayscale. So a garment in the dataset is light on exactly black, fills 28 pixels along its
longest side, is centred by its bounding box and reaches full brightness (255). A photo has
to be brought to the same place or the linear model, which compares pixels to fixed
templates, sees something else. The steps here:

  grayscale -> background level from the border -> invert if the garment is darker than it
  -> subtract the background -> crop to the garment -> longest edge to 28 by area averaging
  (thin strokes fade instead of vanishing) -> centre on 28x28 -> stretch so the brightest
  pixel is 255.

A 28x28 input is taken to be dataset-made already and only gets the first steps. The
constants below were checked on test images 0-1999 only (bench/catalog_photos.py --slice
tune); the accuracy reported for catalog photos is on images 2000-9999.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from model.imageio import to_rgb_or_l

SIZE = 28
WORK_SIDE = 512        # pictures are shrunk to this first; a garment filling a tenth of it still has 50 px
# The paper trims what is within 5% of the largest RGB distance (255 * sqrt 3) of the corner colour.
TRIM = 0.05 * 255 * math.sqrt(3)
ZERO = 0.5             # inside the crop, what is under ZERO * TRIM is background: made exactly 0
MIN_GARMENT = 3        # a garment narrower than 3 working pixels both ways is a speck, not a garment
SHARPEN = ImageFilter.UnsharpMask(radius=1, percent=50, threshold=0)  # the paper's mild Gaussian sharpen

Step = tuple[str, "np.ndarray | Image.Image"]


@dataclass
class Preprocessed:
    image28: np.ndarray                          # uint8 [28, 28], garment light on black, like the dataset
    steps: list[Step] = field(default_factory=list)  # named pictures of each stage, for the UI
    empty: bool = False                          # True: nothing to classify (see reason)
    reason: str = ""


def preprocess(image: Image.Image) -> Preprocessed:
    """Any PIL image (any mode, any size) -> the dataset-style 28x28, or empty with a reason."""
    steps: list[Step] = [("original", image)]
    rgb = to_rgb_or_l(image)
    if max(rgb.size) > WORK_SIDE:
        rgb = rgb.reduce(math.ceil(max(rgb.size) / WORK_SIDE))
    gray = np.asarray(rgb.convert("L"), dtype=np.float32)
    steps.append(("grayscale", gray.astype(np.uint8)))
    h, w = gray.shape
    if min(h, w) < MIN_GARMENT:
        return _empty(steps, f"The picture is only {w}x{h} pixels: nothing to classify. "
                             "Use a picture of one garment, at least a few dozen pixels across.")

    background, noise = _background(gray)
    signed = gray - background
    # The garment is what differs most from the background; its side tells dark-on-light from light-on-dark.
    far = np.abs(signed) > max(TRIM, 4 * noise)
    if not far.any():
        return _empty(steps, "The picture is blank: nothing stands out of its background, so there is "
                             "nothing to classify. Use a photo of one garment on a plain background.")
    dark_on_light = signed[far].mean() < 0
    garment = np.clip(-signed if dark_on_light else signed, 0, None)
    steps.append(("inverted" if dark_on_light else "background removed", _to_uint8(garment)))

    box = _garment_box(garment, max(TRIM, 4 * noise))
    top, bottom, left, right = box
    if bottom - top < MIN_GARMENT and right - left < MIN_GARMENT:
        return _empty(steps, "Only a speck stands out of the background: nothing to classify. "
                             "Use a picture of one whole garment.")
    if (h, w) == (SIZE, SIZE):
        # Already dataset-sized (a test image saved as PNG, maybe inverted): no room to re-crop,
        # and re-sharpening would blur what the dataset already sharpened. Pass it through.
        final = _stretch(garment)
        steps.append(("final 28x28", final))
        return Preprocessed(final, steps)

    # Pixels within the trim tolerance are background in the paper's sense: zero them.
    garment = np.where(garment > ZERO * max(TRIM, 4 * noise), garment, 0.0)
    cropped = garment[top:bottom, left:right]
    steps.append(("cropped", _to_uint8(cropped)))

    ch, cw = cropped.shape
    scale = SIZE / max(ch, cw)
    size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
    resized = Image.fromarray(cropped, "F").resize(size, Image.Resampling.BOX)  # area averaging
    small = _to_uint8(np.asarray(resized))
    steps.append(("resized", small))

    canvas = np.zeros((SIZE, SIZE), dtype=np.uint8)
    # The dataset puts an odd leftover pixel above and to the left of the garment.
    y, x = (SIZE - size[1] + 1) // 2, (SIZE - size[0] + 1) // 2
    canvas[y:y + size[1], x:x + size[0]] = small
    sharp = np.asarray(Image.fromarray(canvas, "L").filter(SHARPEN), dtype=np.float32)
    final = _stretch(sharp)
    steps.append(("final 28x28", final))
    return Preprocessed(final, steps)


def _empty(steps: list[Step], reason: str) -> Preprocessed:
    return Preprocessed(np.zeros((SIZE, SIZE), dtype=np.uint8), steps, empty=True, reason=reason)


def _background(gray: np.ndarray) -> tuple[float, float]:
    """(level, noise) of the background, from a ring of border pixels.

    The median ignores a garment touching one or two sides (dataset trousers touch the top
    and bottom); the noise (robust standard deviation) keeps JPEG speckle out of the crop.
    """
    h, w = gray.shape
    k = max(1, min(h, w) // 50)
    ring = np.concatenate([gray[:k].ravel(), gray[-k:].ravel(), gray[:, :k].ravel(), gray[:, -k:].ravel()])
    level = float(np.median(ring))
    noise = 1.4826 * float(np.median(np.abs(ring - level)))
    return level, noise


def _garment_box(garment: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), bottom/right exclusive: the bounding box of what is over threshold."""
    rows, cols = np.flatnonzero((garment > threshold).any(axis=1)), np.flatnonzero((garment > threshold).any(axis=0))
    if not len(rows):
        return 0, 0, 0, 0
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _stretch(pixels: np.ndarray) -> np.ndarray:
    """Scale so the brightest pixel is 255, as in (almost) every dataset image."""
    top = float(pixels.max())
    if top <= 0:
        return np.zeros(pixels.shape, dtype=np.uint8)
    return np.clip(np.rint(pixels * (255.0 / top)), 0, 255).astype(np.uint8)


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
