"""imaging.inspect on real image bytes: accepted formats, and every kind of bad input."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from imgsvc import imaging
from imgsvc.errors import BadRequest, UnprocessableImage, UnsupportedMediaType
from imgsvc.imaging import inspection
from tests.support import imagegen
from tests.support.pngbytes import (
    pixel_data,
    png_chunks,
    png_from_chunks,
    png_with_short_pixel_data,
    with_pixel_data,
)

LIMIT = 50_000_000


def test_empty_body_is_a_bad_request() -> None:
    with pytest.raises(BadRequest) as caught:
        imaging.inspect(b"", max_pixels=LIMIT)
    assert caught.value.code == "empty_body"


@pytest.mark.parametrize("data", [b"hello, world", b"%PDF-1.7\n", b"\x00" * 64])
def test_not_an_image_is_415(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        imaging.inspect(data, max_pixels=LIMIT)
    assert caught.value.code == "not_an_image"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_image_formats_we_do_not_take_are_415_and_named(fmt: str) -> None:
    data = imagegen.encode(imagegen.photo(32, 32), fmt)
    with pytest.raises(UnsupportedMediaType) as caught:
        imaging.inspect(data, max_pixels=LIMIT)
    assert caught.value.code == "format_not_accepted"
    assert fmt in caught.value.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: imagegen.jpeg(640, 480),
        lambda: imagegen.png(320, 240),
        lambda: imagegen.gif(160, 120),
        lambda: imagegen.webp(320, 240),
    ],
    ids=["jpeg", "png", "gif", "webp"],
)
def test_truncated_images_are_422(make: object) -> None:
    data = make()  # type: ignore[operator]
    with pytest.raises(UnprocessableImage) as caught:
        imaging.inspect(imagegen.truncated(data), max_pixels=LIMIT)
    assert caught.value.code == "corrupt_image"


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
    ids=["png-signature", "jpeg-signature", "gif-signature", "png-zero-header"],
)
def test_an_unreadable_header_is_422_in_plain_words(data: bytes) -> None:
    with pytest.raises(UnprocessableImage) as caught:
        imaging.inspect(data, max_pixels=LIMIT)
    assert caught.value.code == "corrupt_image"
    assert "header cannot be read" in caught.value.message
    assert "object at 0x" not in caught.value.message  # no Python object in a client's message


def test_a_jpeg_missing_only_its_last_bytes_is_422() -> None:
    data = imagegen.jpeg(640, 480)
    with pytest.raises(UnprocessableImage):
        imaging.inspect(data[:-200], max_pixels=LIMIT)


@pytest.mark.parametrize(("width", "height"), [(40000, 40000), (15000, 10000)])
def test_pixel_limit_is_enforced_from_the_header(width: int, height: int) -> None:
    data = imagegen.png_declaring(width, height)
    assert len(data) < 10_000  # the file is tiny: only the header says how big it would be
    with pytest.raises(UnprocessableImage) as caught:
        imaging.inspect(data, max_pixels=LIMIT)
    assert caught.value.code == "too_many_pixels"
    assert "50,000,000" in caught.value.message


@pytest.mark.parametrize(
    "sizes",
    [
        [(10, 10), (20000, 20000)],  # Pillow's own bomb check fires when it seeks to frame 2
        [(10, 10), (9000, 9000)],  # 81 MP: over our limit, under Pillow's
        [(10, 10), *[(6000, 6000)] * 6],  # each 36 MP, 216 MP in all
    ],
    ids=["pillow-bomb", "one-frame-over", "frames-over-in-all"],
)
def test_gif_frames_larger_than_the_screen_count_against_the_limit(
    sizes: list[tuple[int, int]],
) -> None:
    data = imagegen.gif_with_frames((10, 10), sizes)
    assert len(data) < 1_000_000  # flat frames: the bytes are small, the pixels are not
    with pytest.raises(UnprocessableImage) as caught:
        imaging.inspect(data, max_pixels=LIMIT)
    assert caught.value.code == "too_many_pixels"
    assert "000,000 pixels" in caught.value.message  # 50,000,000 for a frame, 200,000,000 in all


def test_gif_frames_beyond_the_screen_within_the_limit_are_accepted() -> None:
    info = imaging.inspect(
        imagegen.gif_with_frames((10, 10), [(10, 10), (200, 100)]), max_pixels=LIMIT
    )
    assert (info.width, info.height, info.frames) == (10, 10, 2)  # the screen, as browsers show it


def test_pixel_limit_is_configurable() -> None:
    data = imagegen.jpeg(400, 300)
    assert imaging.inspect(data, max_pixels=120_000).width == 400
    with pytest.raises(UnprocessableImage):
        imaging.inspect(data, max_pixels=119_999)


@pytest.mark.parametrize(
    ("data", "content_type", "size", "frames"),
    [
        (imagegen.jpeg(640, 480), "image/jpeg", (640, 480), 1),
        (imagegen.png(320, 240, alpha=True), "image/png", (320, 240), 1),
        (imagegen.webp(300, 200), "image/webp", (300, 200), 1),
        (imagegen.gif(160, 120, frames=5), "image/gif", (160, 120), 5),
    ],
    ids=["jpeg", "png", "webp", "gif"],
)
def test_accepted_images_report_their_facts(
    data: bytes, content_type: str, size: tuple[int, int], frames: int
) -> None:
    info = imaging.inspect(data, max_pixels=LIMIT)
    assert info.content_type == content_type
    assert (info.width, info.height) == size
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.frames == frames


def test_type_comes_from_the_bytes_not_from_a_claim() -> None:
    assert imaging.sniff(imagegen.png()) == "PNG"
    assert imaging.sniff(imagegen.jpeg()) == "JPEG"
    assert imaging.sniff(b"GIF89a" + b"\x00" * 10) == "GIF"
    assert imaging.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert imaging.sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None


@pytest.mark.parametrize(
    ("orientation", "size"), [(1, (300, 200)), (3, (300, 200)), (6, (200, 300)), (8, (200, 300))]
)
def test_dimensions_are_as_displayed_after_exif_orientation(
    orientation: int, size: tuple[int, int]
) -> None:
    data = imagegen.jpeg_with_orientation(300, 200, orientation)
    info = imaging.inspect(data, max_pixels=LIMIT)
    assert (info.width, info.height) == size


# --- PNG pixel data that ends early ------------------------------------------------------------
# A complete zlib stream holding fewer rows than the header declares: Pillow's PNG decoder stops
# at the end of the stream without an error (the rows after it stay black), whatever
# LOAD_TRUNCATED_IMAGES says. Built from real PNG bytes: the pixel data decompressed, cut after
# whole rows, compressed again into one IDAT with a correct CRC, the chunks after it intact.


def interlaced_png(image: Image.Image) -> tuple[bytes, list[bytes]]:
    """An Adam7-interlaced 8-bit RGB PNG of ``image`` (Pillow writes none), and each pass's
    filtered rows (so a test can end the pixel data after a pass)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    pixels = rgb.tobytes()
    passes = []
    for x0, y0, dx, dy in inspection._ADAM7:  # checked: Pillow decodes the result
        rows = [
            b"\x00"
            + b"".join(
                pixels[(y * width + x) * 3 : (y * width + x) * 3 + 3] for x in range(x0, width, dx)
            )
            for y in range(y0, height, dy)
            if x0 < width
        ]
        passes.append(b"".join(rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    chunks = [(b"IHDR", header), (b"IDAT", zlib.compress(b"".join(passes))), (b"IEND", b"")]
    return png_from_chunks(chunks), passes


def refused_as_corrupt(data: bytes) -> str:
    """``inspect`` refuses ``data`` with 422 corrupt_image; the message."""
    with pytest.raises(UnprocessableImage) as caught:
        imaging.inspect(data, max_pixels=LIMIT)
    assert caught.value.code == "corrupt_image"
    return caught.value.message


PNG_MODES = {
    "1-bit": lambda: imagegen.photo(37, 23).convert("1"),
    "2-bit-palette": lambda: imagegen.photo(37, 23).quantize(4),
    "8-bit-palette": lambda: imagegen.photo(37, 23).quantize(200),
    "grey": lambda: imagegen.photo(37, 23).convert("L"),
    "grey-alpha": lambda: imagegen.photo(37, 23).convert("LA"),
    "grey-16-bit": lambda: imagegen.photo(37, 23).convert("I;16"),
    "rgb": lambda: imagegen.photo(37, 23),
    "rgba": lambda: imagegen.photo(37, 23).convert("RGBA"),
}


def test_pillow_alone_takes_a_png_whose_pixel_data_ends_early() -> None:
    """Why the check exists: the short file decodes without an error, its last rows black."""
    data = imagegen.png(64, 48)
    short = png_with_short_pixel_data(data, rows=30)
    image = imagegen.decoded(short)
    assert image.size == (64, 48)
    assert image.crop((0, 30, 64, 48)).getextrema() == ((0, 0), (0, 0), (0, 0))
    assert imagegen.decoded(data).crop((0, 30, 64, 48)).getextrema() != ((0, 0), (0, 0), (0, 0))


@pytest.mark.parametrize("rows", [1, 24, 47])
def test_a_png_whose_pixel_data_ends_after_whole_rows_is_422(rows: int) -> None:
    short = png_with_short_pixel_data(imagegen.png(64, 48), rows=rows)
    assert "pixel data" in refused_as_corrupt(short)


def test_a_png_whose_pixel_data_ends_mid_row_is_422() -> None:
    data = imagegen.png(64, 48)
    raw = pixel_data(data)
    refused_as_corrupt(with_pixel_data(data, raw[: len(raw) // 2 + 5]))


@pytest.mark.parametrize("mode", sorted(PNG_MODES))
def test_every_png_pixel_layout_is_taken_whole_and_refused_short(mode: str) -> None:
    data = imagegen.encode(PNG_MODES[mode](), "PNG")
    assert imaging.inspect(data, max_pixels=LIMIT).size == len(data)
    refused_as_corrupt(png_with_short_pixel_data(data, rows=22))


def test_an_interlaced_png_is_taken_whole_and_refused_without_its_last_pass() -> None:
    image = imagegen.photo(37, 23)
    data, passes = interlaced_png(image)
    assert imagegen.decoded(data).tobytes() == image.tobytes()  # the test's own encoder is right
    assert imaging.inspect(data, max_pixels=LIMIT).width == 37
    short = png_from_chunks(
        [
            (kind, zlib.compress(b"".join(passes[:-1])) if kind == b"IDAT" else payload)
            for kind, payload in png_chunks(data)
        ]
    )
    imagegen.decoded(short)  # Pillow alone takes it: every odd row black
    refused_as_corrupt(short)


def test_a_whole_png_with_a_black_last_row_is_accepted() -> None:
    """The cheap first look (is the last row untouched?) is only a hint, never the verdict."""
    image = imagegen.photo(64, 48)
    image.paste((0, 0, 0), (0, 40, 64, 48))
    data = imagegen.encode(image, "PNG")
    assert imaging.inspect(data, max_pixels=LIMIT).height == 48


def test_the_pixel_data_is_not_inflated_twice_when_the_last_row_was_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def inflate_again(*args: object) -> str | None:
        raise AssertionError("second inflate of a PNG whose last row was decoded")

    monkeypatch.setattr(inspection, "_png_pixel_data_shortfall", inflate_again)
    assert imaging.inspect(imagegen.png(64, 48), max_pixels=LIMIT).height == 48


def test_an_animated_png_is_refused_when_one_frame_ends_early() -> None:
    frames = [imagegen.photo(37, 23, seed=seed) for seed in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=100)
    data = out.getvalue()
    assert imaging.inspect(data, max_pixels=LIMIT).frames == 3
    chunks = png_chunks(data)
    fdats = [i for i, (kind, _) in enumerate(chunks) if kind == b"fdAT"]
    assert len(fdats) == 2  # one chunk per later frame: the last one can be replaced whole
    sequence, stream = chunks[fdats[-1]][1][:4], chunks[fdats[-1]][1][4:]
    raw = zlib.decompress(stream)
    chunks[fdats[-1]] = (b"fdAT", sequence + zlib.compress(raw[: len(raw) // 23 * 10]))
    assert "frame 3" in refused_as_corrupt(png_from_chunks(chunks))


def test_pixel_data_that_is_not_zlib_is_422() -> None:
    data = imagegen.png(64, 48)
    chunks = [
        (kind, b"\x78\x9c" + b"\xff" * 64 if kind == b"IDAT" else payload)
        for kind, payload in png_chunks(data)
    ]
    refused_as_corrupt(png_from_chunks(chunks))


def test_a_png_whose_image_data_fails_its_crc_is_422() -> None:
    """Pillow checks the CRCs of the chunks before the image data only; renditions check all."""
    data = imagegen.png(64, 48)
    chunks = png_chunks(data)
    damaged = bytearray(png_from_chunks(chunks))
    first_idat = next(i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT")
    crc_at = 8 + sum(12 + len(payload) for _, payload in chunks[:first_idat])
    crc_at += 8 + len(chunks[first_idat][1])
    damaged[crc_at] ^= 0xFF
    assert "CRC" in refused_as_corrupt(bytes(damaged))


def test_a_png_without_its_iend_chunk_is_422() -> None:
    data = imagegen.png(64, 48)
    assert data.endswith(b"IEND\xae\x42\x60\x82")
    assert "IEND" in refused_as_corrupt(data[:-12])
