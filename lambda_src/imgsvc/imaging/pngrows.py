"""Decode a PNG a band of rows at a time, so a rendition never holds the whole image.

Pillow decodes a PNG whole: a 2000x1500 RGBA original is 12 MB of pixels before the resize
starts, and a 24 MP one 96 MB. A rendition only needs the rows its current band of output
rows reads, so :class:`PngRows` inflates the image data itself (zlib-ng, streaming) and hands
each band of filtered rows to Pillow's own PNG row decoder (unfiltering and unpacking in C),
behind a few rows it already decoded: those are the filter's "previous row", and the resampler
reads them again at the band's edge.

Only the common layout is streamed: one non-interlaced, non-animated image of 8-bit grey,
grey+alpha, RGB or RGBA without a ``tRNS`` chunk. Everything else (palette, 16-bit, interlaced,
APNG, colour-key transparency) returns ``None`` from :func:`open_rows` and is decoded whole, as
before. Data that does not inflate to every row, or whose chunks fail their CRC, is
:class:`CorruptPng`: Pillow would give black rows for a short stream.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

# zlib-ng: the same streams as zlib, inflated about 1.4x as fast (bench/resize.py's PNG).
from zlib_ng import zlib_ng as zlib

from imgsvc.imaging import pillow
from imgsvc.pngsave import threads

# What zlib-ng raises for data that does not inflate (its stub types it as an instance).
ZlibError: type[Exception] = zlib.error  # type: ignore[assignment]

if TYPE_CHECKING:
    from PIL import Image

# Pillow's PNG raw modes that map one-to-one onto its image modes, with bytes per pixel.
_STREAMED: Final = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_PREMULTIPLIED: Final = {"LA": "La", "RGBA": "RGBa"}
_CHUNK_HEADER: Final = 8
_CRC: Final = 4
# Rows above a band (a cover crop's top) are decoded and dropped this many bytes at a time.
_SKIP_BYTES: Final = 1024 * 1024


class CorruptPng(ValueError):
    """The PNG's image data is damaged: a chunk fails its CRC or the rows do not inflate."""


