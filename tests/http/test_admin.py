"""``imgsvc admin`` as a real process against the real local mode: restore over HTTP, and the
AWS-side repairs (backfill-gifs, redrive) against its moto, with its workers making the GIFs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from PIL import Image

from imgsvc_cli.admin import StoredVersion, originals_event
from imgsvc_local.resources import Names
from tests.http.conftest import REPO, LocalMode, start_local_mode, stop_local_mode
from tests.http.support import assert_error, create
from tests.support import imagegen

pytestmark = pytest.mark.http

STACK = Names().prefix
UNKNOWN_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


def admin(mode: LocalMode, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m imgsvc_cli --json admin ARGS`` against the local mode (API and moto)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("IMGSVC_", "AWS_"))}
    environment.update(
        IMGSVC_URL=mode.url,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return subprocess.run(
        [sys.executable, "-m", "imgsvc_cli", "--json", "admin", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        timeout=120,
        check=False,
    )


def aws_args(mode: LocalMode) -> list[str]:
    return ["--stack", STACK, "--endpoint-url", mode.moto_url]


def ok(result: subprocess.CompletedProcess[bytes]) -> Any:
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def failed(result: subprocess.CompletedProcess[bytes], exit_code: int, code: str) -> None:
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert json.loads(result.stderr)["error"]["code"] == code


def gifs(api: str, image_id: str) -> dict[str, Any]:
    response = requests.get(f"{api}/images/{image_id}/gifs", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_for_gif(api: str, image_id: str, effect: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = gifs(api, image_id)
        if state["effects"][effect]["status"] == "ready":
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.5)


def sqs(mode: LocalMode) -> Any:
    return boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=mode.moto_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def without_gif(mode: LocalMode, image_id: str, effect: str) -> None:
    """Remove an effect's GIF of version 1 behind the API's back (as if never made)."""
    mode.s3().delete_object(Bucket=Names().renditions, Key=f"gifs/{image_id}/1/{effect}.gif")
    assert gifs(mode.url, image_id)["effects"][effect]["status"] == "pending"


# -- restore ----------------------------------------------------------------------------------


def test_restore_brings_a_deleted_image_back_with_its_exact_bytes_and_gifs(
    local_mode: LocalMode,
) -> None:
    api = local_mode.url
    data = imagegen.jpeg(120, 90, seed=7)
    record = create(api, data, name="kept.jpg", **{"x-meta-author": "Ann"})
    assert requests.delete(f"{api}/images/{record['id']}", timeout=30).status_code == 204
    assert_error(requests.get(f"{api}/images/{record['id']}", timeout=30), 404)

    restored = ok(admin(local_mode, "restore", record["id"]))

    assert restored["version"] == 3  # 1, the delete's 2, then this
    assert (restored["name"], restored["metadata"]) == ("kept.jpg", {"author": "Ann"})
    assert restored["sha256"] == record["sha256"] == hashlib.sha256(data).hexdigest()
    latest = requests.get(f"{api}/images/{record['id']}", timeout=30).json()
    assert latest == restored
    content = requests.get(f"{api}/images/{record['id']}/content", timeout=30)
    assert hashlib.sha256(content.content).hexdigest() == record["sha256"]
    # The restored version is a new S3 version: its create event makes its GIFs.
    state = wait_for_gif(api, record["id"], "zoom")
    assert state["version"] == 3


def test_restore_refusals_over_http_change_nothing(local_mode: LocalMode) -> None:
    api = local_mode.url
    record = create(api, imagegen.jpeg(60, 40, seed=8))
    image = f"{api}/images/{record['id']}"

    failed(admin(local_mode, "restore", UNKNOWN_ID), 1, "image_not_found")
    failed(admin(local_mode, "restore", record["id"]), 1, "image_not_deleted")
    failed(admin(local_mode, "restore", record["id"], "--version", "7"), 1, "version_not_found")
    for query, code in (("version=0", "invalid_version"), ("version=x", "invalid_version")):
        assert_error(requests.post(f"{image}/restore?{query}", timeout=30), 400, code)
    assert_error(requests.post(f"{api}/images/not-an-id/restore", timeout=30), 400, "invalid_id")
    # API Gateway has no 405: a method a path lacks gets its missing-route 404.
    assert_error(requests.get(f"{image}/restore", timeout=30), 404, "not_found")
    assert requests.get(image, timeout=30).json() == record

    reverted = ok(admin(local_mode, "restore", record["id"], "--version", "1"))
    assert (reverted["version"], reverted["sha256"]) == (2, record["sha256"])


# -- backfill and redrive against the local mode's moto ---------------------------------------


def test_backfill_gifs_remakes_a_missing_gif_through_the_effect_queue(
    local_mode: LocalMode,
) -> None:
    api = local_mode.url
    record = create(api, imagegen.jpeg(80, 60, seed=9))
    wait_for_gif(api, record["id"], "zoom")
    without_gif(local_mode, record["id"], "zoom")

    result = ok(
        admin(
            local_mode,
            "backfill-gifs",
            *aws_args(local_mode),
            "--image",
            record["id"],
            "--effect",
            "zoom",
        )
    )

    assert (result["versions"], result["queued"]) == (1, 1)
    wait_for_gif(api, record["id"], "zoom")


def test_redrive_puts_a_dead_lettered_event_back_and_the_effect_makes_it(
    local_mode: LocalMode,
) -> None:
    api = local_mode.url
    record = create(api, imagegen.jpeg(80, 60, seed=10))
    wait_for_gif(api, record["id"], "spin")
    without_gif(local_mode, record["id"], "spin")
    versions = local_mode.s3().list_object_versions(
        Bucket=Names().originals, Prefix=f"originals/{record['id']}"
    )["Versions"]
    (stored,) = versions
    event = originals_event(
        StoredVersion(
            record["id"], 1, Names().originals, f"originals/{record['id']}", stored["VersionId"]
        ),
        "us-east-1",
    )
    client = sqs(local_mode)
    dlq_name = Names().effect_queue("spin") + "-dlq"
    dlq = client.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    client.send_message(QueueUrl=dlq, MessageBody=event)  # as if it had failed 3 times

    result = ok(admin(local_mode, "redrive", dlq_name, *aws_args(local_mode)))

    assert (result["method"], result["moved"]) == ("copy", 1)  # moto: no StartMessageMoveTask
    assert result["to"] == Names().effect_queue("spin")
    wait_for_gif(api, record["id"], "spin")
    attributes = client.get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


# -- a new rendition size ---------------------------------------------------------------------


def test_a_rendition_side_is_served_once_it_is_configured(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    # The default sides have no 333: the running service refuses it.
    record = create(local_mode.url, imagegen.jpeg(640, 480, seed=11))
    before = requests.get(
        f"{local_mode.url}/resize/333x/{record['id']}", allow_redirects=False, timeout=60
    )
    assert_error(before, 400, "invalid_size")
    # What `rendition_sides` sets in AWS (IMGSVC_RENDITION_SIZES, environments/stack).
    mode = start_local_mode(tmp_path / "local-mode.log", IMGSVC_RENDITION_SIZES="256,333")
    try:
        added = create(mode.url, imagegen.jpeg(640, 480, seed=11))
        redirect = requests.get(
            f"{mode.url}/resize/333x/{added['id']}", allow_redirects=False, timeout=60
        )
        assert redirect.status_code == 302, redirect.text
        served = requests.get(redirect.headers["Location"], timeout=60)
        assert served.status_code == 200
        assert Image.open(io.BytesIO(served.content)).size == (333, 250)
        assert_error(
            requests.get(f"{mode.url}/resize/400x/{added['id']}", timeout=60), 400, "invalid_size"
        )
    finally:
        stop_local_mode(mode)
