"""Pictures for the pages: dataset images as PNG, crisp enlargements, signed weights as
blue-white-red, and grids of them in even columns."""
from __future__ import annotations

import functools
import io

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


def image_grid(images, captions, per_row: int = 8, scale: int = 4) -> None:
    """Small images in even columns, crisp (enlarged without smoothing), one caption each.
    An image is an array (enlarged here) or PNG bytes (shown as they are)."""
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row, gap="small")
        for col, image, caption in zip(cols, images[start:start + per_row], captions[start:start + per_row]):
            picture = image if isinstance(image, bytes) else enlarge(image, scale)
            col.image(picture, caption=caption, width="stretch")


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
