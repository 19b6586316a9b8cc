"""The imaging engine (imgsvc.imaging) on real bytes: one rule per condition for every caller
(uploads, renditions, effects), the cost of decoding bounded before decoding, and the Pillow
internals it relies on guarded by version."""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable

import pytest
from PIL import Image, ImageOps

from imgsvc import effects, imaging, renditions
from imgsvc.errors import UnprocessableImage
from imgsvc.imaging import jpegscale, limits, pillow, pngrows
from imgsvc.renditions import OutputFormat, Size
from tests.support import costly, imagegen

PNG = OutputFormat("original", "image/png")
LIMIT = 50_000_000


def inspect(data: bytes, max_pixels: int = LIMIT) -> object:
    return imaging.inspect(data, max_pixels=max_pixels)


def render(data: bytes, max_pixels: int = LIMIT) -> object:
    return renditions.render(data, Size(64, 64), PNG, max_pixels=max_pixels)


def effect(data: bytes, max_pixels: int = LIMIT) -> object:
    return effects.prepare(data, effects.EFFECTS["zoom"], 64, max_pixels=max_pixels)


# Every way into the engine: an upload, a rendition, an effect's work image.
ENTRIES: dict[str, Callable[..., object]] = {"inspect": inspect, "render": render, "effect": effect}


def refusal(entry: str, data: bytes, **limits_: int) -> UnprocessableImage:
    with pytest.raises(UnprocessableImage) as caught:
        ENTRIES[entry](data, **limits_)
    assert caught.value.status == 422
    return caught.value


def decoded(data: bytes) -> Image.Image:
    return imagegen.decoded(data)


def work_image(data: bytes) -> Image.Image:
    """The effects' work image of ``data`` (its whole picture, up to 400 px)."""
    return effects.prepare(data, effects.EFFECTS["hue"], 400)[0]


def rendition(data: bytes) -> Image.Image:
    return decoded(renditions.render(data, Size(400, 400), PNG).data)


# --- one condition, one code, wherever it is found ---------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_pixel_limit_is_too_many_pixels_for_every_caller(entry: str) -> None:
    # Renditions used to say image_too_large for what uploads and effects call too_many_pixels.
    caught = refusal(entry, imagegen.png_declaring(20_000, 20_000))
    assert caught.code == "too_many_pixels"


