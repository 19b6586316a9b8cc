"""``python -m bench formats``: every generated original is what it claims, and the section
runs end to end on a tiny size (the timings themselves are never asserted)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bench import formats
from tests.support import imagegen

TINY = (96, 72)


def test_there_is_an_input_for_every_kind_the_issue_lists() -> None:
    names = [source.name for source in formats.inputs(TINY)]

    assert names == [
        "jpeg baseline 4:2:0",
        "jpeg progressive 4:2:0",
        "jpeg 4:4:4",
        "jpeg CMYK",
        "png palette",
        "png grey",
        "png RGB",
        "png RGBA",
        "png 16-bit RGB",
        "png interlaced",
        "webp lossy",
        "webp lossless",
        "webp alpha",
        "gif still",
        "gif animated",
    ]


@pytest.mark.parametrize("source", formats.inputs(TINY), ids=lambda source: source.name)
def test_each_input_is_the_format_and_mode_it_claims(source: formats.Input) -> None:
    assert formats.describe(source.data) == source.claims
    image = Image.open(io.BytesIO(source.data))
    assert Image.MIME[str(image.format)] == source.content_type
    assert image.size == TINY


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (imagegen.encode(Image.new("RGB", (16, 16)), "JPEG", subsampling=1), "4:2:2"),
        (imagegen.encode(Image.new("L", (16, 16)), "PNG"), "PNG grey 8-bit"),
        (imagegen.encode(Image.new("LA", (16, 16)), "PNG"), "PNG grey+alpha 8-bit"),
        (imagegen.encode(Image.new("RGBA", (16, 16)), "WEBP", lossless=True), "WebP lossless"),
        (b"BM not an accepted format", "unknown"),
    ],
    ids=["jpeg 4:2:2", "png grey", "png grey+alpha", "webp lossless", "bmp"],
)
def test_describe_tells_the_variants_apart(data: bytes, expected: str) -> None:
    assert expected in formats.describe(data)


def test_the_section_runs_on_a_tiny_size_and_reports_every_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    worst = formats.run(size=TINY, targets=(32,))

    printed = capsys.readouterr().out
    for source in formats.inputs(TINY):
        assert f"{source.name} (" in printed
    assert set(worst.speed) == {"jpeg", "png", "webp", "gif"}
    assert all(value > 0 for value in worst.speed.values())
    assert worst.memory >= 0
    assert worst.psnr_gap < 10  # every output is the picture, not noise
