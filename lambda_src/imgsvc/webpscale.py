"""Decode a still WebP straight to a smaller size, with libwebp's own scaler.

libwebp can scale while it decodes (``WebPDecoderOptions.use_scaling``): a lossy picture is
decoded a row of macroblocks at a time and each row goes through the scaler, so the picture
never exists at full size in RGB(A), and the colour conversion runs on the small result. libvips
loads WebP this way for its thumbnails. Pillow does not expose the option, so this module calls
the libwebp that Pillow's wheel bundles (``pillow.libs/libwebp-*.so*``) through ctypes, as
``bench/webp_alpha.py`` does for the encoder.

Everything here is an optimisation with a fallback: :func:`decode` returns ``None`` (the caller
then decodes with Pillow as before) when the library or a symbol is missing, when Pillow is not
a version this was tested with (:data:`TESTED_PILLOW_MAJORS`: a Pillow upgrade may bundle a
libwebp whose structs differ), when libwebp refuses the ABI version, for an animation, for
anything libwebp cannot decode, and when there is nothing to scale. A Pillow upgrade costs speed,
never correctness. ``tests/unit/test_webpscale.py`` checks the pixels against Pillow's decode on
lossy, lossless and alpha WebPs, and each fallback.

The structs are libwebp's ``src/webp/decode.h`` (decoder ABI 0x0209, libwebp 1.x).
"""

from __future__ import annotations

import ctypes
import glob
import math
import os
from functools import cache
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from PIL import Image

# Pillow majors whose bundled libwebp (1.4 to 1.6) was checked against the structs below by
# tests/unit/test_webpscale.py. Widen after running it on a new Pillow.
TESTED_PILLOW_MAJORS: Final = frozenset({11, 12, 13})
# WEBP_DECODER_ABI_VERSION; libwebp only compares the major byte (WEBP_ABI_IS_INCOMPATIBLE).
_DECODER_ABI: Final = 0x0209
# WEBP_CSP_MODE values (decode.h).
_MODE_RGB: Final = 0
_MODE_RGBA: Final = 1
_VP8_STATUS_OK: Final = 0


class _Features(ctypes.Structure):
    """``WebPBitstreamFeatures``."""

    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("has_alpha", ctypes.c_int),
        ("has_animation", ctypes.c_int),
        ("format", ctypes.c_int),
        ("pad", ctypes.c_uint32 * 5),
    ]


class _RGBABuffer(ctypes.Structure):
    """``WebPRGBABuffer``."""

    _fields_ = [
        ("rgba", ctypes.c_void_p),
        ("stride", ctypes.c_int),
        ("size", ctypes.c_size_t),
    ]


class _YUVABuffer(ctypes.Structure):
    """``WebPYUVABuffer`` (only its size matters here: it is the larger member of the union)."""

    _fields_ = [
        *((name, ctypes.c_void_p) for name in ("y", "u", "v", "a")),
        *((name, ctypes.c_int) for name in ("y_stride", "u_stride", "v_stride", "a_stride")),
        *((name, ctypes.c_size_t) for name in ("y_size", "u_size", "v_size", "a_size")),
    ]


class _BufferUnion(ctypes.Union):
    _fields_ = [("RGBA", _RGBABuffer), ("YUVA", _YUVABuffer)]


class _DecBuffer(ctypes.Structure):
    """``WebPDecBuffer``."""

    _fields_ = [
        ("colorspace", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("is_external_memory", ctypes.c_int),
        ("u", _BufferUnion),
        ("pad", ctypes.c_uint32 * 4),
        ("private_memory", ctypes.c_void_p),
    ]


class _Options(ctypes.Structure):
    """``WebPDecoderOptions``."""

    _fields_ = [
        (name, ctypes.c_int)
        for name in (
            "bypass_filtering",
            "no_fancy_upsampling",
            "use_cropping",
            "crop_left",
            "crop_top",
            "crop_width",
            "crop_height",
            "use_scaling",
            "scaled_width",
            "scaled_height",
            "use_threads",
            "dithering_strength",
            "flip",
            "alpha_dithering_strength",
        )
    ] + [("pad", ctypes.c_uint32 * 5)]


class _Config(ctypes.Structure):
    """``WebPDecoderConfig``."""

    _fields_ = [("input", _Features), ("output", _DecBuffer), ("options", _Options)]


_SYMBOLS: Final = ("WebPInitDecoderConfigInternal", "WebPGetFeaturesInternal", "WebPDecode")


def _pillow_tested() -> bool:
    import PIL

    major = str(PIL.__version__).split(".", 1)[0]
    return major.isdigit() and int(major) in TESTED_PILLOW_MAJORS


def _bundled_libwebp() -> str | None:
    """The path of the libwebp in Pillow's wheel (``pillow.libs``), or None."""
    import PIL

    folder = os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs")
    found = sorted(glob.glob(os.path.join(folder, "libwebp-*.so*")))
    return found[0] if found else None


@cache
def _library() -> Any:
    """Pillow's bundled libwebp with the decoder's symbols typed, or None (use Pillow)."""
    if not _pillow_tested():
        return None
    path = _bundled_libwebp()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        init, features, decode = (getattr(lib, name) for name in _SYMBOLS)
    except (OSError, AttributeError):
        return None
    init.argtypes = [ctypes.POINTER(_Config), ctypes.c_int]
    init.restype = ctypes.c_int
    features.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.POINTER(_Features),
        ctypes.c_int,
    ]
    features.restype = ctypes.c_int
    decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_Config)]
    decode.restype = ctypes.c_int
    return lib


