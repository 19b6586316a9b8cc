"""Inspecting an upload: what the bytes are, whether we accept them, and their facts.

The type is sniffed from the bytes (never trusted from a header), the engine's limits are
enforced from the header and a pre-parse before any decoding (:mod:`imgsvc.imaging.source`), and
only then is the image decoded once, every frame, to prove it is whole.

PNG needs more than Pillow's decode, which checks the CRCs of the chunks before the image data
only, takes a file without IEND, and stops without an error when the zlib stream of the pixel
data ends cleanly after fewer rows than the header declares, leaving the rest black
(``LOAD_TRUNCATED_IMAGES`` only covers data that runs out mid-row, and ``verify()`` reads the
chunks, not the pixels). Renditions refuse all of those, so uploads do too: every chunk's CRC is
checked up to IEND (a pass of ``crc32``, cheap), and rows the decoder never reached stay zero,
so a PNG whose last decoded row is all zero bytes (or that is interlaced or animated, where the
last row written is not the bottom one) has its pixel data inflated again and measured against
its header.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgsvc.errors import BadRequest, UnprocessableImage, UnsupportedMediaType
from imgsvc.imaging import limits, orientation
from imgsvc.imaging.formats import ACCEPTED_FORMATS, CONTENT_TYPES, other_format, sniff
from imgsvc.imaging.source import DECODE_ERRORS, open_image

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Facts about an accepted image; ``width`` and ``height`` as displayed (EXIF orientation
    applied), which is also how renditions are made."""

    content_type: str
    width: int
    height: int
    size: int
    sha256: str
    frames: int = 1


