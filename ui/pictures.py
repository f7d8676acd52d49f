"""Pictures for the pages: dataset images as PNG, crisp enlargements, signed weights as
blue-white-red, and grids of them in rows that wrap."""
from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

from ui.resources import class_means


def png(image: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def picture(image, caption: str | None = None, width: int | str = "content", where=st) -> None:
    """One picture in `where` (a column, say), sent at its own size and enlarged by the browser
    without smoothing (the page's CSS, ui.layout): a 28x28 PNG is a sixteenth of the pixels to
    encode and send at every redraw of a class's trainings."""
    image = fitted(image, width) if isinstance(width, int) else np.asarray(image)
    where.image(cached_png_url(image), caption=caption, width=width)


def image_grid(images, captions, width: int = 100) -> None:
    """Small pictures in rows that wrap, `width` px each, one caption each: as many per row as
    the screen holds (10 on a desktop, 3 on a phone). One HTML element for the whole grid (the
    page's CSS, ui.layout, lays it out): 42 st.image elements took a new tab ~0.25 s longer to
    mount."""
    cells = "".join(f'<figure><img src="{cached_png_url(fitted(image, width))}" alt="{html.escape(caption)}" '
                    f'width="{width}"><figcaption>{html.escape(caption)}</figcaption></figure>'
                    for image, caption in zip(images, captions))
    st.html(AsIs(f'<div class="picture-grid" style="--picture-width:{width}px">{cells}</div>'))


class AsIs:
    """HTML that st.html sends as it is: a str body is dedented first, a regex pass over every
    line that took 0.8 ms for ten templates' data URLs (33 KB), at every redraw of a class's
    trainings. st.html takes an object's _repr_html_ in place of the text."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def fitted(image, width: int) -> np.ndarray:
    """`image` shrunk by a whole factor (box averaging) to at most twice `width` px on its longer
    side, sharp on a phone's dense screen: a grid shows an uploaded 1024 px photo 100 px wide, and
    every rerun of its page sends the picture again (a grainy photo: 3.3 MB as a data URL, 63 KB
    at 171 px)."""
    image = np.asarray(image)
    factor = math.ceil(max(image.shape[:2]) / (2 * width))
    if factor <= 1:
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).reduce(factor))


class _Remembered:
    """The latest `keep` things made, by key, shared by every session (an LRU with a lock)."""

    def __init__(self, keep: int):
        self.keep, self.made, self.lock = keep, OrderedDict(), threading.Lock()

    def get(self, key, make):
        """The thing for `key`, made by make() the first time (outside the lock)."""
        with self.lock:
            if key in self.made:
                self.made.move_to_end(key)
                return self.made[key]
        made = make()
        with self.lock:
            self.made[key] = made
            while len(self.made) > self.keep:
                self.made.popitem(last=False)
        return made


_PNGS = _Remembered(4000)  # data URLs of ~0.7-4 KB each: a few MB
REMEMBERED_SIDE = 64  # pictures up to this size are everyone's (dataset images, templates); larger are one learner's


def cached_png_url(image: np.ndarray) -> str:
    """png(image) as a data URL (~0.5-1 KB for 28x28), sent inside the page's message, not as a
    media file: a new tab of the Dataset page fetched its 42 pictures one request at a time from
    the busy server, ~0.4 s before anything below the header showed. Remembered by content if it
    is small: a class polling a training's templates, or reopening its results, encodes each
    picture once. A learner's own photo's steps are encoded at each run instead of filling the
    memory every session shares (7 steps of a drawing: ~3 ms)."""
    image = np.asarray(image)

    def make() -> str:
        return "data:image/png;base64," + base64.b64encode(png(image)).decode("ascii")

    if max(image.shape[:2]) > REMEMBERED_SIDE:
        return make()
    return _PNGS.get((image.shape, image.dtype.str, hashlib.blake2b(image.tobytes(), digest_size=16).digest()), make)


def enlarge(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling, so 28x28 pixels stay crisp squares in the browser."""
    return np.repeat(np.repeat(np.asarray(image), scale, axis=0), scale, axis=1)


_BLUE, _WHITE, _RED = np.array([33, 102, 172]), np.array([247, 247, 247]), np.array([178, 24, 43])


def diverging(values: np.ndarray, limit=None) -> np.ndarray:
    """Signed values -> RGB uint8: blue negative, white zero, red positive, full colour at +-limit
    (default: the 99th percentile of |values|, so a few extreme pixels don't wash out the rest;
    an array of limits that broadcasts against `values` scales each part on its own)."""
    values = np.asarray(values, dtype=np.float32)
    if limit is None or np.isscalar(limit):
        limit = float(limit if limit is not None else np.percentile(np.abs(values), 99)) or 1.0
    t = np.clip(values / limit, -1.0, 1.0)[..., None]
    rgb = np.where(t >= 0, _WHITE + t * (_RED - _WHITE), _WHITE + (-t) * (_BLUE - _WHITE))
    return rgb.astype(np.uint8)


_TEMPLATES = _Remembered(256)  # 23 KB each


def template_pictures(weight: np.ndarray) -> list[np.ndarray]:
    """Each class's 784 weights ([10, 784]) as a diverging 28x28 picture, each scaled on its own,
    remembered by content. In one pass over all ten: while a class trains, each small numpy
    call of a page thread waits for the GIL again, and ten pictures one by one made 80 of them."""
    weight = np.ascontiguousarray(weight, dtype=np.float32)

    def make() -> list[np.ndarray]:
        values = weight.reshape(-1, 28, 28)
        limits = np.percentile(np.abs(values).reshape(len(values), -1), 99, axis=1)
        return list(diverging(values, np.where(limits > 0, limits, 1.0)[:, None, None]))

    return _TEMPLATES.get(hashlib.blake2b(weight.tobytes(), digest_size=16).digest(), make)


def class_mean_pictures(split: str) -> list[np.ndarray]:
    """The average image of each class, as uint8 pictures."""
    return list(np.rint(class_means(split)).astype(np.uint8))
