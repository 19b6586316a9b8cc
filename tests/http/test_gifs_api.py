"""GIF effects over real HTTP against the local mode: a new version fans out to one queue per
effect, ``GET /images/<id>/gifs`` goes from pending to ready, and each GIF is an animation of
the right size with immutable caching."""

from __future__ import annotations

import importlib.util
import io
import time
import uuid
from typing import Any

import pytest
import requests
from PIL import Image

from tests.http.conftest import LocalMode
from tests.http.support import assert_error, create, update
from tests.support import imagegen

pytestmark = pytest.mark.http

# The local CDN (imgsvc_local/cdn.py) serves /cdn/gifs/...; without it the GIFs are read from
# the renditions bucket in moto directly.
HAS_CDN = importlib.util.find_spec("imgsvc_local.cdn") is not None
RENDITIONS_BUCKET = "imgsvc-local-renditions"


def wait_until_settled(api: str, image_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(f"{api}/images/{image_id}/gifs", timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        statuses = {effect["status"] for effect in body["effects"].values()}
        if "pending" not in statuses or time.monotonic() > deadline:
            return body  # type: ignore[no-any-return]
        time.sleep(0.3)


def fetch_gif(local_mode: LocalMode, url: str) -> bytes:
    if HAS_CDN:
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "image/gif"
        return response.content
    key = url.split("/cdn/", 1)[1]
    return local_mode.s3().get_object(Bucket=RENDITIONS_BUCKET, Key=key)["Body"].read()  # type: ignore[no-any-return]


def test_every_effect_of_a_new_image_becomes_an_animated_gif(
    api: str, local_mode: LocalMode
) -> None:
    record = create(api, imagegen.jpeg(640, 480, seed=7), name="sea.jpg")
    first = requests.get(f"{api}/images/{record['id']}/gifs", timeout=30)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    body = wait_until_settled(api, record["id"])
    assert (body["id"], body["version"]) == (record["id"], 1)
    assert set(body["effects"]) >= {"zoom", "spin", "hue"}
    expected_sizes = {"zoom": (400, 300), "spin": (400, 400), "hue": (400, 300)}
    for effect, state in body["effects"].items():
        assert state["status"] == "ready", (effect, state)
        key = f"gifs/{record['id']}/1/{effect}.gif"
        assert state["url"] == f"{api}/cdn/{key}"
        with Image.open(io.BytesIO(fetch_gif(local_mode, state["url"]))) as gif:
            assert gif.format == "GIF"
            assert gif.is_animated
            assert gif.n_frames > 1
            assert gif.size == expected_sizes[effect]
        head = local_mode.s3().head_object(Bucket=RENDITIONS_BUCKET, Key=key)
        assert head["ContentType"] == "image/gif"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"


def test_gifs_follow_the_latest_version(api: str) -> None:
    record = create(api, imagegen.jpeg(200, 150, seed=8))
    wait_until_settled(api, record["id"])
    update(api, record["id"], imagegen.png(120, 160, seed=9), "image/png")
    body = wait_until_settled(api, record["id"])
    assert body["version"] == 2
    assert {state["status"] for state in body["effects"].values()} == {"ready"}
    assert all("/2/" in state["url"] for state in body["effects"].values())


def test_a_direct_upload_gets_gifs_too(api: str) -> None:
    ticket = requests.post(
        f"{api}/uploads", json={"name": "u.png", "content_type": "image/png"}, timeout=30
    ).json()
    form = ticket["upload"]
    posted = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("u.png", imagegen.png(160, 120), "image/png")},
        timeout=30,
    )
    assert posted.status_code == 204
    deadline = time.monotonic() + 60
    while requests.get(f"{api}/images/{ticket['id']}", timeout=30).status_code == 404:
        assert time.monotonic() < deadline, "the upload was not processed"
        time.sleep(0.2)
    body = wait_until_settled(api, ticket["id"])
    assert {state["status"] for state in body["effects"].values()} == {"ready"}


def test_gifs_of_unknown_deleted_and_malformed_ids(api: str) -> None:
    assert_error(requests.get(f"{api}/images/not-an-id/gifs", timeout=30), 400, "invalid_id")
    assert_error(requests.get(f"{api}/images/{uuid.uuid4()}/gifs", timeout=30), 404)
    record = create(api, imagegen.jpeg(64, 64))
    assert requests.delete(f"{api}/images/{record['id']}", timeout=30).status_code == 204
    assert_error(requests.get(f"{api}/images/{record['id']}/gifs", timeout=30), 404)
