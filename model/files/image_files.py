"""Uploaded bytes -> a safe RGB or L picture, or an ImageError that says what to do.

Anyone can upload anything, so: the format is decided by the file's first bytes (never
its name) and only five raster formats are let in; the declared size is checked from
the header before a single pixel is decoded (decompression bombs, lying headers); every
failure inside Pillow becomes one ImageError with a message for a person, not a traceback.
"""
from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image

from model.message import Message

MAX_BYTES = 50 * 1024 * 1024      # bigger than any photo a phone takes; refuse before parsing
MAX_PIXELS = 50_000_000           # 50 megapixels: a 24 MP photo fits, a bomb doesn't
# What one decode may hold, whatever the mode and bit depth: a hosted app has ~1 GB for everyone,
# and a 95 KB PNG can declare 7000x7000 16-bit pixels. Checked from the header (see decode_cost).
MAX_DECODE_BYTES = 180 * 2**20
# How many copies of the decoded pixels a format's decoder holds at once (measured: libwebp
# decodes into its own RGBA buffer, which Pillow then copies; the others decode in place).
DECODER_COPIES = {"WEBP": 4}
DEFAULT_MAX_SIDE = 1024           # decoded pictures are shrunk to this; the model sees 28x28 anyway
ALLOWED = Message("image.allowed", "PNG, JPEG, WebP, GIF or BMP")

# Orientation tag value -> the transpose that undoes it (as ImageOps.exif_transpose does).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(Exception):
    """A file that can't be used as a picture; the message says what was wrong and what to do."""


