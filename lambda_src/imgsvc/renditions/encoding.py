"""Encoding a rendition: JPEG, PNG, GIF, WebP or AVIF bytes of upright sRGB pixels, with no
metadata (EXIF, XMP, ICC, comments), alpha kept where the format has it (PNG, WebP, AVIF, GIF's
transparent index) and flattened onto white for JPEG."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Final

from imgsvc.renditions.negotiation import ORIGINAL_TYPES

if TYPE_CHECKING:
    from PIL import Image

ENCODERS: Final = {**ORIGINAL_TYPES, "image/avif": "AVIF"}

# Encoder settings, measured with `python -m bench resize` (its last table). WebP (and AVIF)
# is what browsers get, so its bytes count on every view: libwebp's default method 4. JPEG and
# PNG serve the few clients without WebP, so they favour latency: optimized Huffman tables but
# no progressive scans (3% smaller for 2-3x the encode time), and PNG at zlib-ng level 2 on
# every core (imgsvc.pngsave; levels 3 to 6 make photos 5-9% smaller for 1.2-4x the time). AVIF
# at speed 8 is about a third smaller than WebP for 1.5x its time; speed 6 is 3x slower still.
JPEG_QUALITY: Final = 82
WEBP_QUALITY: Final = 80
WEBP_METHOD: Final = 4
AVIF_QUALITY: Final = 60
AVIF_SPEED: Final = 8


def flatten(image: Image.Image, mode: str) -> Image.Image:
    """Composite an image with alpha onto white (for formats without alpha)."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA"):
        return image.convert(mode) if image.mode != mode else image
    background = Image.new(image.mode, image.size, (255, 255, 255, 255)[: len(image.mode)])
    background.alpha_composite(image)
    return background.convert(mode)


def encode(image: Image.Image, content_type: str) -> bytes:
    """``image`` (L, LA, RGB or RGBA) as ``content_type`` bytes."""
    from PIL import Image

    image.info = {}  # resampled images inherit the source's info: EXIF, XMP, ICC, comments
    out = io.BytesIO()
    fmt = ENCODERS[content_type]
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = flatten(image, "L" if image.mode == "LA" else "RGB")
        image.save(out, fmt, quality=JPEG_QUALITY, optimize=True)
    elif fmt == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(out, fmt, quality=WEBP_QUALITY, method=WEBP_METHOD)
    elif fmt == "AVIF":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(out, fmt, quality=AVIF_QUALITY, speed=AVIF_SPEED)
    elif fmt == "PNG":
        from imgsvc import pngsave  # Up-filtered, deflated by zlib-ng in strips on every core

        return pngsave.encode(image)
    else:  # GIF: an adaptive palette, the transparent index where alpha is below half
        alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
        paletted = image.convert("RGB").quantize(255 if alpha else 256, Image.Quantize.MEDIANCUT)
        if alpha is not None:
            paletted.paste(255, mask=alpha.point(lambda value: 255 if value < 128 else 0))
            paletted.save(out, fmt, transparency=255, optimize=False)
        else:
            paletted.save(out, fmt, optimize=False)
    return out.getvalue()
