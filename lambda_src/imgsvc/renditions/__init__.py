"""Renditions: parse a size, negotiate the output format, plan, and render resized bytes.

- :mod:`~imgsvc.renditions.sizes`: ``Size`` and :func:`parse_size` (``WxH``, ``Wx``, ``xH``,
  ``WxH-cover``);
- :mod:`~imgsvc.renditions.negotiation`: ``OutputFormat``, :func:`negotiate` (the ``Accept``
  rule the CDN's edge function shares) and :func:`output_format`;
- :mod:`~imgsvc.renditions.plan`: the output size and the region of the picture it shows;
- :mod:`~imgsvc.renditions.encoding`: the encoders and their settings;
- :mod:`~imgsvc.renditions.rendering`: :func:`render`, bytes to bytes.

Decoding, orientation, colour, limits and resampling are the imaging engine's
(:mod:`imgsvc.imaging`). ``bench/resize.py`` measures renditions against libvips and naive
Pillow.
"""

from __future__ import annotations

from imgsvc.renditions.encoding import (
    AVIF_QUALITY,
    AVIF_SPEED,
    JPEG_QUALITY,
    WEBP_METHOD,
    WEBP_QUALITY,
)
from imgsvc.renditions.negotiation import (
    ORIGINAL_TYPES,
    FormatKey,
    OutputFormat,
    avif_supported,
    negotiate,
    output_format,
)
from imgsvc.renditions.rendering import Rendition, render
from imgsvc.renditions.sizes import Fit, Size, parse_size

__all__ = [
    "AVIF_QUALITY",
    "AVIF_SPEED",
    "JPEG_QUALITY",
    "ORIGINAL_TYPES",
    "WEBP_METHOD",
    "WEBP_QUALITY",
    "Fit",
    "FormatKey",
    "OutputFormat",
    "Rendition",
    "Size",
    "avif_supported",
    "negotiate",
    "output_format",
    "parse_size",
    "render",
]
