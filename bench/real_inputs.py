"""Does Predict work on what people really draw and photograph? A realistic-input benchmark.

Every input is generated, deterministically (one seeded stream per kind and image), from
Fashion-MNIST *test* images only; the model never trained on them. The kinds:

  drawings  the garment's contour traced and drawn as a mouse or finger draws it: jittered
            polyline strokes, thin and thick brushes, white on black (the app's canvas) or
            dark on white, every class, shoes facing left (as in the dataset) and mirrored
            right; "outline" draws the contour only, "filled" also scribbles it in;
            plus a trouser drawn as strokes (waistband, two legs, a centre seam) at the
            canvas's brushes, as a person draws it on the Predict page.
  photos    the garment as a coloured, shaded cut-out on a wood floor (grain, plank seams),
            a sheet (folds), a tiled floor (grout), white with a soft drop shadow; small in the
            frame (20-35% of the width); rotated 5-15 degrees; dark on dark; light on light.
            Several canvas sizes, garment colours, lighting gradients, sensor noise and JPEG
            qualities (60-95).

Every input goes the way an upload goes, `model.files.predict.predict_bytes(classifier, bytes)`, and
is scored against its label; "same garments as raw 28x28" is the model's accuracy on the very
test images each row was made from, and "ratio" divides the two.

Honest split: preprocessing is tuned on the `tune` slice (test images 0-1999) only; the
`report` slice (test images 5000-9999, the default) is the held-out part, run only to report.

    python -m bench.real_inputs [--slice report|tune] [--checkpoint FILE] [--limit N] [--json]

It also times one 24-megapixel JPEG photo through predict_bytes.
"""
from __future__ import annotations

import argparse
import colorsys
import io
import json
import math
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from model.files import checkpoint
from model.files.data import load_split_numpy
from model.files.predict import predict_bytes

SLICES = {"tune": range(0, 2000), "report": range(5000, 10000)}  # test-image indices; 2000-4999 unused
DEFAULT_LIMIT = 150           # images per kind: all kinds in under 3 minutes on 2 free cores (166 s measured)
SHOES = (5, 7, 9)             # Sandal, Sneaker, Ankle boot: the classes that face one way
TROUSER = 1
WORKERS = 2                   # this project's machines have 2 cores
SEED = 0

# ---------------------------------------------------------------------------------------------
# Shared pieces: noise, colours, JPEG


def smooth_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a random `cells`-wide grid upscaled bicubically."""
    h, w = shape
    grid = rng.uniform(-1, 1, size=(max(2, round(cells * h / max(h, w))), max(2, round(cells * w / max(h, w)))))
    return np.asarray(Image.fromarray(grid.astype(np.float32), "F").resize((w, h), Image.Resampling.BICUBIC))


def hsv_colour(rng: np.random.Generator, value: tuple[float, float], saturation=(0.0, 0.9)) -> np.ndarray:
    """A random RGB colour (float, 0-255) with its HSV value drawn from `value`."""
    rgb = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*saturation), rng.uniform(*value))
    return np.array(rgb, dtype=np.float32) * 255


def contrasting_colour(rng: np.random.Generator, background: np.ndarray, min_distance: float = 80) -> np.ndarray:
    """A garment colour at least `min_distance` (RGB) from the background's mean colour."""
    mean = background.reshape(-1, background.shape[-1]).mean(axis=0)
    while True:
        colour = hsv_colour(rng, (0.05, 0.95))
        if np.linalg.norm(colour - mean) >= min_distance:
            return colour


def jpeg(pixels: np.ndarray, rng: np.random.Generator) -> bytes:
    """float RGB -> JPEG bytes, with a little sensor noise and a quality between 60 and 95."""
    noise = rng.normal(0, rng.uniform(0.5, 3.0), size=pixels.shape[:2] + (1,)).astype(np.float32)
    out = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels + noise), 0, 255).astype(np.uint8), "RGB").save(
        out, "JPEG", quality=int(rng.integers(60, 96)))
    return out.getvalue()


