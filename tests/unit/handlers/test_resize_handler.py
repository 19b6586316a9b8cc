"""The resize function invoked with real-shaped events (over moto): API Gateway REST events for
``GET /resize/{size}/{id}`` and CloudFront's function URL events for ``/r/...``."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import random
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from imgsvc import aws, config, service, wiring
from imgsvc.handlers import resize
from imgsvc.image_requests import ImageUpload
from imgsvc.records import ImageVersion
from tests.support import imagegen
from tests.support.events import LambdaContext, event

CDN = "https://d111111abcdef8.cloudfront.net"  # the fixture's cdnBaseUrl stage variable
UNKNOWN_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    return wiring.deps()


def create(deps: service.Deps, data: bytes, name: str = "a.jpg") -> ImageVersion:
    return service.create_image(deps, ImageUpload(data=data, name=name))


def api_event(size: str, image_id: str, **overrides: Any) -> dict[str, Any]:
    base = event("apigw_resize")
    path = f"/resize/{size}/{image_id}"
    base["requestContext"]["path"] = f"/dev{path}"
    return {**base, "path": path, "pathParameters": {"size": size, "id": image_id}, **overrides}


def url_event(path: str, method: str = "GET") -> dict[str, Any]:
    base = event("lambda_url_rendition")
    base["rawPath"] = path
    base["requestContext"] = copy.deepcopy(base["requestContext"])
    base["requestContext"]["http"].update(method=method, path=path)
    return base


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    return resize.handler(payload, LambdaContext())


def headers(response: dict[str, Any]) -> dict[str, str]:
    """Response headers, whichever shape (REST multiValueHeaders or function URL headers)."""
    single = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        single[name.lower()] = ", ".join(values)
    return single


def body_bytes(response: dict[str, Any]) -> bytes:
    raw = response.get("body") or ""
    return base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()


def error(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status, response["body"]
    assert headers(response)["content-type"] == "application/json"
    found = json.loads(response["body"])["error"]
    assert found["code"] == code, found
    return found  # type: ignore[no-any-return]


def stored_keys(deps: service.Deps) -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=deps.config.renditions_bucket, Prefix="r/")
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


# --- GET /resize/{size}/{id} (API Gateway REST) -------------------------------------------------


def test_resize_makes_the_rendition_and_redirects_to_its_cdn_path(deps: service.Deps) -> None:
    record = create(deps, imagegen.jpeg(640, 480, seed=1))
    response = invoke(api_event("256x256", record.id))
    assert response["statusCode"] == 302, response["body"]
    found = headers(response)
    assert found["location"] == f"{CDN}/r/{record.id}/1/256x256"
    assert found["cache-control"] == "no-store"
    # The fixture's Accept is Chrome's: WebP (AVIF is off unless configured).
    assert stored_keys(deps) == [f"r/{record.id}/1/256x256/webp"]


def test_the_cdn_url_comes_from_the_config_without_a_stage_variable(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    monkeypatch.setenv(config.CDN_BASE_URL, "https://images.example.com/")
    wiring.reset()
    response = invoke(api_event("64x", record.id, stageVariables=None))
    assert headers(response)["location"] == f"https://images.example.com/r/{record.id}/1/64x"


def test_no_cdn_url_anywhere_is_a_503_that_says_so(deps: service.Deps) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    response = invoke(api_event("64x", record.id, stageVariables=None))
    error(response, 503, "cdn_not_configured")
    assert headers(response)["cache-control"] == "no-store"


def test_resize_follows_the_latest_version(deps: service.Deps) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    service.update_image(deps, record.id, ImageUpload(data=imagegen.png(80, 40)))
    response = invoke(api_event("64x", record.id))
    assert headers(response)["location"] == f"{CDN}/r/{record.id}/2/64x"


@pytest.mark.parametrize(
    ("size", "image_id", "status", "code"),
    [
        ("300x", None, 400, "invalid_size"),
        ("256x", "not-an-id", 400, "invalid_id"),
        ("256x", UNKNOWN_ID, 404, "image_not_found"),
    ],
)
def test_resize_errors_are_json_and_cached_for_seconds(
    deps: service.Deps, size: str, image_id: str | None, status: int, code: str
) -> None:
    target = image_id or create(deps, imagegen.jpeg(64, 64)).id
    response = invoke(api_event(size, target))
    found = error(response, status, code)
    assert headers(response)["cache-control"] == "public, max-age=5"
    if code == "invalid_size":
        assert "64, 100, 128, 200, 256, 400, 512, 800, 1024, 1600, 2048" in found["message"]
    assert stored_keys(deps) == []


def test_resize_of_a_deleted_image_is_404(deps: service.Deps) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    service.delete_image(deps, record.id)
    error(invoke(api_event("64x", record.id)), 404, "image_not_found")


# --- /r/<id>/<version>/<size>/<format> (CloudFront failover, function URL) ----------------------


def test_the_origin_answers_the_bytes_with_the_headers_s3_serves_later(
    deps: service.Deps,
) -> None:
    record = create(deps, imagegen.jpeg(640, 480, seed=2))
    path = f"/r/{record.id}/1/256x/webp"
    response = invoke(url_event(path))
    assert response["statusCode"] == 200, response["body"]
    assert response["isBase64Encoded"] is True
    found = headers(response)
    assert found["content-type"] == "image/webp"
    assert found["cache-control"] == "public, max-age=1209600"
    assert found["vary"] == "Accept"
    data = body_bytes(response)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("WEBP", (256, 192))
    stored = aws.s3().get_object(Bucket=deps.config.renditions_bucket, Key=path[1:])
    assert stored["Body"].read() == data
    assert stored["ContentType"] == found["content-type"]
    assert stored["CacheControl"] == found["cache-control"]
    assert stored["ETag"] == found["etag"]
    assert invoke(url_event(path))["body"] == response["body"]  # found, same bytes


def test_head_answers_the_headers_without_the_bytes(deps: service.Deps) -> None:
    record = create(deps, imagegen.png(200, 100), name="a.png")
    path = f"/r/{record.id}/1/100x/original"
    response = invoke(url_event(path, method="HEAD"))
    assert response["statusCode"] == 200
    assert headers(response)["content-type"] == "image/png"
    assert body_bytes(response) == b""
    assert stored_keys(deps) == [f"r/{record.id}/1/100x/original"]
    get = invoke(url_event(path))
    assert headers(response)["content-length"] == str(len(body_bytes(get)))  # the GET's length
    assert {k: v for k, v in headers(get).items() if k != "content-length"} == {
        k: v for k, v in headers(response).items() if k != "content-length"
    }


def test_another_spelling_of_a_size_redirects_to_the_canonical_path(
    deps: service.Deps,
) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    response = invoke(url_event(f"/r/{record.id}/1/064X/original"))
    assert response["statusCode"] == 301
    assert headers(response)["location"] == f"/r/{record.id}/1/64x/original"
    assert stored_keys(deps) == []


def test_a_rendition_too_large_for_a_lambda_response_is_stored_and_redirected(
    deps: service.Deps,
) -> None:
    noise = Image.frombytes("RGB", (2048, 1024), random.Random(7).randbytes(2048 * 1024 * 3))
    record = create(deps, imagegen.encode(noise, "PNG", compress_level=1), name="noise.png")
    path = f"/r/{record.id}/1/2048x/original"
    response = invoke(url_event(path))
    assert response["statusCode"] == 302, response["body"][:200]
    assert headers(response)["location"] == path  # the next request finds it in S3
    assert headers(response)["cache-control"] == "no-store"
    head = aws.s3().head_object(Bucket=deps.config.renditions_bucket, Key=path[1:])
    assert head["ContentLength"] > resize.MAX_INLINE_BYTES
    assert head["CacheControl"] == "public, max-age=1209600"


def test_the_redirect_is_absolute_when_the_cdn_url_is_configured(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    monkeypatch.setenv(config.CDN_BASE_URL, CDN)
    wiring.reset()
    response = invoke(url_event(f"/r/{record.id}/1/064x/original"))
    assert headers(response)["location"] == f"{CDN}/r/{record.id}/1/64x/original"


@pytest.mark.parametrize(
    ("path", "status", "code", "cache_control"),
    [
        (f"/r/{UNKNOWN_ID}/1/256x/webp", 404, "image_not_found", "public, max-age=5"),
        (f"/r/{UNKNOWN_ID}/1/300x/webp", 400, "invalid_size", "public, max-age=5"),
        (f"/r/{UNKNOWN_ID}/1/256x/gif", 400, "invalid_format", "public, max-age=5"),
        (f"/r/{UNKNOWN_ID}/1/256x", 404, "route_not_found", "public, max-age=5"),
        ("/originals/x", 404, "route_not_found", "public, max-age=5"),
    ],
)
def test_origin_errors_are_json_and_cached_for_seconds(
    deps: service.Deps, path: str, status: int, code: str, cache_control: str
) -> None:
    response = invoke(url_event(path))
    error(response, status, code)
    assert headers(response)["cache-control"] == cache_control
    assert stored_keys(deps) == []


def test_a_version_that_does_not_exist_yet_is_404(deps: service.Deps) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    error(invoke(url_event(f"/r/{record.id}/2/64x/original")), 404, "version_not_found")


def test_an_undecodable_original_is_422_never_cached_nothing_stored(deps: service.Deps) -> None:
    garbage = b"GIF89a" + bytes(range(256)) * 8
    record = create(deps, imagegen.jpeg(64, 64))
    digest = hashlib.sha256(garbage).hexdigest()
    s3_version = deps.originals.put(
        record.key, garbage, content_type="image/gif", image_id=record.id, sha256=digest
    )
    deps.repository.put_version(
        replace(
            record, version=2, s3_version_id=s3_version, sha256=digest, content_type="image/gif"
        )
    )
    for response in (
        invoke(url_event(f"/r/{record.id}/2/64x/original")),
        invoke(api_event("64x", record.id)),
    ):
        error(response, 422, "corrupt_image")
        assert headers(response)["cache-control"] == "no-store"
    assert stored_keys(deps) == []


def test_an_unexpected_failure_is_a_json_500_never_cached(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "get_version", broken)
    response = invoke(url_event(f"/r/{UNKNOWN_ID}/1/64x/original"))
    error(response, 500, "internal_error")
    assert "disk on fire" not in response["body"]
    assert headers(response)["cache-control"] == "no-store"
