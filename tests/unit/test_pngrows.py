"""PNG renditions decoded a band of rows at a time (imgsvc.imaging.pngrows), on real PNG bytes."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from bench.common import MB, peak_memory
from PIL import Image, ImageChops

from imgsvc import renditions
from imgsvc.errors import UnprocessableImage
from imgsvc.imaging import pngrows
from imgsvc.renditions import OutputFormat, Size
from tests.support import imagegen
from tests.support.pngbytes import (
    pixel_data,
    png_chunks,
    png_from_chunks,
    png_with_short_pixel_data,
    with_pixel_data,
)

PNG = OutputFormat("original", "image/png")
SIZES = [
    Size(256, 256),
    Size(1024, 1024),  # larger than the image: no resampling, the whole picture
    Size(64, None),
    Size(100, 100, "cover"),
    Size(800, 64, "cover"),  # a band from the middle: the rows above are decoded and dropped
]


def picture(mode: str, size: tuple[int, int] = (603, 457)) -> Image.Image:
    return imagegen.photo_in(mode, *size, seed=5)


def whole(data: bytes, size: Size) -> renditions.Rendition:
    """The rendition as made from the whole decoded image (the path before streaming)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pngrows, "open_rows", lambda image, data: None)
        return renditions.render(data, size, PNG)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
@pytest.mark.parametrize("size", SIZES, ids=lambda size: size.canonical)
def test_streamed_png_renditions_equal_the_whole_image_ones(mode: str, size: Size) -> None:
    data = imagegen.encode(picture(mode), "PNG")
    assert pngrows.open_rows(Image.open(io.BytesIO(data)), data) is not None
    assert len([kind for kind, _ in png_chunks(data) if kind == b"IDAT"]) > 1

    streamed, reference = renditions.render(data, size, PNG), whole(data, size)

    got, expected = imagegen.decoded(streamed.data), imagegen.decoded(reference.data)
    assert (got.mode, got.size) == (expected.mode, expected.size)
    # The same resampling in other bands (a PNG's are smaller): equal but for rounding at band
    # edges, where Pillow's whole-factor reduction aligns its blocks to each band's region. Seen
    # premultiplied, as it shows: unpremultiplied, a colour under alpha 1/255 can be anything.
    seen = {"RGBA": "RGBa", "LA": "La"}.get(mode, mode)
    assert max_difference(got.convert(seen), expected.convert(seen)) <= 2


def max_difference(a: Image.Image, b: Image.Image) -> int:
    extrema = ImageChops.difference(a, b).getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return max(int(high) for _, high in bands)


def test_rows_are_served_in_windows_not_the_whole_image() -> None:
    data = imagegen.encode(picture("RGBA", (300, 2000)), "PNG")
    rows = pngrows.open_rows(Image.open(io.BytesIO(data)), data)
    assert rows is not None
    reference = imagegen.decoded(data)
    heights = []
    for top in range(0, 2000, 150):
        window, first = rows.rows(top, top + 200)
        heights.append(window.height)
        assert first <= top
        assert first + window.height >= min(2000, top + 200)
        expected = reference.crop((0, top, 300, min(2000, top + 200)))
        got = window.crop((0, top - first, 300, min(2000, top + 200) - first))
        assert got.tobytes() == expected.convert("RGBa").tobytes()  # premultiplied once
    assert max(heights) <= 201


@pytest.mark.parametrize("threads", [1, 2])
def test_windows_hold_each_span_whether_decoded_ahead_or_not(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pngrows, "threads", lambda: threads)
    data = imagegen.encode(picture("LA", (300, 2000)), "PNG")
    rows = pngrows.open_rows(Image.open(io.BytesIO(data)), data)
    assert rows is not None
    reference = imagegen.decoded(data).convert("La")
    spans = [(top, min(2000, top + 200)) for top in range(0, 2000, 150)]
    for (top, bottom), (window, first) in zip(spans, rows.windows(spans), strict=True):
        got = window.crop((0, top - first, 300, bottom - first))
        assert got.tobytes() == reference.crop((0, top, 300, bottom)).tobytes()


@pytest.mark.parametrize("threads", [1, 2])
def test_damage_found_while_decoding_ahead_reaches_the_caller(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pngrows, "threads", lambda: threads)
    data = png_with_short_pixel_data(imagegen.encode(picture("RGB", (300, 2000)), "PNG"), 900)
    rows = pngrows.open_rows(Image.open(io.BytesIO(data)), data)
    assert rows is not None
    windows = rows.windows([(0, 500), (400, 1000), (900, 1500)])
    assert next(windows)[1] == 0  # the first 500 rows are there
    with pytest.raises(pngrows.CorruptPng, match="ends before the last row"):
        list(windows)


