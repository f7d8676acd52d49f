"""Any picture -> a 28x28 image made the way Fashion-MNIST's were, so the model can read it.

Fashion-MNIST was made from Zalando's product photos (Xiao et al. 2017, section 2): trim the
background, resize the longest edge to 28, sharpen, centre on a 28x28 canvas, negate,
grayscale. So a garment in the dataset is light on exactly black, fills 28 pixels along its
longest side, is centred by its bounding box and reaches full brightness (255). A photo or a
drawing has to be brought to the same place or the linear model, which compares pixels to
fixed templates, sees something else. People photograph garments on floors, sheets and
tables, and draw them as outlines, so the steps here are:

  background: a smooth surface per colour channel, fitted robustly to the picture's outer
    band (lighting gradients and vignetting are part of it; a garment crossing the band is not)
  -> distance of each pixel from that surface (colour, not just grey: red on green shows)
  -> adaptive threshold: Otsu on the distance, never under a floor set by the background's
    own noise and texture; faint garment parts are kept where they touch strong ones
  -> opening: thin background structure (plank seams, grout, creases) is removed
  -> the main connected region is the garment; distant specks and clutter are dropped
  -> holes filled (only regions the garment fully encloses: an outline drawing becomes the
    filled silhouette the model knows, while the gap between trouser legs stays open)
  -> small tilts (up to 20 degrees) of a photographed garment turned upright
  -> a shoe pointing right mirrored (every shoe in the dataset points left)
  -> crop to the garment, longest edge to 28 by area averaging (thin strokes fade rather
    than vanish), centre on 28x28, sharpen, stretch so the brightest pixel is 255.

A garment too close to its background to be told apart is refused with that reason, not
guessed. A 28x28 input is taken to be dataset-made already (a garment on it may touch all four
sides) and is only turned light-on-dark and stretched. The constants below were checked on
bench/real_inputs.py's tune slice (test images 0-1999) only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from model.files.image_files import to_rgb_or_l
from model.message import Message

SIZE = 28
WORK_SIDE = 384        # pictures are shrunk to this first; a garment a fifth of the width still has 75 px
MIN_GARMENT = 3        # a garment narrower than 3 working pixels both ways is a speck, not a garment
SHARPEN = ImageFilter.UnsharpMask(radius=1, percent=50, threshold=0)  # the paper's mild Gaussian sharpen

BAND = 0.06            # the outer 6% of each side is where the background is sampled
DEGREE = 2             # the background surface is a quadratic in x and y: lighting, not texture
ROBUST_ROUNDS = 3      # refits, each dropping band pixels far from the last fit (a garment crossing it)
ROBUST_CUT = 3.0       # "far" = over 3 robust standard deviations
FLOOR = 10.0           # no pixel nearer than this (RGB distance, 0-441) to the background is garment
NOISE_FLOOR = 4.0      # ... nor nearer than 4x the band's median distance (noise, grain, texture)
HYSTERESIS = 0.5       # faint garment pixels count from half Otsu's cut, where they touch surely-garment ones
OPENING = 3            # square side (working pixels) of the opening that removes thin structure, at least ...
OPENING_SHARE = 0.04   # ... 4% of the garment's size on a textured background: a seam in a big photo is wider
TEXTURE_NOISE = 3.0    # a band whose median distance from its surface is 3+ is textured (wood, tiles, folds);
                       # plain paper photographs at 1-3, a drawing at 0 (its strokes must not be thinned)
THIN_SHARE = 0.5       # if the opening removes over half the surely-garment pixels, they are strokes: keep them
PART_SHARE = 0.1       # another region at least 10% of the main one's size ...
PART_GAP = 0.05        # ... within 5% of the picture's side of it is part of the same garment
FAINT_BLUR = 2         # a faint garment, averaged over 5x5 pixels, ...
FAINT_NOISE = 1.25     # ... stands 1.25x the noise ...
FAINT_LEVEL = 2.0      # ... plus 2 levels (a synthetic flat background has no noise at all) ...
FAINT_SHARE = 0.02     # ... over at least 2% of the picture
LOW_CONTRAST = 2.5     # garment/background separation (median distances) under which we refuse
MAX_TILT = 20.0        # degrees: tilts up to this are turned upright ...
MIN_TILT = 2.0         # ... from this on (nine upright test garments in ten measure 0) ...
TILT_GAIN = 1.5        # ... and only where its outline lines up 1.5x better than as it lies (catalog photos,
                       # upright but with soft edges, were turned 28% of the time without this, 7% with it)
DRAWING_SHARE = 0.85   # ... and never in a drawing: ink and paper make 85% or more of its pixels
PROFILE_SMOOTHING = np.exp(-np.arange(-3, 4) ** 2 / 2) / np.exp(-np.arange(-3, 4) ** 2 / 2).sum()  # Gaussian, sd 1 px
FULL_PERCENTILE = 98   # the garment's 98th-percentile distance becomes 255 (a few glints don't dim the rest)
FACING_MARGIN = 1.1    # a shoe's left half must stand 10% taller than its right half to be mirrored

# The dataset-sized path: a dataset image has more exactly-black pixels (<= DARK) than white ones
# (>= LIGHT), its inverse the other way round: true of all 10,000 test images and their inverses.
DARK, LIGHT = 4, 251

BLANK = Message("preprocess.blank", "The picture is blank: nothing stands out of its background, so there is "
                "nothing to classify. Use a photo of one garment on a plain background.")
SPECK = Message("preprocess.speck", "Only a speck stands out of the background: nothing to classify. Use a picture "
                "of one whole garment.")
LOW = Message("preprocess.low_contrast", "Low contrast: the garment can't be told from the background. Lay it on a "
              "contrasting background (a dark garment on a light one, or the other way round).")

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
    pixels = _working_copy(image)
    h, w = pixels.shape[:2]
    if min(h, w) < MIN_GARMENT:
        return _empty(steps, Message("preprocess.tiny", "The picture is only {w}×{h} pixels: nothing to classify. "
                                     "Use a picture of one garment, at least a few dozen pixels across.", w=w, h=h))
    if (h, w) == (SIZE, SIZE):
        return _dataset_sized(pixels, steps)

    background, noise = fit_background(pixels)
    steps.append(("background", _to_uint8(background if background.shape[2] == 3 else background[..., 0])))
    signed = pixels - background
    distance = np.sqrt((signed ** 2).sum(axis=2))
    low, high = thresholds(distance, noise)
    sure = distance > high
    mask = main_region(keep_touching(remove_thin(distance > low, sure, noise >= TEXTURE_NOISE), sure))
    top, bottom, left, right = bounding_box(mask)
    if bottom - top < MIN_GARMENT and right - left < MIN_GARMENT:
        return _empty(steps, LOW if faint_garment(distance, noise) else SPECK if mask.any() else BLANK)
    dark_on_light = float(signed[mask].mean()) < 0
    steps.append(("inverted" if dark_on_light else "background removed", _to_uint8(distance)))
    if separation(distance, mask) < LOW_CONTRAST:
        return _empty(steps, LOW)

    filled = fill_holes(mask)
    garment = _garment_intensity(distance, mask, filled)
    steps.append(("garment", _to_uint8(garment)))
    tilt = 0.0 if is_drawing(pixels) else upright_angle(filled)
    if tilt:
        garment, filled = _rotate(garment, tilt), _rotate(filled.astype(np.float32), tilt) > 0.5
        steps.append(("upright", _to_uint8(garment)))
    if faces_right(filled):
        garment, filled = garment[:, ::-1], filled[:, ::-1]
        steps.append(("facing left", _to_uint8(garment)))
    return _finish(garment, filled, steps)


# -- the working copy ------------------------------------------------------------------------------

def _working_copy(image: Image.Image) -> np.ndarray:
    """float32 [h, w, channels] (3 for colour, 1 for grey), shrunk to WORK_SIDE by box averaging."""
    rgb = to_rgb_or_l(image)
    if max(rgb.size) > WORK_SIDE:
        rgb = rgb.reduce(math.ceil(max(rgb.size) / WORK_SIDE))
    pixels = np.asarray(rgb, dtype=np.float32)
    return pixels if pixels.ndim == 3 else pixels[..., None]


def _dataset_sized(pixels: np.ndarray, steps: list[Step]) -> Preprocessed:
    """A 28x28 picture: a dataset image (maybe inverted) already, cropped and centred. Its garment
    may touch all four sides, so there is no border to sample: the dataset's black background
    is told from its inverse's white by which extreme has more pixels. No mirroring either:
    the dataset's own shoes all point left already."""
    gray = pixels.mean(axis=2)
    steps.append(("grayscale", _to_uint8(gray)))
    if float(gray.max() - gray.min()) < FLOOR:
        return _empty(steps, BLANK)
    inverted = (gray >= LIGHT).sum() > (gray <= DARK).sum()
    garment = 255 - gray if inverted else gray - float(gray.min())
    steps.append(("inverted" if inverted else "background removed", _to_uint8(garment)))
    final = _stretch(garment)
    steps.append(("final 28x28", final))
    return Preprocessed(final, steps)


