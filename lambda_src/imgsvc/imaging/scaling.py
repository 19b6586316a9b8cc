"""Bytes to upright sRGB pixels of a region at a size: what renditions and effects both need.

:func:`scaled` opens the image within the limits (:mod:`imgsvc.imaging.source`), asks the
caller's ``target`` for the region of the upright picture and the size to make of it, and
decodes no more than that needs:

- a JPEG is decoded at 1/2, 3/8, 1/4 or 1/8 scale by the decoder itself
  (:mod:`imgsvc.imaging.jpegscale`);
- an 8-bit PNG is decoded band by band, the next band on a second thread while this one is
  resampled (:mod:`imgsvc.imaging.pngrows`), so it never exists whole;
- a still WebP is decoded by libwebp at the size needed (:mod:`imgsvc.webpscale`);
- the rest is decoded whole (the first frame of an animation).

The region is then resampled (bicubic, with Pillow's whole-factor pre-reduction for large
ratios) in bands of bounded memory, and only the small result is turned upright and converted
to sRGB. ``bench/resize.py`` measures all of this against libvips and naive Pillow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from imgsvc.imaging import colour, jpegscale, limits, orientation
from imgsvc.imaging.source import DECODE_ERRORS, open_image

if TYPE_CHECKING:
    from PIL import Image

    from imgsvc.imaging.pngrows import PngRows

# Resampling: Pillow's thumbnail defaults. After the decoder's DCT scaling the filter has less
# than a factor of 2 left to do, where BICUBIC is within 44 dB of LANCZOS at half its cost; for
# larger ratios Pillow first reduces by whole factors, leaving at least REDUCING_GAP to filter.
REDUCING_GAP: Final = 2.0
# How much larger than the output the JPEG decoder's scaled image must stay (1: never smaller).
DRAFT_GAP: Final = 1.0
# Bytes of working memory per band when resampling: bounds the premultiplied-alpha copy and the
# intermediate rows, so peak memory is the decoded image plus the output plus about this much.
BAND_BYTES: Final = 1024 * 1024
# The same for a PNG decoded band by band: its windows, their decoded and premultiplied copies and
# the zlib buffers behind them all scale with it. Measured on bench/resize.py's 3 MP RGBA PNG:
# at half of BAND_BYTES the 1024 px PNG rendition peaks at 5.6 MB instead of 9.2 at the same
# speed; at a quarter, 4.0 MB but 5-14% slower (more bands, each re-reading its margins).
PNG_BAND_BYTES: Final = 512 * 1024


@dataclass(frozen=True, slots=True)
class Target:
    """What to make of the upright picture: ``box`` (left, top, right, bottom, in its pixels)
    resampled to ``size``."""

    size: tuple[int, int]
    box: tuple[float, float, float, float]


def scaled(data: bytes, target: Callable[[int, int], Target], *, max_pixels: int) -> Image.Image:
    """The first frame of ``data``, upright, in sRGB, 8 bits a sample (``L``, ``LA``, ``RGB`` or
    ``RGBA``): the region ``target(width, height)`` of the upright picture, at its size.

    Raises UnprocessableImage: ``corrupt_image``, or a code of :mod:`imgsvc.imaging.limits`.
    """
    from PIL import ImageFile

    from imgsvc import webpscale  # deferred: ctypes and libwebp load on first use
    from imgsvc.imaging import pngrows  # deferred: zlib-ng loads on first use (cold start)

    source = open_image(data, max_pixels)
    image = source.image
    try:
        icc = image.info.get("icc_profile")
        rows = pngrows.open_rows(image, data)
        turn = orientation.of_image(image) if rows is None else orientation.of_exif(rows.exif)
        stored = image.size
        wanted = target(*orientation.upright_size(turn, stored))
        box = orientation.stored_box(turn, wanted.box, stored)
        out_w, out_h = orientation.upright_size(turn, wanted.size)
        crop_w, crop_h = box[2] - box[0], box[3] - box[1]
        decoded = (
            math.ceil(stored[0] * out_w / crop_w * DRAFT_GAP),
            math.ceil(stored[1] * out_h / crop_h * DRAFT_GAP),
        )
        factor = jpegscale.draft(image, decoded)
        if factor is not None:
            box = (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)
            if isinstance(image, ImageFile.ImageFile):  # one call into libjpeg, not one per 64 KiB
                image.decodermaxblock = len(data)
        elif source.fmt == "WEBP" and (smaller := webpscale.draft(data, decoded, box)):
            image, box = smaller  # libwebp scaled while decoding (None: Pillow decodes it whole)
        if rows is not None and is_copy((out_w, out_h), box):
            rows = None  # nothing to resample: the pixels as decoded, not premultiplied
        if rows is not None:
            resized = resample(rows, (out_w, out_h), box)  # a PNG, decoded band by band
        else:
            image = colour.eight_bit(image)  # decodes (the first frame of an animation)
            resized = resample(image, (out_w, out_h), box)
        resized.load()  # a copy at its own size may still be the undecoded image: decode here
        del image, rows  # the decoded pixels are the largest buffer; free them now
        return colour.to_srgb(orientation.transpose(resized, turn), icc)
    except pngrows.CorruptPng as exc:
        raise limits.corrupt(source.fmt, exc) from None
    except DECODE_ERRORS as exc:
        raise limits.corrupt(source.fmt, exc) from None


def is_copy(size: tuple[int, int], box: tuple[float, float, float, float]) -> bool:
    """True if the result is ``box`` cut out at its own size: no resampling."""
    left, top, right, bottom = box
    return (right - left, bottom - top) == size and all(float(e).is_integer() for e in box)


def _windows(
    source: Image.Image | PngRows, spans: Sequence[tuple[int, int]]
) -> Generator[tuple[Image.Image, int], None, None]:
    """For each ``(top, bottom)`` span of rows, an image holding at least those rows of
    ``source`` and the row it starts at (a PNG's next window is decoded while this one is
    resampled)."""
    from PIL import Image

    if isinstance(source, Image.Image):
        return ((source, 0) for _ in spans)
    return source.windows(spans)


def resample(
    source: Image.Image | PngRows, size: tuple[int, int], box: tuple[float, float, float, float]
) -> Image.Image:
    """The ``box`` region of ``source`` resampled to ``size``, in bands of bounded memory.

    ``source`` is a decoded image or a PNG decoded band by band (:class:`PngRows`). Pillow's
    resampler only reads the rows a band needs (and the filter support around them), so bands
    give the same pixels as one call. Images with alpha are premultiplied band by band
    instead of as a whole copy, which is where most of the memory goes for large PNGs.
    """
    from PIL import Image

    out_w, out_h = size
    left, top, right, bottom = box
    width, height = source.size
    if is_copy(size, box):
        if not isinstance(source, Image.Image):
            raise ValueError("a copy needs the rows as decoded: pass the decoded image")
        region = (int(left), int(top), int(right), int(bottom))
        return source if region == (0, 0, width, height) else source.crop(region)
    method = Image.Resampling.BICUBIC
    scale_x, scale_y = (right - left) / out_w, (bottom - top) / out_h
    premultiplied = {"RGBA": "RGBa", "LA": "La"}.get(source.mode)
    budget = BAND_BYTES if isinstance(source, Image.Image) else PNG_BAND_BYTES
    band_rows = max(1, int(budget / (4 * max(width, out_w) * max(scale_y, 1.0))))
    if isinstance(source, Image.Image) and band_rows >= out_h and premultiplied is None:
        return source.resize(size, method, box=box, reducing_gap=REDUCING_GAP)
    # Source pixels around a band that the filter (after any whole-factor reduction) can reach.
    margin_x = math.ceil(4 * max(scale_x, 1.0)) + 2
    margin_y = math.ceil(4 * max(scale_y, 1.0)) + 2
    result = Image.new(source.mode, size)
    bands = []
    for first in range(0, out_h, band_rows):
        last = min(out_h, first + band_rows)
        band = (left, top + first * scale_y, right, top + last * scale_y)
        region = (
            max(0, math.floor(band[0]) - margin_x),
            max(0, math.floor(band[1]) - margin_y),
            min(width, math.ceil(band[2]) + margin_x),
            min(height, math.ceil(band[3]) + margin_y),
        )
        bands.append((first, last, band, region))
    # Closed on the way out, errors included: a PNG's decoding thread stops with the request.
    with closing(_windows(source, [(region[1], region[3]) for *_, region in bands])) as windows:
        for (first, last, band, region), (rows, first_row) in zip(bands, windows, strict=True):
            if rows.mode != source.mode:  # a PNG's rows, premultiplied as they were decoded
                shifted = (band[0], band[1] - first_row, band[2], band[3] - first_row)
                part = rows.resize(
                    (out_w, last - first), method, box=shifted, reducing_gap=REDUCING_GAP
                ).convert(source.mode)
            elif premultiplied is None:
                shifted = (band[0], band[1] - first_row, band[2], band[3] - first_row)
                part = rows.resize(
                    (out_w, last - first), method, box=shifted, reducing_gap=REDUCING_GAP
                )
            else:
                local_region = (region[0], region[1] - first_row, region[2], region[3] - first_row)
                cropped = rows if local_region == (0, 0, *rows.size) else rows.crop(local_region)
                local = (
                    band[0] - region[0],
                    band[1] - region[1],
                    band[2] - region[0],
                    band[3] - region[1],
                )
                part = (
                    cropped.convert(premultiplied)
                    .resize((out_w, last - first), method, box=local, reducing_gap=REDUCING_GAP)
                    .convert(source.mode)
                )
            result.paste(part, (0, first))
    return result
