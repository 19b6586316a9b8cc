"""Rendition sizes: the ``WxH``, ``Wx``, ``xH`` and ``WxH-cover`` of a rendition URL.

``WxH`` fits inside the box, ``Wx`` / ``xH`` fix one side, ``WxH-cover`` fills the box and crops
the overflow (centred). Each side must be one of the configured sides
(``Config.rendition_sides``). ``X`` and ``-inside`` (the default fit) are accepted too and leading
zeros are ignored; :attr:`Size.canonical` is the one spelling used in keys.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from imgsvc.errors import BadRequest
from imgsvc.renditions.plan import plan

Fit = Literal["inside", "cover"]

MAX_SIZE_TEXT: Final = 32
_SIZE = re.compile(r"(?P<w>[0-9]{1,5})?[xX](?P<h>[0-9]{1,5})?(?:-(?P<fit>[A-Za-z]+))?")


@dataclass(frozen=True, slots=True)
class Size:
    """A requested rendition size: a box (either side may be open) and how to fit into it."""

    width: int | None
    height: int | None
    fit: Fit = "inside"

    def __post_init__(self) -> None:
        if self.width is None and self.height is None:
            raise ValueError("a size needs a width, a height or both")
        if any(side is not None and side <= 0 for side in (self.width, self.height)):
            raise ValueError("size sides must be positive")
        if self.fit == "cover" and (self.width is None or self.height is None):
            raise ValueError("cover needs both a width and a height")

    @property
    def canonical(self) -> str:
        """The one spelling of this size used in keys and URLs, e.g. ``256x``, ``64x64-cover``."""
        text = f"{self.width or ''}x{self.height or ''}"
        return f"{text}-cover" if self.fit == "cover" else text

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The rendition's pixel size for an (upright) image of ``width`` x ``height``."""
        return plan(self, width, height).size


def parse_size(text: str, allowed: Sequence[int]) -> Size:
    """Parse a size from a URL; raise :class:`BadRequest` (``invalid_size``) if not allowed."""
    sides = sorted(set(allowed))
    listed = ", ".join(str(side) for side in sides) or "none configured"
    usage = (
        "use WxH (fit inside), Wx or xH (one side), or WxH-cover (fill and crop), "
        f"where each side is one of: {listed}"
    )
    match = _SIZE.fullmatch(text) if len(text) <= MAX_SIZE_TEXT else None
    if match is None:
        raise BadRequest(
            f"Size {text[:MAX_SIZE_TEXT]!r} is not valid: {usage}.", code="invalid_size"
        )
    width = int(match["w"]) if match["w"] else None
    height = int(match["h"]) if match["h"] else None
    fit = (match["fit"] or "inside").lower()
    if width is None and height is None:
        raise BadRequest(f"Size {text!r} has no width or height: {usage}.", code="invalid_size")
    if fit not in ("inside", "cover"):
        raise BadRequest(
            f"Size {text!r} has an unknown fit {match['fit']!r}: {usage}.", code="invalid_size"
        )
    if fit == "cover" and (width is None or height is None):
        raise BadRequest(
            f"Size {text!r}: -cover needs both a width and a height; {usage}.",
            code="invalid_size",
        )
    for side in (width, height):
        if side is not None and side not in sides:
            raise BadRequest(
                f"Size {text!r} uses {side}, which is not an allowed side: {usage}.",
                code="invalid_size",
            )
    return Size(width, height, "cover" if fit == "cover" else "inside")
