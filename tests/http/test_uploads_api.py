"""Direct uploads over real HTTP against the local mode: the ticket, the presigned POST to S3
(moto, with S3's policy checks), processing through the uploads queue, and the status."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from imgsvc.storage import Inbox
from tests.http.conftest import LocalMode
from tests.http.support import assert_error, content_sha256
from tests.support import imagegen

pytestmark = pytest.mark.http

API_LIMIT = 4_500_000


def issue(api: str, **fields: Any) -> dict[str, Any]:
    payload = {"name": "photo.jpg", "content_type": "image/jpeg", **fields}
    response = requests.post(f"{api}/uploads", json=payload, timeout=30)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/uploads/{response.json()['id']}"
    return response.json()  # type: ignore[no-any-return]


def post_file(
    form: dict[str, Any], data: bytes, *, fields: dict[str, str] | None = None
) -> requests.Response:
    """What a browser or client does with the form: its fields, then the file part."""
    return requests.post(
        form["url"],
        data=fields if fields is not None else form["fields"],
        files={"file": ("upload.bin", data, "application/octet-stream")},
        timeout=60,
    )


def wait_for(api: str, upload_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(f"{api}/uploads/{upload_id}", timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] != "pending" or time.monotonic() > deadline:
            return body  # type: ignore[no-any-return]
        time.sleep(0.2)


def s3_error(response: requests.Response) -> str:
    """The S3 error code of an XML error response."""
    start = response.text.index("<Code>") + len("<Code>")
    return response.text[start : response.text.index("</Code>")]


def signing_client(local_mode: LocalMode) -> Any:
    """An S3 client on the local mode's moto that signs POST policies as the service does."""
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=local_mode.moto_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="local",
        config=Config(signature_version="s3v4"),
    )


def uploads_bucket(form: dict[str, Any]) -> str:
    return str(form["url"].rstrip("/").rsplit("/", 1)[-1])


def stored_uploads(local_mode: LocalMode, bucket: str, upload_id: str) -> list[str]:
    listed = local_mode.s3().list_objects_v2(Bucket=bucket, Prefix=f"uploads/{upload_id}")
    return [item["Key"] for item in listed.get("Contents", [])]


# --- bad requests first ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "invalid_json"),
        ('"photo.jpg"', 400, "invalid_json"),
        ('{"content_type": "image/png"}', 400, "missing_name"),
        ('{"name": "a.png"}', 400, "missing_content_type"),
        ('{"name": "a.html", "content_type": "text/html"}', 415, "unsupported_content_type"),
        ('{"name": "a.tif", "content_type": "image/tiff"}', 415, "unsupported_content_type"),
        ('{"name": "a.png", "content_type": "image/png", "metadata": {"a b": "c"}}', 400, None),
        ('{"name": "a.png", "content_type": "image/png", "metadata": {"a": 1}}', 400, None),
        ('{"name": "a.png", "content_type": "image/png", "size": 5}', 400, "unknown_field"),
    ],
)
def test_bad_upload_requests_get_clear_errors(
    api: str, body: str, status: int, code: str | None
) -> None:
    response = requests.post(
        f"{api}/uploads", data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert_error(response, status, code)


def test_status_of_malformed_and_unknown_uploads(api: str) -> None:
    assert_error(requests.get(f"{api}/uploads/not-an-id", timeout=30), 400, "invalid_id")
    unknown = requests.get(f"{api}/uploads/{uuid.uuid4()}", timeout=30)
    assert_error(unknown, 404, "upload_not_found")


# --- the whole path --------------------------------------------------------------------------


def test_a_direct_upload_becomes_an_image(api: str, local_mode: LocalMode) -> None:
    ticket = issue(
        api, name="dir/holiday.webp", content_type="image/webp", metadata={"Author": "Ann"}
    )
    assert ticket["expires_in"] == 600
    assert ticket["max_bytes"] == 25 * 1024 * 1024
    assert requests.get(f"{api}/uploads/{ticket['id']}", timeout=30).json() == {
        "id": ticket["id"],
        "status": "pending",
    }
    assert_error(requests.get(f"{api}/images/{ticket['id']}", timeout=30), 404)

    data = imagegen.webp(900, 600, seed=4)
    form = ticket["upload"]
    assert post_file(form, data).status_code == 204
    assert wait_for(api, ticket["id"]) == {"id": ticket["id"], "status": "processed"}

    record = requests.get(f"{api}/images/{ticket['id']}", timeout=30).json()
    assert record["version"] == 1
    assert record["name"] == "holiday.webp"
    assert record["metadata"] == {"author": "Ann"}
    assert (record["content_type"], record["width"], record["height"]) == ("image/webp", 900, 600)
    assert record["size"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert content_sha256(api, ticket["id"]) == record["sha256"]
    assert stored_uploads(local_mode, uploads_bucket(form), ticket["id"]) == []


def test_an_image_over_the_api_limit_goes_through_a_direct_upload(api: str) -> None:
    data = imagegen.png(2400, 1800, seed=5)
    assert len(data) > API_LIMIT
    ticket = issue(api, name="huge.png", content_type="image/png")
    assert post_file(ticket["upload"], data).status_code == 204
    assert wait_for(api, ticket["id"], timeout=120)["status"] == "processed"
    record = requests.get(f"{api}/images/{ticket['id']}", timeout=30).json()
    assert record["sha256"] == hashlib.sha256(data).hexdigest()


def test_bytes_that_are_not_an_image_are_rejected_and_not_kept(
    api: str, local_mode: LocalMode
) -> None:
    ticket = issue(api, content_type="image/png")
    assert post_file(ticket["upload"], b"<svg onload=alert(1)>").status_code == 204
    body = wait_for(api, ticket["id"])
    assert body["status"] == "rejected"
    assert body["error"]["code"] == "not_an_image"
    assert body["error"]["message"]
    assert_error(requests.get(f"{api}/images/{ticket['id']}", timeout=30), 404)
    assert stored_uploads(local_mode, uploads_bucket(ticket["upload"]), ticket["id"]) == []


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", imagegen.png_declaring(40000, 40000)),
        ("image/gif", imagegen.gif_with_frames((10, 10), [(10, 10), (20000, 20000)])),
    ],
    ids=["png-header", "gif-hidden-frame"],
)
def test_a_bomb_is_rejected(api: str, content_type: str, data: bytes) -> None:
    ticket = issue(api, content_type=content_type)
    assert post_file(ticket["upload"], data).status_code == 204
    body = wait_for(api, ticket["id"])
    assert (body["status"], body["error"]["code"]) == ("rejected", "too_many_pixels")


