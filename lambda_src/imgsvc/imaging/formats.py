"""What the bytes are: the accepted formats, sniffed from their signatures (never from a header
or a file name)."""

from __future__ import annotations

import io
from typing import Final

# Pillow format name -> the content type we store and serve.
ACCEPTED_FORMATS: Final[dict[str, str]] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
CONTENT_TYPES: Final = frozenset(ACCEPTED_FORMATS.values())
EXTENSIONS: Final[dict[str, str]] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


def sniff(data: bytes) -> str | None:
    """The Pillow format of ``data`` by its signature, for the accepted formats only."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def other_format(data: bytes) -> str | None:
    """The name of an image format we do not accept (for a helpful 415), or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
