"""Let the JPEG decoder scale down while it decodes (DCT scaling), so a 12 MP photo never exists
at full size in memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imgsvc.imaging import pillow

if TYPE_CHECKING:
    from PIL import Image


def draft(image: Image.Image, wanted: tuple[int, int]) -> float | None:
    """Make the JPEG decoder scale ``image`` down while decoding, as far as it can while the
    result stays at least ``wanted``; return the scale (None: decoded at full size, or not a
    JPEG).

    Pillow's ``draft`` offers 1/2, 1/4 and 1/8. libjpeg-turbo also decodes at 3/8 (asked for
    1/3, it rounds up to the next eighth it has), which sits between 1/4 and 1/2: a 12 MP
    photo for a 1024 px rendition decodes to 1500 px instead of 2000, with a smaller resample
    after it. Pillow's image size must then be the decoder's, ``ceil(side * 3 / 8)``. That
    reaches into Pillow's internals, so it is done only on a Pillow it was tested with
    (:mod:`imgsvc.imaging.pillow`); elsewhere the decode stays at 1/2.
    """
    from PIL import JpegImagePlugin

    stored_w, stored_h = image.size
    drafted = image.draft(None, wanted)
    if drafted is None:
        return None
    scale = stored_w / drafted[1][2]
    three_eighths = (-(-stored_w * 3 // 8), -(-stored_h * 3 // 8))
    if (
        scale == 2
        and pillow.internals_tested()
        and isinstance(image, JpegImagePlugin.JpegImageFile)
        and image.decoderconfig == (2, 0)
        and len(image.tile) == 1
        and three_eighths[0] >= wanted[0]
        and three_eighths[1] >= wanted[1]
    ):
        tile = image.tile[0]
        image.decoderconfig = (3, 0)
        image._size = three_eighths
        image.tile = [tile._replace(extents=(0, 0, *three_eighths))]
        return 3 / 8
    return 1 / scale
