"""PNG encoded in strips on several threads (imgsvc.pngsave), checked by independent decoders:
Pillow's PNG reader (chunk CRCs) and the standard library's zlib (the stream's Adler-32)."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from bench.common import MB, peak_memory
from PIL import Image, ImageDraw

from imgsvc import pngsave
from imgsvc.imaging import pngrows
from tests.support import imagegen
from tests.support.pngbytes import pixel_data, png_chunks

MODES = ["L", "LA", "RGB", "RGBA"]


def picture(mode: str, size: tuple[int, int]) -> Image.Image:
    return imagegen.photo_in(mode, *size, seed=9)


@pytest.fixture
def small_strips(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strips of a few rows, so that small test images are cut into many of them."""
    monkeypatch.setattr(pngsave, "STRIP_BYTES", 4096)


@pytest.mark.usefixtures("small_strips")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (301, 97), (2000, 5)])
def test_pixels_round_trip_exactly(mode: str, size: tuple[int, int]) -> None:
    image = picture(mode, size)
    data = pngsave.encode(image, workers=3)
    back = imagegen.decoded(data)
    assert (back.format, back.mode, back.size) == ("PNG", mode, size)
    assert back.tobytes() == image.tobytes()


@pytest.mark.usefixtures("small_strips")
@pytest.mark.parametrize("mode", MODES)
def test_stream_is_one_zlib_stream_with_a_valid_checksum(mode: str) -> None:
    image = picture(mode, (211, 157))  # 4096-byte strips: dozens of them
    data = pngsave.encode(image, workers=2)
    raw = pixel_data(data)  # the standard library's zlib checks the Adler-32 at the end
    row = len(mode) * image.width + 1
    assert len(raw) == row * image.height
    assert {raw[offset] for offset in range(0, len(raw), row)} == {2}  # every row filtered Up


@pytest.mark.usefixtures("small_strips")
def test_threads_do_not_change_the_bytes() -> None:
    image = picture("RGBA", (333, 120))
    assert pngsave.encode(image, workers=1) == pngsave.encode(image, workers=4)


def test_only_the_chunks_a_rendition_needs() -> None:
    image = picture("RGBA", (64, 48))
    image.info = {"dpi": (300, 300), "exif": b"Exif\x00\x00", "comment": "hello"}
    data = pngsave.encode(image)
    assert [kind for kind, _ in png_chunks(data)] == [b"IHDR", b"IDAT", b"IEND"]
    assert [kind for kind, _ in pngrows.chunks(data)] == [b"IHDR", b"IDAT"]  # CRCs are valid


@pytest.mark.parametrize("mode", ["P", "1", "I;16"])
def test_other_modes_are_saved_by_pillow(mode: str) -> None:
    image = picture("RGB", (50, 30)).convert("L").convert(mode)
    back = imagegen.decoded(pngsave.encode(image))
    assert back.size == image.size
    assert back.convert("L").tobytes() == image.convert("L").tobytes()


def test_files_are_no_larger_than_pillows_at_level_1() -> None:
    """zlib-ng's level 1 would make them half as large again (static Huffman codes)."""
    for image in (picture("RGBA", (1024, 768)), imagegen.graphic(1024, 768)):
        pillow = io.BytesIO()
        image.save(pillow, "PNG", compress_level=1)
        assert len(pngsave.encode(image)) <= len(pillow.getvalue()) * 1.02


@pytest.mark.parametrize("split", [0, 1, 5, 65520, 65521, 65522, 200_000, 300_000])
def test_adler32_combine_matches_zlib(split: int) -> None:
    data = random.Random(split).randbytes(300_000)
    first, second = data[:split], data[split:]
    combined = pngsave.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(data)


@pytest.mark.usefixtures("small_strips")
def test_an_image_not_yet_decoded_is_decoded_once_before_the_threads() -> None:
    data = imagegen.encode(picture("RGB", (303, 157)), "PNG")
    lazy = Image.open(io.BytesIO(data))  # as a rendition that needs no resampling passes it
    assert (
        imagegen.decoded(pngsave.encode(lazy, workers=4)).tobytes()
        == imagegen.decoded(data).tobytes()
    )


def gradient_rgba(side: int) -> Image.Image:
    """Made in place, so that making it needs no more memory than the image itself."""
    image = Image.new("RGBA", (side, side), (20, 40, 60, 255))
    draw = ImageDraw.Draw(image)
    for step in range(0, side, 16):
        draw.line((0, step, side, side - step), fill=(step % 256, 90, 200, step % 200), width=5)
    return image


def make_only(side: int) -> None:
    gradient_rgba(side)


def make_and_encode(side: int) -> None:
    pngsave.encode(gradient_rgba(side), workers=2)


def test_strips_not_the_image_are_copied() -> None:
    """A 2048x2048 RGBA image is 16 MB; encoding it holds a few strips and the output."""
    side = 2048
    baseline = peak_memory(make_only, side)
    growth = peak_memory(make_and_encode, side) - baseline
    assert growth < 4 * MB, f"encoding grew the peak by {growth / MB:.1f} MB"
