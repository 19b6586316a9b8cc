"""Each function's peak memory while decoding stays within the engine's budget, measured in a
fresh process (bench.common.peak_memory) on the costliest inputs the limits let through.

The budget is :data:`imgsvc.imaging.limits.DECODE_BYTES_PER_PIXEL` bytes per allowed pixel. The
inputs are made at a 4 MP limit so they are quick to make and decode; memory grows with the
pixels, so the same inputs at the default 50 MP take 12.5 times as much, and
:func:`test_the_budget_at_the_default_limit_fits_every_function_with_room` checks that fits the
functions' memory settings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bench.common import MB, peak_memory
from PIL import Image

from imgsvc import effects, imaging, renditions
from imgsvc.config import DEFAULT_MAX_PIXELS
from imgsvc.imaging import limits
from imgsvc.renditions import OutputFormat, Size
from tests.support import costly, imagegen

MAX_PIXELS = 4_000_000
BUDGET = limits.DECODE_BYTES_PER_PIXEL * MAX_PIXELS
SIDE = 2000  # SIDE x SIDE is MAX_PIXELS
ROOT = Path(__file__).resolve().parents[2]


def gradient_picture(mode: str) -> Image.Image:
    """A SIDE x SIDE picture that compresses well (quick to make), in ``mode``."""
    grey = Image.radial_gradient("L").resize((SIDE, SIDE))
    rgba = Image.merge("RGBA", (grey, grey.rotate(90), grey.rotate(45), grey.rotate(180)))
    return rgba.convert(mode) if mode != "RGBA" else rgba


def sixteen_bit_rgba_png() -> bytes:
    """A 16-bit RGBA PNG (Pillow has no 16-bit RGBA mode, so the rows are written here)."""
    import struct
    import zlib

    row = b"\0" + bytes(range(256)) * (SIDE * 8 // 256) + bytes(SIDE * 8 % 256)
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 16, 6, 0, 0, 0)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    pixels = zlib.compress(row * SIDE, 6)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def worst_case(name: str) -> bytes:
    """The costliest input of each kind that the limits at MAX_PIXELS let through."""
    if name == "rgba-png":
        return imagegen.encode(gradient_picture("RGBA"), "PNG", compress_level=1)
    if name == "16-bit-rgba-png":
        return sixteen_bit_rgba_png()
    if name == "palette-png":
        picture = gradient_picture("RGB").quantize(200)
        return imagegen.encode(picture, "PNG", transparency=0, compress_level=1)
    if name == "16-bit-grey-png":
        grey = gradient_picture("L").convert("I").point(lambda v: v * 257).convert("I;16")
        return imagegen.encode(grey, "PNG", compress_level=1)
    if name == "progressive-jpeg":
        return imagegen.encode(gradient_picture("RGB"), "JPEG", progressive=True, subsampling=2)
    if name == "animated-gif":
        # The largest canvas the memory bound lets an animation have (4 RGBA canvases of 1400 x
        # 1400 are 31.4 MB of the 32), with the most frames the pixel bound allows (8 x 1.96 MP
        # of 4 x 4 MP).
        return costly.gif_of_frames(8, (1400, 1400))
    if name == "animated-webp":
        frames = [Image.new("RGB", (1400, 1400), (i * 30, 90, 200 - i * 20)) for i in range(8)]
        return imagegen.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    raise ValueError(name)


CASES = [
    "rgba-png",
    "16-bit-rgba-png",
    "palette-png",
    "16-bit-grey-png",
    "progressive-jpeg",
    "animated-gif",
    "animated-webp",
]


def decode(entry: str, data: bytes) -> object:
    if entry == "inspect":  # the api and uploads functions
        return imaging.inspect(data, max_pixels=MAX_PIXELS)
    if entry == "render":  # the resize function: the largest default side, 1024
        size = Size(1024, 1024)
        return renditions.render(
            data, size, OutputFormat("webp", "image/webp"), max_pixels=MAX_PIXELS
        )
    return effects.make_gif(data, "zoom", box=400, frames=4, frame_ms=80, max_pixels=MAX_PIXELS)


def warm_codecs() -> None:
    """Load every codec once, so the measurement is the decoding, not the libraries."""
    for name in ("rgba-png", "progressive-jpeg"):
        small = imagegen.encode(Image.new("RGB", (8, 8)), "PNG" if "png" in name else "JPEG")
        for entry in ("inspect", "render", "effect"):
            decode(entry, small)
    for fmt in ("GIF", "WEBP"):
        tiny = imagegen.encode(Image.new("RGB", (8, 8)), fmt)
        imaging.inspect(tiny, max_pixels=MAX_PIXELS)
        renditions.render(tiny, Size(8, 8), OutputFormat("webp", "image/webp"))


def encode_webp(pixels: bytes) -> bytes:
    """What the largest rendition costs past decoding: its pixels and libwebp's encoder."""
    from imgsvc.renditions import encoding

    image = Image.frombytes("RGBA", (2048, 2048), pixels)
    return encoding.encode(image, "image/webp")


