"""Fashion-MNIST images turned into what users bring: mirrored garments, filled silhouettes (as
drawn with a thin to a thick brush), outline drawings (traced, or simplified as people draw
them), imperfect crops (shift, scale, small rotation) and other contrasts.

Every function takes and returns uint8 [N, 28, 28] images, garment light on black like the
dataset, and draws its randomness from the numpy Generator it is given, so the same seed gives
the same pictures. Shapes are traced at UPSAMPLE times the size and averaged back down, which
gives a 1-3 px stroke the soft edge that preprocessing a drawing leaves on it. torch does the
batch work (pooling, resampling); nothing here imports streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

SIZE = 28
UPSAMPLE = 2           # silhouettes and outlines are traced on 56x56: strokes of 1, 1.5, 2 ... 3 px
GARMENT_LEVEL = 25     # a pixel brighter than ~10% is garment: keeps faint fabric, drops JPEG-like haze
CHUNK = 4096           # images per batch of torch work: a few MB at 56x56, fast on one thread
BRIDGE = 3             # px (28x28 scale): a person outlining a garment skips gaps narrower than this
OPEN_ROWS = 3          # px: and often leaves its bottom edge (the hems) undrawn, this tall a band
STYLES = ("image", "silhouette", "outline", "open outline")


@dataclass(frozen=True)
class Mix:
    """What a training set made by `augmented_set` holds, besides one copy of every original.
    The defaults are the shipped robust model's mix, which bench/train_robust.py chose on validation."""
    copies: int = 2               # augmented copies per training image
    silhouette: float = 0.15      # share of the copies drawn as filled silhouettes
    outline: float = 0.1          # share drawn as traced outlines
    open_outline: float = 0.15    # share drawn as simplified outlines (see open_outlines); the rest stay images
    flip: float = 0.2             # chance a copy is mirrored (every class may be: shoes learn to face right)
    jitter: float = 0.2           # chance a copy is shifted, scaled and rotated a little
    contrast: float = 0.5         # chance an image copy gets another brightness curve
    max_shift: float = 1.0        # pixels: preprocessing re-centres every picture, so crops are only a little off
    scales: tuple = (0.9, 1.05)   # a crop a little loose (a shadow, a margin) or tight
    max_rotation: float = 15.0    # degrees: a garment laid or held slightly askew
    stroke: tuple = (1.0, 3.0)    # outline width in 28x28 pixels: a thin to a thick brush
    brush: tuple = (0.0, 5.0)     # silhouette brush width in 28x28 pixels: traced exactly to a thick finger


def flipped(images: np.ndarray) -> np.ndarray:
    """Mirror left-right."""
    return np.ascontiguousarray(images[:, :, ::-1])


def silhouettes(images: np.ndarray, brushes=0.0) -> np.ndarray:
    """Each garment as one filled shape at full brightness, as a filled-in drawing looks, drawn with
    a round brush `brushes[i]` pixels wide (28x28 scale): its stroke along the contour reaches half
    its width outside, closing gaps narrower than the brush (between trouser legs, a sandal's
    straps), and the shape is then cropped and scaled back to 28 px, as preprocessing does."""
    brushes = np.broadcast_to(np.asarray(brushes, dtype=np.float64), (len(images),))
    return _chunked(images, _brushed, brushes)


def outlines(images: np.ndarray, widths) -> np.ndarray:
    """Each garment's contour as a light stroke `widths[i]` pixels wide (28x28 scale) on black."""
    widths = np.broadcast_to(np.asarray(widths, dtype=np.float64), (len(images),))
    return _chunked(images, _outline_strokes, widths)


def open_outlines(images: np.ndarray, widths) -> np.ndarray:
    """Each garment outlined as people simplify it: gaps under BRIDGE px bridged (two trouser legs
    drawn as one shape, a sleeve as part of the body) and the bottom OPEN_ROWS px left open (no hems)."""
    widths = np.broadcast_to(np.asarray(widths, dtype=np.float64), (len(images),))
    return _chunked(images, _open_outline_strokes, widths)


