"""PNG files taken apart and put back together, for tests of damaged PNG bytes.

Every builder starts from real PNG bytes (Pillow's) and keeps each chunk's length and CRC
valid, so what a test damages is only what it means to.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, payload) chunks of a PNG, in file order."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def png_from_chunks(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """A PNG of these chunks, each with its length and a correct CRC."""
    out = [PNG_SIGNATURE]
    for kind, payload in chunks:
        crc = zlib.crc32(kind + payload)
        out.append(struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc))
    return b"".join(out)


def with_pixel_data(data: bytes, raw: bytes) -> bytes:
    """``data`` (a PNG) with its IDAT chunks replaced by one holding ``raw``, compressed."""
    chunks = png_chunks(data)
    first = next(i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT")
    rest = [chunk for chunk in chunks[first:] if chunk[0] != b"IDAT"]
    return png_from_chunks([*chunks[:first], (b"IDAT", zlib.compress(raw)), *rest])


def pixel_data(data: bytes) -> bytes:
    return zlib.decompress(
        b"".join(payload for kind, payload in png_chunks(data) if kind == b"IDAT")
    )


def png_with_short_pixel_data(data: bytes, rows: int) -> bytes:
    """``data`` (a non-interlaced PNG) whose zlib stream ends cleanly after ``rows`` rows."""
    raw = pixel_data(data)
    (height,) = struct.unpack(">I", data[20:24])
    return with_pixel_data(data, raw[: len(raw) // height * rows])
