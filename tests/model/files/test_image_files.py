"""decode_image: every supported odd format decodes right, everything else is an ImageError
with a message, and bombs are refused from the header, fast and in bounded memory."""
import io
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from model.files.image_files import (DECODER_COPIES, MAX_DECODE_BYTES, MAX_PIXELS, ImageError, decode_image, shrink, sniff,
                           stored_bytes_per_pixel)
from model.files.preprocess import preprocess

RED, BLUE = (220, 20, 20), (20, 20, 220)


def encode(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def rgb_picture(size=(64, 48)):
    """A white picture with a dark square off-centre: content to check after decoding."""
    pixels = np.full((size[1], size[0], 3), 255, dtype=np.uint8)
    pixels[8:24, 10:30] = (30, 60, 90)
    return Image.fromarray(pixels)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_header(width, height, idat=b"", bit_depth=8, color_type=0):
    """A PNG whose IHDR says width x height, whatever its data holds."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


# -- supported formats, decided by content ---------------------------------------------------

@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_each_supported_format_decodes_to_rgb_with_its_content(fmt):
    image = decode_image(encode(rgb_picture(), fmt))
    assert image.mode == "RGB" and image.size == (64, 48)
    pixels = np.asarray(image, dtype=int)
    assert np.abs(pixels[15, 20] - (30, 60, 90)).max() < 20  # the square
    assert pixels[40, 60].min() > 235                         # the white around it


@pytest.mark.parametrize("fmt, magic", [("PNG", b"\x89PNG"), ("JPEG", b"\xff\xd8\xff"), ("GIF", b"GIF8"),
                                        ("WEBP", b"RIFF"), ("BMP", b"BM")])
def test_format_is_sniffed_from_the_bytes(fmt, magic):
    data = encode(rgb_picture(), fmt)
    assert data.startswith(magic) and sniff(data) == fmt


def test_grayscale_stays_grayscale():
    gray = Image.fromarray(np.tile(np.arange(0, 256, 4, dtype=np.uint8), (10, 1)), "L")
    image = decode_image(encode(gray, "PNG"))
    assert image.mode == "L"
    assert np.array_equal(np.asarray(image), np.asarray(gray))


def test_palette_png_is_expanded_to_its_colours():
    palette = rgb_picture().quantize(colors=4)
    assert palette.mode == "P"
    image = decode_image(encode(palette, "PNG"))
    assert image.mode == "RGB"
    assert np.abs(np.asarray(image, dtype=int)[15, 20] - (30, 60, 90)).max() < 20


def test_palette_transparency_is_composited_on_white():
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    palette.paste(1, (5, 5, 15, 15))
    image = decode_image(encode(palette, "PNG", transparency=0))  # index 0 (black) is transparent
    pixels = np.asarray(image)
    assert tuple(pixels[0, 0]) == (255, 255, 255) and tuple(pixels[10, 10]) == (200, 0, 0)


def test_16_bit_png_is_scaled_to_8_bits():
    ramp = (np.arange(256, dtype=np.uint32) * 257).astype(np.uint16)  # 0 .. 65535
    sixteen = Image.fromarray(np.tile(ramp, (4, 1)))
    assert sixteen.mode == "I;16"
    data = encode(sixteen, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    image = decode_image(data)
    assert image.mode == "L"
    assert np.array_equal(np.asarray(image)[0], np.arange(256))


def test_cmyk_jpeg_becomes_rgb_with_the_same_colour():
    cmyk = Image.new("RGB", (32, 32), RED).convert("CMYK")
    image = decode_image(encode(cmyk, "JPEG", quality=95))
    assert image.mode == "RGB"
    assert np.abs(np.asarray(image, dtype=int)[16, 16] - RED).max() < 25


def test_rgba_is_composited_on_white():
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)  # transparent black everywhere ...
    rgba[5:15, 5:15] = (0, 0, 0, 255)              # ... but an opaque black square
    rgba[0:3, 0:3] = (0, 0, 0, 128)                # and a half-transparent black corner
    pixels = np.asarray(decode_image(encode(Image.fromarray(rgba), "PNG")), dtype=int)
    assert tuple(pixels[18, 18]) == (255, 255, 255)
    assert tuple(pixels[10, 10]) == (0, 0, 0)
    assert 120 <= pixels[1, 1, 0] <= 135


def test_gray_with_alpha_is_composited_and_stays_gray():
    la = Image.new("LA", (10, 10), (0, 0))
    la.paste((0, 255), (2, 2, 8, 8))
    image = decode_image(encode(la, "PNG"))
    assert image.mode == "L"
    assert np.asarray(image)[0, 0] == 255 and np.asarray(image)[5, 5] == 0


def test_white_strokes_on_a_transparent_canvas_are_kept_on_black():
    rgba = np.zeros((50, 50, 4), dtype=np.uint8)
    rgba[:, :, :3] = 255                       # a drawing widget: white paint ...
    rgba[10:40, 24:27, 3] = 255                # ... opaque only where the stroke is
    pixels = np.asarray(decode_image(encode(Image.fromarray(rgba), "PNG")).convert("L"))
    assert pixels[0, 0] == 0 and pixels[25, 25] == 255


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert np.abs(np.asarray(decode_image(data), dtype=int)[8, 8] - RED).max() < 10


def test_animated_webp_gives_its_first_frame():
    frames = [Image.new("RGB", (16, 16), BLUE), Image.new("RGB", (16, 16), RED)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert np.abs(np.asarray(decode_image(data), dtype=int)[8, 8] - BLUE).max() < 10


@pytest.mark.parametrize("orientation, size, marker", [
    (1, (40, 20), (0, 0)),    # upright: the marker stays top-left
    (3, (40, 20), (19, 39)),  # upside down: it ends bottom-right
    (6, (20, 40), (0, 19)),   # the camera was turned: 90 degrees clockwise, top-right
    (8, (20, 40), (39, 0)),   # the other way: bottom-left
])
def test_exif_orientation_is_applied(orientation, size, marker):
    pixels = np.full((20, 40, 3), 255, dtype=np.uint8)
    pixels[:6, :6] = 0  # a black marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = decode_image(encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif.tobytes()))
    assert image.size == size
    assert np.asarray(image.convert("L"))[marker] < 60


def test_bilevel_bmp_becomes_grayscale():
    bits = Image.new("1", (16, 16), 1)
    bits.paste(0, (4, 4, 12, 12))
    image = decode_image(encode(bits, "BMP"))
    assert image.mode == "L" and np.asarray(image)[8, 8] == 0 and np.asarray(image)[0, 0] == 255


def test_big_jpeg_is_decoded_small():
    image = decode_image(encode(Image.new("RGB", (4000, 3000), "white"), "JPEG"))
    assert max(image.size) <= 1024 and image.size[0] > image.size[1]


# -- refused files -----------------------------------------------------------------------------

@pytest.mark.parametrize("data, named", [
    (encode(rgb_picture(), "TIFF"), "TIFF"),
    (encode(rgb_picture(), "PDF"), "PDF"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>', "SVG"),
    (b"<?xml version='1.0'?><svg/>", "SVG"),
    (b"shirt, trousers\n1, 2\n", "text"),
    (encode(rgb_picture(), "ICO"), "icon"),
    (bytes(range(256)) * 4, "not an image"),
])
def test_other_files_are_unsupported_with_what_they_are(data, named):
    with pytest.raises(ImageError, match="Unsupported file") as error:
        decode_image(data)
    assert named in str(error.value) and "PNG, JPEG, WebP, GIF or BMP" in str(error.value)


def test_empty_file_says_empty():
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_files_are_refused(fmt, keep):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    data = encode(noise, fmt)
    with pytest.raises(ImageError, match="damaged|Unsupported"):
        decode_image(data[:max(12, int(len(data) * keep))])


def test_corrupt_png_data_is_refused():
    data = bytearray(encode(rgb_picture(), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start:start + 40] = bytes(40)  # zeroed compressed data: zlib can't inflate it
    with pytest.raises(ImageError, match="truncated or damaged"):
        decode_image(bytes(data))


def test_too_many_bytes_are_refused_before_parsing(monkeypatch):
    from model.files import image_files as imageio

    monkeypatch.setattr(imageio, "MAX_BYTES", 1000)
    with pytest.raises(ImageError, match="limit is"):
        decode_image(encode(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)),
                            "PNG"))


def test_bad_header_sizes_are_refused():
    with pytest.raises(ImageError):
        decode_image(png_with_header(0, 10))


def test_header_claiming_60000x60000_is_refused_fast():
    started = time.perf_counter()
    with pytest.raises(ImageError, match="megapixels"):
        decode_image(png_with_header(60000, 60000, zlib.compress(bytes(60001))))
    assert time.perf_counter() - started < 0.5


def test_header_just_over_the_cap_is_refused_with_its_size():
    side = int(MAX_PIXELS ** 0.5) + 10  # under Pillow's own limit: our cap must catch it
    with pytest.raises(ImageError, match=f"{side}x{side}.*megapixels"):
        decode_image(png_with_header(side, side))


def test_gif_claiming_a_huge_screen_is_refused():
    data = bytearray(encode(Image.new("P", (4, 4)), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)  # logical screen size
    with pytest.raises(ImageError, match="megapixels"):
        decode_image(bytes(data))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """A real decompression bomb: a valid 12000x12000 grayscale PNG (144 MB of pixels) in ~150 KB."""
    side = 12000
    packer = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte + a row of black
    idat = b"".join(packer.compress(row * 100) for _ in range(side // 100)) + packer.flush()
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_with_header(side, side, idat))
    return path


def decode_in_fresh_process(path) -> tuple[str, float, int]:
    """(verdict line, seconds, peak memory growth in KB) of decode_image on a file, measured in
    a fresh process so the peak is this decode's alone."""
    probe = ("import resource, sys, time\n"
             "from model.files.image_files import ImageError, decode_image\n"
             "data = open(sys.argv[1], 'rb').read()\n"
             "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
             "started = time.perf_counter()\n"
             "try:\n    image = decode_image(data)\n    print('decoded', image.mode, *image.size)\n"
             "except ImageError as e:\n    print('refused', e)\n"
             "print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    verdict, figures = result.stdout.strip().splitlines()
    return verdict, float(figures.split()[0]), int(figures.split()[1])


def test_decompression_bomb_is_refused_fast_and_in_bounded_memory(bomb):
    assert bomb.stat().st_size < 1_000_000
    verdict, seconds, grown_kb = decode_in_fresh_process(bomb)
    assert verdict.startswith("refused")
    assert seconds < 0.5
    assert grown_kb < 20_000  # < 20 MB more than the interpreter: nothing near 144 MB was allocated


# -- memory is bounded by bytes, not pixels ------------------------------------------------------

def largest_accepted_side(fmt: str, mode: str) -> int:
    per_pixel = stored_bytes_per_pixel(mode) * DECODER_COPIES.get(fmt, 1)
    return int(min(MAX_DECODE_BYTES / per_pixel, MAX_PIXELS) ** 0.5)


def flat_picture(mode: str, side: int) -> Image.Image:
    """A side x side picture of `mode` that compresses to almost nothing, like a hostile upload."""
    if mode == "I;16":
        return Image.fromarray(np.full((side, side), 40000, np.uint16))
    return Image.new(mode, (side, side), 1)


# Every mode a supported format decodes to that costs more than a byte a pixel, or a conversion.
# (A BMP can't compress colour: at this size it is over the 50 MB file limit.)
HEAVY = [("PNG", "I;16"), ("PNG", "RGB"), ("PNG", "RGBA"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "1"),
         ("GIF", "P"), ("WEBP", "RGB"), ("WEBP", "RGBA"), ("BMP", "P")]


@pytest.mark.parametrize("fmt, mode", HEAVY)
def test_the_largest_accepted_file_of_each_mode_decodes_in_under_200_mb(tmp_path, fmt, mode):
    side = largest_accepted_side(fmt, mode)
    path = tmp_path / f"big.{fmt.lower()}"
    flat_picture(mode, side).save(path, fmt, **({"compression": "bmp_rle"} if fmt == "BMP" else {}))
    verdict, _, grown_kb = decode_in_fresh_process(path)
    assert verdict.startswith("decoded"), verdict
    assert grown_kb < 200 * 1024, f"{fmt} {mode} {side}x{side}: {grown_kb / 1024:.0f} MB"


def test_a_small_16_bit_png_declaring_7000x7000_stays_bounded(tmp_path):
    """The reported attack: 95 KB that once took the server from 0.9 to 2.2 GB."""
    path = tmp_path / "sixteen.png"
    flat_picture("I;16", 7000).save(path)
    assert path.stat().st_size < 200_000
    verdict, _, grown_kb = decode_in_fresh_process(path)
    assert verdict.startswith("decoded L")
    assert grown_kb < 200 * 1024


@pytest.mark.parametrize("fmt, mode", [("PNG", "RGBA"), ("WEBP", "RGB")])
def test_just_over_the_byte_budget_is_refused_from_the_header(tmp_path, fmt, mode):
    side = largest_accepted_side(fmt, mode) + 16
    path = tmp_path / f"over.{fmt.lower()}"
    flat_picture(mode, side).save(path, fmt)
    verdict, seconds, grown_kb = decode_in_fresh_process(path)
    assert verdict.startswith("refused") and "MB of memory" in verdict and "8-bit JPEG or PNG" in verdict
    assert seconds < 0.5 and grown_kb < 20_000


@pytest.mark.parametrize("mode", ["P", "1", "I;16", "LA", "RGBA", "PA"])
def test_shrinking_band_by_band_matches_converting_first(mode):
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (601, 333, 4), dtype=np.uint8), "RGBA")
    if mode == "I;16":
        picture = Image.fromarray(rng.integers(0, 65536, (601, 333), dtype=np.uint16))
        reference = picture.convert("I").reduce(5)
    elif mode == "PA":
        picture = base.convert("P").convert("PA")
        reference = picture.convert("RGBA").reduce(5)
    else:
        picture = base.convert(mode) if mode != "P" else base.convert("RGB").quantize(64)
        widened = {"P": "RGB", "1": "L"}.get(mode, mode)
        reference = picture.convert(widened).reduce(5)
    shrunk = shrink(picture, 5)
    assert shrunk.size == reference.size == (67, 121)
    assert np.array_equal(np.asarray(shrunk), np.asarray(reference))