def jittered(images: np.ndarray, rng: np.random.Generator, max_shift: float = Mix.max_shift,
             scales: tuple = Mix.scales, max_rotation: float = Mix.max_rotation) -> np.ndarray:
    """Each image shifted, scaled and rotated by its own random amounts (bilinear, black fill)."""
    n = len(images)
    angle = np.radians(rng.uniform(-max_rotation, max_rotation, n))
    scale = rng.uniform(*scales, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2)) * (2.0 / SIZE)  # in affine_grid's [-1, 1] units
    # affine_grid maps output to input coordinates: the inverse of "scale by s, rotate by a".
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    theta = np.stack([np.stack([cos, -sin, shift[:, 0]], 1), np.stack([sin, cos, shift[:, 1]], 1)], 1)
    out = np.empty_like(images)
    for start in range(0, n, CHUNK):
        x = torch.from_numpy(images[start:start + CHUNK]).float()[:, None]
        grid = F.affine_grid(torch.from_numpy(theta[start:start + CHUNK]).float(), list(x.shape), align_corners=False)
        warped = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        out[start:start + CHUNK] = warped[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()
    return out


def recontrasted(images: np.ndarray, rng: np.random.Generator, gammas: tuple = (0.5, 2.0)) -> np.ndarray:
    """Another brightness curve per image (gamma, log-uniform in `gammas`), brightest pixel kept at 255:
    preprocessing stretches every picture that way, so a darker or flatter photo differs only in its curve."""
    gamma = np.exp(rng.uniform(math.log(gammas[0]), math.log(gammas[1]), len(images)))[:, None, None]
    x = images.astype(np.float32) / 255.0
    return np.rint(255.0 * x ** gamma.astype(np.float32)).astype(np.uint8)


def augmented_set(images: np.ndarray, labels: np.ndarray, mix: Mix, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The originals plus `mix.copies` augmented copies of each, shuffled: a training set for train()."""
    rng = np.random.default_rng(seed)
    parts, part_labels = [images], [labels]
    for _ in range(mix.copies):
        parts.append(augmented_copy(images, mix, rng))
        part_labels.append(labels)
    order = rng.permutation(sum(len(p) for p in parts))
    return np.concatenate(parts)[order], np.concatenate(part_labels)[order]


def augmented_copy(images: np.ndarray, mix: Mix, rng: np.random.Generator) -> np.ndarray:
    """One augmented version of every image: a style (image, silhouette or outline), then maybe a
    flip, maybe a jitter, and for images maybe another contrast."""
    n = len(images)
    shares = [mix.silhouette, mix.outline, mix.open_outline]
    style = rng.choice(len(STYLES), n, p=[1 - sum(shares)] + shares)
    out = images.copy()
    is_image = style == STYLES.index("image")
    recontrast = is_image & (rng.random(n) < mix.contrast)
    out[recontrast] = recontrasted(images[recontrast], rng)
    is_silhouette = style == STYLES.index("silhouette")
    out[is_silhouette] = silhouettes(images[is_silhouette], rng.uniform(*mix.brush, int(is_silhouette.sum())))
    is_outline = style == STYLES.index("outline")
    out[is_outline] = outlines(images[is_outline], rng.uniform(*mix.stroke, int(is_outline.sum())))
    is_open = style == STYLES.index("open outline")
    out[is_open] = open_outlines(images[is_open], rng.uniform(*mix.stroke, int(is_open.sum())))
    flip = rng.random(n) < mix.flip
    out[flip] = flipped(out[flip])
    jitter = rng.random(n) < mix.jitter
    out[jitter] = jittered(out[jitter], rng, mix.max_shift, mix.scales, mix.max_rotation)
    return out


# --- shapes at UPSAMPLE x resolution --------------------------------------------------------

def _chunked(images: np.ndarray, make, per_image: np.ndarray) -> np.ndarray:
    """`make(masks, per_image)` over the garments' filled masks, CHUNK images at a time."""
    out = np.empty_like(images)
    for start in range(0, len(images), CHUNK):
        masks = _filled_masks(images[start:start + CHUNK])
        values = per_image[start:start + CHUNK]
        out[start:start + CHUNK] = make(masks, values)
    return out


def _filled_masks(images: np.ndarray) -> torch.Tensor:
    """float {0, 1} [N, 1, 56, 56]: the garment with its holes filled, edges smoothed by upsampling."""
    garment = torch.from_numpy(np.asarray(images) > GARMENT_LEVEL)[:, None].float()
    return _upsampled(_fill_holes(garment))


def _upsampled(masks: torch.Tensor) -> torch.Tensor:
    """{0, 1} masks at 28x28 -> at UPSAMPLE x, edges smoothed (bilinear, then thresholded)."""
    up = F.interpolate(masks, scale_factor=UPSAMPLE, mode="bilinear", align_corners=False)
    return (up >= 0.5).float()


def _downsampled(masks: torch.Tensor) -> torch.Tensor:
    """{0, 1} masks at UPSAMPLE x -> at 28x28 (a pixel is garment if it mostly is). Holes are
    filled at this size: at 56x56 the flood fill takes ~10x as long."""
    return (F.avg_pool2d(masks, UPSAMPLE) >= 0.5).float()


def _fill_holes(mask: torch.Tensor) -> torch.Tensor:
    """Background is what black reaches from the border; every other pixel is garment."""
    free = 1.0 - mask
    outside = torch.zeros_like(mask)
    outside[..., 0, :], outside[..., -1, :], outside[..., :, 0], outside[..., :, -1] = (
        free[..., 0, :], free[..., -1, :], free[..., :, 0], free[..., :, -1])
    while True:
        grown = F.max_pool2d(outside, 3, stride=1, padding=1) * free
        if torch.equal(grown, outside):
            return 1.0 - outside
        outside = grown


def _dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary dilation by a (2r+1)-square, done as two 1-D max-pools."""
    k = 2 * radius + 1
    rows = F.max_pool2d(mask, (1, k), stride=1, padding=(0, radius))
    return F.max_pool2d(rows, (k, 1), stride=1, padding=(radius, 0))


def _erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary erosion by a (2r+1)-square, done as two 1-D min-pools (the border counts as background)."""
    if radius <= 0:
        return mask
    k = 2 * radius + 1
    padded = F.pad(mask, (radius, radius, radius, radius))
    rows = -F.max_pool2d(-padded, (1, k), stride=1)
    return -F.max_pool2d(-rows, (k, 1), stride=1)


def _brushed(masks: torch.Tensor, brushes: np.ndarray) -> np.ndarray:
    """Each mask grown by half its brush (a disc), holes filled, its longest side scaled back to 28."""
    radii = np.rint(brushes * UPSAMPLE / 2).astype(int)
    pad = UPSAMPLE * math.ceil(radii.max() / UPSAMPLE)  # room to grow, in whole 28x28 pixels: holes fill there
    grown = F.pad(masks, (pad,) * 4)
    for radius in np.unique(radii[radii > 0]):
        chosen = torch.from_numpy(np.flatnonzero(radii == radius))
        grown[chosen] = _dilate_round(grown[chosen], int(radius))
    small = _downsampled(grown)
    holes = _upsampled(_fill_holes(small) - small)  # only the holes: rounding the mask to 28x28 would grow it
    return _to_images(_recropped(torch.maximum(grown, holes)))


def _dilate_round(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary dilation by a disc of `radius` pixels: where a round brush's centre on the mask paints."""
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    # r^2 + r ~ (r + 1/2)^2: the pixels mostly inside the disc
    disc = ((offsets[:, None] ** 2 + offsets[None] ** 2) <= radius ** 2 + radius).float()
    return (F.conv2d(mask, disc[None, None], padding=radius) > 0).float()


def _recropped(masks: torch.Tensor) -> torch.Tensor:
    """[N, 1, P, P] masks -> [N, 1, 56, 56], each cropped to its bounding box and scaled so its
    longest side fills the picture, centred: what preprocessing's crop does to a drawing. Nearest
    sampling keeps the masks binary; _to_images' averaging down gives them their soft edge."""
    n, side = len(masks), masks.shape[-1]
    top, bottom = _extent(masks.amax(dim=(1, 3)) > 0)
    left, right = _extent(masks.amax(dim=(1, 2)) > 0)
    theta = torch.zeros(n, 2, 3)  # affine_grid maps output to input coordinates, both in [-1, 1]
    theta[:, 0, 0] = theta[:, 1, 1] = torch.maximum(bottom - top, right - left) / side
    theta[:, 0, 2], theta[:, 1, 2] = (left + right) / side - 1, (top + bottom) / side - 1
    grid = F.affine_grid(theta, [n, 1, SIZE * UPSAMPLE, SIZE * UPSAMPLE], align_corners=False)
    return F.grid_sample(masks, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def _extent(inked: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """bool [N, P] -> (first, last + 1) inked index per row, as floats; an empty row spans all P."""
    side = inked.shape[1]
    index = torch.arange(side)
    first = torch.where(inked, index, side).amin(dim=1)
    last = torch.where(inked, index, -1).amax(dim=1) + 1
    empty = first >= last
    return torch.where(empty, 0, first).float(), torch.where(empty, side, last).float()


def _outline_strokes(masks: torch.Tensor, widths: np.ndarray) -> np.ndarray:
    """The inner band of each mask, `widths` pixels (28x28 scale) wide, averaged down to 28x28."""
    return _to_images(_bands(masks, widths))


def _open_outline_strokes(masks: torch.Tensor, widths: np.ndarray) -> np.ndarray:
    """Bridge narrow gaps (a closing, then holes filled), outline, and erase the bottom band."""
    radius = BRIDGE * UPSAMPLE // 2
    padded = F.pad(masks, (radius,) * 4)  # room to grow, so a garment touching the border keeps its edge
    closed = _erode(_dilate(padded, radius), radius)[..., radius:-radius, radius:-radius]
    bands = _bands(torch.maximum(closed, _upsampled(_fill_holes(_downsampled(closed)))), widths)
    rows = torch.arange(bands.shape[-2])
    inked = bands.amax(dim=(1, 3)) > 0                                   # [N, H]: rows with ink
    last = torch.where(inked, rows, torch.full_like(rows, -1)).amax(dim=1)
    bands[(rows[None] > (last - OPEN_ROWS * UPSAMPLE)[:, None])[:, None, :, None].expand_as(bands)] = 0
    return _to_images(bands)


def _bands(masks: torch.Tensor, widths: np.ndarray) -> torch.Tensor:
    """The inner band of each mask, `widths` pixels (28x28 scale) wide, at UPSAMPLE x resolution."""
    radii = np.clip(np.rint(widths * UPSAMPLE), 1, None).astype(int)
    bands = torch.empty_like(masks)
    for radius in np.unique(radii):
        chosen = torch.from_numpy(np.flatnonzero(radii == radius))
        bands[chosen] = masks[chosen] - _erode(masks[chosen], int(radius))
    return bands


def _to_images(masks: torch.Tensor) -> np.ndarray:
    """[N, 1, 56, 56] coverage -> uint8 [N, 28, 28], brightest pixel 255 (as preprocessing leaves it)."""
    small = F.avg_pool2d(masks, UPSAMPLE)[:, 0]
    top = small.amax(dim=(1, 2), keepdim=True).clamp_min(1e-6)
    return (small * (255.0 / top)).round().to(torch.uint8).numpy()
