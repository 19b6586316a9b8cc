"""Pixel formats and colour: every decoded mode to 8 bits a sample, alpha kept; embedded ICC
profiles (RGB, CMYK, grey) to sRGB, what browsers assume for an untagged image."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from PIL import Image

# 16-bit samples to 8 bits: 65535 / 257 = 255 exactly, so white stays white and every 8-bit
# value v stored as v * 257 (how 8-bit images are widened) comes back as v.
SIXTEEN_TO_EIGHT: Final = 257
# Colour spaces of a profile and the image modes they apply to, with the mode they give.
_TRANSFORMS: Final = {
    ("RGB", "RGB"): "RGB",
    ("RGB", "RGBA"): "RGBA",
    ("CMYK", "CMYK"): "RGB",
    ("GRAY", "L"): "RGB",
}


def eight_bit(image: Image.Image) -> Image.Image:
    """The decoded image in a mode Pillow resamples well: ``L``, ``LA``, ``RGB``, ``RGBA`` or
    ``CMYK`` (8 bits a sample), with alpha where the image has any transparency (palette
    ``tRNS``, a colour-key value, an alpha channel)."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        if mode in ("RGB", "L") and "transparency" in image.info:
            return image.convert("RGBA" if mode == "RGB" else "LA")
        return image
    if mode in ("P", "PA"):
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I;16") or mode == "I":
        grey = image.point(lambda value: value / SIXTEEN_TO_EIGHT).convert("L")
        transparent = image.info.get("transparency")
        if isinstance(transparent, int):  # a 16-bit grey PNG's tRNS value: matched at 16 bits
            from PIL import ImageMath

            opaque = ImageMath.lambda_eval(
                lambda args: (args["image"] != transparent) * 255, image=image.convert("I")
            )
            grey.putalpha(opaque.convert("L"))
        return grey
    if mode == "La":
        return image.convert("LA")
    if mode == "RGBa":
        return image.convert("RGBA")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


@lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str) -> Any:
    """A cached LittleCMS transform from ``icc`` to sRGB (None if it is sRGB or unusable)."""
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = source.profile.xcolor_space.strip()
        out_mode = _TRANSFORMS.get((space, mode))
        if out_mode is None:
            return None
        if space == "RGB" and "srgb" in ImageCms.getProfileDescription(source).lower():
            return None
        return ImageCms.buildTransform(
            source,
            ImageCms.createProfile("sRGB"),
            mode,
            out_mode,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken profile is no reason to refuse the picture


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` (8-bit, from :func:`eight_bit`) in sRGB by its embedded profile ``icc``; CMYK
    without a usable profile converts plainly. Other modes are returned as they are."""
    transform = _srgb_transform(icc, image.mode) if icc else None
    if transform is not None:
        from PIL import ImageCms

        try:
            converted = ImageCms.applyTransform(image, transform)
        except ImageCms.PyCMSError:
            converted = None
        if converted is not None:
            return converted
    return image.convert("RGB") if image.mode == "CMYK" else image
