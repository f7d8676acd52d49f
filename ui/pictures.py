"""Pictures for the pages: dataset images as PNG, crisp enlargements, signed weights as
blue-white-red, and grids of them in rows that wrap."""
from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

from ui.resources import class_means, dataset_split


@functools.lru_cache(maxsize=8192)
def dataset_png(split: str, index: int, scale: int = 4) -> bytes:
    """One dataset image, enlarged, as PNG bytes: encoded once per process, not on every redraw."""
    return png(enlarge(dataset_split(split)[0][index], scale))


def png(image: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def image_grid(images, captions, width: int = 100, scale: int = 4) -> None:
    """Small images in rows that wrap, `width` px each, crisp (enlarged without smoothing), one
    caption each: as many per row as the screen holds (10 on a desktop, 3 on a phone), where
    st.columns would stack a phone's columns one per row. An image is an array (enlarged here)
    or PNG bytes (shown as they are)."""
    with st.container(horizontal=True, gap="small"):
        for image, caption in zip(images, captions):
            picture = image if isinstance(image, bytes) else enlarged_png(np.asarray(image), scale)
            st.image(picture, caption=caption, width=width)


_PNGS: OrderedDict[tuple, bytes] = OrderedDict()  # the latest pictures' PNGs, shared by every session
_PNGS_LOCK = threading.Lock()


def enlarged_png(image: np.ndarray, scale: int) -> bytes:
    """enlarge() as PNG bytes, remembered by content: a class polling a training's templates
    twice a second, or reopening its results, encodes each picture once (encoding was a fifth
    of the Train page's time)."""
    key = (image.shape, image.dtype.str, scale, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
    with _PNGS_LOCK:
        if key in _PNGS:
            _PNGS.move_to_end(key)
            return _PNGS[key]
    encoded = png(enlarge(image, scale))
    with _PNGS_LOCK:
        _PNGS[key] = encoded
        while len(_PNGS) > 2000:  # ~4 KB each: at most ~8 MB
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


@st.cache_data(show_spinner=False, max_entries=4)
def class_mean_pngs(split: str) -> list[bytes]:
    return [png(enlarge(np.rint(m).astype(np.uint8), 4)) for m in class_means(split)]
