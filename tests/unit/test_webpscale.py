"""libwebp's scaled decode (imgsvc.webpscale) on real WebP bytes, against Pillow's decode, and
every way it steps aside so that Pillow decodes instead."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image, ImageChops, ImageStat

from imgsvc import webpscale
from tests.support import imagegen

needs_libwebp = pytest.mark.skipif(
    not webpscale.available(), reason="this Pillow does not bundle a libwebp we can bind"
)


def _webp(kind: str, size: tuple[int, int] = (400, 300)) -> bytes:
    mode = "RGBA" if kind == "alpha" else "RGB"
    params: dict[str, object] = {"lossless": True} if kind == "lossless" else {"quality": 80}
    return imagegen.encode(imagegen.photo_in(mode, *size, seed=7), "WEBP", **params)


def _psnr(image: Image.Image, reference: Image.Image) -> float:
    diff = ImageChops.difference(image, reference)
    mse = sum(ImageStat.Stat(diff).sum2) / (len(image.mode) * image.width * image.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


@needs_libwebp
@pytest.mark.parametrize(
    ("kind", "mode"), [("lossy", "RGB"), ("lossless", "RGB"), ("alpha", "RGBA")]
)
def test_a_scaled_decode_is_pillows_decode_made_smaller(kind: str, mode: str) -> None:
    data = _webp(kind)
    full = Image.open(io.BytesIO(data))
    full.load()

    scaled = webpscale.decode(data, (100, 75))

    assert scaled is not None
    assert (scaled.mode, scaled.size) == (mode, (100, 75))
    reference = full.resize((100, 75), Image.Resampling.LANCZOS)
    assert full.mode == mode
    # libwebp's scaler averages areas; a filter's result on the same pixels is within a few
    # grey levels: 30 dB is a mean error of about 8 levels, far above a wrong channel order
    # (BGR for RGB) or a mis-strided row, which land near 10 dB.
    assert _psnr(scaled, reference) > 30


@needs_libwebp
def test_the_alpha_plane_is_decoded_with_the_colours() -> None:
    image = Image.new("RGBA", (200, 100), (255, 0, 0, 255))
    image.paste((0, 0, 255, 0), (100, 0, 200, 100))  # right half: transparent
    data = imagegen.encode(image, "WEBP", lossless=True)

    scaled = webpscale.decode(data, (50, 25))

    assert scaled is not None
    assert scaled.getpixel((5, 12)) == (255, 0, 0, 255)
    assert scaled.getpixel((45, 12))[3] == 0  # type: ignore[index]


@needs_libwebp
def test_the_decode_covers_what_is_wanted_on_both_axes_in_proportion() -> None:
    data = _webp("lossy", (400, 300))

    scaled = webpscale.decode(data, (100, 10))

    assert scaled is not None
    assert scaled.size == (100, 75)


@pytest.mark.parametrize(
    ("stored", "wanted", "expected"),
    [
        ((400, 300), (100, 75), (100, 75)),
        ((400, 300), (101, 1), (101, 76)),
        ((400, 300), (400, 300), None),
        ((400, 300), (800, 10), None),
        ((400, 300), (399, 299), (399, 300)),
        ((5000, 1), (2, 1), None),
    ],
)
def test_scaled_size(
    stored: tuple[int, int], wanted: tuple[int, int], expected: tuple[int, int] | None
) -> None:
    size = webpscale.scaled_size(stored, wanted)

    assert size == expected


def test_nothing_to_scale_leaves_the_decode_to_pillow() -> None:
    assert webpscale.decode(_webp("lossy", (40, 30)), (40, 30)) is None


def test_an_animation_is_left_to_pillow() -> None:
    frames = [imagegen.photo_in("RGB", 120, 90, seed=seed) for seed in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)

    assert webpscale.decode(out.getvalue(), (30, 20)) is None


@pytest.mark.parametrize(
    "data",
    [b"", b"RIFF\x00\x00\x00\x00WEBPVP8 ", imagegen.truncated(_webp("lossy"), 0.5), b"\xff" * 64],
    ids=["empty", "header only", "truncated", "not webp"],
)
def test_bytes_libwebp_cannot_decode_are_left_to_pillow(data: bytes) -> None:
    assert webpscale.decode(data, (10, 10)) is None


def test_an_untested_pillow_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import PIL

    webpscale._library.cache_clear()
    monkeypatch.setattr(PIL, "__version__", "99.0.0")
    try:
        assert not webpscale.available()
        assert webpscale.decode(_webp("lossy"), (100, 75)) is None
    finally:
        webpscale._library.cache_clear()


def test_a_pillow_without_its_bundled_libwebp_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    webpscale._library.cache_clear()
    monkeypatch.setattr(webpscale, "_bundled_libwebp", lambda: None)
    try:
        assert webpscale.decode(_webp("lossy"), (100, 75)) is None
    finally:
        webpscale._library.cache_clear()


def test_a_libwebp_without_the_decoder_symbols_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    webpscale._library.cache_clear()
    monkeypatch.setattr(webpscale, "_SYMBOLS", ("WebPNoSuchFunction",))
    try:
        assert webpscale.decode(_webp("lossy"), (100, 75)) is None
    finally:
        webpscale._library.cache_clear()


@needs_libwebp
def test_a_decoder_abi_libwebp_refuses_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webpscale, "_DECODER_ABI", 0x0909)  # another major: another layout

    assert webpscale.decode(_webp("lossy"), (100, 75)) is None


@needs_libwebp
def test_draft_maps_the_region_onto_the_smaller_picture() -> None:
    data = _webp("lossy", (400, 300))

    drafted = webpscale.draft(data, (100, 75), (40.0, 30.0, 360.0, 270.0))

    assert drafted is not None
    image, box = drafted
    assert image.size == (100, 75)
    assert box == (10.0, 7.5, 90.0, 67.5)


def test_draft_leaves_what_it_cannot_scale_to_pillow() -> None:
    assert webpscale.draft(b"not a webp", (10, 10), (0.0, 0.0, 20.0, 20.0)) is None


@needs_libwebp
@pytest.mark.parametrize("kind", ["lossy", "lossless", "alpha"])
def test_a_webp_rendition_is_decoded_scaled_by_libwebp_and_matches_pillows(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imgsvc import renditions

    drafted: list[bool] = []
    draft = webpscale.draft

    def spy(
        data: bytes, wanted: tuple[int, int], box: webpscale.Box
    ) -> tuple[Image.Image, webpscale.Box] | None:
        result = draft(data, wanted, box)
        drafted.append(result is not None)
        return result

    monkeypatch.setattr(webpscale, "draft", spy)
    data = _webp(kind, (400, 300))
    fmt = renditions.OutputFormat("original", "image/webp")

    scaled = renditions.render(data, renditions.Size(100, 100), fmt)
    monkeypatch.setattr(webpscale, "_library", lambda: None)  # as on an untested Pillow
    whole = renditions.render(data, renditions.Size(100, 100), fmt)

    assert drafted == [True, False]
    assert (scaled.width, scaled.height) == (whole.width, whole.height) == (100, 75)
    first, second = (Image.open(io.BytesIO(r.data)) for r in (scaled, whole))
    assert first.mode == second.mode
    assert _psnr(first, second) > 30
