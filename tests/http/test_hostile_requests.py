"""Requests no HTTP client sends, written byte by byte on a loopback socket: each gets a JSON
answer (or, a request whose head never completes, a closed connection) within a bounded time,
and none grows the local mode's memory."""

from __future__ import annotations

import http.client
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from imgsvc_local import gateway
from imgsvc_local.server import READ_TIMEOUT
from tests.http.conftest import LocalMode
from tests.http.support import RawResponse, assert_error
from tests.support import imagegen

pytestmark = pytest.mark.http

JPEG = imagegen.jpeg(32, 24)
HEAD = b"POST /images?name=a.jpg HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
# Every answer comes within this many seconds (a stalled body: the read timeout, plus slack for
# a busy machine).
BOUND = READ_TIMEOUT + 10


def exchange(
    api: str, data: bytes, *, half_close: bool = False, timeout: float = BOUND
) -> tuple[RawResponse, float]:
    """Send ``data`` (then end our side of the connection if ``half_close``), read the answer;
    with the seconds it took."""
    url = urlsplit(api)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        raw = RawResponse(response.status, dict(response.getheaders()), response.read())
    return raw, time.monotonic() - started


def chunked(*chunks: bytes, extension: bytes = b"", trailer: bytes = b"") -> bytes:
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(c), extension, c) for c in chunks)
    return body + b"0\r\n" + trailer + b"\r\n"


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


# -- framings the service takes -----------------------------------------------------------------

