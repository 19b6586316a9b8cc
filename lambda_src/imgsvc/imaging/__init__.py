"""The imaging engine: everything about turning bytes into pixels, in one place.

Every part of the service that reads an image calls this package; nothing else opens one with
Pillow. Its modules, in the order bytes go through them:

- :mod:`~imgsvc.imaging.formats`: what the bytes are (sniffed from the signature, never trusted
  from a header), the accepted formats and their content types;
- :mod:`~imgsvc.imaging.structure`: a pre-parse that counts what decoding will cost (frames,
  progressive scans, chunks) before any pixel is decoded;
- :mod:`~imgsvc.imaging.limits`: the bounds on that cost (pixels, frames, scans, pieces, bytes
  of memory), each with its one error code;
- :mod:`~imgsvc.imaging.source`: opening an image within those bounds;
- :mod:`~imgsvc.imaging.orientation`: EXIF orientation;
- :mod:`~imgsvc.imaging.colour`: 16-bit, palette and alpha to 8 bits; ICC profiles (RGB, CMYK,
  grey) to sRGB;
- :mod:`~imgsvc.imaging.jpegscale` and :mod:`~imgsvc.imaging.pngrows`: decoding no more than a
  result needs (DCT scaling; a PNG band by band), on a Pillow they were tested with
  (:mod:`~imgsvc.imaging.pillow`);
- :mod:`~imgsvc.imaging.scaling`: a region of the upright picture at a size (renditions,
  effects);
- :mod:`~imgsvc.imaging.inspection`: proving an upload whole and reporting its facts.

Pillow and zlib-ng are imported on first use, never at import (cold start).
"""

from __future__ import annotations

from imgsvc.imaging.formats import ACCEPTED_FORMATS, CONTENT_TYPES, EXTENSIONS, sniff
from imgsvc.imaging.inspection import ImageInfo, inspect
from imgsvc.imaging.limits import MAX_FRAMES
from imgsvc.imaging.scaling import Target, scaled

__all__ = [
    "ACCEPTED_FORMATS",
    "CONTENT_TYPES",
    "EXTENSIONS",
    "MAX_FRAMES",
    "ImageInfo",
    "Target",
    "inspect",
    "scaled",
    "sniff",
]
