"""What the engine agrees to decode, counted before decoding: one rule and one error code per
condition, wherever the bytes come from (an upload, a rendition, an effect).

=====================  =====  =========================================================
code                   when
=====================  =====  =========================================================
``too_many_pixels``    422    the image, a frame, or the canvas its frames are drawn on has
                              more than ``max_pixels`` pixels, or an animation's frames
                              hold more than :data:`ANIMATION_PIXELS` times that in all
``too_many_frames``    422    an animation has more than :data:`MAX_FRAMES` frames
``too_many_scans``     422    a progressive JPEG has more than :data:`MAX_JPEG_SCANS` scans
``too_many_chunks``    422    the data is split into more pieces (PNG chunks, GIF sub-blocks,
                              RIFF chunks) than :func:`max_pieces` allows for its size
``decode_too_large``   422    decoding needs more memory than :data:`DECODE_BYTES_PER_PIXEL`
                              bytes per allowed pixel (frames x pixels x bytes per sample)
=====================  =====  =========================================================

Why these bounds: decoding time is the pixels times the passes over them (frames, scans), and
memory the pixels times the bytes each one takes while decoding. A header can declare a small
image and a file still hold thousands of passes over it: a 166 KB progressive JPEG of empty scans
took 10 s to decode, a 150 KB GIF of four 7071x7071 frames 641 MB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from imgsvc.errors import UnprocessableImage

if TYPE_CHECKING:
    from imgsvc.imaging.structure import Structure

# Frames of an animation: each one is decoded to prove the file whole.
MAX_FRAMES: Final = 1000
# The frames of an animation together: at most this many times max_pixels.
ANIMATION_PIXELS: Final = 4
# Scans of a progressive JPEG. libjpeg's own progressive script writes 10 (6 for greyscale),
# mozjpeg's optimized ones a few more; each scan is a pass over every block of the image, and a
# file can repeat empty ones thousands of times (libjpeg-turbo's TJPARAM_SCANLIMIT exists for
# this, "to guard against an exploit of the progressive JPEG format": turbojpeg.h, and
# https://libjpeg-turbo.org/pmwiki/uploads/About/TwoIssueswiththeJPEGStandard.pdf; its fuzzers
# set 500 for images of at most 1 MP, NVIDIA's nvImageCodec defaults to 256).
MAX_JPEG_SCANS: Final = 100
# Pieces of the data: libpng writes 8 KiB IDAT chunks and GIF encoders 255-byte sub-blocks, so a
# file of whole pieces stays far below one per 64 bytes; millions of tiny ones cost seconds of
# Python in Pillow's chunk readers.
MIN_PIECES: Final = 4096
BYTES_PER_PIECE: Final = 64
# Memory to decode one image: at most this many bytes per allowed pixel (400 MB at the default
# 50 MP), which the functions' memory settings hold with room to spare (tests/unit/
# test_decode_memory.py measures the peaks).
DECODE_BYTES_PER_PIXEL: Final = 8
# Bytes per pixel while decoding, by Pillow mode: the decoded image plus the copy the engine
# converts it to (palette to RGBA, 16-bit grey through 32-bit to 8-bit, bilevel to grey).
_DECODED_BYTES: Final = {"1": 2, "L": 1, "P": 5, "I;16": 7, "I;16B": 7, "I;16L": 7, "I;16N": 7}
_DEFAULT_DECODED_BYTES: Final = 4  # Pillow keeps every multi-band mode in 4 bytes a pixel
# Pillow composes each frame of a GIF after the first onto the whole canvas in RGBA (4 bytes),
# keeping the previous canvas and the disposal's copy beside it; libwebp's animation decoder
# keeps two canvases of its own beside Pillow's, from the first frame on. Measured: 3.2 (GIF)
# and 3.9 (WebP) canvases of 4 bytes (tests/unit/test_decode_memory.py).
_ANIMATION_COPIES: Final = 4


def max_pieces(size: int) -> int:
    """The most PNG chunks, GIF sub-blocks or RIFF chunks a file of ``size`` bytes may have."""
    return MIN_PIECES + size // BYTES_PER_PIECE


def check_structure(found: Structure, size: int, max_pixels: int) -> None:
    """Raise the error for the first bound ``found`` (a pre-parse) passes."""
    if found.pieces > max_pieces(size):
        raise UnprocessableImage(
            f"The {found.fmt} data is split into more than {max_pieces(size):,} pieces (chunks"
            f" or sub-blocks), too many to decode for a file of {size:,} bytes. Save it again"
            " with a common encoder.",
            code="too_many_chunks",
        )
    if found.scans > MAX_JPEG_SCANS:
        raise UnprocessableImage(
            f"The progressive JPEG has more than {MAX_JPEG_SCANS} scans; each one is a pass over"
            " the whole image, so it is refused. Save it again as a baseline or a standard"
            " progressive JPEG.",
            code="too_many_scans",
        )
    if found.frames > MAX_FRAMES:
        raise UnprocessableImage(
            f"The animation has more than {MAX_FRAMES} frames: at most {MAX_FRAMES} are accepted.",
            code="too_many_frames",
        )
    width, height = found.canvas
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels, detail=f"{width}x{height}, {width * height:,} pixels")
    for index, (frame_w, frame_h) in enumerate(found.frame_sizes):
        if frame_w * frame_h > max_pixels:
            raise too_many_pixels(
                max_pixels,
                detail=f"frame {index + 1} of {found.frames} is {frame_w}x{frame_h}",
            )
    total = found.frames * width * height
    if found.frames > 1 and total > ANIMATION_PIXELS * max_pixels:
        raise UnprocessableImage(
            f"The animation has {found.frames} frames of {width}x{height}, {total:,} pixels in"
            f" all: at most {ANIMATION_PIXELS * max_pixels:,} are accepted.",
            code="too_many_pixels",
        )


def decode_bytes(found: Structure, mode: str, size: tuple[int, int], *, every_frame: bool) -> int:
    """Bytes of memory decoding takes: the first frame, or ``every_frame`` of an animation."""
    width, height = size
    canvas = max(width * height, found.canvas[0] * found.canvas[1])
    cost = canvas * _DECODED_BYTES.get(mode, _DEFAULT_DECODED_BYTES)
    if found.progressive and found.sampling:
        # libjpeg holds every DCT coefficient of a progressive image (2 bytes each) until its
        # last scan, at full size whatever scale it outputs.
        most_h = max(h for h, _ in found.sampling)
        most_v = max(v for _, v in found.sampling)
        share = sum(h * v for h, v in found.sampling) / (most_h * most_v)
        cost += int(width * height * share * 2)
    if found.frames > 1 and (every_frame or found.fmt == "WEBP"):
        cost = max(cost, canvas * _DEFAULT_DECODED_BYTES * _ANIMATION_COPIES)
    return cost


def check_memory(cost: int, max_pixels: int) -> None:
    budget = DECODE_BYTES_PER_PIXEL * max_pixels
    if cost > budget:
        raise UnprocessableImage(
            f"Decoding this image takes about {cost / 1e6:,.0f} MB of memory (its frames, pixels"
            f" and bytes per sample): at most {budget / 1e6:,.0f} MB are allowed. Send it with"
            " fewer pixels or frames.",
            code="decode_too_large",
        )


def too_many_pixels(max_pixels: int, *, detail: str) -> UnprocessableImage:
    return UnprocessableImage(
        f"The image is too large ({detail}): at most {max_pixels:,} pixels are accepted."
        " Scale it down before uploading.",
        code="too_many_pixels",
    )


def corrupt(fmt: str, exc: BaseException | str) -> UnprocessableImage:
    """``corrupt_image``: the bytes cannot be decoded as ``fmt``."""
    from PIL import UnidentifiedImageError

    # Pillow's "cannot identify image file <_io.BytesIO object at 0x...>" names our buffer.
    detail = "its header cannot be read" if isinstance(exc, UnidentifiedImageError) else exc
    return UnprocessableImage(
        f"The {fmt} image is corrupt or truncated and cannot be decoded ({detail}). "
        "Upload it again from the original file.",
        code="corrupt_image",
    )
