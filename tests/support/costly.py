"""Files that are small but cost far more to decode than their size says, made byte by byte
(no binary fixtures): what the imaging engine's pre-parse must refuse (imgsvc.imaging.limits)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from tests.support import imagegen


def jpeg_segments(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    """A progressive JPEG cut into its head (SOI to the first SOS), its scans (each SOS segment
    with its entropy-coded data, and any table segments before the next scan) and EOI."""
    first = data.index(b"\xff\xda")
    assert data.endswith(b"\xff\xd9")
    body = data[first:-2]
    scans: list[bytes] = []
    position = 0
    while position < len(body):
        following = body.find(b"\xff\xda", position + 2)
        end = len(body) if following < 0 else following
        scans.append(body[position:end])
        position = end
    return data[:first], scans, b"\xff\xd9"


def progressive_jpeg(width: int = 256, height: int = 256) -> bytes:
    return imagegen.encode(imagegen.photo(width, height), "JPEG", quality=85, progressive=True)


def jpeg_scan_bomb(scans: int, *, width: int = 256, height: int = 256) -> bytes:
    """A progressive JPEG whose smallest scan repeats after its last one until the file has
    ``scans`` scans: libjpeg decodes each one again, over every block of its component."""
    head, found, tail = jpeg_segments(progressive_jpeg(width, height))
    repeated = min(found, key=len)
    return head + b"".join(found) + repeated * max(0, scans - len(found)) + tail


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def png_of_tiny_chunks(chunks: int) -> bytes:
    """A small PNG whose image data comes after ``chunks`` empty IDAT chunks (zero-length IDAT
    chunks are allowed: the data is their concatenation)."""
    data = imagegen.encode(imagegen.photo(64, 64), "PNG")
    first = data.index(b"IDAT") - 4
    return data[:first] + _png_chunk(b"IDAT", b"") * chunks + data[first:]


def gif_of_frames(frames: int, size: tuple[int, int] = (1, 1)) -> bytes:
    """A GIF of ``frames`` frames of ``size`` (each a solid colour of the two-colour table)."""
    width, height = size
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    pixels = _lzw_solid(width * height)
    frame = (
        b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # graphic control: 100 ms
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02"
        + _sub_blocks(pixels, 255)
    )
    return header + frame * frames + b"\x3b"


def gif_of_tiny_sub_blocks(size: tuple[int, int] = (64, 64), piece: int = 1) -> bytes:
    """A one-frame GIF whose LZW data is split into sub-blocks of ``piece`` bytes."""
    width, height = size
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = (
        b"\x2c"
        + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02"
        + _sub_blocks(_lzw_solid(width * height), piece)
    )
    return header + frame + b"\x3b"


def _sub_blocks(data: bytes, piece: int) -> bytes:
    return (
        b"".join(
            bytes([len(data[i : i + piece])]) + data[i : i + piece]
            for i in range(0, len(data), piece)
        )
        + b"\0"
    )


def _lzw_solid(count: int) -> bytes:
    """GIF LZW (minimum code size 2) of ``count`` pixels of colour 0: a clear code before every
    colour code keeps the codes 3 bits wide, so four pixels are always the same 3 bytes."""
    clear, end, bits = 4, 5, 3

    def pack(codes: list[int]) -> bytes:
        value = sum(code << (index * bits) for index, code in enumerate(codes))
        return value.to_bytes((len(codes) * bits + 7) // 8, "little")

    whole, rest = divmod(count, 4)
    return pack([clear, 0] * 4) * whole + pack([clear, 0] * rest + [end])


def animated_webp(frames: int, size: tuple[int, int] = (16, 16)) -> bytes:
    """An animated WebP of ``frames`` frames: Pillow encodes two, and the second's ANMF chunk is
    repeated (every frame is a whole image; their order does not matter here)."""
    images = [Image.new("RGB", size, (255, 0, 0)), Image.new("RGB", size, (0, 0, 255))]
    data = io.BytesIO()
    images[0].save(data, "WEBP", save_all=True, append_images=images[1:], lossless=True)
    raw = data.getvalue()
    chunks: list[bytes] = []
    position = 12
    while position + 8 <= len(raw):
        length = int.from_bytes(raw[position + 4 : position + 8], "little")
        chunks.append(raw[position : position + 8 + length + (length & 1)])
        position += 8 + length + (length & 1)
    anmf = [chunk for chunk in chunks if chunk[:4] == b"ANMF"]
    others = [chunk for chunk in chunks if chunk[:4] != b"ANMF"]
    body = b"WEBP" + b"".join(others) + anmf[0] + anmf[1] * (frames - 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body
