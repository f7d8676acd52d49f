"""Pictures for the pages: dataset images as PNG, crisp enlargements, signed weights as
blue-white-red, and grids of them in rows that wrap."""
from __future__ import annotations

import hashlib
import io
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
    encode and send at every redraw of a class's trainings. Said to be PNG, or Streamlit takes
    one without alpha for a JPEG and re-encodes it on every run."""
    where.image(cached_png(np.asarray(image)), caption=caption, width=width, output_format="PNG")


def image_grid(images, captions, width: int = 100) -> None:
    """Small pictures in rows that wrap, `width` px each, one caption each: as many per row as
    the screen holds (10 on a desktop, 3 on a phone), where st.columns would stack a phone's
    columns one per row."""
    with st.container(horizontal=True, gap="small"):
        for image, caption in zip(images, captions):
            picture(image, caption, width)


_PNGS: OrderedDict[tuple, bytes] = OrderedDict()  # the latest pictures' PNGs, shared by every session
_PNGS_LOCK = threading.Lock()


def cached_png(image: np.ndarray) -> bytes:
    """png(image), remembered by content: a class polling a training's templates, or reopening
    its results, encodes each picture once."""
    key = (image.shape, image.dtype.str, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
    with _PNGS_LOCK:
        if key in _PNGS:
            _PNGS.move_to_end(key)
            return _PNGS[key]
    encoded = png(image)
    with _PNGS_LOCK:
        _PNGS[key] = encoded
        while len(_PNGS) > 4000:  # ~0.5-3 KB each: a few MB
            _PNGS.popitem(last=False)
    return encoded


def enlarge(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling, so 28x28 pixels stay crisp squares in the browser."""
    return np.repeat(np.repeat(np.asarray(image), scale, axis=0), scale, axis=1)


_BLUE, _WHITE, _RED = np.array([33, 102, 172]), np.array([247, 247, 247]), np.array([178, 24, 43])


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Signed values -> RGB uint8: blue negative, white zero, red positive, full colour at +-limit
    (default: the 99th percentile of |values|, so a few extreme pixels don't wash out the rest)."""
    values = np.asarray(values, dtype=np.float32)
    limit = float(limit if limit is not None else np.percentile(np.abs(values), 99)) or 1.0
    t = np.clip(values / limit, -1.0, 1.0)[..., None]
    rgb = np.where(t >= 0, _WHITE + t * (_RED - _WHITE), _WHITE + (-t) * (_BLUE - _WHITE))
    return rgb.astype(np.uint8)


def class_mean_pictures(split: str) -> list[np.ndarray]:
    """The average image of each class, as uint8 pictures."""
    return list(np.rint(class_means(split)).astype(np.uint8))
