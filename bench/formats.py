"""Every input the API accepts, resized by us, by libvips and naively, in the same run.

``bench resize`` measures large photos; this section covers every kind of original the service
takes, each generated here at 2000x1500 (3 MP) from the same photo-like picture:

- JPEG: baseline 4:2:0, progressive 4:2:0, baseline 4:4:4, CMYK (Adobe, as Photoshop writes);
- PNG: palette, grey, RGB, RGBA, 16-bit RGBA and interlaced (Adam7) RGB (the last two written by
  libvips: Pillow writes neither);
- WebP: lossy, lossless and lossy with alpha;
- GIF: a still and an 8-frame animation (renditions are a still of the first frame).

Each goes to a 256 and a 1024 box in its own format (GIF as GIF), through the pipelines of
``bench resize``: ours (``imgsvc.renditions.render``), naive Pillow (full decode, LANCZOS) and
libvips' ``thumbnail_buffer`` at concurrency 1 (``vips1``). Printed per case: median wall ms
and ours/vips1, least CPU ours/vips1 (the round other jobs disturbed least), peak RSS growth of
one call in a fresh process against naive's, and PSNR against naive's un-encoded LANCZOS pixels.

Targets (issue 15): ours/vips1 <= 1.0 for JPEG and WebP, <= 1.5 for PNG and GIF; memory <= 1/4
of naive; PSNR within 2 dB of naive. The encoders differ for GIF (Pillow's median cut against
libvips' libimagequant), so its PSNR and sizes compare palettes as much as resizers.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from PIL import Image
from tests.support import imagegen

from bench.common import MB, peak_memory, print_table, ratio
from bench.resize import _interleaved, _pyvips, camera_like, psnr
from imgsvc import renditions
from imgsvc.renditions import OutputFormat, Size

REPEAT = int(os.environ.get("IMGSVC_BENCH_REPEAT", "7"))
TARGETS = (256, 1024)
SIZE = (2000, 1500)
KIND_TARGET = {"jpeg": 1.0, "webp": 1.0, "png": 1.5, "gif": 1.5}


@cache
def picture() -> Image.Image:
    return camera_like(*SIZE, seed=5)


def _rgba() -> Image.Image:
    return imagegen.photo_in("RGBA", *SIZE, seed=5)


def _vips_png(image: Image.Image, **options: Any) -> bytes:
    """PNG bytes written by libvips (16-bit, interlaced: what Pillow does not write)."""
    pyvips = _pyvips()
    bands = len(image.getbands())
    vips_image = pyvips.Image.new_from_memory(image.tobytes(), *image.size, bands, "uchar")
    if options.pop("sixteen", False):
        vips_image = (vips_image.cast("ushort") * 257).cast("ushort")
        vips_image = vips_image.copy(interpretation="rgb16")
        options["bitdepth"] = 16
    return bytes(vips_image.write_to_buffer(".png", **options))


@cache
def inputs() -> tuple[tuple[str, str, bytes], ...]:
    """``(name, content type, bytes)`` of every kind of original."""
    photo = picture()
    frames = [camera_like(*SIZE, seed=seed).quantize(256) for seed in range(5, 13)]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:], duration=100)
    made = [
        ("jpeg baseline 4:2:0", "image/jpeg", imagegen.encode(photo, "JPEG", quality=90)),
        (
            "jpeg progressive",
            "image/jpeg",
            imagegen.encode(photo, "JPEG", quality=90, progressive=True),
        ),
        ("jpeg 4:4:4", "image/jpeg", imagegen.encode(photo, "JPEG", quality=90, subsampling=0)),
        ("jpeg CMYK", "image/jpeg", imagegen.encode(photo.convert("CMYK"), "JPEG", quality=90)),
        ("png palette", "image/png", imagegen.encode(photo.quantize(256), "PNG")),
        ("png grey", "image/png", imagegen.encode(photo.convert("L"), "PNG")),
        ("png RGB", "image/png", imagegen.encode(photo, "PNG")),
        ("png RGBA", "image/png", imagegen.encode(_rgba(), "PNG")),
        ("png 16-bit RGBA", "image/png", _vips_png(_rgba(), sixteen=True)),
        ("png interlaced", "image/png", _vips_png(photo, interlace=True)),
        ("webp lossy", "image/webp", imagegen.encode(photo, "WEBP", quality=85)),
        ("webp lossless", "image/webp", imagegen.encode(photo, "WEBP", lossless=True)),
        ("webp alpha", "image/webp", imagegen.encode(_rgba(), "WEBP", quality=85)),
        ("gif still", "image/gif", imagegen.encode(photo.quantize(256), "GIF")),
        ("gif animated", "image/gif", animated.getvalue()),
    ]
    return tuple(made)


# --- the pipelines (module level: the memory children import them by name) -------------------


def ours(data: bytes, target: int, content_type: str) -> bytes:
    key = "webp" if content_type == "image/webp" else "original"
    return renditions.render(data, Size(target, target), OutputFormat(key, content_type)).data


def naive_pixels(data: bytes, target: int) -> Image.Image:
    """Full decode of the first frame in 8-bit RGB(A), one LANCZOS resize to our size."""
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    size = Size(target, target).output_size(*image.size)
    return image.resize(size, Image.Resampling.LANCZOS)


def _save(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        image.convert("RGB").save(out, "JPEG", quality=renditions.JPEG_QUALITY, optimize=True)
    elif content_type == "image/webp":
        image.save(out, "WEBP", quality=renditions.WEBP_QUALITY, method=renditions.WEBP_METHOD)
    elif content_type == "image/gif":
        image.convert("RGB").quantize(256).save(out, "GIF")
    else:
        image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def naive(data: bytes, target: int, content_type: str) -> bytes:
    return _save(naive_pixels(data, target), content_type)


def vips(data: bytes, target: int, content_type: str) -> bytes:
    image = _pyvips().Image.thumbnail_buffer(data, target, height=target, size="down")
    suffix, options = {
        "image/jpeg": (".jpg", {"Q": renditions.JPEG_QUALITY, "optimize_coding": True}),
        "image/webp": (".webp", {"Q": renditions.WEBP_QUALITY, "effort": renditions.WEBP_METHOD}),
        "image/gif": (".gif", {}),
        "image/png": (".png", {"compression": 1, "filter": "up"}),
    }[content_type]
    return bytes(image.write_to_buffer(suffix, keep="none", **options))


def warm_up() -> None:
    """Load every codec once with a tiny image (outside the memory measurement)."""
    tiny = Image.new("RGB", (32, 24), (200, 100, 50))
    for fmt, content_type in (
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
    ):
        data = imagegen.encode(tiny, fmt)
        for pipeline in (ours, naive, vips):
            pipeline(data, 16, content_type)


# --- the run ------------------------------------------------------------------------------------


def run() -> None:
    threads = _pyvips().concurrency_get()
    print(f"{len(inputs())} inputs of {SIZE[0]}x{SIZE[1]}, {REPEAT} rounds\n")
    rows: list[list[object]] = []
    worst: dict[str, float] = {}
    for name, content_type, data in inputs():
        kind = name.split()[0]
        for target in TARGETS:

            def bind(fn: Callable[[bytes, int, str], bytes]) -> Callable[[], bytes]:
                return lambda: fn(data, target, content_type)  # noqa: B023 - used at once

            times, _cpu, least = _interleaved(
                {
                    "ours": (bind(ours), REPEAT),
                    "naive": (bind(naive), REPEAT),
                    "vips1": (bind(vips), REPEAT),
                },
                threads,
            )
            args = (data, target, content_type)
            memory = {
                "ours": peak_memory(ours, *args, warmup=warm_up),
                "naive": peak_memory(naive, *args, warmup=warm_up),
            }
            reference = naive_pixels(data, target)
            quality = {"ours": psnr(ours(*args), reference), "naive": psnr(naive(*args), reference)}
            wall = times["ours"] / times["vips1"]
            cpu = least["ours"] / least["vips1"]
            measured = [
                (f"{kind} wall", wall),
                (f"{kind} cpu", cpu),
                ("memory", memory["ours"] / memory["naive"]),
            ]
            if not math.isinf(quality["naive"]):  # a lossless naive output is the reference
                measured.append(("psnr", quality["naive"] - quality["ours"]))
            for key, value in measured:
                worst[key] = max(worst.get(key, -math.inf), value)
            rows.append(
                [
                    f"{name} ({len(data) // 1024} KiB) -> {target}",
                    times["ours"],
                    times["vips1"],
                    times["naive"],
                    ratio(times["ours"], times["vips1"]),
                    ratio(least["ours"], least["vips1"]),
                    memory["ours"] / MB,
                    memory["naive"] / MB,
                    ratio(memory["ours"], memory["naive"]),
                    quality["ours"],
                    quality["naive"],
                ]
            )
    print(
        "Median wall ms per image; least-CPU ratio; peak RSS growth of one call in a fresh"
        " process, MB; PSNR against naive's LANCZOS pixels, dB"
    )
    print_table(
        [
            "case",
            "ours",
            "vips1",
            "naive",
            "ours/vips1",
            "least cpu",
            "ours MB",
            "naive MB",
            "ours/naive",
            "PSNR ours",
            "naive",
        ],
        rows,
    )
    kinds = ", ".join(
        f"{kind.upper()} {worst[f'{kind} wall']:.2f}x wall, {worst[f'{kind} cpu']:.2f}x least CPU"
        f" (target <= {target})"
        for kind, target in KIND_TARGET.items()
        if f"{kind} wall" in worst
    )
    print(
        f"\nWorst cases, ours/vips1: {kinds}.\nPeak memory ours/naive up to"
        f" {worst['memory']:.2f}x (target <= 0.25). PSNR below naive's lossy outputs up to"
        f" {worst['psnr']:.2f} dB (target <= 2)."
    )
