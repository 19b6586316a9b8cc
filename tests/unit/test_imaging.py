"""imaging.inspect on real image bytes: accepted formats, and every kind of bad input."""

from __future__ import annotations

import hashlib

import pytest

from imgsvc import imaging
from imgsvc.errors import BadRequest, UnprocessableImage, UnsupportedMediaType
from tests.support import imagegen

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
