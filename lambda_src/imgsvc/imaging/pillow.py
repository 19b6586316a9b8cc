"""Which Pillow this is, for the code that relies on its internals.

Two speed-ups use more of Pillow than its documented API: the JPEG decoder's 3/8 scale
(:mod:`imgsvc.imaging.jpegscale` sets ``decoderconfig``, ``_size`` and ``tile``) and the PNG
decoded band by band (:mod:`imgsvc.imaging.pngrows` reads ``tile``'s fields). Each runs only on a
Pillow whose major version was tested with them (the pin in constraints.txt); on any other one
they step aside and the documented path decodes instead: an upgrade costs speed, never
correctness. Widen :data:`TESTED_MAJORS` after running ``tests/unit/test_jpegscale.py`` and
``tests/unit/test_pngrows.py`` on the new version.
"""

from __future__ import annotations

from typing import Final

# Pillow 11 made ``ImageFile.tile`` entries named tuples (``codec_name``, ``extents``, ...).
TESTED_MAJORS: Final = frozenset({11, 12, 13})


def version() -> str:
    import PIL

    return str(PIL.__version__)


def internals_tested() -> bool:
    """Whether this Pillow's major version is one the internals-dependent code was tested on."""
    major = version().split(".", 1)[0]
    return major.isdigit() and int(major) in TESTED_MAJORS