class PngRows:
    """Rows of a PNG decoded on demand, in increasing order, keeping only a window of them.

    :meth:`rows` ``(top, bottom)`` returns an image holding at least rows ``top`` to
    ``bottom`` of the picture and the picture row its first row is. Each call's ``top`` and
    ``bottom`` must be at least the previous call's: rows above ``top`` are forgotten.

    Windows are in :attr:`window_mode`: images with alpha come premultiplied (``RGBa``,
    ``La``), as Pillow's resampler needs them, each row converted once however many bands
    read it.
    """

    def __init__(
        self,
        mode: str,
        size: tuple[int, int],
        idat: Iterator[memoryview],
        exif: bytes | None,
    ) -> None:
        self.mode = mode
        self.window_mode = _PREMULTIPLIED.get(mode, mode)
        self.width, self.height = size
        self.exif = exif  # the eXIf chunk's payload, wherever it is in the file
        self._row_bytes = _STREAMED[mode] * self.width
        self._idat = idat
        self._inflater = zlib.decompressobj()
        self._pending: bytes | memoryview = b""
        self._window: Image.Image | None = None
        self._last_raw = b""  # the last decoded row as stored (unfiltered, not premultiplied)
        self._start = 0  # picture row of the window's first row
        self._end = 0  # picture rows decoded so far

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def rows(self, top: int, bottom: int) -> tuple[Image.Image, int]:
        top, bottom = max(0, top), min(self.height, bottom)
        if not 0 <= top < bottom or top < self._start:
            raise ValueError(f"rows {top}..{bottom} are not ahead of rows {self._start}..")
        if self._window is not None and bottom <= self._end:
            return self._window, self._start
        # Rows above the band still have to be inflated and unfiltered (each row's filter
        # reads the one before): a bounded window at a time, then dropped.
        skip = max(1, _SKIP_BYTES // (self._row_bytes + 1))
        while self._end < top:
            self._decode(min(top, self._end + skip), keep_from=top)
        self._decode(bottom, keep_from=top)
        assert self._window is not None
        return self._window, self._start

    def windows(
        self, spans: Sequence[tuple[int, int]]
    ) -> Generator[tuple[Image.Image, int], None, None]:
        """:meth:`rows` of each ``(top, bottom)`` span in turn, the next one decoded on a
        second thread while the caller works on the current one (when the process has a second
        CPU). A window is never changed once made, so the two threads share none being written.
        """
        if len(spans) < 2 or threads() < 2:
            yield from (self.rows(top, bottom) for top, bottom in spans)
            return
        with ThreadPoolExecutor(1, "png-rows") as pool:
            ahead = pool.submit(self.rows, *spans[0])
            for span in spans[1:]:
                current = ahead.result()
                ahead = pool.submit(self.rows, *span)
                yield current
                del current  # the caller is done with it: it need not outlive the wait
            yield ahead.result()

    def _decode(self, bottom: int, *, keep_from: int) -> None:
        """Decode the rows up to ``bottom`` into a new window that also holds the rows already
        decoded from ``keep_from`` on."""
        from PIL import Image

        keep = max(self._start, min(keep_from, self._end))
        # The first new row's filter reads the row above it: that row goes in first, as stored
        # (filter type 0), so Pillow's decoder starts from it; it is not part of the window.
        above = [b"\x00" + self._last_raw] if self._end else []
        stored = zlib.compress(  # Pillow's row decoder reads a zlib stream
            b"".join([*above, self._inflate((bottom - self._end) * (self._row_bytes + 1))]), 0
        )
        fresh = Image.frombytes(
            self.mode, (self.width, bottom - self._end + len(above)), stored, "zip", self.mode
        )
        del stored
        self._last_raw = fresh.crop((0, fresh.height - 1, self.width, fresh.height)).tobytes()
        if fresh.mode != self.window_mode:
            fresh = fresh.convert(self.window_mode)
        if keep == self._end and not above:
            window = fresh
        else:
            window = Image.new(self.window_mode, (self.width, bottom - keep))
            if self._window is not None and keep < self._end:
                window.paste(self._window, (0, self._start - keep))  # clipped to the kept rows
            window.paste(fresh, (0, self._end - len(above) - keep))  # the row above: clipped
        self._window = None  # free the old window before the next one is made
        self._window = window
        self._start, self._end = keep, bottom

    def _inflate(self, wanted: int) -> bytes:
        """Exactly ``wanted`` bytes of the filtered image data."""
        out = []
        while wanted > 0:
            if not self._pending:
                if self._inflater.eof:
                    raise CorruptPng("the image data ends before the last row")
                self._pending = next(self._idat, b"")
                if not self._pending:
                    raise CorruptPng("the image data ends before the last row")
            try:
                piece = self._inflater.decompress(self._pending, wanted)
            except ZlibError as exc:
                raise CorruptPng(f"the image data does not inflate: {exc}") from None
            self._pending = self._inflater.unconsumed_tail
            out.append(piece)
            wanted -= len(piece)
        return b"".join(out)


def open_rows(image: Image.Image, data: bytes) -> PngRows | None:
    """A :class:`PngRows` for ``image`` (opened from ``data``, not loaded), or ``None`` if it is
    not a PNG this module streams (see the module docstring), or this Pillow is not one whose
    ``tile`` fields it was tested with (:mod:`imgsvc.imaging.pillow`): then the image is decoded
    whole, as Pillow does."""
    from PIL import ImageFile

    if not pillow.internals_tested():
        return None
    if not isinstance(image, ImageFile.ImageFile) or image.format != "PNG" or len(image.tile) != 1:
        return None
    tile = image.tile[0]
    if (
        tile.codec_name != "zip"
        or tile.extents != (0, 0, *image.size)
        or tile.args not in _STREAMED
        or tile.args != image.mode
        or image.info.get("interlace")
        or "transparency" in image.info
        or getattr(image, "n_frames", 1) != 1
        or "default_image" in image.info
    ):
        return None
    found = chunks(data, tile.offset - _CHUNK_HEADER)
    idat = [payload for kind, payload in found if kind == b"IDAT"]
    exif = image.info.get("exif")  # an eXIf chunk before the image data; or one after it:
    exif = exif or next((bytes(payload) for kind, payload in found if kind == b"eXIf"), None)
    return PngRows(image.mode, image.size, iter(idat), exif)


def chunks(data: bytes, start: int = 8) -> list[tuple[bytes, memoryview]]:
    """``(type, payload)`` of each chunk from ``start`` (the first chunk after the signature by
    default) up to ``IEND``, which is left out; payloads are not copied. :class:`CorruptPng`
    if a chunk is cut short or fails its CRC, or the file ends before ``IEND``."""
    view = memoryview(data)
    found: list[tuple[bytes, memoryview]] = []
    position = start
    while True:
        if position + _CHUNK_HEADER > len(data):
            raise CorruptPng("the file ends before its IEND chunk")
        length = int.from_bytes(view[position : position + 4], "big")
        kind = bytes(view[position + 4 : position + _CHUNK_HEADER])
        end = position + _CHUNK_HEADER + length
        if end + _CRC > len(data):
            raise CorruptPng(f"the {kind!r} chunk is cut short")
        if zlib.crc32(view[position + 4 : end]) != int.from_bytes(view[end : end + _CRC], "big"):
            raise CorruptPng(f"the {kind!r} chunk fails its CRC")
        if kind == b"IEND":
            return found
        found.append((kind, view[position + _CHUNK_HEADER : end]))
        position = end + _CRC