def test_a_ticket_is_good_for_one_image(api: str, local_mode: LocalMode) -> None:
    ticket = issue(api)
    first = imagegen.jpeg(64, 48, seed=1)
    assert post_file(ticket["upload"], first).status_code == 204
    assert wait_for(api, ticket["id"])["status"] == "processed"
    assert post_file(ticket["upload"], imagegen.jpeg(64, 48, seed=2)).status_code == 204
    bucket = uploads_bucket(ticket["upload"])
    deadline = time.monotonic() + 60
    while stored_uploads(local_mode, bucket, ticket["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)  # until the second file's event was handled: it is deleted
    assert stored_uploads(local_mode, bucket, ticket["id"]) == []
    versions = requests.get(f"{api}/images/{ticket['id']}/versions", timeout=30).json()
    assert [v["sha256"] for v in versions["versions"]] == [hashlib.sha256(first).hexdigest()]


# --- what S3 (moto plus the local mode's policy checks) refuses ------------------------------


def test_the_form_refuses_another_type_key_or_extra_fields(api: str, local_mode: LocalMode) -> None:
    ticket = issue(api, content_type="image/png")
    form = ticket["upload"]
    data = imagegen.png(32, 32)
    cases = {
        "Content-Type": {**form["fields"], "Content-Type": "text/html"},
        "key": {**form["fields"], "key": "uploads/someone-elses"},
        "extra": {**form["fields"], "x-amz-meta-owner": "me"},
        "signature": {**form["fields"], "x-amz-signature": "0" * 64},
    }
    for name, fields in cases.items():
        response = post_file(form, data, fields=fields)
        assert response.status_code == 403, (name, response.text)
        assert s3_error(response) in ("AccessDenied", "SignatureDoesNotMatch"), name
    assert s3_error(post_file(form, data, fields=cases["signature"])) == "SignatureDoesNotMatch"
    assert stored_uploads(local_mode, uploads_bucket(form), ticket["id"]) == []
    assert stored_uploads(local_mode, uploads_bucket(form), "someone-elses") == []
    assert requests.get(f"{api}/uploads/{ticket['id']}", timeout=30).json()["status"] == "pending"


def test_a_post_that_is_not_a_multipart_form_is_refused(api: str, local_mode: LocalMode) -> None:
    """S3 takes a POST Object only as multipart/form-data; a urlencoded POST with no policy and
    no signature was stored (204) and burnt the ticket."""
    ticket = issue(api)
    form = ticket["upload"]
    data = imagegen.jpeg(32, 24)
    for body, content_type in [
        ({"key": form["fields"]["key"], "file": data.decode("latin-1")}, None),
        ({**form["fields"], "file": data.decode("latin-1")}, None),
        (data, "image/jpeg"),
    ]:
        response = requests.post(
            form["url"],
            data=body,
            headers={"Content-Type": content_type} if content_type else {},
            timeout=30,
        )
        assert response.status_code == 412, response.text
        assert s3_error(response) == "PreconditionFailed"
        assert "multipart/form-data" in response.text
    assert stored_uploads(local_mode, uploads_bucket(form), ticket["id"]) == []
    assert requests.get(f"{api}/uploads/{ticket['id']}", timeout=30).json()["status"] == "pending"
    assert post_file(form, data).status_code == 204  # the ticket is still good
    assert wait_for(api, ticket["id"])["status"] == "processed"


def test_the_form_refuses_files_outside_the_size_range(local_mode: LocalMode) -> None:
    upload_id = str(uuid.uuid4())
    client = signing_client(local_mode)
    bucket = "imgsvc-local-uploads"
    small = Inbox(client, bucket).presigned_post(
        f"uploads/{upload_id}", "image/png", max_bytes=1000, expires=60
    )
    form = {"url": small.url, "fields": small.fields}
    too_large = post_file(form, imagegen.png(200, 200))
    assert (too_large.status_code, s3_error(too_large)) == (400, "EntityTooLarge")
    empty = post_file(form, b"")
    assert (empty.status_code, s3_error(empty)) == (400, "EntityTooSmall")
    assert post_file(form, imagegen.png(4, 4)).status_code == 204


def test_an_expired_form_is_refused(local_mode: LocalMode) -> None:
    upload_id = str(uuid.uuid4())
    client = signing_client(local_mode)
    brief = Inbox(client, "imgsvc-local-uploads").presigned_post(
        f"uploads/{upload_id}", "image/png", max_bytes=10**6, expires=1
    )
    time.sleep(2.1)
    response = post_file({"url": brief.url, "fields": brief.fields}, imagegen.png(8, 8))
    assert response.status_code == 403
    assert s3_error(response) == "AccessDenied"
    assert "expired" in response.text
    assert stored_uploads(local_mode, "imgsvc-local-uploads", upload_id) == []
