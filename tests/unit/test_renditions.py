"""Renditions: sizes, Accept negotiation and real Pillow rendering of real image bytes."""

from __future__ import annotations

import io
import math
import struct

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from imgsvc.config import DEFAULT_RENDITION_SIDES
from imgsvc.errors import BadRequest, UnprocessableImage
from imgsvc.imaging import jpegscale, scaling
from imgsvc.renditions import (
    OutputFormat,
    Size,
    negotiate,
    negotiation,
    output_format,
    parse_size,
    render,
)
from tests.support import imagegen

SIDES = DEFAULT_RENDITION_SIDES
JPEG = OutputFormat("original", "image/jpeg")
PNG = OutputFormat("original", "image/png")
GIF = OutputFormat("original", "image/gif")
WEBP = OutputFormat("webp", "image/webp")
AVIF = OutputFormat("avif", "image/avif")
CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
needs_avif = pytest.mark.skipif(
    not negotiation.avif_supported(), reason="this Pillow build has no AVIF"
)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB of two same-sized images (RGB)."""
    assert a.size == b.size
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    mse = sum(ImageStat.Stat(diff).sum2) / (3 * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def reference(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The naive rendition: full decode, upright, LANCZOS to the given size."""
    image = ImageOps.exif_transpose(decode(data)).convert("RGB")
    return image.resize(size, Image.Resampling.LANCZOS)


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def level(image: Image.Image, xy: tuple[int, int]) -> float:
    value = image.getpixel(xy)
    assert isinstance(value, int | float)
    return value


def alpha_range(image: Image.Image) -> tuple[int, int]:
    low, high = image.getchannel("A").getextrema()
    assert isinstance(low, int)
    assert isinstance(high, int)
    return low, high


def largest_difference(a: Image.Image, b: Image.Image) -> int:
    """The largest per-channel difference between two same-sized images."""
    histogram = ImageChops.difference(a, b).histogram()
    return max(i % 256 for i, count in enumerate(histogram) if count)


def close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- parse_size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("256x256", Size(256, 256)),
        ("100x100", Size(100, 100)),
        ("64x2048", Size(64, 2048)),
        ("256x", Size(256, None)),
        ("x400", Size(None, 400)),
        ("256x256-cover", Size(256, 256, "cover")),
    ],
)
def test_parse_size_accepts_every_form_built_from_allowed_sides(text: str, expected: Size) -> None:
    size = parse_size(text, SIDES)
    assert size == expected
    assert size.canonical == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("256X256", "256x256"),
        ("0256x256", "256x256"),
        ("256x256-inside", "256x256"),
        ("256x256-COVER", "256x256-cover"),
        ("0100x", "100x"),
    ],
)
def test_equivalent_spellings_share_one_canonical_key(text: str, canonical: str) -> None:
    assert parse_size(text, SIDES).canonical == canonical


@pytest.mark.parametrize(
    "text",
    [
        "300x300",  # sides not in the allowlist
        "256x300",
        "5000x",
        "",
        "x",
        "256",
        "abc",
        "256x256-fill",
        "256x-cover",  # cover needs both sides
        "x256-cover",
        "-256x256",
        "256x256x256",
        " 256x256",
        "256x256/",
        "\uff12\uff15\uff16x256",  # full-width digits
        "1" * 40 + "x",
    ],
)
def test_bad_sizes_are_400_invalid_size_listing_the_allowed_sides(text: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_size(text, SIDES)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_size"
    assert "64, 100, 128, 200, 256, 400, 512, 800, 1024, 1600, 2048" in caught.value.message


def test_allowlist_comes_from_the_caller() -> None:
    assert parse_size("50x50", [50]) == Size(50, 50)
    with pytest.raises(BadRequest, match=r"one of: 50\b"):
        parse_size("64x64", [50])


def test_size_refuses_impossible_combinations() -> None:
    with pytest.raises(ValueError, match="width, a height"):
        Size(None, None)
    with pytest.raises(ValueError, match="cover"):
        Size(256, None, "cover")
    with pytest.raises(ValueError, match="positive"):
        Size(0, 10)


# --- negotiate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "key"),
    [
        (None, "original"),
        ("", "original"),
        ("*/*", "original"),
        ("image/*", "original"),
        ("image/webp", "webp"),
        ("IMAGE/WEBP", "webp"),
        ("text/html, image/webp;q=0.1", "webp"),
        ("image/webp;q=0", "original"),
        ("image/webp;q=0.0, */*", "original"),
        ("image/webp; q=0.000", "original"),
        ("image/webp;q=abc", "original"),  # a malformed q accepts nothing
        ("image/webp;q=2", "original"),  # out of range: not acceptable
        ("image/webp;q=nan", "original"),
        ("image/webp;q=0.5;q=0", "original"),
        ("image/webp, image/webp;q=0", "original"),  # the last of repeated ranges wins
        ("image/avif", "original"),  # AVIF disabled in this test
        (CHROME_ACCEPT, "webp"),
    ],
)
def test_negotiate_respects_accept_and_q_values(accept: str | None, key: str) -> None:
    chosen = negotiate(accept, "image/jpeg", avif_enabled=False)
    assert chosen.key == key
    assert chosen.content_type == {"original": "image/jpeg", "webp": "image/webp"}[key]