def canvas_shape(rng: np.random.Generator) -> tuple[int, int]:
    """(height, width) of a photo: a phone or camera picture, landscape or portrait, downsized or not."""
    long_side = int(rng.choice([480, 800, 1200, 1600]))
    short_side = int(long_side * rng.choice([0.75, 0.5625, 1.0]))
    return (short_side, long_side) if rng.random() < 0.6 else (long_side, short_side)


# ---------------------------------------------------------------------------------------------
# The garment as a photographed object


@dataclass
class Garment:
    rgb: np.ndarray    # float [s, s, 3], the garment's colour with its shading
    alpha: np.ndarray  # float [s, s] in [0, 1]: where the garment is


def garment_cutout(image28: np.ndarray, side: int, colour: np.ndarray, rng: np.random.Generator,
                   angle: float = 0.0) -> Garment:
    """A test image as a solid garment `side` pixels across: opaque where the dataset shows the
    garment, shaded by the dataset's pixels (bright there = dark in the original photo)."""
    up = Image.fromarray(image28, "L").resize((side, side), Image.Resampling.BICUBIC)
    if angle:
        up = up.rotate(angle, Image.Resampling.BICUBIC)
    p = np.asarray(up, dtype=np.float32) / 255.0
    alpha = np.clip((p - 0.03) / 0.12, 0, 1)  # the dataset's faint edge pixels are still cloth
    depth = rng.uniform(0.2, 0.45)            # how much of the dataset's detail shows as shading
    shade = 1 + depth * (0.5 - p)
    return Garment(np.clip(colour * shade[..., None], 0, 255), alpha)


def place(background: np.ndarray, garment: Garment, rng: np.random.Generator,
          top_left: tuple[int, int] | None = None) -> np.ndarray:
    """The garment laid on the background at a random (or given) spot that keeps it in frame."""
    h, w = background.shape[:2]
    s = garment.alpha.shape[0]
    y, x = top_left if top_left else (int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1)))
    out = background.copy()
    a = garment.alpha[..., None]
    out[y:y + s, x:x + s] = out[y:y + s, x:x + s] * (1 - a) + garment.rgb * a
    return out


def lighting(shape: tuple[int, int], rng: np.random.Generator, strength: float) -> np.ndarray:
    """A multiplicative light field: a gentle gradient plus a soft vignette, about 1 +- strength."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / h - 0.5, xx / w - 0.5
    gx, gy = rng.uniform(-1, 1, size=2) * strength
    vignette = rng.uniform(0, strength) * (xx ** 2 + yy ** 2) * 2
    return (1 + gx * xx + gy * yy - vignette)[..., None]


def garment_side(shape: tuple[int, int], rng: np.random.Generator, fraction=(0.45, 0.85)) -> int:
    """The garment's size in a photo: a fraction of the shorter side."""
    return int(min(shape) * rng.uniform(*fraction))


# ---------------------------------------------------------------------------------------------
# Backgrounds


