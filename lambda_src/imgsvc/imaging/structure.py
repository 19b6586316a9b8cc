"""A pre-parse of the container, before any pixel is decoded: what decoding will cost.

Pillow reads the header (size, mode) cheaply, but what a file makes its decoder do is in the
structure after it: the scans of a progressive JPEG (each one a pass over every block of the
image), the frames of an animation (each one composed onto the whole canvas), and the number of
pieces the data is split into (PNG chunks, GIF sub-blocks, RIFF chunks: each one a round of
Python in Pillow's readers). This module walks those structures with a few byte comparisons
each and counts them, stopping as soon as a count passes its limit, so a file made of millions
of pieces costs no more to refuse than one over the limit by one.

The walk never refuses a file as damaged: it stops where the structure stops making sense and
reports what it counted, and the decoder judges the rest (so it accepts exactly what it did).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Final

# JPEG start-of-frame markers (baseline, extended, progressive, lossless; Huffman and arithmetic).
_SOF: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_PROGRESSIVE_SOF: Final = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
# Markers without a length: TEM and RST0-7 (SOI is before the walk, EOI ends it).
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})
# The next marker after a scan's entropy-coded data: 0xFF followed by neither a stuffed zero, a
# restart marker (RST0-7 sit inside the data) nor a fill byte.
_NEXT_MARKER: Final = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(slots=True)
class Structure:
    """What a pre-parse of one file found (counts stop one past the limit they were given)."""

    fmt: str
    frames: int = 1
    # The largest canvas any frame is drawn on (a GIF frame may lie beyond its screen).
    canvas: tuple[int, int] = (0, 0)
    frame_sizes: list[tuple[int, int]] = field(default_factory=list)
    pieces: int = 0  # PNG chunks, GIF data sub-blocks or RIFF chunks
    scans: int = 0  # JPEG: start-of-scan markers
    progressive: bool = False
    # JPEG: (horizontal, vertical) sampling factors of each component.
    sampling: list[tuple[int, int]] = field(default_factory=list)


def parse(data: bytes, fmt: str, *, max_pieces: int, max_frames: int, max_scans: int) -> Structure:
    """Count what decoding ``data`` (already sniffed as ``fmt``) will go through."""
    found = Structure(fmt)
    try:
        if fmt == "JPEG":
            _jpeg(data, found, max_scans)
        elif fmt == "PNG":
            _png(data, found, max_pieces, max_frames)
        elif fmt == "GIF":
            _gif(data, found, max_pieces, max_frames)
        elif fmt == "WEBP":
            _webp(data, found, max_pieces, max_frames)
    except (IndexError, struct.error):
        pass  # the structure ends early: the decoder says what is wrong with it
    return found


def _jpeg(data: bytes, found: Structure, max_scans: int) -> None:
    position = 2  # after SOI
    end = len(data)
    while position + 4 <= end:
        if data[position] != 0xFF:  # junk between segments: libjpeg skips to the next marker
            position = data.find(b"\xff", position)
            if position < 0:
                return
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte before a marker
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        if marker == 0xD9:  # EOI
            return
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return
        segment = data[position + 4 : position + 2 + length]
        position += 2 + length
        if marker in _SOF and not found.sampling:
            height, width = struct.unpack(">HH", segment[1:5])
            components = segment[5]
            found.canvas = (width, height)
            found.frame_sizes = [(width, height)]
            found.progressive = marker in _PROGRESSIVE_SOF
            found.sampling = [
                (segment[7 + 3 * index] >> 4, segment[7 + 3 * index] & 0x0F)
                for index in range(components)
            ]
        elif marker == 0xDA:  # SOS: the scan's header, then its entropy-coded data
            found.scans += 1
            if not found.progressive and segment[:1] and segment[0] >= len(found.sampling):
                # A sequential JPEG whose first scan holds every component is decoded in that
                # one pass (libjpeg refuses another SOS after it: JERR_EOI_EXPECTED), so its
                # entropy-coded data, most of a photo's bytes, need not be walked.
                return
            if found.scans > max_scans:
                return
            following = _NEXT_MARKER.search(data, position)
            if following is None:
                return
            position = following.start()


def _png(data: bytes, found: Structure, max_pieces: int, max_frames: int) -> None:
    position = 8
    end = len(data)
    frames = 0
    while position + 8 <= end:
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        found.pieces += 1
        if found.pieces > max_pieces:
            return
        payload = position + 8
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[payload : payload + 8])
            found.canvas = (width, height)
            found.frame_sizes = [(width, height)]
        elif kind == b"fcTL":
            frames += 1
            if frames > max_frames:
                found.frames = frames
                return
            size = struct.unpack(">II", data[payload + 4 : payload + 12])
            found.frame_sizes.append(size)
        elif kind == b"IEND":
            break
        position = payload + length + 4
    found.frames = max(1, frames)
    if frames:  # APNG: the default image (IHDR's size) is the first frame or hidden
        found.frame_sizes = found.frame_sizes[1:] or found.frame_sizes


def _gif(data: bytes, found: Structure, max_pieces: int, max_frames: int) -> None:
    width, height, flags = struct.unpack("<HHB", data[6:11])
    canvas_w, canvas_h = width, height
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    sizes: list[tuple[int, int]] = []
    end = len(data)
    while position < end:
        introducer = data[position]
        if introducer == 0x21:  # extension: label, then sub-blocks
            position = _sub_blocks(data, position + 2, found, max_pieces)
        elif introducer == 0x2C:  # image descriptor
            left, top, frame_w, frame_h, frame_flags = struct.unpack(
                "<HHHHB", data[position + 1 : position + 10]
            )
            frames += 1
            if frames > max_frames:
                break
            sizes.append((frame_w, frame_h))
            canvas_w, canvas_h = max(canvas_w, left + frame_w), max(canvas_h, top + frame_h)
            position += 10
            if frame_flags & 0x80:
                position += 3 << ((frame_flags & 7) + 1)
            position = _sub_blocks(data, position + 1, found, max_pieces)  # after LZW size
        else:  # the trailer (0x3B) or bytes that are not a block
            break
        if position < 0:
            break
    found.frames = max(1, frames)
    found.canvas = (canvas_w, canvas_h)
    found.frame_sizes = sizes or [(width, height)]


def _sub_blocks(data: bytes, position: int, found: Structure, max_pieces: int) -> int:
    """The position after the sub-blocks starting at ``position``; -1 past the piece limit."""
    end = len(data)
    while position < end:
        size = data[position]
        position += 1 + size
        if not size:
            return position
        found.pieces += 1
        if found.pieces > max_pieces:
            return -1
    return position


def _webp(data: bytes, found: Structure, max_pieces: int, max_frames: int) -> None:
    position = 12
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    frames = 0
    while position + 8 <= end:
        kind = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        found.pieces += 1
        if found.pieces > max_pieces:
            return
        payload = position + 8
        if kind == b"VP8X":
            width = 1 + int.from_bytes(data[payload + 4 : payload + 7], "little")
            height = 1 + int.from_bytes(data[payload + 7 : payload + 10], "little")
            found.canvas = (width, height)
        elif kind == b"ANMF":
            frames += 1
            if frames > max_frames:
                found.frames = frames
                return
            frame_w = 1 + int.from_bytes(data[payload + 6 : payload + 9], "little")
            frame_h = 1 + int.from_bytes(data[payload + 9 : payload + 12], "little")
            found.frame_sizes.append((frame_w, frame_h))
        position = payload + length + (length & 1)
    found.frames = max(1, frames)