def available() -> bool:
    """Whether :func:`decode` can scale at all here (else it always returns None)."""
    return _library() is not None


def scaled_size(stored: tuple[int, int], wanted: tuple[int, int]) -> tuple[int, int] | None:
    """The size to decode a ``stored``-size picture at so that it covers ``wanted`` on both
    axes with the picture's proportions kept, or None if that is not smaller than ``stored``."""
    width, height = stored
    factor = max(wanted[0] / width, wanted[1] / height)
    if factor >= 1:
        return None
    size = (max(1, math.ceil(width * factor)), max(1, math.ceil(height * factor)))
    return None if size == stored else size


def decode(data: bytes, wanted: tuple[int, int]) -> Image.Image | None:
    """The still WebP ``data`` decoded by libwebp at the smallest size that covers ``wanted``
    (:func:`scaled_size`), ``RGBA`` if it has alpha else ``RGB`` (the modes Pillow opens WebP
    in); None whenever this path does not apply (see the module's docstring): decode with
    Pillow then, which also reports what is wrong with a corrupt file."""
    decoded = _decode(data, wanted)
    return None if decoded is None else decoded[0]


Box = tuple[float, float, float, float]


def draft(data: bytes, wanted: tuple[int, int], box: Box) -> tuple[Image.Image, Box] | None:
    """:func:`decode`, with ``box`` (a region in the stored picture's pixels) mapped onto the
    smaller picture: what the imaging engine needs to resample the region from it. None: decode
    with Pillow."""
    decoded = _decode(data, wanted)
    if decoded is None:
        return None
    image, (width, height) = decoded
    scale_x, scale_y = image.width / width, image.height / height
    left, top, right, bottom = box
    return image, (left * scale_x, top * scale_y, right * scale_x, bottom * scale_y)


def _decode(data: bytes, wanted: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]] | None:
    """The scaled picture and the stored picture's size, or None."""
    lib = _library()
    if lib is None:
        return None
    config = _Config()
    if not lib.WebPInitDecoderConfigInternal(ctypes.byref(config), _DECODER_ABI):
        return None  # this libwebp's decoder ABI is not the one the structs describe
    status = lib.WebPGetFeaturesInternal(data, len(data), ctypes.byref(config.input), _DECODER_ABI)
    if status != _VP8_STATUS_OK or config.input.has_animation:
        return None
    stored = (config.input.width, config.input.height)
    size = scaled_size(stored, wanted)
    if size is None:
        return None
    alpha = bool(config.input.has_alpha)
    mode, channels = ("RGBA", 4) if alpha else ("RGB", 3)
    stride = size[0] * channels
    pixels = bytearray(stride * size[1])
    output = config.output
    output.colorspace = _MODE_RGBA if alpha else _MODE_RGB
    output.is_external_memory = 1  # libwebp writes into ``pixels``, which Python owns
    output.u.RGBA.rgba = ctypes.addressof((ctypes.c_char * len(pixels)).from_buffer(pixels))
    output.u.RGBA.stride = stride
    output.u.RGBA.size = len(pixels)
    config.options.use_scaling = 1
    # A lossy picture's loop filter on a second thread, as libvips' WebP loader asks for too
    # (libvips/foreign/webp2vips.c sets use_threads = 1); lossless decoding ignores it.
    config.options.use_threads = 1
    config.options.scaled_width, config.options.scaled_height = size
    if lib.WebPDecode(data, len(data), ctypes.byref(config)) != _VP8_STATUS_OK:
        return None
    if (output.width, output.height) != size:  # pragma: no cover - libwebp keeps the size asked
        return None
    from PIL import Image

    # Shares ``pixels`` (read-only; Pillow keeps the buffer alive): no second copy.
    return Image.frombuffer(mode, size, pixels, "raw", mode, stride, 1), stored