# -- background and threshold ----------------------------------------------------------------------

def band_mask(shape: tuple[int, int]) -> np.ndarray:
    """True on the picture's outer band, where it is sampled for its background."""
    h, w = shape
    k = max(1, round(BAND * min(h, w)))
    band = np.ones((h, w), dtype=bool)
    band[k:h - k, k:w - k] = False
    return band


def _design(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The polynomial terms x^i y^j (i + j <= DEGREE) at the given pixels, coordinates in [-1, 1]."""
    h, w = shape
    y, x = ys * (2.0 / max(h - 1, 1)) - 1, xs * (2.0 / max(w - 1, 1)) - 1
    return np.stack([x ** i * y ** j for i in range(DEGREE + 1) for j in range(DEGREE + 1 - i)], axis=1)


def fit_background(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """(surface [h, w, channels], noise): the background as a smooth polynomial surface per
    channel, fitted to the outer band by least squares, refitted without the band pixels that
    sit far from it (a garment crossing the band, a seam); noise is the inliers' median distance
    from the surface: what the background's own grain and texture amount to."""
    h, w, channels = pixels.shape
    ys, xs = np.nonzero(band_mask((h, w)))
    design = _design(ys.astype(np.float32), xs.astype(np.float32), (h, w))
    values = pixels[ys, xs]
    # Start from the band's median colour, which a garment covering under half the band can't move.
    coefficients = np.zeros((design.shape[1], channels), dtype=np.float32)
    coefficients[0] = np.median(values, axis=0)
    for _ in range(ROBUST_ROUNDS):
        residual = np.sqrt(((values - design @ coefficients) ** 2).sum(axis=1))
        typical = float(np.median(residual))
        inliers = residual <= typical + ROBUST_CUT * 1.4826 * typical + 1.0
        coefficients, *_ = np.linalg.lstsq(design[inliers], values[inliers], rcond=None)
    residual = np.sqrt(((values - design @ coefficients) ** 2).sum(axis=1))
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    surface = (_design(gy.ravel(), gx.ravel(), (h, w)) @ coefficients).reshape(h, w, channels)
    return surface.astype(np.float32), float(np.median(residual))


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the cut that best splits the values into two classes (max between-class variance)."""
    top = float(values.max())
    if top <= 0:
        return 0.0
    counts, edges = np.histogram(values, bins=bins, range=(0.0, top))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts).astype(np.float64)
    total = weight[-1]
    mass = np.cumsum(counts * centres)
    below, above = weight[:-1], total - weight[:-1]
    valid = (below > 0) & (above > 0)
    mean_below = np.where(valid, mass[:-1] / np.maximum(below, 1), 0)
    mean_above = np.where(valid, (mass[-1] - mass[:-1]) / np.maximum(above, 1), 0)
    between = np.where(valid, below * above * (mean_below - mean_above) ** 2, -1)
    return float(edges[1:][int(np.argmax(between))])


def thresholds(distance: np.ndarray, noise: float) -> tuple[float, float]:
    """(low, high): pixels over `low` may be garment, those over `high` surely are (hysteresis).
    `low` is the floor set by the background's noise; `high` is Otsu's cut, never under it."""
    floor = max(FLOOR, NOISE_FLOOR * noise)
    high = max(floor, otsu(distance))
    return max(floor, HYSTERESIS * high), high


def faint_garment(distance: np.ndarray, noise: float) -> bool:
    """True where something garment-sized stands out of the background, only too faintly to be
    cut out reliably: a region over FAINT_SHARE of the picture whose local mean distance (over
    FAINT_BLUR pixels, which averages the noise away) is over FAINT_NOISE x the noise."""
    blurred = _box_mean(distance, FAINT_BLUR)
    faint = main_region(remove_thin(blurred > FAINT_NOISE * noise + FAINT_LEVEL))
    return faint.sum() >= FAINT_SHARE * faint.size


def _box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Each pixel's mean over the (2 radius + 1)^2 square around it (edges repeated), by an integral image."""
    side = 2 * radius + 1
    padded = np.pad(values.astype(np.float64), radius, mode="edge")
    integral = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    integral[1:, 1:] = padded.cumsum(axis=0).cumsum(axis=1)
    return ((integral[side:, side:] - integral[:-side, side:] - integral[side:, :-side] + integral[:-side, :-side])
            / side ** 2).astype(np.float32)


def separation(distance: np.ndarray, mask: np.ndarray) -> float:
    """How far the garment stands from the background, in units of the background's own spread:
    the garment's median distance over the median distance of everything else."""
    return float(np.median(distance[mask])) / (float(np.median(distance[~mask])) + 1.0)


# -- regions ---------------------------------------------------------------------------------------

def label(mask: np.ndarray, connectivity: int = 8) -> tuple[np.ndarray, int]:
    """(labels int32 [h, w], count): connected regions of a boolean mask numbered 1..count, 0
    elsewhere. numpy only: the mask's row runs are joined where they touch the next row's."""
    h, w = mask.shape
    flat = mask.ravel()
    row_starts = np.zeros((h, w), dtype=bool)
    row_starts[:, 0] = mask[:, 0]
    row_starts[:, 1:] = mask[:, 1:] & ~mask[:, :-1]
    runs = np.cumsum(row_starts.ravel()).astype(np.int32) * flat  # each pixel's run number, 0 off the mask
    runs = runs.reshape(h, w)
    count = int(runs.max())
    if count == 0:
        return runs, 0
    above, below = [runs[:-1]], [runs[1:]]
    if connectivity == 8:
        above += [runs[:-1, :-1], runs[:-1, 1:]]
        below += [runs[1:, 1:], runs[1:, :-1]]
    a = np.concatenate([x.ravel() for x in above])
    b = np.concatenate([x.ravel() for x in below])
    touching = (a > 0) & (b > 0)
    a, b = a[touching], b[touching]
    root = np.arange(count + 1, dtype=np.int32)
    while True:  # union-find, vectorised: hook each touching pair's larger root onto the smaller
        ra, rb = root[a], root[b]
        differ = ra != rb
        if not differ.any():
            break
        np.minimum.at(root, np.maximum(ra, rb)[differ], np.minimum(ra, rb)[differ])
        while True:  # path compression: every run points straight at its root
            jumped = root[root]
            if np.array_equal(jumped, root):
                break
            root = jumped
    _, compact = np.unique(root, return_inverse=True)  # root[0] == 0 stays 0
    return compact.astype(np.int32)[runs], int(compact.max())


def remove_thin(mask: np.ndarray, sure: np.ndarray | None = None, textured: bool = False) -> np.ndarray:
    """Morphological opening: drops lines and specks thinner than OPENING (noise, creases) or, on
    a `textured` background, OPENING_SHARE of the garment's size (seams, grout).
    A picture whose surely-garment pixels (`sure`, default the mask) are mostly thin lines, a
    drawing with a fine brush, is kept as it is."""
    sure = mask if sure is None else sure & mask
    top, bottom, left, right = bounding_box(sure)
    side = OPENING
    if textured:
        side = max(OPENING, 2 * round(OPENING_SHARE * max(bottom - top, right - left) / 2) + 1)  # odd
    image = Image.fromarray(mask.astype(np.uint8) * 255, "L")
    opened = np.asarray(image.filter(ImageFilter.MinFilter(side)).filter(ImageFilter.MaxFilter(side))) > 0
    return opened if (opened & sure).sum() >= THIN_SHARE * sure.sum() else mask


def keep_touching(candidates: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The regions of `candidates` that hold at least one `seeds` pixel."""
    labels, count = label(candidates)
    keep = np.zeros(count + 1, dtype=bool)
    keep[np.unique(labels[seeds & candidates])] = True
    keep[0] = False
    return keep[labels]


def main_region(mask: np.ndarray) -> np.ndarray:
    """The biggest region, and any region at least PART_SHARE its size lying close to it (a
    garment split by a shadow or a stripe); distant specks and clutter are dropped."""
    labels, count = label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    biggest = int(sizes.argmax())
    keep = labels == biggest
    gap = PART_GAP * max(mask.shape)
    top, bottom, left, right = bounding_box(keep)
    for region in np.flatnonzero(sizes >= PART_SHARE * sizes[biggest]):
        if region == biggest:
            continue
        t, b, l, r = bounding_box(labels == region)
        if t < bottom + gap and b > top - gap and l < right + gap and r > left - gap:
            keep |= labels == region
    return keep


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every background region it fully encloses filled. A region that reaches the
    picture's edge is outside, however narrow its way out (the gap between trouser legs)."""
    labels, count = label(~mask, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.zeros(count + 1, dtype=bool)
    outside[edge] = True
    return mask | ~outside[labels]


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), bottom/right exclusive; all 0 for an empty mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return 0, 0, 0, 0
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


# -- the garment picture ---------------------------------------------------------------------------

def _garment_intensity(distance: np.ndarray, mask: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """The garment light on black: its distance from the background where it was seen, its
    typical distance in the holes filled (an outline's inside), exactly 0 elsewhere; scaled so
    the garment's near-brightest pixels are 255, as the dataset's are."""
    seen = distance[mask]
    full = float(np.percentile(seen, FULL_PERCENTILE))
    garment = np.where(mask, np.minimum(distance * (255.0 / full), 255.0), 0.0).astype(np.float32)
    holes = filled & ~mask
    if holes.any():
        garment[holes] = float(np.median(seen)) * 255.0 / full
    return np.minimum(garment, 255.0)


def is_drawing(pixels: np.ndarray) -> bool:
    """True for a drawing (ink on a plain canvas): its two commonest colours cover DRAWING_SHARE
    of it, which no photo's do. A drawing's slants are the drawer's shape, not a camera's tilt."""
    colours = pixels.reshape(-1, pixels.shape[2]) @ np.array([1, 256, 65536][:pixels.shape[2]], np.float64)
    counts = np.unique(colours, return_counts=True)[1]
    return float(np.sort(counts)[-2:].sum()) >= DRAWING_SHARE * len(colours)


def upright_angle(mask: np.ndarray) -> float:
    """Degrees to turn the garment (counter-clockwise) so it stands upright, or 0.

    Garments have straight sides, hems and shoulders, and are photographed upright: so of the
    tilts within MAX_TILT the one whose row and column profiles of the mask's outline change
    most sharply (edges lined up with the axes) is taken, if it is at least MIN_TILT."""
    ys, xs = np.nonzero(mask & ~_erode(mask))  # the outline: its edges make the profiles' steps
    step = max(1, len(ys) // 6000)  # a few thousand points fix the profiles
    points = np.stack([xs[::step], ys[::step]]).astype(np.float32)
    points -= points.mean(axis=1, keepdims=True)
    angles = np.radians(np.arange(-MAX_TILT, MAX_TILT + 0.5, 1.0))
    sharpness = np.array([_profile_sharpness(points, angle) for angle in angles])
    best = int(np.argmax(sharpness))
    as_it_lies = sharpness[int(np.argmin(np.abs(angles)))]
    if abs(math.degrees(angles[best])) < MIN_TILT or sharpness[best] < TILT_GAIN * as_it_lies:
        return 0.0
    return math.degrees(angles[best])


def _erode(mask: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(mask.astype(np.uint8) * 255, "L").filter(ImageFilter.MinFilter(3))) > 0


def _profile_sharpness(points: np.ndarray, angle: float) -> float:
    """How sharply the point cloud's row and column counts change, in a frame turned by `angle`:
    the sum of squared steps of each (anti-aliased, lightly smoothed) profile."""
    cos, sin = math.cos(angle), math.sin(angle)
    total = 0.0
    for along in (cos * points[0] + sin * points[1], -sin * points[0] + cos * points[1]):
        along = along - along.min()
        cell = np.floor(along).astype(np.int64)
        share = along - cell  # each point split between its two nearest bins: no aliasing
        profile = (np.bincount(cell, weights=1 - share, minlength=cell.max() + 2)
                   + np.bincount(cell + 1, weights=share, minlength=cell.max() + 2))
        profile = np.convolve(profile, PROFILE_SMOOTHING, mode="same")
        total += float((np.diff(profile) ** 2).sum())
    return total


def faces_right(mask: np.ndarray) -> bool:
    """True for a shoe pointing right. Every shoe in the dataset points left: toe low on the left,
    heel or shaft tall on the right. So a garment wider than tall whose left half stands taller
    than its right half is mirrored. (Tops, dresses and bags are symmetric enough that this
    leaves them alone: it flips 0.1% of the other test images, and 2.6% of shoes wrongly.)"""
    top, bottom, left, right = bounding_box(mask)
    box = mask[top:bottom, left:right]
    height, width = box.shape
    if width < height:
        return False
    column_heights = np.where(box.any(axis=0), height - box.argmax(axis=0), 0)
    half = width // 2
    return column_heights[:half].mean() > FACING_MARGIN * column_heights[width - half:].mean()


def _rotate(picture: np.ndarray, degrees: float) -> np.ndarray:
    """A float picture turned counter-clockwise by `degrees`, grown so nothing is cut off."""
    image = Image.fromarray(picture.astype(np.float32), "F")
    return np.asarray(image.rotate(degrees, Image.Resampling.BILINEAR, expand=True))


def _finish(garment: np.ndarray, mask: np.ndarray, steps: list[Step]) -> Preprocessed:
    """Crop to the garment, longest edge to 28, centre, sharpen, stretch: the dataset's last steps."""
    top, bottom, left, right = bounding_box(mask)
    cropped = np.where(mask, garment, 0.0)[top:bottom, left:right].astype(np.float32)
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


def _stretch(pixels: np.ndarray) -> np.ndarray:
    """Scale so the brightest pixel is 255, as in (almost) every dataset image."""
    top = float(pixels.max())
    if top <= 0:
        return np.zeros(pixels.shape, dtype=np.uint8)
    return np.clip(np.rint(pixels * (255.0 / top)), 0, 255).astype(np.uint8)


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