def inspect(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Check ``data`` is an accepted, whole image within the limits; return its facts.

    Raises BadRequest (empty), UnsupportedMediaType (not an image, or a format we do not take),
    or UnprocessableImage (corrupt or truncated, or a code of :mod:`imgsvc.imaging.limits`).
    """
    if not data:
        raise BadRequest(
            "The request body is empty: send the image bytes.",
            code="empty_body",
        )
    fmt = sniff(data)
    if fmt is None:
        other = other_format(data)
        accepted = ", ".join(sorted(CONTENT_TYPES))
        if other:
            raise UnsupportedMediaType(
                f"{other} images are not accepted; send one of: {accepted}.",
                code="format_not_accepted",
            )
        raise UnsupportedMediaType(
            f"The body is not an image; send one of: {accepted}.",
            code="not_an_image",
        )

    source = open_image(data, max_pixels, every_frame=True)
    with source.image as image:
        width, height = image.size
        chunks = _png_chunks(data) if fmt == "PNG" else []  # before decoding: fails fast
        frames = _verify(image, fmt, max_pixels)
        if fmt == "PNG" and _png_may_be_short(image, frames):
            shortfall = _png_pixel_data_shortfall(chunks)
            if shortfall:
                raise limits.corrupt(fmt, shortfall)
        width, height = orientation.upright_size(orientation.of_image(image), (width, height))

    return ImageInfo(
        content_type=ACCEPTED_FORMATS[fmt],
        width=width,
        height=height,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        frames=frames,
    )


def _verify(image: Image.Image, fmt: str, max_pixels: int) -> int:
    """Decode every frame once (JPEG at 1/8 scale: the decoder still reads every byte).

    A GIF frame may lie beyond the logical screen the header declares; Pillow then grows the
    image to hold it when it seeks to that frame. The pre-parse counted every frame's extent
    against the limits; each frame's decoded size is checked again here before it is decoded,
    and all of them together.
    """
    from PIL import Image

    try:
        if fmt == "JPEG":
            width, height = image.size
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
            return 1
        frames = int(getattr(image, "n_frames", 1))
        decoded = 0
        for index in range(frames):
            with warnings.catch_warnings():  # Pillow's warning; our limit is checked here
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.seek(index)
            width, height = image.size
            if width * height > max_pixels:
                raise limits.too_many_pixels(
                    max_pixels, detail=f"frame {index + 1} of {frames} is {width}x{height}"
                )
            decoded += width * height
            if decoded > limits.ANIMATION_PIXELS * max_pixels:
                raise UnprocessableImage(
                    f"The animation's first {index + 1} frames hold {decoded:,} pixels: over the"
                    f" limit of {limits.ANIMATION_PIXELS * max_pixels:,} pixels in all.",
                    code="too_many_pixels",
                )
            image.load()
        return frames
    except UnprocessableImage:
        raise
    except Image.DecompressionBombError:  # a frame past Pillow's own limit
        raise limits.too_many_pixels(max_pixels, detail="a frame past the limit") from None
    except DECODE_ERRORS as exc:
        raise limits.corrupt(fmt, exc) from None


def _png_may_be_short(image: Image.Image, frames: int) -> bool:
    """Whether Pillow may have stopped early: the last row it writes is still all zero bytes."""
    if frames > 1 or image.info.get("interlace"):
        return True
    width, height = image.size
    bottom = image.crop((0, height - 1, width, height)).tobytes()
    return bottom.count(0) == len(bottom)


# PNG colour type -> samples per pixel (greyscale, RGB, palette, grey + alpha, RGBA).
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 interlacing: (first column, first row, column step, row step) of each of the 7 passes.
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
# Inflate in steps of at most this many bytes: memory stays small whatever the image's size.
_INFLATE_STEP = 1 << 20


def _png_pixel_data_shortfall(chunks: list[tuple[bytes, memoryview]]) -> str | None:
    """Why the PNG's pixel data is shorter than its header says (each frame's, for APNG), or
    None when every frame's zlib stream inflates to at least the bytes its rows need."""
    from imgsvc.imaging import pngrows  # deferred: only PNG uploads need it (cold start)

    header = b""
    frame: tuple[int, int] | None = None
    streams: list[tuple[int, int, list[memoryview]]] = []  # width, height, compressed parts
    previous = b""
    for kind, payload in chunks:
        if kind == b"IHDR":
            header = bytes(payload)
        elif kind == b"IDAT" and len(header) == 13:
            if previous != kind:
                width, height = struct.unpack(">II", header[:8])
                streams.append((width, height, []))
            streams[-1][2].append(payload)
        elif kind == b"fcTL" and len(payload) >= 12:
            frame = struct.unpack(">II", payload[4:12])
        elif kind == b"fdAT" and frame is not None:
            if previous != kind:
                streams.append((*frame, []))
            streams[-1][2].append(payload[4:])  # after the sequence number
        previous = kind
    if len(header) != 13:
        return None  # nothing to measure against (Pillow refuses such a file anyway)
    depth, colour, interlaced = header[8], header[9], header[12]
    bits = depth * _PNG_SAMPLES.get(colour, 1)
    for index, (width, height, parts) in enumerate(streams):
        needed = _png_raw_size(width, height, bits, interlaced=interlaced == 1)
        where = "" if len(streams) == 1 else f" of frame {index + 1}"
        try:
            found = _inflated_size(parts, needed)
        except pngrows.ZlibError as exc:
            return f"the compressed pixel data{where} is not a valid zlib stream ({exc})"
        if found < needed:
            return (
                f"the compressed pixel data{where} ends after {found:,} of the {needed:,} bytes"
                f" its {width}x{height} pixels need"
            )
    return None


def _png_chunks(data: bytes) -> list[tuple[bytes, memoryview]]:
    """The (type, payload) chunks before IEND (:func:`imgsvc.imaging.pngrows.chunks`);
    UnprocessableImage when one is cut short or fails its CRC, or the file ends before IEND."""
    from imgsvc.imaging import pngrows

    try:
        return pngrows.chunks(data)
    except pngrows.CorruptPng as exc:
        raise limits.corrupt("PNG", exc) from None


def _png_raw_size(width: int, height: int, bits: int, *, interlaced: bool) -> int:
    """Bytes of filtered rows (a filter byte and the packed pixels each) the image needs."""

    def rows(columns: int, count: int) -> int:
        return count * (1 + (columns * bits + 7) // 8) if columns and count else 0

    if not interlaced:
        return rows(width, height)
    return sum(
        rows(max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy)))
        for x0, y0, dx, dy in _ADAM7
    )


def _inflated_size(parts: list[memoryview], needed: int) -> int:
    """How many bytes the zlib stream in ``parts`` inflates to, counting no further than
    ``needed``; :data:`imgsvc.imaging.pngrows.ZlibError` for data that is not a zlib stream."""
    from zlib_ng import zlib_ng

    inflater = zlib_ng.decompressobj()
    total = 0
    for part in parts:
        pending: bytes | memoryview = part
        while pending and total < needed and not inflater.eof:
            total += len(inflater.decompress(pending, _INFLATE_STEP))
            pending = inflater.unconsumed_tail
        if total >= needed or inflater.eof:
            break
    return total