def sniff(data: bytes) -> str | None:
    """The Pillow format name of a supported raster file, from its magic bytes; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"BM"):
        return "BMP"
    return None


def _describe_unsupported(data: bytes) -> Message:
    """A name for a file we refuse, so the message can say what it is."""
    head = data[:512].lstrip()
    known = [((b"II*\x00", b"MM\x00*"), Message("image.kind_tiff", "a TIFF image")),
             ((b"%PDF",), Message("image.kind_pdf", "a PDF document")),
             ((b"<svg", b"<?xml"), Message("image.kind_svg", "an SVG/XML file")),
             ((b"\x00\x00\x01\x00",), Message("image.kind_ico", "an icon (ICO)")),
             ((b"8BPS",), Message("image.kind_photoshop", "a Photoshop file")),
             ((b"PK\x03\x04",), Message("image.kind_zip", "a ZIP archive or Office document"))]
    for magics, name in known:
        if head.startswith(magics):
            return name
    if data[4:8] == b"ftyp":
        if data[8:12] in (b"heic", b"heix", b"mif1", b"avif"):
            return Message("image.kind_heic", "a HEIC/AVIF image or a video")
        return Message("image.kind_video", "a video")
    try:
        data[:4096].decode("utf-8")
        return Message("image.kind_text", "a text file")
    except UnicodeDecodeError:
        return Message("image.kind_unknown", "not an image we can read")


def decode_image(data: bytes, max_side: int | None = DEFAULT_MAX_SIDE) -> Image.Image:
    """Bytes of a PNG, JPEG, WebP, GIF or BMP -> an upright RGB or L image (first frame,
    transparency composited on white), shrunk so its longest side is at most `max_side`
    (None keeps full size). Raises ImageError for anything else.
    """
    if not data:
        raise ImageError(Message("image.empty", "The file is empty (0 bytes). Choose an image file ({allowed}).",
                                 allowed=ALLOWED))
    if len(data) > MAX_BYTES:
        raise ImageError(Message("image.too_many_bytes", "The file is {size:.0f} MB; the limit is {limit} MB. "
                                 "Resize or compress the picture and try again.",
                                 size=len(data) / 2**20, limit=MAX_BYTES // 2**20))
    fmt = sniff(data)
    if fmt is None:
        raise ImageError(Message("image.unsupported", "Unsupported file: this is {what}, not a {allowed} image. "
                                 "Save or export the picture as {allowed} and try again.",
                                 what=_describe_unsupported(data), allowed=ALLOWED))
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than raises) between its two bomb limits; make that a refusal.
            # (catch_warnings isn't thread-safe on 3.11; at worst the "error" filter outlives this
            # block, which only makes Pillow refuse bombs everywhere, as it should.)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(data, fmt, max_side)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(Message("image.bomb", "The image declares more than {limit} megapixels (a decompression bomb "
                                 "or a damaged header), so it was refused without decoding. Use a smaller picture.",
                                 limit=MAX_PIXELS // 1_000_000)) from None
    except Image.UnidentifiedImageError:
        raise ImageError(Message("image.bad_header", "The file starts like a {fmt} image but its header is damaged, "
                                 "so it can't be read. Open it in an image viewer and save it again, or choose "
                                 "another file.", fmt=fmt)) from None
    except MemoryError:
        raise ImageError(Message("image.out_of_memory", "The image is too large to decode in the memory available. "
                                 "Use a smaller picture.")) from None
    except Exception as e:  # Pillow signals a bad file with many types (OSError, SyntaxError, ValueError, ...)
        raise ImageError(Message("image.damaged", "The file looks like {fmt} but can't be decoded: it is truncated "
                                 "or damaged ({error}: {details}). Open it in an image viewer and save it again, "
                                 "or choose another file.", fmt=fmt, error=type(e).__name__,
                                 details=_short(e))) from None


def _short(e: Exception) -> str:
    text = " ".join(str(e).split()) or "no details"
    return text if len(text) <= 120 else text[:117] + "..."


def _decode(data: bytes, fmt: str, max_side: int | None) -> Image.Image:
    im = Image.open(io.BytesIO(data), formats=[fmt])  # lazy: reads the header only
    width, height = im.size
    if width < 1 or height < 1:
        raise ImageError(Message("image.no_pixels", "The image header says it is {width}x{height} pixels, which is "
                                 "not a picture. The file is damaged; choose another one.",
                                 width=width, height=height))
    if width * height > MAX_PIXELS:
        raise ImageError(Message("image.too_many_pixels", "The image is {width}x{height} pixels ({megapixels:.0f} "
                                 "megapixels); the limit is {limit} megapixels. Resize it and try again.",
                                 width=width, height=height, megapixels=width * height / 1e6,
                                 limit=MAX_PIXELS // 1_000_000))
    if fmt == "JPEG" and max_side:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a 24 MP photo then costs ~1.5 MP of work.
        scale = max(width, height) / max_side
        if scale >= 2:
            im.draft(None, (math.ceil(width / scale), math.ceil(height / scale)))
    cost = decode_cost(fmt, im.mode, im.size)
    if cost > MAX_DECODE_BYTES:
        raise ImageError(Message("image.too_costly", "The image is {width}x{height} pixels in {mode}: decoding it "
                                 "would take about {cost:.0f} MB of memory, and the limit is {limit} MB. "
                                 "Resize it, or save it as an 8-bit JPEG or PNG, and try again.",
                                 width=width, height=height, mode=_describe_mode(im.mode), cost=cost / 2**20,
                                 limit=MAX_DECODE_BYTES // 2**20))
    im.load()
    orientation = _orientation(im)  # after load: PNG's getexif() loads pixels and would hide their errors
    sixteen_bit = im.mode.startswith("I;16")
    if max_side and max(im.size) > max_side:
        im = shrink(im, math.ceil(max(im.size) / max_side))
    im = to_rgb_or_l(im, sixteen_bit)
    if orientation in _ORIENTATION:
        im = im.transpose(_ORIENTATION[orientation])
    return im


def stored_bytes_per_pixel(mode: str) -> int:
    """What Pillow stores per pixel: one byte for single 8-bit bands, two for 16-bit, else four."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def decode_cost(fmt: str, mode: str, size: tuple[int, int]) -> int:
    """Bytes a decode of this header holds at its peak: the decoder's copies of the pixels.
    Everything after that (conversion, shrinking) works on bands or on the shrunk picture."""
    width, height = size
    return width * height * stored_bytes_per_pixel(mode) * DECODER_COPIES.get(fmt, 1)


