"""Renditions: parse a size, negotiate the output format, render resized bytes. Pure Pillow code.

Sizes (``Size``, :func:`parse_size`)
    ``WxH`` fits inside the box, ``Wx`` / ``xH`` fix one side, ``WxH-cover`` fills the box and
    crops the overflow (centred). Each side must be one of the configured sides
    (``Config.rendition_sides``). ``X`` and ``-inside`` (the default fit) are accepted too and
    leading zeros are ignored; :attr:`Size.canonical` is the one spelling used in keys.
    Renditions never upscale: a box larger than the image gives the image at its own size, and
    ``-cover`` gives the largest centred crop of the box's aspect ratio at the original scale.

Formats (``OutputFormat``, :func:`negotiate`)
    The original's format by default. WebP (or AVIF, when enabled and Pillow has it) only when
    the client names it in ``Accept`` with ``q > 0``: wildcards (``image/*``, ``*/*``) never
    select them, because browsers that cannot decode WebP send wildcards too. Between WebP and
    AVIF the higher ``q`` wins, AVIF on a tie. The choice depends on ``Accept`` alone, so the
    CDN's edge function can make the same one without knowing the original's type.

Pixels (:func:`render`)
    EXIF orientation is applied; embedded ICC profiles are converted to sRGB and dropped (what
    browsers assume for untagged images); all metadata (EXIF, XMP, ICC, comments) is stripped;
    alpha is kept where the output format has it (PNG, WebP, AVIF, GIF's transparent index) and
    flattened onto white for JPEG. CMYK, palette (with transparency), grayscale and 16-bit
    inputs are converted. Animated GIF/WebP inputs give a still of the first frame in every
    format: one frame bounds each request's time and memory, and animation is the job of the
    GIF effects.

Speed and memory: JPEG is decoded at 1/2, 3/8, 1/4 or 1/8 scale by the decoder itself
(:func:`_draft`), so a 12 MP photo never exists at full size in memory; what is left is a
bicubic resample of a region (``resize(box=...)``, with Pillow's whole-factor pre-reduction for
large ratios), done in bands of bounded memory. A PNG cannot be decoded at a smaller scale, but
it need not exist whole either: :mod:`imgsvc.pngrows` decodes it band by band, the next band on a
second thread while the resampler reads this one. Orientation and colour conversion are applied to
the small result, and PNG output is encoded on every core by :mod:`imgsvc.pngsave`.
``bench/resize.py`` measures all of this against libvips and naive Pillow.
"""

from __future__ import annotations

import io
import math
import re
import struct
from collections.abc import Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal

from imgsvc.errors import BadRequest, UnprocessableImage

if TYPE_CHECKING:
    from PIL import Image

    from imgsvc.pngrows import PngRows

Fit = Literal["inside", "cover"]
FormatKey = Literal["original", "webp", "avif"]

# Content types of the originals the service accepts, and the Pillow formats they decode as.
ORIGINAL_TYPES: Final = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
_DECODERS: Final = tuple(ORIGINAL_TYPES.values())
_ENCODERS: Final = {**ORIGINAL_TYPES, "image/avif": "AVIF"}

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
# Resampling: Pillow's thumbnail defaults. After the decoder's DCT scaling the filter has less
# than a factor of 2 left to do, where BICUBIC is within 44 dB of LANCZOS at half its cost; for
# larger ratios Pillow first reduces by whole factors, leaving at least REDUCING_GAP to filter.
REDUCING_GAP: Final = 2.0
# How much larger than the output the JPEG decoder's scaled image must stay (1: never smaller).
DRAFT_GAP: Final = 1.0
# Bytes of working memory per band when resampling: bounds the premultiplied-alpha copy and the
# intermediate rows, so peak memory is the decoded image plus the output plus about this much.
BAND_BYTES: Final = 1024 * 1024
# The same for a PNG decoded band by band: its windows, their decoded and premultiplied copies and
# the zlib buffers behind them all scale with it. Measured on bench/resize.py's 3 MP RGBA PNG:
# at half of BAND_BYTES the 1024 px PNG rendition peaks at 5.6 MB instead of 9.2 at the same
# speed; at a quarter, 4.0 MB but 5-14% slower (more bands, each re-reading its margins).
PNG_BAND_BYTES: Final = 512 * 1024

MAX_SIZE_TEXT: Final = 32
_SIZE = re.compile(r"(?P<w>[0-9]{1,5})?[xX](?P<h>[0-9]{1,5})?(?:-(?P<fit>[A-Za-z]+))?")
_EXIF_ORIENTATION: Final = 0x0112


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
        return _plan(self, width, height)[0]


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """The rendition's format: its part of the rendition key and its content type."""

    key: FormatKey
    content_type: str


