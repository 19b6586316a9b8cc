"""The plan of a rendition: for a :class:`~imgsvc.renditions.sizes.Size` and an upright image,
the output's pixel size and the centred region of the picture it shows.

Renditions never upscale: a box larger than the image gives the image at its own size, and
``-cover`` gives the largest centred crop of the box's aspect ratio at the original scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imgsvc.imaging import Target

if TYPE_CHECKING:
    from imgsvc.renditions.sizes import Size


def plan(size: Size, width: int, height: int) -> Target:
    """The output size and the centred region of a ``width`` x ``height`` upright picture."""
    (out_w, out_h), (crop_w, crop_h) = _sizes(size, width, height)
    box = (
        (width - crop_w) / 2,
        (height - crop_h) / 2,
        (width + crop_w) / 2,
        (height + crop_h) / 2,
    )
    return Target((out_w, out_h), box)


def _sizes(size: Size, width: int, height: int) -> tuple[tuple[int, int], tuple[float, float]]:
    """``((out_w, out_h), (crop_w, crop_h))``: the output size and the centred source region."""
    if size.fit == "cover" and size.width is not None and size.height is not None:
        scale = max(size.width / width, size.height / height)
        if scale <= 1.0:
            return (size.width, size.height), (size.width / scale, size.height / scale)
        # Too small to fill the box without upscaling: the box's aspect ratio, at scale 1.
        shrink = min(width / size.width, height / size.height)
        out = (
            min(width, max(1, round(size.width * shrink))),
            min(height, max(1, round(size.height * shrink))),
        )
        return out, (float(out[0]), float(out[1]))
    scales = []
    if size.width is not None:
        scales.append(size.width / width)
    if size.height is not None:
        scales.append(size.height / height)
    scale = min(*scales, 1.0)
    out = (
        min(width, max(1, round(width * scale))),
        min(height, max(1, round(height * scale))),
    )
    if size.width is not None and scale == size.width / width:
        out = (size.width, out[1])
    if size.height is not None and scale == size.height / height:
        out = (out[0], size.height)
    return out, (float(width), float(height))
