"""Animated-GIF effects of an image: pure image code (bytes in, GIF bytes out), no AWS.

Each effect turns one picture into a looping animation that fits a square box::

    gif = make_gif(data, "zoom", box=400, frames=16, frame_ms=80)
    gif.data, gif.width, gif.height, gif.frames

Effects (``EFFECTS``; the default set is :data:`DEFAULT_EFFECTS`):

- ``zoom``: Ken Burns. The view eases in to 1.3x drifting up and right, and back out on the
  left (a cosine and a sine: the loop has no jump and no frame repeats another). Same size and
  aspect as the picture fitted in the box.
- ``spin``: the picture as a disc turning clockwise once per loop. The canvas is a square of
  side ``min(box, shorter side)`` cut from the centre; the corners outside the disc are
  transparent, so it sits on any page colour.
- ``hue``: the colours go once round the colour wheel (HSV hue rotation; greys stay grey).
  Same size and aspect as the picture fitted in the box.

How it stays fast (measured by ``bench/gifs.py``): the picture is decoded once, a JPEG scaled
while decoding and a PNG band by band, to just above what the effect needs; every frame is made
from that small image. ``zoom`` and ``spin`` map all frames onto one palette (FASTOCTREE on the
source, no dithering), which is smaller and steadier than a palette per frame: colours do not
flicker and no frame carries its own colour table. ``hue`` quantizes once and only rotates the
palette per frame. Consecutive identical frames are merged (their durations add up), as GIF
writers do.

Input handling is the imaging engine's (:func:`imgsvc.imaging.scaled`, as for renditions): EXIF
orientation is applied, embedded ICC profiles (CMYK included) are converted to sRGB, 16-bit and
palette images become 8-bit RGB or RGBA, the first frame of an animation is used. GIF has 1-bit
transparency: pixels under 50% alpha become transparent, the others are composited over white.

Pillow is imported lazily so that importing this module (for ``EFFECTS``) costs nothing.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from imgsvc.config import DEFAULT_MAX_PIXELS

if TYPE_CHECKING:
    from PIL import Image

CONTENT_TYPE = "image/gif"
DEFAULT_EFFECTS: tuple[str, ...] = ("zoom", "spin", "hue")

# Bounds of the knobs (Config.gif_box, gif_frames, gif_frame_ms). Browsers play GIF delays
# under 20 ms at 100 ms, and GIF stores delays in hundredths of a second.
MAX_BOX = 2048
MAX_FRAMES = 240
MIN_FRAME_MS = 20
MAX_FRAME_MS = 655_350

ZOOM = 1.3  # how far zoom goes in
# Where the view goes meanwhile, as a fraction of the room the zoom leaves: it sways from right
# (on the way in) to left (on the way out) and rises a little, so no two frames are the same.
ZOOM_SWAY = 0.8
ZOOM_RISE = -0.3
MATTE = (255, 255, 255)  # what semi-transparent pixels are composited over
ALPHA_THRESHOLD = 128  # alpha below this becomes a transparent GIF pixel


@dataclass(frozen=True, slots=True)
class Gif:
    """An encoded animated GIF and its facts."""

    data: bytes
    width: int
    height: int
    frames: int


@dataclass(frozen=True, slots=True)
class Layout:
    """What an effect needs from the (upright) source picture.

    ``crop`` is the region of the source in its pixels, ``work`` the size that region is scaled to
    before frames are made from it, ``size`` the GIF's canvas.
    """

    crop: tuple[float, float, float, float]
    work: tuple[int, int]
    size: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Effect:
    """One effect: where its pixels come from (``layout``) and how frames are made (``render``).

    ``layout(width, height, box)`` is given the upright source size. ``render(work, size, frames)``
    gets the prepared RGB or RGBA image and returns ``frames`` images of ``size``: RGB, RGBA (alpha
    under 50% becomes transparent) or P (already palettized, transparency in ``info``).
    """

    name: str
    description: str
    layout: Callable[[int, int, int], Layout]
    render: Callable[[Image.Image, tuple[int, int], int], list[Image.Image]]


# --- layouts -------------------------------------------------------------------------------


def fit(width: int, height: int, box: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled to fit in ``box`` x ``box``, aspect kept, never enlarged."""
    scale = min(1.0, box / width, box / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fitted_layout(oversample: float) -> Callable[[int, int, int], Layout]:
    def layout(width: int, height: int, box: int) -> Layout:
        size = fit(width, height, box)
        scale = min(1.0, size[0] * oversample / width, size[1] * oversample / height)
        work = (max(1, round(width * scale)), max(1, round(height * scale)))
        return Layout(crop=(0.0, 0.0, float(width), float(height)), work=work, size=size)

    return layout


def _disc_layout(width: int, height: int, box: int) -> Layout:
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    out = min(box, side)
    return Layout(crop=(left, top, left + side, top + side), work=(out, out), size=(out, out))


# --- renderers -----------------------------------------------------------------------------


def zoom_region(
    width: float, height: float, index: int, frames: int
) -> tuple[float, float, float, float]:
    """The part of a ``width`` x ``height`` picture that frame ``index`` of ``zoom`` shows."""
    angle = 2 * math.pi * index / frames
    # 1 -> ZOOM -> 1 on a cosine: slow at both ends, no jump where the loop restarts.
    scale = 1 + (ZOOM - 1) * (1 - math.cos(angle)) / 2
    view_w, view_h = width / scale, height / scale
    centre_x = width / 2 + ZOOM_SWAY * math.sin(angle) * (width - view_w) / 2
    centre_y = height / 2 + ZOOM_RISE * (height - view_h) / 2
    return (
        centre_x - view_w / 2,
        centre_y - view_h / 2,
        centre_x + view_w / 2,
        centre_y + view_h / 2,
    )


def _zoom(work: Image.Image, size: tuple[int, int], frames: int) -> list[Image.Image]:
    from PIL import Image

    return [
        work.resize(size, Image.Resampling.BICUBIC, box=zoom_region(*work.size, index, frames))
        for index in range(frames)
    ]


def _spin(work: Image.Image, size: tuple[int, int], frames: int) -> list[Image.Image]:
    from PIL import Image, ImageChops, ImageDraw

    disc = Image.new("L", size, 0)
    ImageDraw.Draw(disc).ellipse((0, 0, size[0] - 1, size[1] - 1), fill=255)
    rgba = work.convert("RGBA")
    out = []
    for index in range(frames):
        # Clockwise; the disc is inscribed in the square, so it is always fully covered.
        frame = rgba.rotate(-360 * index / frames, Image.Resampling.BICUBIC)
        alpha = disc if work.mode != "RGBA" else ImageChops.multiply(frame.getchannel("A"), disc)
        frame.putalpha(alpha)
        out.append(frame)
    return out


def _hue(work: Image.Image, size: tuple[int, int], frames: int) -> list[Image.Image]:
    from PIL import Image

    palette = _Palette(work)
    base = palette.apply(work)
    colours = palette.colours
    count = len(colours) // 3
    strip = Image.frombytes("RGB", (count, 1), colours).convert("HSV")
    hue, saturation, value = strip.split()
    out = []
    for index in range(frames):
        frame = base.copy()
        if index:
            shift = round(256 * index / frames)
            turned = hue.point([(level + shift) % 256 for level in range(256)])
            rotated = Image.merge("HSV", (turned, saturation, value)).convert("RGB")
            frame.putpalette(rotated.tobytes() + palette.extra)
        out.append(frame)
    return out


EFFECTS: Mapping[str, Effect] = MappingProxyType(
    {
        "zoom": Effect(
            "zoom",
            "Ken Burns: eases in to 1.3x drifting right, and back out on the left.",
            _fitted_layout(ZOOM),
            _zoom,
        ),
        "spin": Effect(
            "spin",
            "The picture as a disc turning once clockwise; square canvas, transparent corners.",
            _disc_layout,
            _spin,
        ),
        "hue": Effect(
            "hue",
            "The colours go once round the colour wheel.",
            _fitted_layout(1.0),
            _hue,
        ),
    }
)


def get_effect(name: str) -> Effect:
    """The effect called ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return EFFECTS[name]
    except KeyError:
        raise ValueError(
            f"Unknown GIF effect {name!r}; choose from {', '.join(sorted(EFFECTS))}."
        ) from None


# --- palette -------------------------------------------------------------------------------


def _opaque(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """``image`` as RGB composited over MATTE, and the mask of its transparent pixels (or None)."""
    from PIL import Image

    if image.mode != "RGBA":
        return image.convert("RGB") if image.mode != "RGB" else image, None
    alpha = image.getchannel("A")
    flat = Image.new("RGB", image.size, MATTE)
    flat.paste(image, mask=alpha)
    clear = alpha.point([255] * ALPHA_THRESHOLD + [0] * (256 - ALPHA_THRESHOLD))
    return flat, clear if clear.getbbox() else None


class _Palette:
    """One palette for every frame, from the reference picture (FASTOCTREE, no dithering).

    If the frames can have transparent pixels, 255 colours are kept and one more entry, of a
    colour not otherwise in the palette, is the transparent index.
    """

    def __init__(self, reference: Image.Image, *, transparent: bool | None = None) -> None:
        from PIL import Image

        flat, clear = _opaque(reference)
        self.transparency: int | None = None
        if transparent is None:
            transparent = clear is not None
        quantized = flat.quantize(255 if transparent else 256, Image.Quantize.FASTOCTREE)
        self._reference = quantized
        self.colours: bytes = bytes(quantized.getpalette() or b"")
        self.extra = b""
        if transparent:
            self.transparency = len(self.colours) // 3
            self.extra = _unused_colour(self.colours)

    @property
    def entries(self) -> bytes:
        """The palette as written to the GIF (RGB triplets)."""
        return self.colours + self.extra

    def apply(self, frame: Image.Image) -> Image.Image:
        from PIL import Image

        flat, clear = _opaque(frame)
        mapped = flat.quantize(palette=self._reference, dither=Image.Dither.NONE)
        if self.transparency is not None:
            mapped.putpalette(self.entries)
            if clear is not None:
                mapped.paste(self.transparency, mask=clear)
            mapped.info["transparency"] = self.transparency
        return mapped


def _unused_colour(colours: bytes) -> bytes:
    """An RGB triplet not in ``colours`` (Pillow's GIF writer maps palette entries by colour)."""
    used = {colours[i : i + 3] for i in range(0, len(colours), 3)}
    for red in range(256):
        candidate = bytes((red, 0, 255))
        if candidate not in used:
            return candidate
    raise AssertionError("a palette of at most 255 colours leaves a colour unused")


# --- decoding ------------------------------------------------------------------------------


def prepare(
    data: bytes, effect: Effect, box: int, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[Image.Image, Layout]:
    """Decode ``data`` once into the RGB/RGBA ``work`` image ``effect`` renders from.

    The imaging engine does the decoding (:func:`imgsvc.imaging.scaled`: limits, orientation,
    colour, the first frame, a JPEG scaled while decoding); this keeps alpha only where some
    pixel is not fully opaque.

    Raises UnprocessableImage: ``corrupt_image`` (not an accepted image, corrupt, truncated) or
    a code of :mod:`imgsvc.imaging.limits` (``too_many_pixels``, ...).
    """
    from imgsvc import imaging

    layouts: list[Layout] = []

    def target(width: int, height: int) -> imaging.Target:
        layouts.append(effect.layout(width, height, box))
        return imaging.Target(layouts[-1].work, layouts[-1].crop)

    work = _rgb(imaging.scaled(data, target, max_pixels=max_pixels))
    return work, layouts[-1]


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA if some pixel is not fully opaque."""
    if image.mode in ("RGBA", "LA"):
        low, _ = image.getchannel("A").getextrema()
        if isinstance(low, int) and low < 255:
            return image.convert("RGBA") if image.mode != "RGBA" else image
    return image.convert("RGB") if image.mode != "RGB" else image


# --- the GIF ---------------------------------------------------------------------------------


def _check(box: int, frames: int, frame_ms: int) -> None:
    if not 1 <= box <= MAX_BOX:
        raise ValueError(f"box must be 1..{MAX_BOX} pixels, got {box}")
    if not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be 1..{MAX_FRAMES}, got {frames}")
    if not MIN_FRAME_MS <= frame_ms <= MAX_FRAME_MS or frame_ms % 10:
        raise ValueError(
            f"frame_ms must be a multiple of 10 from {MIN_FRAME_MS} to {MAX_FRAME_MS}"
            f" (GIF counts in hundredths of a second; browsers slow shorter delays), got {frame_ms}"
        )


def render_frames(
    data: bytes,
    effect: str,
    *,
    box: int,
    frames: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[list[Image.Image], Image.Image]:
    """The effect's frames before they are palettized, and the work image they came from."""
    chosen = get_effect(effect)
    _check(box, frames, MIN_FRAME_MS)
    work, layout = prepare(data, chosen, box, max_pixels=max_pixels)
    return chosen.render(work, layout.size, frames), work


def make_gif(
    data: bytes,
    effect: str,
    *,
    box: int,
    frames: int,
    frame_ms: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Gif:
    """An animated GIF of the image ``data`` with ``effect``, looping forever.

    It fits in ``box`` x ``box`` (never enlarged), has ``frames`` frames of ``frame_ms`` each
    (fewer, longer ones if consecutive frames come out identical, e.g. ``hue`` on a grey picture).

    Raises ValueError for an unknown effect or a knob out of range; UnprocessableImage
    (``corrupt_image``, ``too_many_pixels``) for bytes that cannot be made into one.
    """
    _check(box, frames, frame_ms)
    rendered, work = render_frames(data, effect, box=box, frames=frames, max_pixels=max_pixels)
    return encode(rendered, work, frame_ms=frame_ms)


def encode(rendered: Sequence[Image.Image], reference: Image.Image, *, frame_ms: int) -> Gif:
    """Write an effect's frames as a looping GIF (see :func:`palettize` and :func:`write`)."""
    frames, palette = palettize(rendered, reference)
    return write(frames, frame_ms=frame_ms, palette=palette)


def palettize(
    rendered: Sequence[Image.Image], reference: Image.Image
) -> tuple[list[Image.Image], bytes | None]:
    """P frames, and the palette they share (None if each has its own, as ``hue``'s do).

    RGB/RGBA frames are mapped onto one palette made from ``reference``; P frames are kept.
    """
    if all(frame.mode == "P" for frame in rendered):
        return list(rendered), None
    shared = _Palette(reference, transparent=any(f.mode == "RGBA" for f in rendered))
    return [f if f.mode == "P" else shared.apply(f) for f in rendered], shared.entries


def write(
    frames: Sequence[Image.Image],
    *,
    frame_ms: int,
    palette: bytes | None,
    optimize: bool = False,
) -> Gif:
    """Pillow's GIF writer on P frames: looping, not interlaced, one colour table if shared.

    ``optimize`` (Pillow's palette trimming and unchanged-pixel transparency) is off: on effect
    frames, where nearly every pixel changes, it made the files slower to write and no smaller
    (``python -m bench gifs`` shows both).
    """
    kept, durations = _merge_repeats(frames, frame_ms)
    first = kept[0]
    transparency = first.info.get("transparency")
    options: dict[str, object] = {
        "save_all": True,
        "append_images": kept[1:],
        "duration": durations,
        "loop": 0,
        "interlace": False,
        "optimize": optimize,
    }
    if palette is not None:
        # One global colour table; without it every frame would carry its own copy.
        options["palette"] = palette
    if isinstance(transparency, int):
        # Restore to transparent after each frame, so moving pixels leave no trail.
        options["transparency"] = transparency
        options["disposal"] = 2
    out = io.BytesIO()
    first.save(out, "GIF", **options)
    return Gif(data=out.getvalue(), width=first.width, height=first.height, frames=len(kept))


def _merge_repeats(
    frames: Sequence[Image.Image], frame_ms: int
) -> tuple[list[Image.Image], list[int]]:
    """Drop frames that look like the one before, adding their time to it."""
    kept: list[Image.Image] = []
    durations: list[int] = []
    for frame in frames:
        if kept and _same_picture(kept[-1], frame):
            durations[-1] += frame_ms
            continue
        kept.append(frame)
        durations.append(frame_ms)
    return kept, durations


def _same_picture(a: Image.Image, b: Image.Image) -> bool:
    """The test Pillow's GIF writer uses to merge frames: same indices and palette, else same RGBA.

    Converted from copies: converting a P image with transparency in place changes how the GIF
    writer later maps its palette (the frames come out with scrambled colours).
    """
    if a.getpalette() == b.getpalette():
        return a.tobytes() == b.tobytes()
    return a.copy().convert("RGBA").tobytes() == b.copy().convert("RGBA").tobytes()
