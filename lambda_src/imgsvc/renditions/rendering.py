"""Rendering: original bytes in, rendition bytes out. The pixels come from the imaging engine
(:func:`imgsvc.imaging.scaled`: upright, sRGB, the first frame of an animation, decoded no larger
than needed), the region and size from :mod:`~imgsvc.renditions.plan`, the bytes from
:mod:`~imgsvc.renditions.encoding`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from imgsvc import imaging
from imgsvc.config import DEFAULT_MAX_PIXELS
from imgsvc.renditions import negotiation
from imgsvc.renditions.encoding import ENCODERS, encode
from imgsvc.renditions.negotiation import OutputFormat
from imgsvc.renditions.plan import plan
from imgsvc.renditions.sizes import Size


@dataclass(frozen=True, slots=True)
class Rendition:
    """Encoded rendition bytes and what they are."""

    data: bytes
    content_type: str
    width: int
    height: int


def render(
    data: bytes, size: Size, fmt: OutputFormat, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Rendition:
    """Decode ``data``, resize it to ``size`` upright in sRGB, and encode it as ``fmt``.

    Raises :class:`~imgsvc.errors.UnprocessableImage` with code ``corrupt_image`` if ``data`` is
    not a decodable JPEG, PNG, GIF or WebP, or one of the engine's limit codes
    (:mod:`imgsvc.imaging.limits`: ``too_many_pixels``, ...), checked before decoding.
    """
    if fmt.content_type not in ENCODERS:
        raise ValueError(f"cannot encode {fmt.content_type!r}")
    if fmt.content_type == "image/avif" and not negotiation.avif_supported():
        raise ValueError("this Pillow build cannot encode AVIF; do not negotiate it")
    pixels = imaging.scaled(data, partial(plan, size), max_pixels=max_pixels)
    width, height = pixels.size
    return Rendition(encode(pixels, fmt.content_type), fmt.content_type, width, height)