@dataclass(frozen=True, slots=True)
class Rendition:
    """Encoded rendition bytes and what they are."""

    data: bytes
    content_type: str
    width: int
    height: int


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


@cache
def avif_supported() -> bool:
    """True if this Pillow build can encode AVIF (checked once)."""
    from PIL import features

    return bool(features.check("avif"))


# RFC 7231 qvalue: "0" or "1", up to three decimals. The CDN's edge function
# (modules/cdn/functions/rendition-format.js) uses the same grammar and rule.
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")


def _accept_q(accept: str) -> dict[str, float]:
    """``{media range: q}`` from an Accept header. A ``q`` outside RFC 7231's qvalue grammar
    counts as 0 (not acceptable); of repeated ranges the last wins."""
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if "/" not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else 0.0
        ranges[media.lower()] = q
    return ranges


def negotiate(accept: str | None, original_content_type: str, avif_enabled: bool) -> OutputFormat:
    """Choose the rendition format for an ``Accept`` header (see the module docstring)."""
    if original_content_type not in ORIGINAL_TYPES:
        raise ValueError(f"unsupported original content type {original_content_type!r}")
    ranges = _accept_q(accept or "")
    candidates: list[tuple[float, int, OutputFormat]] = []
    if avif_enabled and ranges.get("image/avif", 0.0) > 0 and avif_supported():
        candidates.append((ranges["image/avif"], 2, OutputFormat("avif", "image/avif")))
    if ranges.get("image/webp", 0.0) > 0:
        candidates.append((ranges["image/webp"], 1, OutputFormat("webp", "image/webp")))
    if not candidates:
        return OutputFormat("original", original_content_type)
    return max(candidates, key=lambda candidate: candidate[:2])[2]


def output_format(key: str, original_content_type: str) -> OutputFormat:
    """The :class:`OutputFormat` of a rendition key's format part (``original|webp|avif``)."""
    if original_content_type not in ORIGINAL_TYPES:
        raise ValueError(f"unsupported original content type {original_content_type!r}")
    if key == "original":
        return OutputFormat("original", original_content_type)
    if key == "webp":
        return OutputFormat("webp", "image/webp")
    if key == "avif":
        return OutputFormat("avif", "image/avif")
    raise ValueError(f"unknown rendition format {key!r}; expected original, webp or avif")


# --- rendering -------------------------------------------------------------------------------


def _plan(size: Size, width: int, height: int) -> tuple[tuple[int, int], tuple[float, float]]:
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


def _corrupt(detail: str = "") -> UnprocessableImage:
    suffix = f" ({detail})" if detail else ""
    return UnprocessableImage(
        "The image could not be decoded as JPEG, PNG, GIF or WebP; it may be truncated or "
        f"corrupt{suffix}. Upload it again.",
        code="corrupt_image",
    )


def _open(data: bytes, max_pixels: int | None) -> Image.Image:
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data), formats=_DECODERS)
    except Image.DecompressionBombError as exc:
        raise UnprocessableImage(
            f"The image has too many pixels to process: {exc}", code="image_too_large"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _corrupt(type(exc).__name__) from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _corrupt("empty image")
    if max_pixels is not None and width * height > max_pixels:
        raise UnprocessableImage(
            f"The image is {width}x{height} = {width * height} pixels; at most {max_pixels} "
            "can be processed.",
            code="image_too_large",
        )
    return image


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, TypeError):
        return 1  # unreadable EXIF: show the pixels as stored
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _exif_orientation(exif: bytes | None) -> int:
    """The orientation in a raw EXIF block (a PNG's eXIf chunk), 1 when there is none."""
    if not exif:
        return 1
    from PIL import Image

    try:
        found = Image.Exif()
        found.load(exif)
        value = found.get(_EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, TypeError, struct.error):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _transpose(image: Image.Image, orientation: int) -> Image.Image:
    from PIL import Image

    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return image if method is None else image.transpose(method)