def test_negotiate_keeps_the_originals_content_type() -> None:
    assert negotiate(None, "image/png", avif_enabled=True) == OutputFormat("original", "image/png")
    assert negotiate("image/jpeg", "image/gif", avif_enabled=False) == GIF


@needs_avif
@pytest.mark.parametrize(
    ("accept", "key"),
    [
        (CHROME_ACCEPT, "avif"),
        ("image/avif;q=0.5, image/webp", "webp"),
        ("image/avif, image/webp;q=0.9", "avif"),
        ("image/avif;q=0, image/webp", "webp"),
        ("image/avif;q=0", "original"),
    ],
)
def test_negotiate_picks_avif_when_enabled_and_preferred(accept: str, key: str) -> None:
    assert negotiate(accept, "image/jpeg", avif_enabled=True).key == key


def test_negotiate_never_picks_avif_when_pillow_cannot_encode_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(negotiation, "avif_supported", lambda: False)
    assert negotiate(CHROME_ACCEPT, "image/jpeg", avif_enabled=True).key == "webp"
    with pytest.raises(ValueError, match="AVIF"):
        render(imagegen.jpeg(64, 48), Size(64, None), AVIF)


def test_negotiate_refuses_an_unknown_original_type() -> None:
    with pytest.raises(ValueError, match="image/tiff"):
        negotiate("image/webp", "image/tiff", avif_enabled=False)


def test_output_format_maps_key_parts() -> None:
    assert output_format("original", "image/png") == PNG
    assert output_format("webp", "image/png") == WEBP
    assert output_format("avif", "image/jpeg") == AVIF
    with pytest.raises(ValueError, match="heic"):
        output_format("heic", "image/jpeg")


# --- render: sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256x256", (256, 192)),
        ("400x100", (133, 100)),
        ("256x", (256, 192)),
        ("x128", (171, 128)),
        ("100x100-cover", (100, 100)),
        ("256x64-cover", (256, 64)),
        ("2048x", (640, 480)),  # never upscale
        ("1024x1024", (640, 480)),
        ("x800", (640, 480)),
        ("1024x1024-cover", (480, 480)),  # the box's shape, at the original's scale
        ("1024x512-cover", (640, 320)),
    ],
)
def test_rendition_dimensions_for_each_size_form(size: str, expected: tuple[int, int]) -> None:
    data = imagegen.jpeg(640, 480)
    result = render(data, parse_size(size, SIDES), JPEG)
    image = decode(result.data)
    assert image.format == "JPEG"
    assert (result.width, result.height) == image.size == expected
    assert parse_size(size, SIDES).output_size(640, 480) == expected


def test_rendition_matches_a_full_lanczos_resize() -> None:
    data = imagegen.jpeg(2000, 1500, seed=3)
    result = render(data, Size(256, None), PNG)  # lossless output: only the resize differs
    assert psnr(decode(result.data), reference(data, (256, 192))) > 35


def test_large_ratios_use_the_decoder_scaling_and_stay_faithful() -> None:
    data = imagegen.jpeg(2048, 1536, seed=4)
    result = render(data, Size(64, 64, "cover"), PNG)
    assert decode(result.data).size == (64, 64)
    expected = reference(data, (85, 64)).crop((10, 0, 74, 64))
    assert psnr(decode(result.data), expected) > 28


