"""Resizer benchmark: our renditions vs naive Pillow vs libvips, same inputs, same run.

For each input (12 MP and 24 MP photo-like JPEGs, a 2000x1500 RGBA PNG), target (a 256 and a
1024 box) and output format, three pipelines turn the original's bytes into encoded rendition
bytes, with the same encoder settings:

- ours:  ``imgsvc.renditions.render`` (JPEG DCT-domain downscaling, PNG decoded band by band,
  banded bicubic resampling, ...);
- naive: full decode, ``resize(LANCZOS)`` straight to the output size, encode;
- vips:  ``pyvips.Image.thumbnail_buffer`` + ``write_to_buffer``, once limited to one thread
  (``concurrency_set(1)``, our Pillow path is single-threaded) and once with libvips' default
  (all cores). libvips' operation cache is off so every call does the work.

Printed: median wall ms per image (rounds interleave the pipelines so load on the machine hits
them alike), the ratios, peak RSS growth of one call in a fresh process (see bench/common.py for
why RSS), and PSNR of each output against the un-encoded naive LANCZOS pixels (naive's own
figure is then just its encoder's loss). A second table measures the encoder settings that
imgsvc.renditions.encoding uses against their alternatives.

Targets (issue): ours/vips <= 1.0 on JPEG, <= 1.5 on PNG; memory <= 1/4 of naive; PSNR within
2 dB of naive. ``IMGSVC_BENCH_REPEAT`` sets the rounds of naive (default 7); ours and libvips,
whose ratio has the tightest target, run three times as many rounds.
"""

from __future__ import annotations

import io
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import PIL
from PIL import Image, ImageChops, ImageStat
from tests.support import imagegen

from bench.common import MB, median_ms, peak_memory, print_table, ratio, record
from imgsvc import pngsave, renditions
from imgsvc.renditions import OutputFormat, Size

REPEAT = int(os.environ.get("IMGSVC_BENCH_REPEAT", "7"))
# Ours and libvips are within a few percent of each other on JPEG, where run-to-run noise on a
# shared machine is about 5%: more rounds make the median of that ratio steady. Naive is 2x to
# 6x slower, so its seven rounds are enough for its ratio and would dominate the run time.
CLOSE_REPEAT = 3 * REPEAT
TARGETS = (256, 1024)
# zlib level of the baselines' PNG encoders (Pillow's and libvips' fast setting). Ours is
# imgsvc.pngsave's zlib-ng level 2: its files are a little smaller than Pillow's at level 1.
BASELINE_PNG_LEVEL = 1
FORMATS = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}


# --- inputs -----------------------------------------------------------------------------------