def _resizable(image: Image.Image) -> Image.Image:
    """The decoded image in a mode Pillow resamples well (8 bits/channel, alpha if any)."""
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
        gray = image.point(lambda value: value / 257).convert("L")
        transparent = image.info.get("transparency")
        if isinstance(transparent, int):  # a 16-bit grey PNG's tRNS value: match it at 16 bits
            from PIL import ImageMath

            opaque = ImageMath.lambda_eval(
                lambda args: (args["image"] != transparent) * 255, image=image.convert("I")
            )
            gray.putalpha(opaque.convert("L"))
        return gray
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
        if (space, mode) not in (("RGB", "RGB"), ("RGB", "RGBA"), ("CMYK", "CMYK")):
            return None
        if space == "RGB" and "srgb" in ImageCms.getProfileDescription(source).lower():
            return None
        out_mode = "RGBA" if mode == "RGBA" else "RGB"
        return ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), mode, out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Colour-convert to sRGB using the embedded profile; CMYK without one converts plainly."""
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


def _flatten(image: Image.Image, mode: str) -> Image.Image:
    """Composite an image with alpha onto white (for formats without alpha)."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA"):
        return image.convert(mode) if image.mode != mode else image
    background = Image.new(image.mode, image.size, (255, 255, 255, 255)[: len(image.mode)])
    background.alpha_composite(image)
    return background.convert(mode)


def _encode(image: Image.Image, content_type: str) -> bytes:
    from PIL import Image

    image.info = {}  # resampled images inherit the source's info: EXIF, XMP, ICC, comments
    out = io.BytesIO()
    fmt = _ENCODERS[content_type]
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = _flatten(image, "L" if image.mode == "LA" else "RGB")
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


