"""The rendition's format: the original's by default, WebP or AVIF when ``Accept`` names them.

WebP (or AVIF, when enabled and Pillow has it) only when the client names it in ``Accept`` with
``q > 0``: wildcards (``image/*``, ``*/*``) never select them, because browsers that cannot
decode WebP send wildcards too. Between WebP and AVIF the higher ``q`` wins, AVIF on a tie. The
choice depends on ``Accept`` alone, so the CDN's edge function can make the same one without
knowing the original's type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

FormatKey = Literal["original", "webp", "avif"]

# Content types of the originals the service accepts, and the Pillow formats they decode as.
ORIGINAL_TYPES: Final = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """The rendition's format: its part of the rendition key and its content type."""

    key: FormatKey
    content_type: str


@cache
def avif_supported() -> bool:
    """True if this Pillow build can encode AVIF (checked once)."""
    from PIL import features

    return bool(features.check("avif"))


# RFC 7231 qvalue: "0" or "1", up to three decimals. The CDN's edge function
# (modules/cdn/functions/rendition-format.js) uses the same grammar and rule.
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")


def _accept_q(accept: str) -> dict[str, float]:
    """``{media range: q}`` from an Accept header. A ``q`` outside RFC 7231's qvalue grammar
    counts as 0 (not acceptable); of repeated ranges the last wins."""
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if "/" not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else 0.0
        ranges[media.lower()] = q
    return ranges


def negotiate(accept: str | None, original_content_type: str, avif_enabled: bool) -> OutputFormat:
    """Choose the rendition format for an ``Accept`` header (see the module docstring)."""
    if original_content_type not in ORIGINAL_TYPES:
        raise ValueError(f"unsupported original content type {original_content_type!r}")
    ranges = _accept_q(accept or "")
    candidates: list[tuple[float, int, OutputFormat]] = []
    if avif_enabled and ranges.get("image/avif", 0.0) > 0 and avif_supported():
        candidates.append((ranges["image/avif"], 2, OutputFormat("avif", "image/avif")))
    if ranges.get("image/webp", 0.0) > 0:
        candidates.append((ranges["image/webp"], 1, OutputFormat("webp", "image/webp")))
    if not candidates:
        return OutputFormat("original", original_content_type)
    return max(candidates, key=lambda candidate: candidate[:2])[2]


def output_format(key: str, original_content_type: str) -> OutputFormat:
    """The :class:`OutputFormat` of a rendition key's format part (``original|webp|avif``)."""
    if original_content_type not in ORIGINAL_TYPES:
        raise ValueError(f"unsupported original content type {original_content_type!r}")
    if key == "original":
        return OutputFormat("original", original_content_type)
    if key == "webp":
        return OutputFormat("webp", "image/webp")
    if key == "avif":
        return OutputFormat("avif", "image/avif")
    raise ValueError(f"unknown rendition format {key!r}; expected original, webp or avif")
