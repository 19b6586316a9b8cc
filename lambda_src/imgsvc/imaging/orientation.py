"""EXIF orientation: read it, turn the pixels upright, and map a region of the upright picture
back onto the pixels as stored (so only that region is decoded and resampled)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import Image

EXIF_ORIENTATION: Final = 0x0112
# Orientations (5-8) whose display swaps width and height.
TRANSPOSED: Final = frozenset({5, 6, 7, 8})
_EXIF_ERRORS = (OSError, ValueError, SyntaxError, EOFError, KeyError, TypeError, struct.error)


def of_image(image: Image.Image) -> int:
    """The image's EXIF orientation, 1 when it has none or its EXIF cannot be read."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except _EXIF_ERRORS:
        return 1  # unreadable EXIF: show the pixels as stored
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def of_exif(exif: bytes | None) -> int:
    """The orientation in a raw EXIF block (a PNG's eXIf chunk), 1 when there is none."""
    if not exif:
        return 1
    from PIL import Image

    try:
        found = Image.Exif()
        found.load(exif)
        value = found.get(EXIF_ORIENTATION, 1)
    except _EXIF_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright_size(orientation: int, size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    return (height, width) if orientation in TRANSPOSED else (width, height)


def stored_box(
    orientation: int,
    box: tuple[float, float, float, float],
    stored: tuple[int, int],
) -> tuple[float, float, float, float]:
    """The region of the stored pixels that becomes ``box`` of the upright picture."""
    width, height = stored
    left, top, right, bottom = box

    def to_stored(x: float, y: float) -> tuple[float, float]:
        return {
            1: (x, y),
            2: (width - x, y),
            3: (width - x, height - y),
            4: (x, height - y),
            5: (y, x),
            6: (y, height - x),
            7: (width - y, height - x),
            8: (width - y, x),
        }[orientation]

    (x0, y0), (x1, y1) = to_stored(left, top), to_stored(right, bottom)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def transpose(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` (as stored) turned upright."""
    from PIL import Image

    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return image if method is None else image.transpose(method)
