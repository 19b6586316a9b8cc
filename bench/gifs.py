"""GIF effects: time, size and peak memory per effect against a naive baseline, same run.

Input: a 12 MP photo-like JPEG (4000x3000). Each effect makes 16 frames in a 400 box at 80 ms.

The naive baseline is what straightforward Pillow code does: decode at full size, apply the same
effect geometry to full-size frames (zoom: crop; spin: rotate the centre square; hue: none, the
colours are turned after the resize), resize each to the output size, and hand the RGB frames
to Pillow's GIF writer with its defaults (it quantizes each frame with MEDIANCUT).
Targets, per effect: ours <= 0.12x naive's time, and a file no larger than naive's.

A second table shows the palette/writer choices on our own frames (only the palettize + write
step is timed): one shared palette without dithering (ours), a FASTOCTREE palette per frame,
the shared palette with Floyd-Steinberg dithering, and Pillow's ``optimize=True``.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial

from PIL import Image, ImageDraw, ImageOps
from tests.support import imagegen

from bench.common import MB, median_ms, peak_memory, print_table, ratio, record
from imgsvc import effects

BOX = 400
FRAMES = 16
FRAME_MS = 80
TIME_TARGET = 0.12  # ours / naive
RUNS = int(os.environ.get("BENCH_GIF_RUNS", "5"))
NAIVE_RUNS = int(os.environ.get("BENCH_GIF_NAIVE_RUNS", "3"))
VARIANT_RUNS = int(os.environ.get("BENCH_GIF_VARIANT_RUNS", "9"))


def source() -> bytes:
    return imagegen.jpeg(4000, 3000)


def ours(data: bytes, effect: str) -> bytes:
    return effects.make_gif(data, effect, box=BOX, frames=FRAMES, frame_ms=FRAME_MS).data


# --- the naive baseline ------------------------------------------------------------------------


def _naive_zoom(full: Image.Image, frames: int) -> list[Image.Image]:
    size = effects.fit(full.width, full.height, BOX)
    out = []
    for index in range(frames):
        left, top, right, bottom = effects.zoom_region(full.width, full.height, index, frames)
        view = full.crop((round(left), round(top), round(right), round(bottom)))
        out.append(view.resize(size, Image.Resampling.LANCZOS))
    return out


def _naive_spin(full: Image.Image, frames: int) -> list[Image.Image]:
    side = min(full.size)
    left, top = (full.width - side) // 2, (full.height - side) // 2
    square = full.crop((left, top, left + side, top + side))
    disc = Image.new("L", square.size, 0)
    ImageDraw.Draw(disc).ellipse((0, 0, side - 1, side - 1), fill=255)
    out_side = min(BOX, side)
    out = []
    for index in range(frames):
        turned = square.rotate(-360 * index / frames, Image.Resampling.BICUBIC)
        frame = Image.new("RGB", square.size, effects.MATTE)
        frame.paste(turned, mask=disc)
        out.append(frame.resize((out_side, out_side), Image.Resampling.LANCZOS))
    return out


def _naive_hue(full: Image.Image, frames: int) -> list[Image.Image]:
    # No geometry to apply at full size: each frame is resized from the full picture, then its
    # colours are turned (turning them at full size would make the baseline ~5x slower still).
    size = effects.fit(full.width, full.height, BOX)
    out = []
    for index in range(frames):
        small = full.resize(size, Image.Resampling.LANCZOS)
        hue, saturation, value = small.convert("HSV").split()
        shift = round(256 * index / frames)
        turned = hue.point([(level + shift) % 256 for level in range(256)])
        out.append(Image.merge("HSV", (turned, saturation, value)).convert("RGB"))
    return out


NAIVE: dict[str, Callable[[Image.Image, int], list[Image.Image]]] = {
    "zoom": _naive_zoom,
    "spin": _naive_spin,
    "hue": _naive_hue,
}


def naive(data: bytes, effect: str) -> bytes:
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    frames = NAIVE[effect](full, FRAMES)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0)
    return out.getvalue()


# --- palette and writer variants on our frames -------------------------------------------------


def _flatten(frame: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """RGB over white, and the mask of pixels under 50% alpha (the GIF's transparent ones)."""
    if frame.mode != "RGBA":
        return frame.convert("RGB"), None
    alpha = frame.getchannel("A")
    flat = Image.new("RGB", frame.size, effects.MATTE)
    flat.paste(frame, mask=alpha)
    return flat, alpha.point(lambda a: 255 if a < effects.ALPHA_THRESHOLD else 0)


def _with_transparency(mapped: Image.Image, clear: Image.Image | None) -> Image.Image:
    if clear is not None:
        mapped.paste(255, mask=clear)
        mapped.info["transparency"] = 255
    return mapped


def _per_frame_octree(rendered: Sequence[Image.Image]) -> bytes:
    frames = []
    for frame in rendered:
        flat, clear = _flatten(frame)
        colours = 256 if clear is None else 255
        mapped = flat.quantize(colours, Image.Quantize.FASTOCTREE)
        frames.append(_with_transparency(mapped, clear))
    return effects.write(frames, frame_ms=FRAME_MS, palette=None).data


def _shared_dithered(rendered: Sequence[Image.Image], work: Image.Image) -> bytes:
    transparent = any(frame.mode == "RGBA" for frame in rendered)
    palette = _flatten(work)[0].quantize(255 if transparent else 256, Image.Quantize.FASTOCTREE)
    entries = bytes(palette.getpalette() or b"")
    entries += b"\xff\x00\xff" * (256 - len(entries) // 3)
    frames = []
    for frame in rendered:
        flat, clear = _flatten(frame)
        mapped = flat.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
        mapped.putpalette(entries)
        frames.append(_with_transparency(mapped, clear))
    return effects.write(frames, frame_ms=FRAME_MS, palette=entries).data


def _interleaved_ms(cases: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Median ms of each case, the cases taking turns so that a busy machine slows all alike."""
    for fn in cases:
        fn()  # warm-up
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(repeat):
        for index, fn in enumerate(cases):
            start = time.perf_counter()
            fn()
            samples[index].append((time.perf_counter() - start) * 1000.0)
    return [statistics.median(times) for times in samples]


def variants(data: bytes, effect: str) -> list[list[object]]:
    rendered, work = effects.render_frames(data, effect, box=BOX, frames=FRAMES)
    _, palette = effects.palettize(rendered, work)

    def ours_write() -> bytes:
        return effects.encode(rendered, work, frame_ms=FRAME_MS).data

    def optimized() -> bytes:
        p_frames, p_palette = effects.palettize(rendered, work)
        return effects.write(p_frames, frame_ms=FRAME_MS, palette=p_palette, optimize=True).data

    # Pictures as the effect drew them (hue's P frames shown in RGB) for the per-frame variants.
    pictures = [
        frame.copy().convert("RGBA" if frame.mode != "RGB" else "RGB") for frame in rendered
    ]
    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("ours (shared palette, no dither)" if palette else "ours (palette rotation)", ours_write),
        ("ours + optimize=True", optimized),
        ("FASTOCTREE per frame", partial(_per_frame_octree, pictures)),
    ]
    if palette is not None:
        cases.append(("shared palette + FS dither", partial(_shared_dithered, pictures, work)))
    times = _interleaved_ms([fn for _, fn in cases], VARIANT_RUNS)
    sizes = [len(fn()) for _, fn in cases]
    return [
        [effect, label, elapsed, ratio(elapsed, times[0]), size / 1024, ratio(size, sizes[0])]
        for (label, _), elapsed, size in zip(cases, times, sizes, strict=True)
    ]


def _keep(
    made: dict[str, bytes], key: str, fn: Callable[[bytes, str], bytes], data: bytes, effect: str
) -> None:
    made[key] = fn(data, effect)


def run() -> None:
    data = source()
    print(
        f"input: {len(data) / MB:.1f} MB JPEG, 4000x3000; {FRAMES} frames in a {BOX} box;"
        f" median of {RUNS} runs (naive: {NAIVE_RUNS})"
    )
    rows: list[list[object]] = []
    met = True
    for name in effects.DEFAULT_EFFECTS:
        made: dict[str, bytes] = {}
        ours_ms = median_ms(partial(_keep, made, "ours", ours, data, name), RUNS)
        naive_ms = median_ms(partial(_keep, made, "naive", naive, data, name), NAIVE_RUNS, warmup=0)
        ours_size, naive_size = len(made["ours"]), len(made["naive"])
        record("gif_ms", name, ours_ms)  # for bench/cost.py
        record("gif_bytes", name, ours_size)
        ours_mb = peak_memory(ours, data, name) / MB
        naive_mb = peak_memory(naive, data, name) / MB
        ok = ours_ms <= TIME_TARGET * naive_ms and ours_size <= naive_size
        met = met and ok
        rows.append(
            [
                name,
                ours_ms,
                naive_ms,
                ratio(ours_ms, naive_ms),
                ours_size / 1024,
                naive_size / 1024,
                ratio(ours_size, naive_size),
                ours_mb,
                naive_mb,
                "yes" if ok else "NO",
            ]
        )
    print_table(
        [
            "effect",
            "ours ms",
            "naive ms",
            "time",
            "ours KB",
            "naive KB",
            "size",
            "ours peak MB",
            "naive peak MB",
            "target met",
        ],
        rows,
    )
    print(
        f"targets (time <= {TIME_TARGET:.2f}x naive, size <= naive) for every effect:"
        f" {'met' if met else 'NOT met'}"
    )

    print("\npalette and writer choices on our frames (palettize + write only):")
    variant_rows: list[list[object]] = []
    for name in effects.DEFAULT_EFFECTS:
        variant_rows.extend(variants(data, name))
    print_table(["effect", "variant", "ms", "time", "KB", "size"], variant_rows)
