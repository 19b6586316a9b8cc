"""`make run`'s process: what it prints, and a clean stop on Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from requests_toolbelt import MultipartEncoder

from tests.http.conftest import start_local_mode, stop_local_mode
from tests.http.support import assert_error, send_bytes
from tests.support import imagegen

pytestmark = pytest.mark.http


def test_prints_the_url_and_an_example_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    mode = start_local_mode(tmp_path / "run.log")
    try:
        banner = mode.log.read_text()
        assert f"running at {mode.url}" in banner
        assert f"curl -sS -X POST '{mode.url}/images?name=photo.jpg'" in banner
        requests.get(f"{mode.url}/health", timeout=10)
    finally:
        code = stop_local_mode(mode)
    assert code == 0
    log = mode.log.read_text()
    assert '"GET /health" 200' in log  # each request is logged
    assert log.rstrip().endswith("Stopped.")


@pytest.mark.parametrize(
    "bad_line",
    [b"x-meta-my key: v", b"no colon at all", b"x-meta-a\x00b: v"],
    ids=["space-in-name", "no-colon", "nul-in-name"],
)
def test_a_malformed_header_line_is_a_400_naming_it_not_a_request_without_it(
    api: str, bad_line: bytes
) -> None:
    # http.client stops reading fields at such a line: it and every line after it (here the
    # Content-Length) were silently dropped, and the image got "the request body is empty".
    data = imagegen.jpeg(32, 24)
    request = (
        b"POST /images?name=a.jpg HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        + bad_line
        + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(data)
        + data
    )
    error = assert_error(send_bytes(api, request), 400, "malformed_header_line")
    assert bad_line[:8].decode() in error["message"]


def test_a_multipart_request_is_not_taken_for_a_malformed_one(api: str) -> None:
    # The header parser also reads a multipart Content-Type and notes that the (empty) header
    # block's body has no parts: a defect, but not one of a header line.
    form = MultipartEncoder(fields={"image": ("a.jpg", imagegen.jpeg(32, 24), "image/jpeg")})
    response = requests.post(
        f"{api}/images", data=form, headers={"Content-Type": form.content_type}, timeout=30
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "headers",
    [b"X-Long: " + b"a" * 70_000 + b"\r\n", b"".join(b"X-%d: a\r\n" % i for i in range(150))],
    ids=["line-too-long", "too-many-lines"],
)
def test_headers_over_the_servers_limits_get_a_json_error(api: str, headers: bytes) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"
    assert_error(send_bytes(api, request), 431)
