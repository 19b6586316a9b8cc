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
from collections.abc import Callable, Sequence
from functools import partial

from PIL import Image, ImageDraw, ImageOps
from tests.support import imagegen

from bench.common import MB, median_ms, peak_memory, print_table, ratio
from imgsvc import effects

BOX = 400
FRAMES = 16
FRAME_MS = 80
TIME_TARGET = 0.12  # ours / naive
RUNS = int(os.environ.get("BENCH_GIF_RUNS", "5"))
NAIVE_RUNS = int(os.environ.get("BENCH_GIF_NAIVE_RUNS", "3"))


def source() -> bytes:
    return imagegen.jpeg(4000, 3000)


def ours(data: bytes, effect: str) -> bytes:
    return effects.make_gif(data, effect, box=BOX, frames=FRAMES, frame_ms=FRAME_MS).data


# --- the naive baseline ------------------------------------------------------------------------


def _naive_zoom(full: Image.Image, frames: int) -> list[Image.Image]:
    size = effects.fit(full.width, full.height, BOX)
    out = []
    for index in range(frames):
        region = effects.zoom_region(full.width, full.height, index, frames)
        out.append(
            full.crop(tuple(round(v) for v in region)).resize(size, Image.Resampling.LANCZOS)
        )
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


def _per_frame_octree(rendered: Sequence[Image.Image]) -> bytes:
    frames = [frame.convert("RGB").quantize(256, Image.Quantize.FASTOCTREE) for frame in rendered]
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=FRAME_MS,
        loop=0,
        interlace=False,
        optimize=False,
    )
    return out.getvalue()


def _shared_dithered(rendered: Sequence[Image.Image], work: Image.Image) -> bytes:
    palette = work.convert("RGB").quantize(256, Image.Quantize.FASTOCTREE)
    frames = [
        frame.convert("RGB").quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
        for frame in rendered
    ]
    entries = bytes(palette.getpalette() or b"")
    return effects.write(frames, frame_ms=FRAME_MS, palette=entries).data


def variants(data: bytes, effect: str) -> list[list[object]]:
    rendered, work = effects.render_frames(data, effect, box=BOX, frames=FRAMES)
    _, palette = effects.palettize(rendered, work)

    def shared() -> bytes:
        return effects.encode(rendered, work, frame_ms=FRAME_MS).data

    def optimized() -> bytes:
        p_frames, p_palette = effects.palettize(rendered, work)
        return effects.write(p_frames, frame_ms=FRAME_MS, palette=p_palette, optimize=True).data

    as_rgb = [frame.copy().convert("RGBA" if frame.mode != "RGB" else "RGB") for frame in rendered]
    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("ours (shared palette, no dither)" if palette else "ours (palette rotation)", shared),
        ("ours + optimize=True", optimized),
        ("FASTOCTREE per frame", lambda: _per_frame_octree(as_rgb)),
    ]
    if palette is not None:
        cases.append(("shared palette + FS dither", lambda: _shared_dithered(as_rgb, work)))
    baseline_ms = median_ms(shared, RUNS)
    baseline_size = len(shared())
    rows: list[list[object]] = []
    for label, fn in cases:
        elapsed = baseline_ms if fn is shared else median_ms(fn, RUNS)
        size = len(fn())
        rows.append(
            [
                effect,
                label,
                elapsed,
                ratio(elapsed, baseline_ms),
                size / 1024,
                ratio(size, baseline_size),
            ]
        )
    return rows


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