def camera_like(width: int, height: int, *, seed: int = 1) -> Image.Image:
    """imagegen's photo plus luminance texture at half resolution (foliage, fabric, skin).

    imagegen.photo alone compresses to ~1.3 MB at 12 MP, a third of what a camera writes; the
    JPEG decoder's cost follows the entropy-coded size, so the texture makes the 12 MP JPEG
    about 4 MB at quality 90 and the 24 MP one about 8 MB, as from a phone or a DSLR.
    """
    base = imagegen.photo(width, height, seed=seed)
    grain = Image.effect_noise((width // 2, height // 2), 64)
    texture = grain.resize((width, height), Image.Resampling.BICUBIC).convert("RGB")
    fine = Image.effect_noise((width, height), 40).convert("RGB")
    return Image.blend(Image.blend(base, texture, 0.3), fine, 0.08)


@dataclass(frozen=True)
class Input:
    name: str
    data: bytes
    content_type: str


@cache
def inputs() -> tuple[Input, ...]:
    """The benchmark's originals, generated once per run."""
    jpeg12 = imagegen.encode(camera_like(4000, 3000, seed=2), "JPEG", quality=90)
    jpeg24 = imagegen.encode(camera_like(6000, 4000, seed=3), "JPEG", quality=90)
    png = imagegen.png(2000, 1500, seed=4, alpha=True)
    return (
        Input("jpeg 12MP", jpeg12, "image/jpeg"),
        Input("jpeg 24MP", jpeg24, "image/jpeg"),
        Input("png 3MP RGBA", png, "image/png"),
    )


# --- the three pipelines (module level: the memory children import them by name) -------------


def ours(data: bytes, target: int, content_type: str) -> bytes:
    fmt = OutputFormat("original" if content_type != "image/webp" else "webp", content_type)
    return renditions.render(data, Size(target, target), fmt).data


def _save(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        image.convert("RGB").save(out, "JPEG", quality=renditions.JPEG_QUALITY, optimize=True)
    elif content_type == "image/webp":
        image.save(out, "WEBP", quality=renditions.WEBP_QUALITY, method=renditions.WEBP_METHOD)
    else:
        image.save(out, "PNG", compress_level=BASELINE_PNG_LEVEL)
    return out.getvalue()


def naive_pixels(data: bytes, target: int) -> Image.Image:
    """Full decode, then one LANCZOS resize to the size ours produces."""
    image = Image.open(io.BytesIO(data))
    image.load()
    size = Size(target, target).output_size(*image.size)
    return image.resize(size, Image.Resampling.LANCZOS)


def naive(data: bytes, target: int, content_type: str) -> bytes:
    return _save(naive_pixels(data, target), content_type)


def encoder_only(pixels: bytes, mode: str, size: tuple[int, int], content_type: str) -> bytes:
    """Our encoder alone on a rendition's pixels (made from ``pixels`` inside the measurement):
    the least memory any pipeline that holds the rendition and encodes it this way can peak at."""
    image = Image.frombytes(mode, size, pixels)
    if content_type == "image/png":
        return pngsave.encode(image)
    return _save(image, content_type)


@cache
def _pyvips() -> Any:
    import pyvips  # type: ignore[import-untyped]

    pyvips.cache_set_max(0)  # every call must decode and resize, not hit libvips' cache
    return pyvips


def vips(data: bytes, target: int, content_type: str) -> bytes:
    pyvips = _pyvips()
    image = pyvips.Image.thumbnail_buffer(data, target, height=target, size="down")
    if content_type == "image/jpeg":
        return bytes(
            image.write_to_buffer(
                ".jpg",
                Q=renditions.JPEG_QUALITY,
                optimize_coding=True,
                keep="none",
            )
        )
    if content_type == "image/webp":
        return bytes(
            image.write_to_buffer(
                ".webp", Q=renditions.WEBP_QUALITY, effort=renditions.WEBP_METHOD, keep="none"
            )
        )
    # filter="up": the filter imgsvc.pngsave gives every row. libvips is fastest with it (on
    # the 1024 px rendition 152 ms of CPU, against 197 with "all", per-row adaptive filters like
    # Pillow's, and 155 with its default "none", whose files are 17% larger still).
    return bytes(
        image.write_to_buffer(".png", compression=BASELINE_PNG_LEVEL, filter="up", keep="none")
    )


def warm_up() -> None:
    """Load every codec once with a tiny image (outside the memory measurement)."""
    for name, content_type in (("jpeg", "image/jpeg"), ("png", "image/png")):
        tiny = imagegen.jpeg(32, 24) if name == "jpeg" else imagegen.png(32, 24, alpha=True)
        for pipeline in (ours, naive, vips):
            pipeline(tiny, 16, content_type)
            pipeline(tiny, 16, "image/webp")


# --- quality ------------------------------------------------------------------------------------


def psnr(encoded: bytes, reference: Image.Image) -> float:
    """PSNR in dB of the decoded output against the reference pixels (alpha included)."""
    image: Image.Image = Image.open(io.BytesIO(encoded))
    mode = "RGBA" if "A" in reference.mode else "RGB"
    if image.size != reference.size:  # libvips rounds some sizes the other way by a pixel
        image = image.resize(reference.size, Image.Resampling.LANCZOS)
    diff = ImageChops.difference(image.convert(mode), reference.convert(mode))
    mse = sum(ImageStat.Stat(diff).sum2) / (len(mode) * reference.width * reference.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


# --- the run ------------------------------------------------------------------------------------


def _interleaved(
    pipelines: dict[str, tuple[Callable[[], object], int]], threads: int
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Median wall and CPU ms, and least CPU ms, of each pipeline, ``name: (fn, rounds)``.

    The pipelines are timed round-robin so that background load on the machine hits them
    alike, each round starting one pipeline later so that none always runs right after the
    same other (naive's 100 MB buffers, libvips' threads); a pipeline that has had its rounds
    sits out the rest. ``vips1`` runs libvips on one thread, ``vips`` on ``threads``. CPU time
    counts every thread of the process, so it is the cost, wall time the latency. The least CPU
    time of the rounds is the one other jobs on the machine disturbed least (as ``timeit``
    reports).
    """
    wall: dict[str, list[float]] = {name: [] for name in pipelines}
    cpu: dict[str, list[float]] = {name: [] for name in pipelines}
    order = list(pipelines.items())
    most = max(max(1, rounds) for _, rounds in pipelines.values())
    for round_ in range(most + 1):  # the first round warms up and is dropped
        shift = round_ % len(order)
        for name, (fn, rounds) in order[shift:] + order[:shift]:
            if round_ > max(1, rounds):
                continue
            if name.startswith("vips"):
                _pyvips().concurrency_set(1 if name == "vips1" else threads)
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append((time.perf_counter() - start) * 1000.0)
            cpu[name].append((time.process_time() - start_cpu) * 1000.0)

    def median(values: list[float]) -> float:
        return statistics.median(values[1:])

    return (
        {name: median(values) for name, values in wall.items()},
        {name: median(values) for name, values in cpu.items()},
        {name: min(values[1:]) for name, values in cpu.items()},
    )


def cases() -> list[tuple[Input, int, str]]:
    chosen = []
    for source in inputs():
        outputs = ("jpeg", "webp") if source.content_type == "image/jpeg" else ("png", "webp")
        for target in TARGETS:
            chosen += [(source, target, out) for out in outputs]
    return chosen


def run() -> None:
    threads = _pyvips().concurrency_get()
    version = ".".join(str(_pyvips().version(i)) for i in (0, 1, 2))
    print(
        f"Pillow {PIL.__version__}, libvips {version} (default {threads} threads), "
        f"{os.cpu_count()} CPUs, {CLOSE_REPEAT} rounds (naive: {REPEAT})\n"
    )
    speed_rows: list[list[object]] = []
    memory_rows: list[list[object]] = []
    worst = {
        "jpeg": 0.0,
        "png": 0.0,
        "jpeg cpu": 0.0,
        "png cpu": 0.0,
        "jpeg least": 0.0,
        "png least": 0.0,
        "jpeg memory": 0.0,
        "png memory": 0.0,
        "encoder memory": 0.0,
        "psnr": -math.inf,
    }
    for source, target, out in cases():
        content_type = FORMATS[out]
        label = f"{source.name} -> {target} {out}"

        def bind(fn: Callable[[bytes, int, str], bytes]) -> Callable[[], bytes]:
            return lambda: fn(source.data, target, content_type)  # noqa: B023 - used at once

        times, cpu, least = _interleaved(
            {
                "ours": (bind(ours), CLOSE_REPEAT),
                "naive": (bind(naive), REPEAT),
                "vips1": (bind(vips), CLOSE_REPEAT),
                "vips": (bind(vips), CLOSE_REPEAT),
            },
            threads,
        )
        speed_rows.append(
            [
                label,
                times["ours"],
                times["naive"],
                times["vips1"],
                times["vips"],
                ratio(times["ours"], times["vips1"]),
                ratio(times["ours"], times["vips"]),
                ratio(times["ours"], times["naive"]),
                ratio(cpu["ours"], cpu["vips1"]),
                ratio(least["ours"], least["vips1"]),
            ]
        )
        kind = "jpeg" if source.content_type == "image/jpeg" else "png"
        worst[kind] = max(worst[kind], times["ours"] / times["vips1"])
        worst[f"{kind} cpu"] = max(worst[f"{kind} cpu"], cpu["ours"] / cpu["vips1"])
        worst[f"{kind} least"] = max(worst[f"{kind} least"], least["ours"] / least["vips1"])

        args = (source.data, target, content_type)
        memory = {
            "ours": peak_memory(ours, *args, warmup=warm_up),
            "naive": peak_memory(naive, *args, warmup=warm_up),
            "vips1": peak_memory(vips, *args, warmup=warm_up, env={"VIPS_CONCURRENCY": "1"}),
        }
        reference = naive_pixels(source.data, target)
        pixels = (reference.tobytes(), reference.mode, reference.size, content_type)
        memory["encoder"] = peak_memory(encoder_only, *pixels, warmup=warm_up)
        outputs = {"ours": ours(*args), "naive": naive(*args), "vips": vips(*args)}
        if source is inputs()[0]:  # the 12 MP JPEG: bench/cost.py's typical upload
            # Least CPU time: the round other jobs on the machine disturbed least.
            record("rendition_ms", f"{target} {out}", least["ours"])
            record("rendition_bytes", f"{target} {out}", len(outputs["ours"]))
            record("original_bytes", source.name, len(source.data))
        quality = {name: psnr(encoded, reference) for name, encoded in outputs.items()}
        worst[f"{kind} memory"] = max(worst[f"{kind} memory"], memory["ours"] / memory["naive"])
        worst["encoder memory"] = max(worst["encoder memory"], memory["encoder"] / memory["naive"])
        if not math.isinf(quality["naive"]):
            worst["psnr"] = max(worst["psnr"], quality["naive"] - quality["ours"])
        memory_rows.append(
            [
                label,
                memory["ours"] / MB,
                memory["naive"] / MB,
                memory["vips1"] / MB,
                ratio(memory["ours"], memory["naive"]),
                memory["encoder"] / MB,
                ratio(memory["encoder"], memory["naive"]),
                quality["ours"],
                quality["naive"],
                quality["vips"],
                f"{len(outputs['ours']) / 1024:.0f}",
                f"{len(outputs['vips']) / 1024:.0f}",
            ]
        )
    print(
        "Median wall time per image, ms (vips1: libvips at concurrency 1; for PNG it still keeps"
        " a second core busy, and so do ours: wall is the latency, CPU the cost)"
    )
    print_table(
        [
            "case",
            "ours",
            "naive",
            "vips1",
            "vips",
            "ours/vips1",
            "ours/vips",
            "ours/naive",
            "cpu ours/vips1",
            "least cpu",
        ],
        speed_rows,
    )
    print(
        "\nPeak RSS growth of one call in a fresh process, MB (encoder: our encoder alone on the"
        " rendition's pixels, the floor of any pipeline that encodes them so); PSNR vs naive"
        " LANCZOS pixels, dB; output KiB"
    )
    print_table(
        [
            "case",
            "ours MB",
            "naive MB",
            "vips1 MB",
            "ours/naive",
            "encoder MB",
            "encoder/naive",
            "PSNR ours",
            "naive",
            "vips",
            "KiB ours",
            "vips",
        ],
        memory_rows,
    )
    print(
        f"\nWorst cases. ours/vips1 wall: JPEG {worst['jpeg']:.2f}x (target <= 1.0), PNG "
        f"{worst['png']:.2f}x (target <= 1.5); CPU: JPEG {worst['jpeg cpu']:.2f}x, PNG "
        f"{worst['png cpu']:.2f}x; least CPU: JPEG {worst['jpeg least']:.2f}x, PNG "
        f"{worst['png least']:.2f}x.\nPeak memory ours/naive: JPEG {worst['jpeg memory']:.2f}x "
        f"(target <= 0.25), PNG {worst['png memory']:.2f}x (decoded band by band); the encoder "
        f"alone on the rendition's pixels peaks at up to {worst['encoder memory']:.2f}x of naive "
        f"(libwebp's lossless coder for an alpha plane). PSNR below naive: "
        f"{worst['psnr']:.2f} dB (target <= 2)."
    )
    formats(inputs()[0].data)
    encoder_settings(inputs()[0].data)


def formats(data: bytes) -> None:
    """Our whole rendition per output format (is AVIF's time acceptable?), 12 MP JPEG input."""
    choices = [OutputFormat("original", "image/jpeg"), OutputFormat("webp", "image/webp")]
    if renditions.avif_supported():
        choices.append(OutputFormat("avif", "image/avif"))
    rows: list[list[object]] = []
    for target in TARGETS:
        for fmt in choices:

            def make(fmt: OutputFormat = fmt, target: int = target) -> bytes:
                return renditions.render(data, Size(target, target), fmt).data

            encoded = make()
            elapsed = median_ms(make, REPEAT)
            rows.append(
                [f"{target}px {fmt.key} ({fmt.content_type})", elapsed, len(encoded) / 1024]
            )
    print("\nOur rendition of the 12 MP JPEG per output format (median wall ms, KiB)")
    print_table(["output", "ms", "KiB"], rows)


def encoder_settings(data: bytes) -> None:
    """What each encoder setting costs and saves: 256 and 1024 renditions of the 12 MP photo,
    and for PNG also of a flat graphic."""
    rows: list[list[object]] = []
    for target in TARGETS:
        pixels = naive_pixels(data, target)
        flat = imagegen.graphic(target, target * 3 // 4)
        options: list[tuple[str, str, dict[str, Any], Image.Image]] = [
            ("JPEG q82 baseline", "JPEG", {"quality": 82}, pixels),
            ("JPEG q82 optimize", "JPEG", {"quality": 82, "optimize": True}, pixels),
            ("JPEG q82 progressive", "JPEG", {"quality": 82, "progressive": True}, pixels),
            *(
                (f"WebP q80 method {method}", "WEBP", {"quality": 80, "method": method}, pixels)
                for method in (2, 3, 4, 6)
            ),
            *(
                (f"PNG Pillow level {level}{kind}", "PNG", {"compress_level": level}, image)
                for level in (1, 6)
                for kind, image in (("", pixels), (" (graphic)", flat))
            ),
            *(
                (f"PNG ours level {level}{kind}", "pngsave", {"level": level}, image)
                for level in (1, 2, 3, 6)
                for kind, image in (("", pixels), (" (graphic)", flat))
            ),
        ]
        if renditions.avif_supported():
            options += [
                (
                    f"AVIF q{quality} speed {speed}",
                    "AVIF",
                    {"quality": quality, "speed": speed},
                    pixels,
                )
                for quality, speed in ((60, 6), (60, 8), (60, 10))
            ]
        for name, fmt, params, source in options:

            def encode(
                fmt: str = fmt, params: dict[str, Any] = params, source: Image.Image = source
            ) -> bytes:
                if fmt == "pngsave":
                    return pngsave.encode(source, **params)
                out = io.BytesIO()
                source.save(out, fmt, **params)
                return out.getvalue()

            encoded = encode()
            rows.append(
                [
                    f"{target}px {name}",
                    median_ms(encode, max(3, REPEAT // 2)),
                    f"{len(encoded) / 1024:.1f}",
                    psnr(encoded, source),
                ]
            )
    print("\nEncoder settings on a resized photo (ms to encode, KiB, PSNR vs the pixels)")
    print_table(["setting", "ms", "KiB", "PSNR"], rows)