def _draft(image: Image.Image, wanted: tuple[int, int]) -> float | None:
    """Make the JPEG decoder scale ``image`` down while decoding, as far as it can while the
    result stays at least ``wanted``; return the scale (None: decoded at full size).

    Pillow's ``draft`` offers 1/2, 1/4 and 1/8. libjpeg-turbo also decodes at 3/8 (asked for
    1/3, it rounds up to the next eighth it has), which sits between 1/4 and 1/2: a 12 MP
    photo for a 1024 px rendition decodes to 1500 px instead of 2000, with a smaller resample
    after it. Pillow's image size must then be the decoder's, ``ceil(side * 3 / 8)``.
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


def _is_copy(size: tuple[int, int], box: tuple[float, float, float, float]) -> bool:
    """True if the rendition is ``box`` cut out at its own size: no resampling."""
    left, top, right, bottom = box
    return (right - left, bottom - top) == size and all(float(e).is_integer() for e in box)


def _windows(
    source: Image.Image | PngRows, spans: Sequence[tuple[int, int]]
) -> Generator[tuple[Image.Image, int], None, None]:
    """For each ``(top, bottom)`` span of rows, an image holding at least those rows of
    ``source`` and the row it starts at (a PNG's next window is decoded while this one is
    resampled)."""
    from PIL import Image

    if isinstance(source, Image.Image):
        return ((source, 0) for _ in spans)
    return source.windows(spans)


def _resample(
    source: Image.Image | PngRows, size: tuple[int, int], box: tuple[float, float, float, float]
) -> Image.Image:
    """The ``box`` region of ``source`` resampled to ``size``, in bands of bounded memory.

    ``source`` is a decoded image or a PNG decoded band by band (:class:`PngRows`). Pillow's
    resampler only reads the rows a band needs (and the filter support around them), so bands
    give the same pixels as one call. Images with alpha are premultiplied band by band
    instead of as a whole copy, which is where most of the memory goes for large PNGs.
    """
    from PIL import Image

    out_w, out_h = size
    left, top, right, bottom = box
    width, height = source.size
    if _is_copy(size, box):
        if not isinstance(source, Image.Image):
            raise ValueError("a copy needs the rows as decoded: pass the decoded image")
        region = (int(left), int(top), int(right), int(bottom))
        return source if region == (0, 0, width, height) else source.crop(region)
    resample = Image.Resampling.BICUBIC
    scale_x, scale_y = (right - left) / out_w, (bottom - top) / out_h
    premultiplied = {"RGBA": "RGBa", "LA": "La"}.get(source.mode)
    budget = BAND_BYTES if isinstance(source, Image.Image) else PNG_BAND_BYTES
    band_rows = max(1, int(budget / (4 * max(width, out_w) * max(scale_y, 1.0))))
    if isinstance(source, Image.Image) and band_rows >= out_h and premultiplied is None:
        return source.resize(size, resample, box=box, reducing_gap=REDUCING_GAP)
    # Source pixels around a band that the filter (after any whole-factor reduction) can reach.
    margin_x = math.ceil(4 * max(scale_x, 1.0)) + 2
    margin_y = math.ceil(4 * max(scale_y, 1.0)) + 2
    result = Image.new(source.mode, size)
    bands = []
    for first in range(0, out_h, band_rows):
        last = min(out_h, first + band_rows)
        band = (left, top + first * scale_y, right, top + last * scale_y)
        region = (
            max(0, math.floor(band[0]) - margin_x),
            max(0, math.floor(band[1]) - margin_y),
            min(width, math.ceil(band[2]) + margin_x),
            min(height, math.ceil(band[3]) + margin_y),
        )
        bands.append((first, last, band, region))
    # Closed on the way out, errors included: a PNG's decoding thread stops with the request.
    with closing(_windows(source, [(region[1], region[3]) for *_, region in bands])) as windows:
        for (first, last, band, region), (rows, first_row) in zip(bands, windows, strict=True):
            if rows.mode != source.mode:  # a PNG's rows, premultiplied as they were decoded
                shifted = (band[0], band[1] - first_row, band[2], band[3] - first_row)
                part = rows.resize(
                    (out_w, last - first), resample, box=shifted, reducing_gap=REDUCING_GAP
                ).convert(source.mode)
            elif premultiplied is None:
                shifted = (band[0], band[1] - first_row, band[2], band[3] - first_row)
                part = rows.resize(
                    (out_w, last - first), resample, box=shifted, reducing_gap=REDUCING_GAP
                )
            else:
                local_region = (region[0], region[1] - first_row, region[2], region[3] - first_row)
                cropped = rows if local_region == (0, 0, *rows.size) else rows.crop(local_region)
                local = (
                    band[0] - region[0],
                    band[1] - region[1],
                    band[2] - region[0],
                    band[3] - region[1],
                )
                part = (
                    cropped.convert(premultiplied)
                    .resize((out_w, last - first), resample, box=local, reducing_gap=REDUCING_GAP)
                    .convert(source.mode)
                )
            result.paste(part, (0, first))
    return result


def render(
    data: bytes, size: Size, fmt: OutputFormat, *, max_pixels: int | None = None
) -> Rendition:
    """Decode ``data``, resize it to ``size`` upright in sRGB, and encode it as ``fmt``.

    Raises :class:`UnprocessableImage` with code ``corrupt_image`` if ``data`` is not a
    decodable JPEG, PNG, GIF or WebP, or ``image_too_large`` if it has more than
    ``max_pixels`` pixels (checked from the header, before decoding).
    """
    from PIL import Image

    if fmt.content_type not in _ENCODERS:
        raise ValueError(f"cannot encode {fmt.content_type!r}")
    if fmt.content_type == "image/avif" and not avif_supported():
        raise ValueError("this Pillow build cannot encode AVIF; do not negotiate it")
    from PIL import ImageFile

    from imgsvc import pngrows

    image = _open(data, max_pixels)
    try:
        icc = image.info.get("icc_profile")
        rows = pngrows.open_rows(image, data)
        orientation = _orientation(image) if rows is None else _exif_orientation(rows.exif)
        stored_w, stored_h = image.size
        swap = orientation >= 5  # 5-8 turn the image by 90 degrees
        upright = (stored_h, stored_w) if swap else (stored_w, stored_h)
        (out_w, out_h), (crop_w, crop_h) = _plan(size, *upright)
        if swap:
            out_w, out_h, crop_w, crop_h = out_h, out_w, crop_h, crop_w
        box = (
            (stored_w - crop_w) / 2,
            (stored_h - crop_h) / 2,
            (stored_w + crop_w) / 2,
            (stored_h + crop_h) / 2,
        )
        # Let the JPEG decoder scale down while decoding (no-op for the others).
        wanted = (
            math.ceil(stored_w * out_w / crop_w * DRAFT_GAP),
            math.ceil(stored_h * out_h / crop_h * DRAFT_GAP),
        )
        factor = _draft(image, wanted)
        if factor is not None:
            box = (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)
            if isinstance(image, ImageFile.ImageFile):  # one call into libjpeg, not one per 64 KiB
                image.decodermaxblock = len(data)
        if rows is not None and _is_copy((out_w, out_h), box):
            rows = None  # nothing to resample: the pixels as decoded, not premultiplied
        if rows is not None:
            resized = _resample(rows, (out_w, out_h), box)  # a PNG, decoded band by band
        else:
            image = _resizable(image)  # decodes (the first frame of an animation)
            resized = _resample(image, (out_w, out_h), box)
        del image, rows  # the decoded pixels are the largest buffer; free them before encoding
        resized = _to_srgb(_transpose(resized, orientation), icc)
        encoded = _encode(resized, fmt.content_type)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _corrupt(type(exc).__name__) from None
    except Image.DecompressionBombError as exc:  # pragma: no cover - caught by _open first
        raise UnprocessableImage(str(exc), code="image_too_large") from None
    width, height = (out_h, out_w) if swap else (out_w, out_h)
    return Rendition(encoded, fmt.content_type, width, height)