def wood(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wooden floor: planks of slightly different tone, wavy grain, dark seams between planks."""
    h, w = shape
    vertical = rng.random() < 0.5
    length, across = (h, w) if vertical else (w, h)
    base = hsv_colour(rng, (0.3, 0.85), saturation=(0.3, 0.7)) * np.array([1, 0.8, 0.6], np.float32)
    plank = int(rng.integers(max(12, across // 12), max(14, across // 4)))
    pos = np.arange(across)[:, None]
    warp = smooth_noise((across, length), 6, rng) * plank * 0.6
    grain = np.sin(2 * np.pi * (pos + warp) / rng.uniform(6, 20)) * rng.uniform(0.04, 0.1)
    tone = 1 + rng.uniform(-0.12, 0.12, size=across // plank + 2)[(pos // plank).ravel()][:, None]
    seam_width = max(1, plank // 25)
    seam = (pos % plank < seam_width) * rng.uniform(0.35, 0.6)
    field = (tone + grain) * (1 - seam)
    field = field if not vertical else field.T
    return np.broadcast_to(field, (h, w))[..., None] * base


def sheet(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A bed sheet: a plain or pastel cloth with folds (a shadowed crease beside a highlight)."""
    h, w = shape
    base = hsv_colour(rng, (0.55, 0.95), saturation=(0.0, 0.5))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shading = np.ones((h, w), np.float32)
    for _ in range(int(rng.integers(3, 7))):
        theta = rng.uniform(0, np.pi)
        across = (xx * np.cos(theta) + yy * np.sin(theta) - rng.uniform(0, max(h, w))) / (rng.uniform(0.02, 0.06) * max(h, w))
        shading += rng.uniform(0.08, 0.22) * across * np.exp(-across ** 2)  # a fold: dark one side, light the other
    weave = rng.normal(0, 0.015, size=(h, w)).astype(np.float32)
    return (shading + weave + 0.05 * smooth_noise(shape, 4, rng))[..., None] * base


def tiles(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A tiled floor: square tiles of slightly varied tone between grout lines."""
    h, w = shape
    tile_colour = hsv_colour(rng, (0.35, 0.95), saturation=(0.0, 0.6))
    grout_colour = tile_colour * rng.uniform(0.55, 1.3)
    side = int(rng.integers(max(20, min(h, w) // 10), max(22, min(h, w) // 3)))
    grout = max(2, side // int(rng.integers(15, 30)))
    yy, xx = np.mgrid[0:h, 0:w]
    ty, tx = yy // side, xx // side
    tone = 1 + rng.uniform(-0.08, 0.08, size=(h // side + 1, w // side + 1))[ty, tx]
    mottle = 1 + 0.04 * smooth_noise(shape, 12, rng)
    is_grout = ((yy % side) < grout) | ((xx % side) < grout)
    pixels = (tone * mottle)[..., None] * tile_colour
    pixels[is_grout] = grout_colour
    return pixels


def plain(shape: tuple[int, int], colour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plain surface (paper, table, fabric) with faint mottling."""
    return (1 + 0.02 * smooth_noise(shape, 6, rng))[..., None] * colour


# ---------------------------------------------------------------------------------------------
# Photo kinds: (image28, rng) -> JPEG bytes


def on_texture(texture):
    def photo(image28: np.ndarray, rng: np.random.Generator) -> bytes:
        shape = canvas_shape(rng)
        background = texture(shape, rng)
        garment = garment_cutout(image28, garment_side(shape, rng), contrasting_colour(rng, background), rng)
        return jpeg(place(background, garment, rng) * lighting(shape, rng, 0.15), rng)
    photo.__doc__ = f"A garment on {texture.__doc__.split(':')[0].lower()}"
    return photo


def drop_shadow(image28: np.ndarray, rng: np.random.Generator) -> bytes:
    """On white with a soft drop shadow, as a garment lit from one side on a light box."""
    shape = canvas_shape(rng)
    background = plain(shape, np.full(3, rng.uniform(225, 255), np.float32), rng)
    colour = contrasting_colour(rng, background, 60)
    garment = garment_cutout(image28, garment_side(shape, rng), colour, rng)
    h, w = shape
    s = garment.alpha.shape[0]
    y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
    offset = (rng.uniform(0.02, 0.06, size=2) * s * rng.choice([-1, 1], size=2)).astype(int)
    shadow = np.zeros(shape, np.uint8)
    sy, sx = np.clip(y + offset[0], 0, h - s), np.clip(x + offset[1], 0, w - s)
    shadow[sy:sy + s, sx:sx + s] = np.rint(garment.alpha * 255)
    blur = ImageFilter.GaussianBlur(rng.uniform(0.015, 0.05) * s)
    shadow = np.asarray(Image.fromarray(shadow, "L").filter(blur), np.float32) / 255 * rng.uniform(0.25, 0.5)
    shaded = background * (1 - shadow[..., None])
    return jpeg(place(shaded, garment, rng, (y, x)) * lighting(shape, rng, 0.1), rng)


def small_in_frame(image28: np.ndarray, rng: np.random.Generator) -> bytes:
    """Small in the frame: the garment spans 20-35% of the photo's width."""
    shape = canvas_shape(rng)
    background = plain(shape, hsv_colour(rng, (0.6, 1.0), saturation=(0.0, 0.4)), rng)
    side = min(int(shape[1] * rng.uniform(0.2, 0.35)), shape[0])
    garment = garment_cutout(image28, side, contrasting_colour(rng, background), rng)
    return jpeg(place(background, garment, rng) * lighting(shape, rng, 0.15), rng)


def rotated(image28: np.ndarray, rng: np.random.Generator) -> bytes:
    """Rotated 5-15 degrees either way, on a plain surface."""
    shape = canvas_shape(rng)
    background = plain(shape, hsv_colour(rng, (0.3, 1.0), saturation=(0.0, 0.5)), rng)
    angle = rng.uniform(5, 15) * rng.choice([-1, 1])
    garment = garment_cutout(image28, garment_side(shape, rng), contrasting_colour(rng, background), rng, angle)
    return jpeg(place(background, garment, rng) * lighting(shape, rng, 0.15), rng)


def low_contrast(garment_value, background_value, min_distance: float):
    def photo(image28: np.ndarray, rng: np.random.Generator) -> bytes:
        shape = canvas_shape(rng)
        background = plain(shape, hsv_colour(rng, background_value, saturation=(0.0, 0.3)), rng)
        while True:
            colour = hsv_colour(rng, garment_value, saturation=(0.0, 0.4))
            if np.linalg.norm(colour - background[0, 0]) >= min_distance:
                break
        garment = garment_cutout(image28, garment_side(shape, rng), colour, rng)
        return jpeg(place(background, garment, rng) * lighting(shape, rng, 0.1), rng)
    return photo


# ---------------------------------------------------------------------------------------------
# Drawings: the garment's contour, drawn with jittered strokes


def contour_loops(mask: np.ndarray) -> list[np.ndarray]:
    """The closed boundaries of a binary mask, as (x, y) vertex arrays along pixel edges;
    outer boundaries run clockwise on screen (positive shoelace area), holes the other way."""
    m = np.pad(mask, 1)
    inside = m[1:-1, 1:-1]
    edges = {}
    # (dr, dc) of the outside neighbour -> the pixel edge, kept with the inside on the right
    sides = {(-1, 0): ((0, 0), (1, 0)), (1, 0): ((1, 1), (0, 1)), (0, -1): ((0, 1), (0, 0)), (0, 1): ((1, 0), (1, 1))}
    for (dr, dc), ((x0, y0), (x1, y1)) in sides.items():
        rows, cols = np.nonzero(inside & ~m[1 + dr:m.shape[0] - 1 + dr, 1 + dc:m.shape[1] - 1 + dc])
        for r, c in zip(rows.tolist(), cols.tolist()):
            edges.setdefault((c + x0, r + y0), []).append((c + x1, r + y1))
    loops = []
    while edges:
        start = next(iter(edges))
        loop, point = [start], start
        while True:
            nexts = edges[point]
            following = nexts.pop()
            if not nexts:
                del edges[point]
            if following == start:
                break
            loop.append(following)
            point = following
            if point not in edges:  # a saddle vertex sent this walk down another loop's edges
                break
        loops.append(np.array(loop, dtype=np.float32))
    return loops


def shoelace(loop: np.ndarray) -> float:
    x, y = loop[:, 0], loop[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def garment_contours(image28: np.ndarray, scale: int = 4) -> list[np.ndarray]:
    """What a person would trace: the garment's outer contour and its clear holes (a bag's
    handle), in 28x28 units, smoothed as a hand smooths a staircase."""
    up = Image.fromarray(image28, "L").resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    loops = [loop for loop in contour_loops(np.asarray(up) > 12) if len(loop) >= 12]
    if not loops:
        return []
    areas = [shoelace(loop) for loop in loops]
    biggest = max(areas)
    kept = [loop for loop, area in zip(loops, areas) if area == biggest or (area < 0 and -area > 0.05 * biggest)]
    return [smooth_loop(loop[::2], 5) / scale for loop in kept]


def smooth_loop(loop: np.ndarray, window: int) -> np.ndarray:
    """A circular moving average of the loop's vertices."""
    padded = np.concatenate([loop[-window:], loop, loop[:window]])
    kernel = np.ones(window) / window
    smooth = np.stack([np.convolve(padded[:, i], kernel, mode="same") for i in range(2)], axis=1)
    return smooth[window:-window]


def jitter(points: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A hand's wobble: slow drift plus a little tremor, `amount` pixels at most-ish."""
    n = len(points)
    drift = np.cumsum(rng.normal(0, 1, size=(n, 2)), axis=0)
    drift -= np.linspace(0, 1, n)[:, None] * drift[-1]  # the stroke comes back to where it began
    drift *= amount / (np.abs(drift).max() + 1e-6)
    return points + drift + rng.normal(0, amount * 0.15, size=(n, 2))


def hatch(box: tuple[float, float, float, float], spacing: float, rng: np.random.Generator) -> np.ndarray:
    """A back-and-forth scribble filling a box, as a person colours a shape in."""
    left, top, right, bottom = box
    angle = rng.uniform(-0.5, 0.5) + (np.pi / 2 if rng.random() < 0.5 else 0)
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    reach = math.hypot(right - left, bottom - top) / 2
    offsets = np.arange(-reach, reach + spacing, spacing)
    along, across = np.array([math.cos(angle), math.sin(angle)]), np.array([-math.sin(angle), math.cos(angle)])
    ends = [(centre + o * across + s * reach * along) for i, o in enumerate(offsets) for s in ((-1, 1) if i % 2 == 0 else (1, -1))]
    return np.array(ends)


def drawing(image28: np.ndarray, rng: np.random.Generator, filled: bool) -> bytes:
    """A test image drawn on a canvas with a mouse or finger: PNG bytes."""
    side = int(rng.choice([280, 400, 560]))
    thick = rng.random() < 0.5
    brush = side / 280 * (rng.uniform(14, 30) if thick else rng.uniform(3, 8))
    light_on_dark = rng.random() < 0.5
    size = rng.uniform(0.6, 0.9) * side
    offset = rng.uniform(0, side - size, size=2)
    supersample = 2  # drawn at twice the size, then averaged down: the canvas anti-aliases its strokes
    to_canvas = lambda pts: (pts * size / 28 + offset) * supersample  # noqa: E731
    loops = [jitter(to_canvas(loop), 0.012 * side * supersample, rng) for loop in garment_contours(image28)]
    ink = Image.new("L", (side * supersample,) * 2, 0)
    draw = ImageDraw.Draw(ink)
    width = max(1, round(brush * supersample))
    if filled and loops:
        region = Image.new("L", ink.size, 0)
        region_draw = ImageDraw.Draw(region)
        for i, loop in enumerate(loops):
            region_draw.polygon([tuple(p) for p in loop], fill=255 if i == 0 else 0)
        scribble = Image.new("L", ink.size, 0)
        xs, ys = loops[0][:, 0], loops[0][:, 1]
        path = jitter(hatch((xs.min(), ys.min(), xs.max(), ys.max()), width * rng.uniform(0.7, 1.6), rng), width / 3, rng)
        ImageDraw.Draw(scribble).line([tuple(p) for p in path], fill=255, width=width, joint="curve")
        ink.paste(scribble, mask=region)
    for loop in loops:
        draw.line([tuple(p) for p in np.vstack([loop, loop[:1]])], fill=255, width=width, joint="curve")
    return canvas_png(ink, supersample, light_on_dark)


def canvas_png(ink: Image.Image, supersample: int, light_on_dark: bool) -> bytes:
    """Ink (255 = paint) -> PNG of white on black, as the app's canvas sends it, or dark on white."""
    ink = ink.reduce(supersample)
    out = io.BytesIO()
    (ink if light_on_dark else Image.eval(ink, lambda v: 255 - v)).convert("RGB").save(out, "PNG")
    return out.getvalue()


def outline_drawing(image28: np.ndarray, rng: np.random.Generator) -> bytes:
    """The contour only, as most people draw."""
    return drawing(image28, rng, filled=False)


def filled_drawing(image28: np.ndarray, rng: np.random.Generator) -> bytes:
    """The contour, then scribbled in, as the canvas's caption asks."""
    return drawing(image28, rng, filled=True)


def trouser_strokes(_image28: np.ndarray, rng: np.random.Generator) -> bytes:
    """A trouser drawn in the app's 280-pixel canvas: waistband, two legs, a centre seam (or its
    outline with the gap between the legs), at brushes around the app's default of 24."""
    side, supersample = 280, 2
    brush = rng.uniform(10, 30) * supersample
    stick = [[(0.3, 0.12), (0.7, 0.12)], [(0.34, 0.12), (0.28, 0.9)], [(0.66, 0.12), (0.72, 0.9)], [(0.5, 0.12), (0.5, 0.35)]]
    outline = [[(0.3, 0.12), (0.7, 0.12), (0.72, 0.9), (0.58, 0.9), (0.5, 0.38), (0.42, 0.9), (0.28, 0.9), (0.3, 0.12)],
               [(0.5, 0.12), (0.5, 0.3)]]
    strokes = stick if rng.random() < 0.5 else outline
    ink = Image.new("L", (side * supersample,) * 2, 0)
    draw = ImageDraw.Draw(ink)
    for stroke in strokes:
        # a mouse reports many points along a stroke, each a little off the intended line
        path = np.concatenate([np.linspace(a, b, 12) for a, b in zip(stroke[:-1], stroke[1:])])
        path = jitter(path * side * supersample, 0.01 * side * supersample, rng)
        draw.line([tuple(p) for p in path], fill=255, width=round(brush), joint="curve")
    return canvas_png(ink, supersample, light_on_dark=True)


@dataclass(frozen=True)
class Kind:
    name: str        # the table's row
    make: object     # (image28 uint8 [28, 28], rng) -> encoded picture bytes
    drawn: bool      # a drawing: shoes are mirrored for half of them
    classes: tuple = tuple(range(10))  # the labels whose test images this kind is made from


KINDS = [
    Kind("drawing, outline only", outline_drawing, True),
    Kind("drawing, filled in", filled_drawing, True),
    Kind("drawing, trouser as strokes", trouser_strokes, False, (TROUSER,)),
    Kind("photo on wood (grain, plank seams)", on_texture(wood), False),
    Kind("photo on a sheet (folds)", on_texture(sheet), False),
    Kind("photo on tiles (grout)", on_texture(tiles), False),
    Kind("photo on white, soft drop shadow", drop_shadow, False),
    Kind("photo, garment small in frame", small_in_frame, False),
    Kind("photo, rotated 5-15 degrees", rotated, False),
    Kind("photo, dark on dark", low_contrast((0.12, 0.35), (0.03, 0.2), 18), False),
    Kind("photo, light on light", low_contrast((0.72, 0.9), (0.85, 1.0), 18), False),
]

# ---------------------------------------------------------------------------------------------
# Choosing garments, scoring


def choose(labels: np.ndarray, indices: range, kind_number: int, limit: int, seed: int) -> np.ndarray:
    """`limit` test-image indices from `indices`, the same number of each of the kind's classes
    (so every class is drawn), chosen per kind so the kinds don't all use the same garments."""
    rng = np.random.default_rng([seed, kind_number, 1])
    pool = np.asarray(indices)
    classes = KINDS[kind_number].classes
    per_class = math.ceil(limit / len(classes))
    chosen = [rng.permutation(pool[labels[pool] == c])[:per_class] for c in classes]
    return np.sort(np.concatenate(chosen))[:limit]


def make_input(kind_number: int, index: int, image28: np.ndarray, label: int, seed: int) -> bytes:
    """The picture of one kind made from one test image: the same bytes on every run and pool."""
    kind = KINDS[kind_number]
    rng = np.random.default_rng([seed, kind_number, index])
    if kind.drawn and label in SHOES and index % 2:
        image28 = image28[:, ::-1].copy()  # facing right
    return kind.make(image28, rng)


_classifier = None  # each worker's copy, set once rather than pickled with every job


def _init(checkpoint_path) -> None:
    global _classifier
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _classifier = checkpoint.load(checkpoint_path)


def _score(job) -> tuple[int, int, bool, str]:
    """(kind, index, correct, refusal reason or "")."""
    kind_number, index, image28, label, seed = job
    prediction = predict_bytes(_classifier, make_input(kind_number, index, image28, label, seed))
    if prediction.empty:
        return kind_number, index, False, prediction.preprocessed.reason
    return kind_number, index, prediction.label == label, ""


def reason_name(reason: str) -> str:
    """A refusal's kind, from its message's first words: 'Low contrast', 'The picture is blank'..."""
    return reason.split(":")[0].strip()


def run(checkpoint_path, slice_name: str, limit: int, seed: int = SEED, workers: int = WORKERS,
        kinds: list[int] | None = None) -> list[dict]:
    """One row per kind: accuracy, refusals, and the raw accuracy of the same test images."""
    classifier = checkpoint.load(checkpoint_path)
    images, labels = load_split_numpy("test")
    kinds = list(range(len(KINDS))) if kinds is None else kinds
    chosen = {k: choose(labels, SLICES[slice_name], k, limit, seed) for k in kinds}
    jobs = [(k, int(i), images[i], int(labels[i]), seed) for k in kinds for i in chosen[k]]
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(checkpoint_path,)) as pool:
        results = list(pool.map(_score, jobs, chunksize=8))
    rows = []
    for k in kinds:
        mine = [r for r in results if r[0] == k]
        indices = chosen[k]
        raw = float((classifier.predict_proba(images[indices]).argmax(1) == labels[indices]).mean())
        accuracy = sum(r[2] for r in mine) / len(mine)
        refusals = Counter(reason_name(r[3]) for r in mine if r[3])
        rows.append({"input": KINDS[k].name, "n": len(mine), "accuracy": accuracy,
                     "refused": sum(refusals.values()) / len(mine),
                     "reasons": {name: count / len(mine) for name, count in refusals.most_common()},
                     "raw": raw, "ratio": accuracy / raw if raw else float("nan")})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| input | n | accuracy | refused (with reason) | same garments as raw 28x28 | ratio |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        reasons = ", ".join(f"{name}: {round(share * row['n'])}" for name, share in row["reasons"].items())
        refused = f"{row['refused']:.0%}" + (f" ({reasons})" if reasons else "")
        lines.append(f"| {row['input']} | {row['n']} | {row['accuracy']:.1%} | {refused} | {row['raw']:.1%} "
                     f"| {row['ratio']:.2f} |")
    return "\n".join(lines)


def time_24mp(checkpoint_path, repeats: int = 3) -> tuple[float, float]:
    """(seconds, MB): best-of-N time to predict one 6000x4000 JPEG photo on wood from its bytes."""
    rng = np.random.default_rng([SEED, 24])
    images, _ = load_split_numpy("test")
    small = Image.open(io.BytesIO(on_texture(wood)(images[0], rng))).convert("RGB")
    photo = small.resize((6000, 4000), Image.Resampling.BILINEAR)
    grain = rng.integers(-12, 13, size=(4000, 6000, 3), dtype=np.int16)  # a real 24 MP JPEG is 5-15 MB
    photo = Image.fromarray(np.clip(np.asarray(photo, dtype=np.int16) + grain, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    classifier = checkpoint.load(checkpoint_path)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict_bytes(classifier, data)
        best = min(best, time.perf_counter() - start)
    return best, len(data) / 2 ** 20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a .safetensors file (default: the robust model, Predict's default)")
    parser.add_argument("--slice", choices=sorted(SLICES), default="report")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="images per kind")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args(argv)
    path = args.checkpoint or checkpoint.PRETRAINED.with_name("robust.safetensors")
    start = time.perf_counter()
    rows = run(path, args.slice, args.limit, args.seed)
    took = time.perf_counter() - start
    seconds, megabytes = time_24mp(path)
    if args.json:
        print(json.dumps({"slice": args.slice, "checkpoint": str(path), "limit": args.limit, "seed": args.seed,
                          "rows": rows, "seconds": took, "seconds_24mp": seconds}, indent=1))
        return 0
    print(f"{args.slice} slice (test images {SLICES[args.slice].start}-{SLICES[args.slice].stop - 1}), "
          f"{args.limit} per kind, checkpoint {Path(path).name}, {took:.0f} s")
    print(table(rows))
    print(f"24 MP JPEG ({megabytes:.1f} MB): predicted in {seconds:.3f} s (best of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