@pytest.mark.parametrize("alpha", [False, True], ids=["rgb", "rgba"])
def test_banded_resampling_gives_the_same_pixels_as_one_pass(
    alpha: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = imagegen.png(900, 700, seed=7, alpha=alpha)
    monkeypatch.setattr(scaling, "BAND_BYTES", 1 << 40)  # one band
    one_pass = decode(render(data, Size(None, 400), PNG).data)
    monkeypatch.setattr(scaling, "BAND_BYTES", 64 * 1024)  # about 20 bands
    banded = decode(render(data, Size(None, 400), PNG).data)
    assert banded.size == one_pass.size == (514, 400)
    assert banded.mode == one_pass.mode == ("RGBA" if alpha else "RGB")
    assert largest_difference(banded, one_pass) <= 1  # the same pixels


def test_cover_crops_the_centre() -> None:
    image = Image.new("RGB", (400, 100), (0, 200, 0))
    image.paste((200, 0, 0), (0, 0, 100, 100))
    image.paste((0, 0, 200), (300, 0, 400, 100))
    result = render(imagegen.encode(image, "PNG"), Size(100, 100, "cover"), PNG)
    out = decode(result.data).convert("RGB")
    colours = {pixel(out, (x, y)) for x in (2, 50, 97) for y in (2, 50, 97)}
    assert colours == {(0, 200, 0)}


def test_small_images_are_reencoded_at_their_own_size() -> None:
    data = imagegen.png(50, 40)
    result = render(data, Size(256, 256), PNG)
    assert (result.width, result.height) == (50, 40)
    assert psnr(decode(result.data), decode(data)) == math.inf


# --- render: orientation, colour, modes -------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "upright"),
    [(1, (320, 160)), (3, (320, 160)), (6, (160, 320)), (8, (160, 320))],
)
def test_exif_orientation_is_applied(orientation: int, upright: tuple[int, int]) -> None:
    data = imagegen.jpeg_with_orientation(320, 160, orientation, seed=5)
    result = render(data, Size(None, 128), PNG)
    out = decode(result.data)
    width = round(upright[0] * 128 / upright[1])
    assert (result.width, result.height) == out.size == (width, 128)
    assert psnr(out, reference(data, (width, 128))) > 30
    if orientation != 1:  # the same pixels unrotated would be far off
        stored = decode(data).convert("RGB")
        assert out.size != upright or psnr(out, stored.resize(out.size)) < 20


@pytest.mark.parametrize("orientation", [3, 5, 6, 7, 8])
def test_cover_crops_the_upright_image(orientation: int) -> None:
    data = imagegen.jpeg_with_orientation(400, 240, orientation, seed=8)
    result = render(data, Size(128, 64, "cover"), PNG)
    out = decode(result.data)
    assert (result.width, result.height) == out.size == (128, 64)
    upright = ImageOps.exif_transpose(decode(data)).convert("RGB")
    expected = ImageOps.fit(upright, (128, 64), Image.Resampling.LANCZOS)
    assert psnr(out, expected) > 30


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(3, "bottom_right"), (6, "top_right"), (8, "bottom_left")],
)
def test_exif_orientation_moves_a_marker_to_the_right_corner(orientation: int, corner: str) -> None:
    stored = Image.new("RGB", (300, 200), (255, 255, 255))
    ImageDraw.Draw(stored).rectangle((0, 0, 59, 39), fill=(255, 0, 0))  # stored top-left
    exif = Image.Exif()
    exif[imagegen.EXIF_ORIENTATION] = orientation
    data = imagegen.encode(stored, "JPEG", quality=95, exif=exif.tobytes())
    out = decode(render(data, Size(200, 200), JPEG).data).convert("RGB")
    w, h = out.size
    points = {
        "top_left": (5, 5),
        "top_right": (w - 6, 5),
        "bottom_left": (5, h - 6),
        "bottom_right": (w - 6, h - 6),
    }
    for name, point in points.items():
        expected = (255, 0, 0) if name == corner else (255, 255, 255)
        assert close(pixel(out, point), expected), (name, pixel(out, point))


def test_alpha_is_kept_for_png_and_webp() -> None:
    data = imagegen.png(400, 300, alpha=True)
    for fmt in (PNG, WEBP):
        out = decode(render(data, Size(200, None), fmt).data)
        assert out.mode == "RGBA"
        low, high = alpha_range(out)
        assert low < 30
        assert high > 220


def test_webp_original_keeps_alpha() -> None:
    data = imagegen.webp(320, 240, alpha=True)
    result = render(data, Size(128, None), OutputFormat("original", "image/webp"))
    out = decode(result.data)
    assert out.format == "WEBP"
    assert out.mode == "RGBA"
    assert alpha_range(out)[0] < 30


