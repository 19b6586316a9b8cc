"""Every kind of original the API accepts, resized by us, by libvips and naively: same run.

``bench resize`` measures large baseline JPEGs and one RGBA PNG. This section generates one
original of every kind the API accepts, from the same photo-like picture (``SIZE``, 3 MP), and
checks that each really is what its name says (:func:`describe` reads the bytes, not the
generator's intent):

- JPEG: baseline 4:2:0, progressive 4:2:0, baseline 4:4:4, CMYK (Adobe, as Photoshop writes);
- PNG: palette, grey, RGB, RGBA, 16-bit RGB and interlaced (Adam7) RGB; libvips writes the last
  two, which Pillow cannot;
- WebP: lossy, lossless, lossy with alpha;
- GIF: a still and an animation (a rendition is a still of its first frame).

Each goes to a 256 and a 1024 box as WebP, what browsers get: both sides then call the same
encoder (libwebp, same quality and method), so the ratios compare what differs by input, the
decoding and the resampling. Pipelines, as in ``bench resize``: ours (``renditions.render``,
the entry point the resize handler's use case calls), naive Pillow (full decode, LANCZOS) and
libvips' ``thumbnail_buffer`` at concurrency 1 (``vips1``).

Printed per case: median wall ms and ours/vips1, least CPU ours/vips1 (the round other jobs
disturbed least), peak RSS growth of one call in a fresh process against naive's (and that of
libwebp alone encoding the rendition's pixels: the floor of any pipeline that encodes them so),
and PSNR of the decoded outputs against naive's un-encoded LANCZOS pixels. For WebP inputs,
``no webpscale`` is ours with :mod:`imgsvc.webpscale` switched off (Pillow decodes the whole
picture) against the same libvips rounds: what libwebp's scaling while decoding gains.

Targets (issue 15): ours/vips1 <= 1.0 for JPEG and WebP, <= 1.5 for PNG and GIF; memory <= 1/4
of naive; PSNR within 2 dB of naive. ``IMGSVC_BENCH_FORMATS_REPEAT`` sets the rounds of ours and
libvips (default 5; naive gets half as many, at least 3): 30 cases make this section as long
as ``bench resize`` with fewer rounds per case.
"""

from __future__ import annotations

import io
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import PIL
from PIL import Image, JpegImagePlugin
from tests.support import imagegen

from bench.common import MB, peak_memory, print_table, ratio
from bench.resize import _interleaved, _pyvips, camera_like, encoder_only, psnr
from imgsvc import renditions, webpscale
from imgsvc.renditions import OutputFormat, Size

REPEAT = int(os.environ.get("IMGSVC_BENCH_FORMATS_REPEAT", "5"))
NAIVE_REPEAT = max(3, REPEAT // 2)
TARGETS = (256, 1024)
SIZE = (2000, 1500)
GIF_FRAMES = 4
# Targets of ours/vips1 per kind of input (issue 15), and of memory and quality for all.
SPEED_TARGET = {"jpeg": 1.0, "png": 1.5, "webp": 1.0, "gif": 1.5}
MEMORY_TARGET = 0.25
PSNR_TARGET = 2.0
OUTPUT = OutputFormat("webp", "image/webp")


@dataclass(frozen=True)
class Input:
    name: str  # "<kind> <variant>", kind one of SPEED_TARGET's keys
    content_type: str
    data: bytes
    claims: str  # what describe(data) must say

    @property
    def kind(self) -> str:
        return self.name.split(" ", 1)[0]


# --- what the bytes are ---------------------------------------------------------------------


def _png_header(data: bytes) -> str:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return "not a PNG"
    depth, colour, _compression, _filter, interlace = struct.unpack(">BBBBB", data[24:29])
    kinds = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}
    return f"PNG {kinds.get(colour, '?')} {depth}-bit" + (" Adam7" if interlace else "")


