"""Encode a PNG fast: rows Up-filtered by Pillow's image arithmetic, deflated by zlib-ng in
strips of rows on every core.

Pillow's own PNG encoder runs on one thread and spends half its time choosing a filter for each
row (libpng's heuristic: try them all, keep the least sum of absolute differences), the other half
in the system zlib. Here:

- every row gets PNG's Up filter (each byte minus the byte above it, modulo 256), computed for a
  whole strip at once by ``ImageChops.subtract_modulo`` against the rows shifted down by one. It
  takes a twentieth of the time of Pillow's per-row choice, and on bench/resize.py's photos and
  graphics its files are no larger (1151 KiB against 1159 KiB with the choice, 63 against 63);
- each strip of rows is deflated by zlib-ng on its own thread (Pillow and zlib-ng release the GIL),
  as raw deflate; every strip but the last ends with a sync flush (byte-aligned, not final), so
  the strips join into one deflate stream, as pigz does for gzip;
- the zlib stream's Adler-32 is combined from the strips' (zlib's ``adler32_combine``).

The file holds ``IHDR``, one ``IDAT`` and ``IEND``: no metadata, as renditions want. Modes other
than 8-bit ``L``, ``LA``, ``RGB`` and ``RGBA`` are saved by Pillow.

Measured on bench/resize.py's 1024x768 RGBA rendition: 28 ms on two cores (50 ms on one) against
Pillow's 100 to 140 ms at zlib level 1, and 5% smaller. zlib-ng's own level 1 is another strategy
(static Huffman codes) whose files are 50% larger, so :data:`LEVEL` is 2.
"""

from __future__ import annotations

import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

from zlib_ng import zlib_ng as zlib

if TYPE_CHECKING:
    from PIL import Image

LEVEL: Final = 2
# Raw bytes of rows per strip. Each strip restarts zlib-ng's 32 KiB history, and each one in
# flight holds about four copies of itself. Measured on bench/resize.py's 1024 px RGBA rendition:
# at 128 KiB files are 0.2% larger than from one strip (3.5% for a flat 1024 px graphic), and the
# rendition's peak memory is 6.7 MB (7.1 at 256 KiB), at the same speed.
STRIP_BYTES: Final = 128 * 1024
MAX_THREADS: Final = 4
_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES: Final = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
_ZLIB_HEADER: Final = b"\x78\x01"  # deflate, 32 KiB window, "fastest" level hint
_ADLER_BASE: Final = 65521
_FILTER_UP: Final = b"\x02"


def threads() -> int:
    """The threads the PNG steps may use (this encoder's strips, the decoding ahead of
    :mod:`imgsvc.imaging.pngrows`): the CPUs this process may run on, at most MAX_THREADS."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        available = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, available))


def encode(image: Image.Image, *, level: int = LEVEL, workers: int | None = None) -> bytes:
    """``image`` as PNG bytes, deflated at zlib-ng ``level`` on up to ``workers`` threads
    (default :func:`threads`). Modes this module does not stream are saved by Pillow."""
    if image.mode not in _COLOUR_TYPES or 0 in image.size:
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=min(level, 9))
        return out.getvalue()
    image.load()  # once, before the threads share it
    width, height = image.size
    row_bytes = len(image.mode) * width
    rows = max(1, STRIP_BYTES // row_bytes)
    tops = range(0, height, rows)

    def strip(top: int) -> tuple[bytes, int, int]:
        return _strip(image, top, min(height, top + rows), level)

    workers = min(len(tops), threads() if workers is None else max(1, workers))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[image.mode], 0, 0, 0)
    out = io.BytesIO()
    out.write(_SIGNATURE)
    out.write(_chunk(b"IHDR", header))
    idat_start = out.tell()
    out.write(b"\0\0\0\0IDAT" + _ZLIB_HEADER)  # the length is filled in at the end
    adler = 1
    with ThreadPoolExecutor(workers, "png-strip") as pool:
        # Strips are written as they come, in order, so only the output and the strips being
        # worked on are in memory.
        for deflated, strip_adler, length in (
            pool.map(strip, tops) if workers > 1 else map(strip, tops)
        ):
            out.write(deflated)
            adler = adler32_combine(adler, strip_adler, length)
    out.write(struct.pack(">I", adler))
    idat_end = out.tell()
    view = out.getbuffer()
    view[idat_start : idat_start + 4] = struct.pack(">I", idat_end - idat_start - 8)
    crc = zlib.crc32(view[idat_start + 4 : idat_end])
    del view
    out.write(struct.pack(">I", crc))
    out.write(_chunk(b"IEND", b""))
    return out.getvalue()


def _strip(image: Image.Image, top: int, bottom: int, level: int) -> tuple[bytes, int, int]:
    """Rows ``top`` to ``bottom`` filtered and deflated: ``(raw deflate, Adler-32, length)``."""
    from PIL import Image, ImageChops

    rows = image.crop((0, top, image.width, bottom))
    # PNG's Up filter is each byte minus the byte above it, modulo 256 (zero above the first row):
    # Pillow's modular subtraction of the rows shifted down by one does it in C.
    above = Image.new(image.mode, rows.size)
    start = top - 1 if top else 0
    if bottom - 1 > start:
        above.paste(image.crop((0, start, image.width, bottom - 1)), (0, 0 if top else 1))
    differences = memoryview(ImageChops.subtract_modulo(rows, above).tobytes())
    del rows, above
    row_bytes = len(image.mode) * image.width
    filtered = b"".join(
        piece
        for offset in range(0, len(differences), row_bytes)
        for piece in (_FILTER_UP, differences[offset : offset + row_bytes])
    )
    del differences
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_FILTERED)
    deflated = compressor.compress(filtered)
    deflated += compressor.flush(zlib.Z_FINISH if bottom == image.height else zlib.Z_SYNC_FLUSH)
    return deflated, zlib.adler32(filtered), len(filtered)


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from each one's and the second's length."""
    remainder = second_length % _ADLER_BASE
    low = (first & 0xFFFF) + (second & 0xFFFF) + _ADLER_BASE - 1
    high = remainder * (first & 0xFFFF) + (first >> 16) + (second >> 16) + _ADLER_BASE - remainder
    return (low % _ADLER_BASE) | ((high % _ADLER_BASE) << 16)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return b"".join([struct.pack(">I", len(payload)), kind, payload, struct.pack(">I", crc)])