def test_transparent_pixels_do_not_bleed_colour_when_resized() -> None:
    image = Image.new("RGBA", (200, 100), (255, 0, 0, 0))  # invisible red
    image.paste((0, 0, 255, 255), (100, 0, 200, 100))
    out = decode(render(imagegen.encode(image, "PNG"), Size(64, None), PNG).data)
    for x in range(out.width):
        red, _, _, alpha = pixel(out, (x, 16))
        assert alpha == 0 or red < 10


@needs_avif
def test_avif_output_keeps_alpha() -> None:
    data = imagegen.png(320, 240, alpha=True)
    result = render(data, Size(128, None), AVIF)
    out = decode(result.data)
    assert result.content_type == "image/avif"
    assert out.format == "AVIF"
    assert out.size == (128, 96)
    assert out.mode == "RGBA"


def test_jpeg_output_flattens_alpha_onto_white() -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    result = render(imagegen.encode(image, "PNG"), Size(64, None), JPEG)
    out = decode(result.data)
    assert out.mode == "RGB"
    assert close(pixel(out, (32, 32)), (255, 255, 255), 3)


def test_cmyk_jpeg_becomes_rgb_with_the_same_colours() -> None:
    rgb = imagegen.photo(400, 300, seed=6)
    data = imagegen.encode(rgb.convert("CMYK"), "JPEG", quality=95)
    assert decode(data).mode == "CMYK"
    for fmt in (JPEG, WEBP):
        out = decode(render(data, Size(200, None), fmt).data)
        assert out.mode == "RGB"
        assert psnr(out, rgb.resize((200, 150), Image.Resampling.LANCZOS)) > 25


def test_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (200, 100), 0)
    image.putpalette([255, 255, 255, 200, 0, 0, 0, 0, 255] + [0] * 759)
    image.paste(1, (0, 0, 100, 100))
    image.paste(2, (100, 0, 150, 100))  # index 0 (white) is transparent on the right
    data = imagegen.encode(image, "PNG", transparency=0)
    for fmt in (PNG, WEBP):
        out = decode(render(data, Size(100, None), fmt).data).convert("RGBA")
        assert out.size == (100, 50)
        assert close(pixel(out, (20, 25)), (200, 0, 0, 255), 8)
        assert close(pixel(out, (62, 25)), (0, 0, 255, 255), 8)
        assert pixel(out, (95, 25))[3] == 0


def test_animated_gif_gives_a_still_of_the_first_frame() -> None:
    data = imagegen.gif(160, 120, frames=4)
    first = decode(data).convert("RGB").resize((64, 48), Image.Resampling.LANCZOS)
    for fmt in (GIF, WEBP):
        result = render(data, Size(64, None), fmt)
        out = Image.open(io.BytesIO(result.data))
        assert getattr(out, "n_frames", 1) == 1
        assert out.size == (64, 48)
        assert psnr(out, first) > 22


def test_gif_transparency_survives_as_a_transparent_index() -> None:
    image = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    image.paste((10, 200, 10, 255), (0, 0, 60, 60))
    data = imagegen.encode(image, "GIF")
    out = decode(render(data, Size(64, None), GIF).data).convert("RGBA")
    assert pixel(out, (10, 16))[3] == 255
    assert pixel(out, (55, 16))[3] == 0


def test_16_bit_grayscale_png_is_scaled_not_clipped() -> None:
    data = imagegen.encode(Image.new("I;16", (100, 100), 40000), "PNG")
    out = decode(render(data, Size(64, None), PNG).data)
    assert out.mode == "L"
    assert abs(level(out, (32, 32)) - 40000 / 257) <= 1


def test_16_bit_grayscale_png_keeps_its_transparent_value_as_alpha() -> None:
    # 16-bit samples (a tRNS chunk names one 16-bit grey value as transparent): left half
    # transparent, right half opaque grey.
    row = b"".join(struct.pack("<H", 1000 if x < 50 else 40000) for x in range(100))
    image = Image.frombytes("I;16", (100, 100), row * 100)
    data = imagegen.encode(image, "PNG", transparency=1000)
    assert decode(data).info["transparency"] == 1000
    for fmt in (PNG, WEBP):
        out = decode(render(data, Size(64, None), fmt).data).convert("RGBA")
        assert pixel(out, (5, 32))[3] == 0, fmt
        assert pixel(out, (58, 32))[3] == 255, fmt
        assert abs(pixel(out, (58, 32))[0] - 40000 / 257) <= 1, fmt