def _jpeg(data: bytes) -> str:
    image = Image.open(io.BytesIO(data))
    if not isinstance(image, JpegImagePlugin.JpegImageFile):
        return "not a JPEG"
    scan = "progressive" if image.info.get("progressive") else "baseline"
    if image.mode == "CMYK":
        return f"JPEG {scan} CMYK" + (" Adobe" if "adobe" in image.info else "")
    sampling = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(JpegImagePlugin.get_sampling(image), "?")
    return f"JPEG {scan} {image.mode} {sampling}"


def _webp(data: bytes) -> str:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return "not a WebP"
    chunk = data[12:16]
    if chunk == b"VP8 ":
        return "WebP lossy"
    if chunk == b"VP8L":
        return "WebP lossless" + (" alpha" if data[24] & 0x10 else "")  # alpha_is_used bit
    if chunk == b"VP8X":
        flags = data[20]
        inner = "lossless" if b"VP8L" in data[30:64] else "lossy"
        return (
            f"WebP {inner}"
            + (" alpha" if flags & 0x10 else "")
            + (" animated" if flags & 0x02 else "")
        )
    return "WebP ?"


def describe(data: bytes) -> str:
    """What the bytes are, read from their own headers (for the test that checks the inputs)."""
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data)
    if data[:4] == b"\x89PNG":
        return _png_header(data)
    if data[:4] == b"RIFF":
        return _webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        frames = getattr(Image.open(io.BytesIO(data)), "n_frames", 1)
        return "GIF still" if frames == 1 else f"GIF {frames} frames"
    return "unknown"


# --- the inputs ---------------------------------------------------------------------------------


