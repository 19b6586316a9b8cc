"""How little memory libwebp can encode an RGBA rendition in, with every setting it has.

The resizer's PNG -> 1024 WebP case peaks at about 0.85x of naive's memory, where the target is
0.25x, and libwebp alone on the rendition's pixels needs about as much (``bench resize``'s
"encoder" column). Pillow exposes only some of libwebp's settings, so this section calls the
libwebp that Pillow's wheel bundles through ctypes, with the settings Pillow leaves out:
``low_memory``, the alpha filter, the alpha coder's effort (libwebp ties it to ``method``) and
uncompressed alpha. Each row is the peak RSS growth, in a fresh process, of importing the
rendition's RGBA pixels (already in memory, not counted) into a YUVA picture and encoding it,
against the budget that 0.25x of naive's peak allows for the whole rendition.

Skipped where Pillow's libwebp cannot be found (a Pillow built against a system libwebp).
"""

from __future__ import annotations

import ctypes
import glob
import io
import os
from functools import cache
from typing import Any

from bench.common import MB, peak_memory, print_table
from bench.resize import inputs, naive, naive_pixels, warm_up
from imgsvc import renditions

TARGET = 1024
BUDGET = 0.25  # of naive's peak (issue #4)

# The settings tried, named as libwebp names them; quality 80 and the rest are libwebp's defaults.
SETTINGS: tuple[tuple[str, dict[str, int]], ...] = (
    ("method 4 (what Pillow and we use)", {}),
    ("method 4, low_memory", {"low_memory": 1}),
    ("method 4, low_memory, alpha_filtering 0", {"low_memory": 1, "alpha_filtering": 0}),
    ("method 2, low_memory", {"method": 2, "low_memory": 1}),
    ("method 0, low_memory", {"method": 0, "low_memory": 1}),
    (
        "method 0, low_memory, alpha_filtering 0",
        {"method": 0, "low_memory": 1, "alpha_filtering": 0},
    ),
    ("method 4, alpha_compression 0 (raw alpha)", {"alpha_compression": 0}),
)

_ABI = 0x0200  # libwebp checks the major byte only


class _Config(ctypes.Structure):
    """``struct WebPConfig`` (libwebp/src/webp/encode.h)."""

    _fields_ = [
        (name, ctypes.c_float if name in ("quality", "target_PSNR") else ctypes.c_int)
        for name in [
            "lossless",
            "quality",
            "method",
            "image_hint",
            "target_size",
            "target_PSNR",
            "segments",
            "sns_strength",
            "filter_strength",
            "filter_sharpness",
            "filter_type",
            "autofilter",
            "alpha_compression",
            "alpha_filtering",
            "alpha_quality",
            "pass",
            "show_compressed",
            "preprocessing",
            "partitions",
            "partition_limit",
            "emulate_jpeg_size",
            "thread_level",
            "low_memory",
            "near_lossless",
            "exact",
            "use_delta_palette",
            "use_sharp_yuv",
            "qmin",
            "qmax",
        ]
    ]


class _Picture(ctypes.Structure):
    """``struct WebPPicture`` (libwebp/src/webp/encode.h), padding included."""

    _fields_ = [
        ("use_argb", ctypes.c_int),
        ("colorspace", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("y", ctypes.c_void_p),
        ("u", ctypes.c_void_p),
        ("v", ctypes.c_void_p),
        ("y_stride", ctypes.c_int),
        ("uv_stride", ctypes.c_int),
        ("a", ctypes.c_void_p),
        ("a_stride", ctypes.c_int),
        ("pad1", ctypes.c_uint32 * 2),
        ("argb", ctypes.c_void_p),
        ("argb_stride", ctypes.c_int),
        ("pad2", ctypes.c_uint32 * 3),
        ("writer", ctypes.c_void_p),
        ("custom_ptr", ctypes.c_void_p),
        ("extra_info_type", ctypes.c_int),
        ("extra_info", ctypes.c_void_p),
        ("stats", ctypes.c_void_p),
        ("error_code", ctypes.c_int),
        ("progress_hook", ctypes.c_void_p),
        ("user_data", ctypes.c_void_p),
        ("pad3", ctypes.c_uint32 * 3),
        ("pad4", ctypes.c_void_p),
        ("pad5", ctypes.c_void_p),
        ("pad6", ctypes.c_uint32 * 8),
        ("memory_", ctypes.c_void_p),
        ("memory_argb_", ctypes.c_void_p),
        ("pad7", ctypes.c_void_p * 2),
    ]


_Writer = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t, ctypes.c_void_p
)