def _swapped_rgb_profile() -> bytes:
    """A minimal ICC v2 RGB profile whose red and green primaries are swapped versus sRGB."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))

    text = b"Swapped test RGB\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),  # sRGB's green primary (D50)
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red primary
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        padded = data + bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += padded
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes.fromhex("02100000")
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + struct.pack(">3i", *(round(v * 65536) for v in (0.9642, 1.0, 0.8249)))
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def test_icc_profiles_are_converted_to_srgb_and_dropped() -> None:
    image = Image.new("RGB", (100, 100), (255, 0, 0))
    data = imagegen.encode(image, "PNG", icc_profile=_swapped_rgb_profile())
    assert decode(data).info.get("icc_profile")
    for fmt in (PNG, WEBP):
        out = decode(render(data, Size(64, None), fmt).data)
        assert "icc_profile" not in out.info
        assert close(pixel(out.convert("RGB"), (32, 32)), (0, 255, 0), 12)


def test_metadata_is_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x010E] = "secret description"  # ImageDescription
    exif[imagegen.EXIF_ORIENTATION] = 1
    photo = imagegen.photo(300, 200)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    sources = {
        "jpeg": imagegen.encode(photo, "JPEG", exif=exif.tobytes(), xmp=xmp, comment=b"hi"),
        "png": imagegen.encode(photo, "PNG", exif=exif.tobytes()),
        "webp": imagegen.encode(photo, "WEBP", exif=exif.tobytes(), xmp=xmp),
    }
    for name, data in sources.items():
        assert decode(data).getexif().get(0x010F) == "CameraMaker", name
        for fmt in (output_format("original", f"image/{name}"), WEBP):
            result = render(data, Size(128, None), fmt)
            out = decode(result.data)
            assert not out.getexif(), (name, fmt)
            assert not {"exif", "xmp", "icc_profile", "comment"} & set(out.info), (name, fmt)
            assert b"CameraMaker" not in result.data
            assert b"secret" not in result.data


# --- render: bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        imagegen.truncated(imagegen.jpeg(400, 300)),
        imagegen.truncated(imagegen.png(400, 300)),
        imagegen.truncated(imagegen.gif(100, 80), 0.1),  # inside the first frame
        imagegen.jpeg(64, 64)[:200],
        imagegen.encode(imagegen.photo(64, 64), "BMP"),  # decodable, not an accepted format
        imagegen.encode(imagegen.photo(64, 64), "TIFF"),
    ],
    ids=["empty", "text", "jpeg-cut", "png-cut", "gif-cut", "jpeg-header", "bmp", "tiff"],
)
def test_undecodable_input_is_422_corrupt_image(data: bytes) -> None:
    with pytest.raises(UnprocessableImage) as caught:
        render(data, Size(256, None), JPEG)
    assert caught.value.status == 422
    assert caught.value.code == "corrupt_image"


def test_too_many_pixels_are_refused_before_decoding() -> None:
    data = imagegen.png_declaring(20_000, 20_000)
    with pytest.raises(UnprocessableImage) as caught:
        render(data, Size(256, None), PNG, max_pixels=50_000_000)
    assert caught.value.code == "too_many_pixels"
    assert "400,000,000" in caught.value.message


@pytest.mark.parametrize("size", [(800, 600), (803, 601), (17, 9)])
def test_jpeg_decodes_at_three_eighths_between_a_half_and_a_quarter(
    size: tuple[int, int],
) -> None:
    width, height = size
    data = imagegen.encode(Image.new("RGB", size, (250, 250, 250)), "JPEG", quality=95)
    wanted = (math.ceil(width * 3 / 8), math.ceil(height * 3 / 8))  # more than a quarter
    image = Image.open(io.BytesIO(data))

    assert jpegscale.draft(image, wanted) == 3 / 8
    assert image.size == wanted
    image.load()

    # libjpeg wrote every row and column Pillow allocated: none is left black at the edges.
    assert min(min(band) for band in image.getextrema()) > 200  # type: ignore[arg-type]


def test_jpeg_renditions_from_three_eighths_match_the_naive_resize() -> None:
    data = imagegen.jpeg(1600, 1200, quality=92)
    rendition = render(data, Size(512, 512), JPEG)  # 3/8 of 1600 is 600: enough for 512

    assert (rendition.width, rendition.height) == (512, 384)
    assert psnr(decode(rendition.data), reference(data, (512, 384))) > 32