def _vips_png(image: Image.Image, *, sixteen: bool = False, interlace: bool = False) -> bytes:
    """PNG bytes written by libvips: 16 bits a sample or Adam7, which Pillow does not write."""
    pyvips = _pyvips()
    bands = len(image.getbands())
    picture = pyvips.Image.new_from_memory(image.tobytes(), *image.size, bands, "uchar")
    options: dict[str, Any] = {"interlace": interlace, "compression": 6}
    if sixteen:  # v * 257 maps 0..255 onto 0..65535 exactly
        picture = (picture.cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16")
        options["bitdepth"] = 16
    return bytes(picture.write_to_buffer(".png", **options))


def _animation(size: tuple[int, int]) -> bytes:
    frames = [camera_like(*size, seed=seed).quantize(256) for seed in range(11, 11 + GIF_FRAMES)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


@cache
def inputs(size: tuple[int, int] = SIZE) -> tuple[Input, ...]:
    """Every kind of original, generated once per run (``size`` smaller in the tests)."""
    photo = camera_like(*size, seed=5)
    rgba = imagegen.photo_in("RGBA", *size, seed=6)
    jpeg, png, webp, gif = "image/jpeg", "image/png", "image/webp", "image/gif"
    encode = imagegen.encode
    return (
        Input(
            "jpeg baseline 4:2:0",
            jpeg,
            encode(photo, "JPEG", quality=90),
            "JPEG baseline RGB 4:2:0",
        ),
        Input(
            "jpeg progressive 4:2:0",
            jpeg,
            encode(photo, "JPEG", quality=90, progressive=True),
            "JPEG progressive RGB 4:2:0",
        ),
        Input(
            "jpeg 4:4:4",
            jpeg,
            encode(photo, "JPEG", quality=90, subsampling=0),
            "JPEG baseline RGB 4:4:4",
        ),
        Input(
            "jpeg CMYK",
            jpeg,
            encode(photo.convert("CMYK"), "JPEG", quality=90),
            "JPEG baseline CMYK Adobe",
        ),
        Input("png palette", png, encode(photo.quantize(256), "PNG"), "PNG palette 8-bit"),
        Input("png grey", png, encode(photo.convert("L"), "PNG"), "PNG grey 8-bit"),
        Input("png RGB", png, encode(photo, "PNG"), "PNG RGB 8-bit"),
        Input("png RGBA", png, encode(rgba, "PNG"), "PNG RGBA 8-bit"),
        Input("png 16-bit RGB", png, _vips_png(photo, sixteen=True), "PNG RGB 16-bit"),
        Input("png interlaced", png, _vips_png(photo, interlace=True), "PNG RGB 8-bit Adam7"),
        Input("webp lossy", webp, encode(photo, "WEBP", quality=80), "WebP lossy"),
        Input("webp lossless", webp, encode(photo, "WEBP", lossless=True), "WebP lossless"),
        Input("webp alpha", webp, encode(rgba, "WEBP", quality=80), "WebP lossy alpha"),
        Input("gif still", gif, encode(photo.quantize(256), "GIF"), "GIF still"),
        Input("gif animated", gif, _animation(size), f"GIF {GIF_FRAMES} frames"),
    )


# --- the pipelines (module level: the memory children import them by name) -------------------


def ours(data: bytes, target: int) -> bytes:
    return renditions.render(data, Size(target, target), OUTPUT).data


def ours_pillow_webp(data: bytes, target: int) -> bytes:
    """Ours with :mod:`imgsvc.webpscale` switched off: a WebP decoded whole by Pillow, as
    before it and wherever it falls back (for WebP inputs: what the scaled decode gains)."""
    library = webpscale._library
    webpscale._library = _no_library  # type: ignore[assignment]
    try:
        return ours(data, target)
    finally:
        webpscale._library = library  # type: ignore[method-assign]


def _no_library() -> None:
    return None


def naive_pixels(data: bytes, target: int) -> Image.Image:
    """Full decode of the first frame, 8-bit RGB(A) or grey, one LANCZOS resize to our size."""
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image.resize(Size(target, target).output_size(*image.size), Image.Resampling.LANCZOS)


def naive(data: bytes, target: int) -> bytes:
    out = io.BytesIO()
    naive_pixels(data, target).save(
        out, "WEBP", quality=renditions.WEBP_QUALITY, method=renditions.WEBP_METHOD
    )
    return out.getvalue()


def vips(data: bytes, target: int) -> bytes:
    image = _pyvips().Image.thumbnail_buffer(data, target, height=target, size="down")
    return bytes(
        image.write_to_buffer(
            ".webp", Q=renditions.WEBP_QUALITY, effort=renditions.WEBP_METHOD, keep="none"
        )
    )


def warm_up() -> None:
    """Load every decoder and the encoder once with tiny images (outside the measurements)."""
    for source in inputs((48, 36)):
        for pipeline in (ours, naive, vips):
            pipeline(source.data, 16)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Worst:
    """The worst ratio of each target over the cases measured."""

    speed: dict[str, float]
    least_cpu: dict[str, float]
    memory: float = 0.0  # ours/naive
    psnr_gap: float = -math.inf


def measure(source: Input, target: int, repeat: int, worst: Worst) -> list[object]:
    """One case: its row of the table, and its ratios folded into ``worst``."""

    def bind(fn: Callable[[bytes, int], bytes]) -> Callable[[], bytes]:
        return lambda: fn(source.data, target)

    pipelines = {
        "ours": (bind(ours), repeat),
        "vips1": (bind(vips), repeat),
        "naive": (bind(naive), max(1, min(repeat, NAIVE_REPEAT))),
    }
    if source.kind == "webp":
        pipelines["pillow"] = (bind(ours_pillow_webp), repeat)
    times, _cpu, least = _interleaved(pipelines, _pyvips().concurrency_get())
    memory = {
        name: peak_memory(fn, source.data, target, warmup=warm_up)
        for name, fn in (("ours", ours), ("naive", naive))
    }
    memory["vips1"] = peak_memory(
        vips, source.data, target, warmup=warm_up, env={"VIPS_CONCURRENCY": "1"}
    )
    reference = naive_pixels(source.data, target)
    # libwebp alone on the rendition's pixels: the least any pipeline that encodes them can peak at.
    pixels = (reference.tobytes(), reference.mode, reference.size, OUTPUT.content_type)
    memory["encoder"] = peak_memory(encoder_only, *pixels, warmup=warm_up)
    quality = {
        name: psnr(fn(source.data, target), reference)
        for name, fn in (("ours", ours), ("naive", naive), ("vips", vips))
    }
    speed, cpu = times["ours"] / times["vips1"], least["ours"] / least["vips1"]
    worst.speed[source.kind] = max(worst.speed.get(source.kind, 0.0), speed)
    worst.least_cpu[source.kind] = max(worst.least_cpu.get(source.kind, 0.0), cpu)
    if memory["naive"] > 0:  # tiny inputs (the test) may not grow the RSS by a page
        worst.memory = max(worst.memory, memory["ours"] / memory["naive"])
    if not math.isinf(quality["naive"]):
        worst.psnr_gap = max(worst.psnr_gap, quality["naive"] - quality["ours"])
    mark = "" if speed <= SPEED_TARGET[source.kind] else " *"
    return [
        f"{source.name} ({len(source.data) // 1024} KiB) -> {target}",
        times["ours"],
        times["vips1"],
        times["naive"],
        ratio(times["ours"], times["vips1"]) + mark,
        ratio(least["ours"], least["vips1"]),
        ratio(times["pillow"], times["vips1"]) if "pillow" in times else "",
        memory["ours"] / MB,
        memory["naive"] / MB,
        memory["vips1"] / MB,
        ratio(memory["ours"], memory["naive"]),
        ratio(memory["encoder"], memory["naive"]),
        quality["ours"],
        quality["vips"],
        quality["naive"],
    ]


def run(size: tuple[int, int] = SIZE, targets: tuple[int, ...] = TARGETS) -> Worst:
    """Measure every input at every target; print the table and the worst cases."""
    pyvips = _pyvips()
    version = ".".join(str(pyvips.version(i)) for i in (0, 1, 2))
    print(
        f"Pillow {PIL.__version__}, libvips {version}; {len(inputs(size))} inputs of "
        f"{size[0]}x{size[1]} to WebP; {REPEAT} rounds (naive: {NAIVE_REPEAT}); "
        f"{os.cpu_count()} CPUs\n"
    )
    for source in inputs(size):  # a generator that drifted must fail, not measure the wrong thing
        if describe(source.data) != source.claims:
            raise RuntimeError(f"{source.name} is {describe(source.data)}, not {source.claims}")
    worst = Worst({}, {})
    rows = [measure(source, target, REPEAT, worst) for source in inputs(size) for target in targets]
    print(
        "Median wall ms per image (* over its target); least CPU ours/vips1; no webpscale: ours"
        " with WebP decoded whole by Pillow, wall /vips1; peak RSS growth of"
        " one call in a fresh process, MB (encoder: libwebp alone encoding the rendition's pixels,"
        " the floor of any pipeline); PSNR of each WebP against naive's LANCZOS pixels, dB"
    )
    print_table(
        [
            "case",
            "ours",
            "vips1",
            "naive",
            "ours/vips1",
            "least cpu",
            "no webpscale",
            "ours MB",
            "naive MB",
            "vips1 MB",
            "ours/naive",
            "encoder/naive",
            "PSNR ours",
            "vips",
            "naive",
        ],
        rows,
    )
    kinds = "; ".join(
        f"{kind.upper()} {worst.speed[kind]:.2f}x wall, {worst.least_cpu[kind]:.2f}x least CPU"
        f" (target <= {goal})"
        for kind, goal in SPEED_TARGET.items()
        if kind in worst.speed
    )
    print(
        f"\nWorst cases, ours/vips1: {kinds}.\nPeak memory ours/naive up to {worst.memory:.2f}x"
        f" (target <= {MEMORY_TARGET}). PSNR below naive up to {worst.psnr_gap:.2f} dB"
        f" (target <= {PSNR_TARGET})."
    )
    return worst