def test_16_bit_grey_becomes_8_bits_by_the_same_rule_for_renditions_and_effects() -> None:
    # 0xFF00 is 254 * 257 + 2: 254 at 8 bits. Effects used to divide by 256 (giving 255) where
    # renditions divided by 257.
    data = imagegen.encode(Image.new("I;16", (64, 48), 0xFF00), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")

    assert rendition(data).convert("L").getpixel((10, 10)) == 254
    assert work_image(data).convert("L").getpixel((10, 10)) == 254


def test_16_bit_grey_colour_key_is_transparency_for_effects_too() -> None:
    row = b"".join(struct.pack("<H", 1000 if x < 32 else 40000) for x in range(64))
    data = imagegen.encode(Image.frombytes("I;16", (64, 64), row * 64), "PNG", transparency=1000)

    for image in (rendition(data), work_image(data)):
        rgba = image.convert("RGBA")
        assert rgba.getpixel((4, 32))[3] == 0
        assert rgba.getpixel((60, 32))[3] == 255
        assert abs(rgba.getpixel((60, 32))[0] - 40000 / 257) <= 1


def _icc(colour_space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """A minimal ICC v2 display profile of ``colour_space`` with ``tags``."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))

    text = b"Engine test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)), *tags]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    header = (
        struct.pack(">I", offset + len(body))
        + b"lcms"
        + bytes.fromhex("02100000")
        + b"mntr"
        + colour_space
        + b"XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + struct.pack(">3i", *(round(v * 65536) for v in (0.9642, 1.0, 0.8249)))
        + bytes(4 + 16 + 28)
    )
    return header + struct.pack(">I", len(tags)) + table + body


def linear_grey_profile() -> bytes:
    """A grey profile with a linear tone curve (gamma 1.0): mid-grey 128 is lighter in sRGB."""
    linear = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0100) + b"\0\0"
    return _icc(b"GRAY", [(b"kTRC", linear)])


def swapped_rgb_profile() -> bytes:
    """An RGB profile whose red and green primaries are sRGB's green and red."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    return _icc(
        b"RGB ",
        [
            (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),
            (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),
            (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
            (b"rTRC", curve),
            (b"gTRC", curve),
            (b"bTRC", curve),
        ],
    )


def test_a_grey_icc_profile_is_applied_by_renditions_and_effects_alike() -> None:
    # Renditions used to ignore grey profiles, which effects applied.
    data = imagegen.encode(
        Image.new("L", (64, 48), 128), "JPEG", quality=95, icc_profile=linear_grey_profile()
    )
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")

    for image in (rendition(data), work_image(data)):
        red, green, blue = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert red == green == blue
        assert 180 <= red <= 196, red  # linear 128/255 is sRGB 188


def test_a_palette_image_with_an_icc_profile_is_converted_by_renditions_and_effects_alike() -> None:
    # Effects used to apply profiles to RGB, CMYK and grey only, not to palette images.
    red = Image.new("RGB", (64, 48), (255, 0, 0)).quantize(4)
    data = imagegen.encode(red, "PNG", icc_profile=swapped_rgb_profile())
    assert Image.open(io.BytesIO(data)).mode == "P"

    for image in (rendition(data), work_image(data)):
        r, g, b = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert g > 200, (r, g, b)  # shown as green, as the profile says
        assert max(r, b) < 60, (r, g, b)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_region_of_the_upright_picture_is_cut_from_the_right_stored_pixels(
    orientation: int,
) -> None:
    data = imagegen.jpeg_with_orientation(300, 200, orientation)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    width, height = upright.size
    box = (0.1 * width, 0.2 * height, 0.6 * width, 0.9 * height)  # off-centre, not square
    size = (round(0.25 * width), round(0.35 * height))

    got = imaging.scaled(data, lambda w, h: imaging.Target(size, box), max_pixels=LIMIT)
    expected = upright.resize(size, Image.Resampling.BICUBIC, box=box)

    assert got.size == expected.size
    assert imagegen_mean_difference(got, expected) < 6


def imagegen_mean_difference(a: Image.Image, b: Image.Image) -> float:
    from PIL import ImageChops, ImageStat

    difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(difference).mean) / 3


# --- Pillow internals: a version they were not tested with costs speed, never correctness ----


def test_the_3_8_jpeg_scale_steps_aside_on_an_untested_pillow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = imagegen.jpeg(1600, 1200, quality=92)
    wanted = (600, 450)  # 3/8 of 1600x1200 exactly
    assert jpegscale.draft(Image.open(io.BytesIO(data)), wanted) == 3 / 8
    expected = renditions.render(data, Size(512, 512), PNG)

    monkeypatch.setattr(pillow, "version", lambda: "99.0.0")
    image = Image.open(io.BytesIO(data))
    assert jpegscale.draft(image, wanted) == 1 / 2
    assert image.size == (800, 600)
    fallback = renditions.render(data, Size(512, 512), PNG)

    assert (fallback.width, fallback.height) == (expected.width, expected.height)
    assert imagegen_mean_difference(decoded(fallback.data), decoded(expected.data)) < 2


def test_png_band_decoding_steps_aside_on_an_untested_pillow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = imagegen.png(600, 400, alpha=True)
    assert pngrows.open_rows(Image.open(io.BytesIO(data)), data) is not None
    expected = renditions.render(data, Size(256, 256), PNG)

    monkeypatch.setattr(pillow, "version", lambda: "14.0.0")
    assert pngrows.open_rows(Image.open(io.BytesIO(data)), data) is None
    fallback = renditions.render(data, Size(256, 256), PNG)

    assert imagegen_mean_difference(decoded(fallback.data), decoded(expected.data)) < 1


def test_the_tested_pillow_versions_include_the_pinned_one() -> None:
    assert pillow.internals_tested(), pillow.version()


# --- what decoding costs, bounded before decoding ----------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_progressive_jpeg_of_thousands_of_scans_is_refused_before_decoding(entry: str) -> None:
    data = costly.jpeg_scan_bomb(3000)

    assert refusal(entry, data).code == "too_many_scans"


def test_a_standard_progressive_jpeg_is_accepted() -> None:
    data = costly.progressive_jpeg(640, 480)
    scans = costly.jpeg_segments(data)[1]
    assert len(scans) >= 6

    assert imaging.inspect(data, max_pixels=LIMIT).width == 640
    at_the_limit = costly.jpeg_scan_bomb(limits.MAX_JPEG_SCANS)
    assert imaging.inspect(at_the_limit, max_pixels=LIMIT).width == 256


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_png_split_into_very_many_chunks_is_refused(entry: str) -> None:
    data = costly.png_of_tiny_chunks(200_000)

    assert refusal(entry, data).code == "too_many_chunks"


def test_a_png_of_a_few_hundred_small_chunks_is_accepted() -> None:
    data = costly.png_of_tiny_chunks(500)
    assert imaging.inspect(data, max_pixels=LIMIT).width == 64


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_gif_of_very_many_frames_is_refused(entry: str) -> None:
    data = costly.gif_of_frames(limits.MAX_FRAMES + 1)

    assert refusal(entry, data).code == "too_many_frames"


def test_a_gif_at_the_frame_limit_is_accepted() -> None:
    info = imaging.inspect(costly.gif_of_frames(limits.MAX_FRAMES), max_pixels=LIMIT)
    assert info.frames == limits.MAX_FRAMES


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_gif_whose_data_is_split_into_one_byte_sub_blocks_is_refused(entry: str) -> None:
    data = costly.gif_of_tiny_sub_blocks((512, 512))

    assert refusal(entry, data).code == "too_many_chunks"


def test_a_gif_of_whole_sub_blocks_is_accepted() -> None:
    data = costly.gif_of_tiny_sub_blocks((1024, 1024), piece=255)
    assert imaging.inspect(data, max_pixels=LIMIT).width == 1024


@pytest.mark.parametrize("entry", ENTRIES)
def test_an_animated_webp_of_very_many_frames_is_refused(entry: str) -> None:
    data = costly.animated_webp(limits.MAX_FRAMES + 1)

    assert refusal(entry, data).code == "too_many_frames"


def test_an_animated_webp_is_accepted() -> None:
    assert imaging.inspect(costly.animated_webp(30), max_pixels=LIMIT).frames == 30


@pytest.mark.parametrize("entry", ENTRIES)
def test_an_animated_png_of_very_many_frames_is_refused(entry: str) -> None:
    frames = [
        Image.new("RGB", (4, 4), (index % 256, 0, 0)) for index in range(limits.MAX_FRAMES + 1)
    ]
    data = imagegen.encode(frames[0], "PNG", save_all=True, append_images=frames[1:])

    assert refusal(entry, data).code == "too_many_frames"


# --- memory: frames x pixels x bytes per sample ------------------------------------------------


def test_a_few_huge_gif_frames_are_refused_for_the_memory_they_take() -> None:
    # The 150 KB GIF of four 7071x7071 frames (641 MB to inspect) at a 50th of the scale:
    # four frames of 1000x1000 under a 1 MP limit. Each frame is within the pixel limit, and the
    # four within the animation's 4x, but Pillow composes each on an RGBA canvas.
    data = costly.gif_of_frames(4, (1000, 1000))

    caught = refusal("inspect", data, max_pixels=1_000_000)

    assert caught.code == "decode_too_large"
    # A rendition or an effect decodes the first frame only: that fits.
    assert render(data, max_pixels=1_000_000)
    assert effect(data, max_pixels=1_000_000)


def test_the_memory_bound_counts_bytes_per_sample() -> None:
    # A progressive JPEG keeps every DCT coefficient (2 bytes a sample) until its last scan:
    # with 4:4:4 sampling that is 6 bytes a pixel beside the 4 of the RGB output, over the 8 of
    # the budget; with 4:2:0 it is 3. Both have the same pixels, within the pixel limit.
    picture = imagegen.photo(1000, 1000)
    full = imagegen.encode(picture, "JPEG", progressive=True, subsampling=0)
    half = imagegen.encode(picture, "JPEG", progressive=True, subsampling=2)
    max_pixels = 1_000_000

    assert refusal("inspect", full, max_pixels=max_pixels).code == "decode_too_large"
    assert imaging.inspect(half, max_pixels=max_pixels).width == 1000
    assert imaging.inspect(full, max_pixels=2 * max_pixels).width == 1000


def test_every_code_the_engine_raises_is_listed_in_the_openapi_description() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    package = root / "lambda_src" / "imgsvc" / "imaging"
    raised = {
        match
        for source in package.glob("*.py")
        for match in re.findall(r'code="([a-z_]+)"', source.read_text())
    }
    spec = (root / "openapi.yaml").read_text()
    assert raised >= {"too_many_scans", "too_many_chunks", "too_many_frames", "decode_too_large"}
    assert {code for code in raised if f"`{code}`" not in spec} == set()


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_truncated_image_at_its_own_size_is_corrupt_image(entry: str) -> None:
    # Asked for no smaller than it is, the image is not resampled: its decoding must still
    # happen inside the engine, where a failure is corrupt_image.
    broken = imagegen.truncated(imagegen.jpeg(48, 48), keep=0.2)

    assert refusal(entry, broken).code == "corrupt_image"
