"""Helpers for HTTP tests: error-shape checks and stored-image snapshots."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict


@dataclass(frozen=True)
class RawResponse:
    """The parts of a ``requests.Response`` the checks here read."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def send_raw(
    api: str,
    method: str,
    target: str,
    header_lines: Sequence[tuple[str, str | bytes]],
    body: bytes = b"",
) -> RawResponse:
    """One request with its header lines exactly as given, which requests cannot send: a name
    repeated (in any case), a value as raw bytes (UTF-8, as curl sends what a terminal types)."""
    url = urlsplit(api)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in header_lines:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(
            response.status, CaseInsensitiveDict(response.getheaders()), response.read()
        )
    finally:
        connection.close()


def send_bytes(api: str, request: bytes) -> RawResponse:
    """One request exactly as the bytes given, which no HTTP client sends: a header line that
    is not one (a space in its name, no colon), a line over the server's limits."""
    url = urlsplit(api)
    address = (url.hostname or "127.0.0.1", url.port or 80)
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return RawResponse(
            response.status, CaseInsensitiveDict(response.getheaders()), response.read()
        )


def assert_error(
    response: requests.Response | RawResponse, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is ``status`` with the JSON error shape (and ``code`` if given)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error  # type: ignore[no-any-return]


def create(api: str, data: bytes, name: str = "photo.jpg", **headers: str) -> dict[str, Any]:
    response = requests.post(
        f"{api}/images",
        params={"name": name},
        data=data,
        headers={"Content-Type": "image/jpeg", **headers},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def update(
    api: str, image_id: str, data: bytes, content_type: str, **headers: str
) -> dict[str, Any]:
    """PUT a new version of ``image_id``; its record (the PUT must succeed)."""
    response = requests.put(
        f"{api}/images/{image_id}",
        data=data,
        headers={"Content-Type": content_type, **headers},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def content_sha256(api: str, image_id: str, version: int | None = None) -> str:
    params = {"version": version} if version is not None else {}
    response = requests.get(f"{api}/images/{image_id}/content", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return hashlib.sha256(response.content).hexdigest()


def snapshot(api: str, image_id: str) -> tuple[Any, Any, str]:
    """What a reader can see of an image: latest record, all versions, latest bytes' hash."""
    latest = requests.get(f"{api}/images/{image_id}", timeout=30).json()
    versions = requests.get(f"{api}/images/{image_id}/versions", timeout=30).json()
    return latest, versions, content_sha256(api, image_id)
