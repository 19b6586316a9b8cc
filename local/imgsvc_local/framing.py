"""A request's body, read within limits: HTTP/1.1 message framing (RFC 9112, section 6), done
strictly and never past a cap.

werkzeug's development server trusts the client: its de-chunker reads a declared chunk until the
size is reached without noticing end of file (one request grew the process by gigabytes), a
chunk extension (``5;name=value``, valid HTTP) is an error it answers with an HTML 500, and a
``Content-Length`` larger than what is sent holds a thread for good. Here every body is read
from the connection itself:

- ``Transfer-Encoding: chunked`` alone, or ``Content-Length`` alone (one value, digits only), or
  neither (no body). Both at once, another transfer coding, or a malformed length is a 400
  (RFC 9112 6.3: such a request is a request-smuggling vector, "ought to be handled as an
  error");
- a declared length or chunk over the cap is refused before any of it is read (413);
- a connection that ends early is a 400 and one that stalls a 408, within the socket timeout
  the request handler sets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import BinaryIO

# RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF, chunk-ext = *( BWS ";" BWS name [ "=" value ] ).
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?\r?\n")
_DIGITS = re.compile(r"[0-9]{1,20}")
# The longest chunk-size line (extensions included) and trailer line read.
MAX_LINE = 4096
# Trailer fields after the last chunk (read and dropped, as API Gateway passes none on).
MAX_TRAILER_LINES = 100


class BodyError(Exception):
    """Why a body cannot be read: an HTTP status, an error code and a message for the client.
    ``size`` is the declared size of a body over the cap, when it is known."""

    def __init__(self, status: int, code: str, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.size = size


def read_body(stream: BinaryIO, headers: Sequence[tuple[str, str]], limit: int) -> bytes:
    """The body of a request with these header lines, read from ``stream`` (the connection).

    Raises :class:`BodyError` for a framing the service refuses, a body over ``limit`` bytes,
    or a connection that ends (``incomplete_body``) or stalls (``request_timeout``) early.
    """
    encodings = [v for k, v in headers if k.lower() == "transfer-encoding"]
    lengths = [v for k, v in headers if k.lower() == "content-length"]
    try:
        if encodings:
            if lengths:
                raise BodyError(
                    400,
                    "ambiguous_framing",
                    "The request has both Transfer-Encoding and Content-Length: send one.",
                )
            codings = [c.strip().lower() for v in encodings for c in v.split(",") if c.strip()]
            if codings != ["chunked"]:
                raise BodyError(
                    400,
                    "unsupported_transfer_encoding",
                    f"Transfer-Encoding {', '.join(encodings)!r} is not supported: send the "
                    "body as is with a Content-Length, or with 'Transfer-Encoding: chunked'.",
                )
            return _read_chunked(stream, limit)
        if lengths:
            return _read_exactly(stream, _content_length(lengths, limit))
        return b""
    except TimeoutError:
        raise BodyError(
            408,
            "request_timeout",
            "The request body stopped arriving before it was complete; send it again.",
        ) from None


def _content_length(values: Sequence[str], limit: int) -> int:
    stripped = {v.strip() for v in values}
    if len(stripped) != 1 or not _DIGITS.fullmatch(next(iter(stripped))):
        raise BodyError(
            400,
            "invalid_content_length",
            f"Content-Length {', '.join(values)!r} is not one length in decimal digits.",
        )
    length = int(next(iter(stripped)))
    if length > limit:
        raise _too_large(length)
    return length


def _read_exactly(stream: BinaryIO, length: int) -> bytes:
    data = stream.read(length) if length else b""
    if len(data) < length:
        raise BodyError(
            400,
            "incomplete_body",
            f"The connection ended after {len(data):,} of the {length:,} bytes the "
            "Content-Length declares.",
        )
    return data


def _read_chunked(stream: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = _read_line(stream)
        found = _CHUNK_LINE.fullmatch(line)
        if found is None:
            raise BodyError(
                400,
                "invalid_chunked_body",
                f"{line[:40]!r} is not a chunk-size line (hex digits, optional ';' extensions).",
            )
        size = int(found[1], 16)
        if size == 0:
            break
        if total + size > limit:  # refused before reading it
            raise _too_large(None)
        parts.append(_read_exactly(stream, size))
        total += size
        if stream.read(2) != b"\r\n":
            raise BodyError(400, "invalid_chunked_body", "A chunk's data does not end in CRLF.")
    # The trailer section: field lines up to an empty line.
    for _ in range(MAX_TRAILER_LINES):
        if _read_line(stream) in (b"\r\n", b"\n"):
            return b"".join(parts)
    raise BodyError(400, "invalid_chunked_body", "Too many trailer lines after the last chunk.")


def _read_line(stream: BinaryIO) -> bytes:
    line = stream.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        if len(line) > MAX_LINE:
            raise BodyError(400, "invalid_chunked_body", "A chunk-size or trailer line is too long")
        raise BodyError(400, "incomplete_body", "The connection ended inside the chunked body.")
    return line


def _too_large(size: int | None) -> BodyError:
    return BodyError(413, "payload_too_large", "The body is over the API's limit.", size)
