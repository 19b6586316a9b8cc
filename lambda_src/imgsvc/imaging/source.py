"""Opening an image: sniff, pre-parse, bound the cost, and let Pillow read the header.

Nothing is decoded here: :func:`open_image` returns Pillow's lazily decoding image once every
bound of :mod:`imgsvc.imaging.limits` holds for the first frame (and for every frame with
``every_frame``).
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgsvc.errors import UnprocessableImage
from imgsvc.imaging import limits, structure
from imgsvc.imaging.formats import ACCEPTED_FORMATS, sniff

if TYPE_CHECKING:
    from PIL import Image

# What Pillow raises for bytes it cannot read: the decoders' errors, and the plugins' struct and
# index errors on headers that end early.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
)


@dataclass(slots=True)
class Source:
    """An opened image, not decoded, and what the pre-parse found."""

    image: Image.Image
    fmt: str
    structure: structure.Structure


def open_image(data: bytes, max_pixels: int, *, every_frame: bool = False) -> Source:
    """Open ``data`` (an accepted format, else ``corrupt_image``) within the engine's limits.

    Raises UnprocessableImage with the codes of :mod:`imgsvc.imaging.limits` or ``corrupt_image``.
    """
    from PIL import Image

    fmt = sniff(data)
    if fmt is None:
        raise UnprocessableImage(
            f"The bytes are not an image in an accepted format ({', '.join(ACCEPTED_FORMATS)}).",
            code="corrupt_image",
        )
    found = structure.parse(
        data,
        fmt,
        max_pieces=limits.max_pieces(len(data)),
        max_frames=limits.MAX_FRAMES,
        max_scans=limits.MAX_JPEG_SCANS,
    )
    limits.check_structure(found, len(data), max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit (ours is checked here) and raises at twice it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
        width, height = image.size
        if width <= 0 or height <= 0:
            raise limits.corrupt(fmt, "zero-sized image")
        if width * height > max_pixels:
            raise limits.too_many_pixels(
                max_pixels, detail=f"{width}x{height}, {width * height:,} pixels"
            )
        # Pillow counts a GIF's frames by reading past each one: bounded by the pre-parse.
        frames = int(getattr(image, "n_frames", 1)) if every_frame and fmt != "JPEG" else 1
    except Image.DecompressionBombError as exc:
        raise limits.too_many_pixels(max_pixels, detail=_bomb_pixels(exc)) from None
    except DECODE_ERRORS as exc:  # UnidentifiedImageError included
        raise limits.corrupt(fmt, exc) from None
    found.frames = max(found.frames, frames)
    limits.check_structure(found, len(data), max_pixels)  # Pillow's frame count, if higher
    limits.check_memory(
        limits.decode_bytes(found, image.mode, image.size, every_frame=every_frame), max_pixels
    )
    return Source(image, fmt, found)


def _bomb_pixels(exc: Exception) -> str:
    """The pixel count in Pillow's DecompressionBombError, as ``1,234 pixels``."""
    declared = re.search(r"\((\d+) pixels\)", str(exc))
    return f"{int(declared[1]):,} pixels" if declared else "a decompression bomb"