@cache
def _libwebp() -> Any:
    """Pillow's own libwebp (its manylinux wheel bundles it in ``pillow.libs``), or None."""
    import PIL
    from PIL import features

    if not features.check("webp"):
        return None
    bundled = os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs")
    found = sorted(glob.glob(os.path.join(bundled, "libwebp-*.so*")))
    return ctypes.CDLL(found[0]) if found else None


def encode(pixels: bytes, size: tuple[int, int], settings: dict[str, int]) -> bytes:
    """``pixels`` (RGBA) as a lossy WebP at quality 80 with libwebp's ``settings``."""
    lib = _libwebp()
    config, picture = _Config(), _Picture()
    if not lib.WebPConfigInitInternal(ctypes.byref(config), 0, ctypes.c_float(80), _ABI):
        raise RuntimeError("libwebp refused its config (ABI)")
    config.method = 4
    for name, value in settings.items():
        setattr(config, name, value)
    if not lib.WebPValidateConfig(ctypes.byref(config)):
        raise ValueError(f"libwebp rejects {settings}")
    if not lib.WebPPictureInitInternal(ctypes.byref(picture), _ABI):
        raise RuntimeError("libwebp refused its picture (ABI)")
    chunks: list[bytes] = []

    def write(data: Any, length: int, _picture: Any) -> int:
        chunks.append(ctypes.string_at(data, length))
        return 1

    writer = _Writer(write)
    picture.writer = ctypes.cast(writer, ctypes.c_void_p)
    picture.width, picture.height = size
    try:  # use_argb 0: libwebp converts to the YUVA that the lossy coder works on, nothing more
        if not lib.WebPPictureImportRGBA(ctypes.byref(picture), pixels, size[0] * 4):
            raise MemoryError("WebPPictureImportRGBA")
        if not lib.WebPEncode(ctypes.byref(config), ctypes.byref(picture)):
            raise RuntimeError(f"WebPEncode failed with error {picture.error_code}")
    finally:
        lib.WebPPictureFree(ctypes.byref(picture))
    return b"".join(chunks)


def _warm() -> None:
    warm_up()
    encode(bytes(16 * 16 * 4), (16, 16), {})


def run() -> None:
    if _libwebp() is None:
        print("skipped: this Pillow does not bundle libwebp in pillow.libs")
        return
    source = next(item for item in inputs() if item.content_type == "image/png")
    rendition = naive_pixels(source.data, TARGET)
    pixels, size = rendition.convert("RGBA").tobytes(), rendition.size
    naive_peak = peak_memory(naive, source.data, TARGET, "image/webp", warmup=warm_up)
    budget = BUDGET * naive_peak
    pillow = io.BytesIO()
    rendition.save(pillow, "WEBP", quality=renditions.WEBP_QUALITY, method=renditions.WEBP_METHOD)
    if encode(pixels, size, {}) != pillow.getvalue():  # the structs above are libwebp's
        raise RuntimeError("the ctypes binding does not encode as Pillow does: check the structs")
    rows: list[list[object]] = []
    for label, settings in SETTINGS:
        peak = peak_memory(encode, pixels, size, settings, warmup=_warm)
        data = encode(pixels, size, settings)
        rows.append([label, peak / MB, f"{peak / naive_peak:.2f}x", len(data) / 1024])
    print(
        f"{source.name} -> {TARGET} webp: the {size[0]}x{size[1]} RGBA rendition encoded by "
        f"libwebp {_version()} (ctypes), the rendition's pixels not counted. Naive's whole "
        f"pipeline peaks at {naive_peak / MB:.1f} MB; 0.25x of it is {budget / MB:.1f} MB. "
        f"Pillow's file: {len(pillow.getvalue()) / 1024:.1f} KiB."
    )
    print_table(["libwebp settings", "peak MB", "of naive", "KiB"], rows)
    fits = [label for label, mb, _, _ in rows if isinstance(mb, float) and mb * MB <= budget]
    print(f"settings within {BUDGET}x of naive: {', '.join(map(str, fits)) or 'none'}")


def _version() -> str:
    packed = _libwebp().WebPGetEncoderVersion()
    return f"{packed >> 16}.{(packed >> 8) & 0xFF}.{packed & 0xFF}"