ACCEPTED = {
    # RFC 9112 7.1.1: a chunk may carry extensions; werkzeug answered an HTML 500.
    "chunk-extension": b"Transfer-Encoding: chunked\r\n\r\n"
    + chunked(JPEG[:100], JPEG[100:], extension=b';name="value"'),
    "chunk-extension-no-value": b"Transfer-Encoding: chunked\r\n\r\n"
    + chunked(JPEG, extension=b";x"),
    "trailer-field": b"Transfer-Encoding: chunked\r\n\r\n"
    + chunked(JPEG, trailer=b"X-Checksum: 1\r\n"),
    "coding-in-capitals": b"Transfer-Encoding: Chunked\r\n\r\n" + chunked(JPEG),
    "one-byte-chunks": b"Transfer-Encoding: chunked\r\n\r\n" + chunked(*(bytes([b]) for b in JPEG)),
    # RFC 9110 8.6: a list of identical lengths may be taken as one.
    "same-length-twice": b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s"
    % (len(JPEG), len(JPEG), JPEG),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_valid_framings_reach_the_api(api: str, case: str) -> None:
    response, _ = exchange(api, HEAD + ACCEPTED[case])
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(JPEG)


# -- framings the service refuses, before the function is called --------------------------------

REFUSED = {
    "chunked-and-content-length": (
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked(JPEG),
        400,
        "ambiguous_framing",
    ),
    "gzip-coding": (b"Transfer-Encoding: gzip\r\n\r\n", 400, "unsupported_transfer_encoding"),
    "gzip-then-chunked": (
        b"Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked(JPEG),
        400,
        "unsupported_transfer_encoding",
    ),
    "chunked-twice": (
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(JPEG),
        400,
        "unsupported_transfer_encoding",
    ),
    "xchunked": (b"Transfer-Encoding: xchunked\r\n\r\n", 400, "unsupported_transfer_encoding"),
    "negative-length": (b"Content-Length: -1\r\n\r\n", 400, "invalid_content_length"),
    "signed-length": (b"Content-Length: +5\r\n\r\nabcde", 400, "invalid_content_length"),
    "hex-length": (b"Content-Length: 0x10\r\n\r\n", 400, "invalid_content_length"),
    "lengths-differ": (
        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        400,
        "invalid_content_length",
    ),
    "length-list": (b"Content-Length: 5, 6\r\n\r\nabcdef", 400, "invalid_content_length"),
    "empty-length": (b"Content-Length: \r\n\r\n", 400, "invalid_content_length"),
    # 2**64: werkzeug waited for the bytes for good.
    "length-2**64": (b"Content-Length: 18446744073709551616\r\n\r\n", 413, "payload_too_large"),
    "length-over-10-MB": (b"Content-Length: 10485761\r\n\r\n", 413, "payload_too_large"),
    "chunk-size-not-hex": (
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
        "invalid_chunked_body",
    ),
    "chunk-size-negative": (
        b"Transfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n",
        400,
        "invalid_chunked_body",
    ),
    "chunk-size-missing": (
        b"Transfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n",
        400,
        "invalid_chunked_body",
    ),
    "chunk-size-17-digits": (
        b"Transfer-Encoding: chunked\r\n\r\n" + b"0" * 16 + b"5\r\nabcde\r\n0\r\n\r\n",
        400,
        "invalid_chunked_body",
    ),
    "chunk-size-line-5000-bytes": (
        b"Transfer-Encoding: chunked\r\n\r\n5;" + b"x" * 5000 + b"\r\nabcde\r\n0\r\n\r\n",
        400,
        "invalid_chunked_body",
    ),
    "chunk-data-longer-than-size": (
        b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        400,
        "invalid_chunked_body",
    ),
    "chunks-over-10-MB": (
        b"Transfer-Encoding: chunked\r\n\r\n" + b"a00000\r\n" + b"\0" * 0xA00000 + b"\r\n1\r\n",
        413,
        "payload_too_large",
    ),
    # A chunk declared larger than any body the API takes: refused before a byte is read.
    "chunk-of-64-GB": (
        b"Transfer-Encoding: chunked\r\n\r\nfffffffff\r\n",
        413,
        "payload_too_large",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unusual_framings_get_a_json_4xx(api: str, case: str) -> None:
    data, status, code = REFUSED[case]
    response, seconds = exchange(api, HEAD + data)
    if status == 413:  # API Gateway's REQUEST_TOO_LARGE, which an API cannot customise
        assert response.status_code == 413
        assert response.content == gateway._over_gateway_limit().body
    else:
        assert_error(response, status, code)
    assert seconds < BOUND


# -- clients that stop sending ------------------------------------------------------------------


def test_a_body_shorter_than_its_length_is_a_400_when_the_client_is_done(api: str) -> None:
    response, _ = exchange(
        api, HEAD + b"Content-Length: 100\r\n\r\nonly 16 bytes...", half_close=True
    )
    error = assert_error(response, 400, "incomplete_body")
    assert "16 of the 100 bytes" in error["message"]


def test_a_chunked_body_that_ends_early_is_a_400(api: str) -> None:
    data = HEAD + b"Transfer-Encoding: chunked\r\n\r\n100\r\nabc"
    assert_error(exchange(api, data, half_close=True)[0], 400, "incomplete_body")


def test_a_stalled_body_is_a_408_within_the_read_timeout(api: str) -> None:
    # The client keeps the connection open and sends nothing more: werkzeug waited for good.
    response, seconds = exchange(api, HEAD + b"Content-Length: 100\r\n\r\nonly 16 bytes...")
    assert_error(response, 408, "request_timeout")
    assert READ_TIMEOUT - 1 < seconds < BOUND


def test_a_stalled_request_head_is_disconnected_within_the_read_timeout(api: str) -> None:
    url = urlsplit(api)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=BOUND) as sock:
        sock.sendall(b"POST /images HTTP/1.1\r\nHost: x\r\nX-Half")
        assert sock.recv(100) == b""  # closed, no answer: there is no request to answer
    assert time.monotonic() - started < BOUND


def test_a_huge_chunk_and_a_disconnect_do_not_grow_the_process(
    api: str, local_mode: LocalMode
) -> None:
    # werkzeug's de-chunker kept reading a declared 64 GB chunk after EOF: about 200 MB/s.
    before = rss_bytes(local_mode.process.pid)
    url = urlsplit(api)
    with socket.create_connection((url.hostname, url.port), timeout=BOUND) as sock:
        sock.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\nfffffffff\r\n" + b"\0" * 65536)
        first = sock.recv(12)
    assert first.startswith(b"HTTP/1.1 413"), first
    time.sleep(2)
    assert rss_bytes(local_mode.process.pid) - before < 50 * 1024 * 1024
    assert requests.get(f"{api}/health", timeout=30).status_code == 200