def effect_of_a_small_picture(data: bytes) -> object:
    """What an effect costs past decoding: its frames, their palette and the GIF."""
    return effects.make_gif(data, "zoom", box=400, frames=4, frame_ms=80)


@pytest.fixture(scope="module")
def inputs() -> dict[str, bytes]:
    return {name: worst_case(name) for name in CASES}


@pytest.fixture(scope="module")
def allowances() -> dict[str, int]:
    """Peak memory past decoding, whatever the input: encoding the largest default rendition
    (2048 px, WebP with alpha), and an effect's frames at the default box."""
    pixels = Image.radial_gradient("L").resize((2048, 2048)).convert("RGBA").tobytes()
    small = imagegen.encode(imagegen.photo(520, 390), "PNG")
    return {
        "inspect": 0,
        "render": peak_memory(encode_webp, pixels, warmup=warm_codecs),
        "effect": peak_memory(effect_of_a_small_picture, small, warmup=warm_codecs),
    }


@pytest.mark.parametrize("entry", ["inspect", "render", "effect"])
@pytest.mark.parametrize("name", CASES)
def test_decoding_the_costliest_accepted_input_stays_within_the_budget(
    inputs: dict[str, bytes], allowances: dict[str, int], name: str, entry: str
) -> None:
    data = inputs[name]
    decode(entry, data)  # accepted: the limits let it through
    allowed = BUDGET + allowances[entry]

    growth = peak_memory(decode, entry, data, warmup=warm_codecs)

    assert growth <= allowed, f"{name} via {entry}: {growth / MB:.1f} MB of {allowed / MB:.1f}"


def memory_settings() -> dict[str, int]:
    """Each function's default memory (MB) from environments/stack/variables.tf."""
    text = (ROOT / "environments" / "stack" / "variables.tf").read_text()
    block = text[text.index('variable "functions"') :]
    found = re.findall(
        r"(\w+) = optional\(object\(\{\s*memory_size\s*= optional\(number, (\d+)\)", block
    )
    return {name: int(mb) for name, mb in found}


def test_the_budget_at_the_default_limit_fits_every_function_with_room(
    allowances: dict[str, int],
) -> None:
    settings = memory_settings()
    assert set(settings) >= {"api", "uploads", "resize", "effects"}, settings
    # What the function holds before decoding: the interpreter, Pillow, boto3 and the request
    # (the api function's body of at most 4.5 MB, twice as base64; a direct upload of 25 MiB).
    runtime = 150 * MB
    budget = limits.DECODE_BYTES_PER_PIXEL * DEFAULT_MAX_PIXELS
    needs = {
        "api": runtime + budget,
        "uploads": runtime + budget + 25 * MB,
        "resize": runtime + budget + allowances["render"],
        "effects": runtime + budget + allowances["effect"],
    }
    for function, need in needs.items():
        # A quarter of the memory left over, for what the measurement does not see.
        assert need <= 0.75 * settings[function] * MB, (function, need / MB, settings[function])