def _describe_mode(mode: str) -> Message:
    if mode.startswith("I;16"):
        return Message("image.mode_grey16", "16-bit greyscale")
    named = {"I": Message("image.mode_grey32", "32-bit greyscale"),
             "F": Message("image.mode_float", "floating-point greyscale"),
             "1": Message("image.mode_bilevel", "black and white"),
             "L": Message("image.mode_grey8", "8-bit greyscale"),
             "P": Message("image.mode_palette", "palette colour")}
    return named.get(mode) or Message("image.mode_colour", "8-bit colour ({mode})", mode=mode)


# Modes Image.reduce shrinks in place. It can't take the others, or (with alpha) premultiplies
# into a full-size copy first: those go band by band.
REDUCIBLE = ("L", "RGB", "I", "F", "CMYK", "YCbCr")
BAND_ROWS = 256  # rows widened at a time: a 7000-pixel-wide band of RGBA is 7 MB


def shrink(im: Image.Image, factor: int) -> Image.Image:
    """Box-average by `factor` without a full-size copy in a wider mode. Box average: thin lines
    fade, never vanish; with alpha it averages premultiplied, so compositing after shrinking
    gives the same picture for far less memory."""
    if factor <= 1:
        return im
    if im.mode in REDUCIBLE:
        return im.reduce(factor)
    width, height = im.size
    step = max(1, BAND_ROWS // factor) * factor  # whole boxes per band, so bands join seamlessly
    bands = [_widen(im.crop((0, top, width, min(height, top + step)))).reduce(factor)
             for top in range(0, height, step)]
    out = Image.new(bands[0].mode, (bands[0].width, sum(b.height for b in bands)))
    top = 0
    for band in bands:
        out.paste(band, (0, top))
        top += band.height
    return out


def _widen(im: Image.Image) -> Image.Image:
    """A mode Image.reduce works on, keeping what each pixel means (palette colours, 16-bit values)."""
    if im.mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode == "PA":
        return im.convert("RGBA")
    if im.mode in ("LA", "RGBA"):
        return im
    if im.mode == "1":
        return im.convert("L")
    if im.mode.startswith("I;16"):
        return im.convert("I")
    return im.convert("RGB")


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block only costs the rotation, not the picture
        return 1


def to_rgb_or_l(im: Image.Image, sixteen_bit: bool = False) -> Image.Image:
    """Any Pillow mode -> RGB or L: palettes expanded, 16-bit scaled to 8, CMYK converted,
    transparency composited on white (on black when white would hide everything).
    `sixteen_bit`: the pixels were 16-bit before `shrink` widened them to "I"."""
    mode = im.mode
    if mode in ("RGB", "L"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I") or mode == "F":
        return _high_depth_to_l(im, sixteen_bit or mode.startswith("I;16"))
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        return to_rgb_or_l(im)
    if mode in ("PA", "LA", "La", "RGBA", "RGBa"):
        return _composite(im.convert("RGBA"), grayscale=mode in ("LA", "La"))
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX


def _high_depth_to_l(im: Image.Image, sixteen_bit: bool) -> Image.Image:
    # float32, not numpy's default float64: at full size (max_side=None) that alone was 8 bytes a pixel.
    pixels = np.asarray(im, dtype=np.float32)
    if im.mode == "F":
        pixels = np.nan_to_num(pixels, nan=0.0, posinf=255.0, neginf=0.0)
        if pixels.size and pixels.max() <= 1.0:
            pixels *= 255.0
    elif sixteen_bit or (pixels.size and pixels.max() > 255):
        pixels /= 257.0  # 16-bit: 65535 -> 255
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")


def _composite(rgba: Image.Image, grayscale: bool) -> Image.Image:
    alpha = rgba.getchannel("A")
    lo, hi = alpha.getextrema()
    if lo == 255:  # fully opaque: nothing to composite
        out = rgba.convert("RGB")
    else:
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba.convert("RGB"), mask=alpha)
        light, _ = out.convert("L").getextrema()
        if light >= 240 and hi > lo + 64:
            # Everything came out white, yet the alpha has a shape: white strokes on a
            # transparent canvas. On black they show, as they did in the drawing.
            out = Image.new("RGB", rgba.size, (0, 0, 0))
            out.paste(rgba.convert("RGB"), mask=alpha)
    return out.convert("L") if grayscale else out