def test_a_failed_rendition_leaves_no_decoding_thread_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pngrows, "threads", lambda: 2)
    data = imagegen.encode(picture("RGBA", (300, 2000)), "PNG")
    resize = Image.Image.resize
    calls = []

    def failing_resize(self: Image.Image, *args: Any, **kwargs: Any) -> Image.Image:
        calls.append(1)
        if len(calls) == 2:  # the second band, while the third one is being decoded
            raise RuntimeError("resampling failed")
        return resize(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", failing_resize)
    with pytest.raises(RuntimeError, match="resampling failed") as failure:
        renditions.render(data, Size(64, None), PNG)
    # While the error is held (its traceback keeps every frame), as a handler logging it does.
    assert [t.name for t in threading.enumerate() if t.name.startswith("png-rows")] == []
    assert failure.traceback


def test_rows_cannot_go_back() -> None:
    data = imagegen.encode(picture("RGB"), "PNG")
    rows = pngrows.open_rows(Image.open(io.BytesIO(data)), data)
    assert rows is not None
    rows.rows(200, 300)
    with pytest.raises(ValueError, match="not ahead"):
        rows.rows(100, 300)


def test_png_orientation_comes_from_its_exif_chunk() -> None:
    exif = Image.Exif()
    exif[imagegen.EXIF_ORIENTATION] = 6  # stored turned: shown rotated by 90 degrees
    data = imagegen.encode(picture("RGB", (400, 200)), "PNG", exif=exif.tobytes())
    assert pngrows.open_rows(Image.open(io.BytesIO(data)), data) is not None

    rendition = renditions.render(data, Size(100, 100), PNG)

    assert (rendition.width, rendition.height) == (50, 100)
    assert imagegen.decoded(rendition.data).size == (50, 100)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("palette", lambda: imagegen.encode(picture("RGB").quantize(64), "PNG")),
        ("16-bit", lambda: imagegen.encode(picture("L").convert("I;16"), "PNG")),
        (
            "colour key",
            lambda: imagegen.encode(picture("RGB"), "PNG", transparency=(255, 255, 255)),
        ),
        (
            "animated",
            lambda: imagegen.encode(
                picture("RGB"), "PNG", save_all=True, append_images=[picture("RGB")]
            ),
        ),
    ],
)
def test_other_pngs_are_decoded_whole_and_still_rendered(name: str, make: object) -> None:
    assert callable(make)
    data = make()
    assert pngrows.open_rows(Image.open(io.BytesIO(data)), data) is None, name

    rendition = renditions.render(data, Size(128, 128), PNG)

    assert imagegen.decoded(rendition.data).size == (128, 97)


def test_interlaced_pngs_are_not_streamed() -> None:
    data = imagegen.encode(picture("RGB"), "PNG")
    chunks = png_chunks(data)
    assert chunks[0][0] == b"IHDR"
    interlaced = png_from_chunks([(b"IHDR", chunks[0][1][:12] + b"\x01"), *chunks[1:]])

    assert pngrows.open_rows(Image.open(io.BytesIO(interlaced)), interlaced) is None


def short_stream(data: bytes) -> bytes:
    """``data`` with its zlib stream ending (properly) after half of the rows."""
    return png_with_short_pixel_data(data, Image.open(io.BytesIO(data)).height // 2)


def bad_crc(data: bytes) -> bytes:
    position = data.index(b"IDAT") + 4 + 100
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def bad_filter(data: bytes) -> bytes:
    raw = bytearray(pixel_data(data))
    raw[0] = 9  # filter types are 0-4
    return with_pixel_data(data, bytes(raw))


@pytest.mark.parametrize("damage", [short_stream, bad_crc, bad_filter])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_damaged_image_data_is_422_corrupt_image(damage: object, mode: str) -> None:
    assert callable(damage)
    data = damage(imagegen.encode(picture(mode), "PNG"))

    with pytest.raises(UnprocessableImage) as caught:
        renditions.render(data, Size(256, 256), PNG)

    assert caught.value.code == "corrupt_image"


def big_png() -> bytes:
    """A 4000x4000 RGBA PNG (64 MB decoded) that compresses well, so it is quick to make."""
    gradient = Image.radial_gradient("L").resize((4000, 4000))
    image = Image.merge("RGBA", (gradient, gradient.rotate(90), gradient.rotate(45), gradient))
    return imagegen.encode(image, "PNG", compress_level=1)


def render_big(data: bytes) -> bytes:
    return renditions.render(data, Size(256, 256), PNG).data


def test_a_large_png_never_exists_whole_in_memory() -> None:
    data = big_png()

    growth = peak_memory(render_big, data)

    # Decoded whole it would be 64 MB before any resampling (and was: 70 MB without pngrows).
    assert growth < 24 * MB, f"peak RSS grew by {growth / MB:.1f} MB"