# -- fuzzing: decode + preprocess never fails any other way ---------------------------------------

def check_decode_and_preprocess(data: bytes) -> None:
    """The whole upload path: either a valid 28x28 uint8 (or an empty answer), or ImageError."""
    try:
        image = decode_image(data)
    except ImageError as e:
        assert str(e)
        return
    assert image.mode in ("RGB", "L") and min(image.size) >= 1
    result = preprocess(image)
    assert result.image28.shape == (28, 28) and result.image28.dtype == np.uint8
    assert result.empty == bool(result.reason)


def _seeds():
    rng = np.random.default_rng(1)
    picture = Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    alpha = picture.convert("RGBA")
    alpha.putalpha(Image.fromarray(rng.integers(0, 256, (24, 20), dtype=np.uint8)))
    frames = [picture, picture.transpose(Image.Transpose.ROTATE_180)]
    return [encode(picture, "PNG"), encode(picture, "JPEG"), encode(picture, "WEBP"), encode(picture, "BMP"),
            encode(picture, "GIF", save_all=True, append_images=frames[1:]), encode(alpha, "PNG"),
            encode(picture.quantize(16), "PNG"), encode(picture.convert("CMYK"), "JPEG"),
            encode(Image.fromarray((rng.integers(0, 65536, (12, 12))).astype(np.uint16)), "PNG"),
            encode(picture.convert("1"), "BMP"), encode(alpha, "WEBP", lossless=True)]


SEEDS = _seeds()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_never_escape_as_other_errors(data):
    check_decode_and_preprocess(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.binary(max_size=4), st.binary(max_size=256))
def test_magic_plus_random_bytes_never_escape(seed, junk, tail):
    check_decode_and_preprocess(seed[:12] + junk + tail)  # right magic, garbage after it


@FUZZ
@given(st.sampled_from(SEEDS),
       st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, 10_000))
def test_mutated_valid_images_never_escape(seed, edits, cut):
    data = bytearray(seed)
    for position, value in edits:
        data[position % len(data)] = value
    check_decode_and_preprocess(bytes(data[:max(1, len(data) - cut % len(data))]))
