"""Helpers for HTTP tests: error-shape checks and stored-image snapshots."""

from __future__ import annotations

import hashlib
from typing import Any

import requests


def assert_error(
    response: requests.Response, status: int, code: str | None = None
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
