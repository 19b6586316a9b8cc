"""The API function invoked with real-shaped API Gateway REST events (over moto)."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from imgsvc import aws, service, wiring
from imgsvc.handlers import api
from imgsvc.image_requests import ImageUpload
from imgsvc.logs import logger
from imgsvc.repository import VersionTaken
from tests.support import imagegen
from tests.support.events import LambdaContext, event


def invoke(**overrides: Any) -> dict[str, Any]:
    return api.handler(event("apigw_rest", **overrides), LambdaContext())


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_health(moto_aws: dict[str, str]) -> None:
    response = invoke()
    assert response["statusCode"] == 200
    assert body(response) == {"status": "ok"}


def test_binary_body_and_urls_with_the_stage_of_the_default_domain(
    moto_aws: dict[str, str],
) -> None:
    data = imagegen.png(64, 32)
    response = invoke(
        resource="/images",
        path="/images",
        httpMethod="POST",
        queryStringParameters={"name": "x.png"},
        headers={**event("apigw_rest")["headers"], "Content-Type": "image/png"},
        body=base64.b64encode(data).decode(),
        isBase64Encoded=True,
    )
    assert response["statusCode"] == 201, response["body"]
    record = body(response)
    assert record["size"] == len(data)
    assert record["url"] == (
        "https://abcdef1234.execute-api.us-east-1.amazonaws.com/dev/images/"
        f"{record['id']}/content?version=1"
    )


def test_custom_domain_has_no_stage_in_urls(moto_aws: dict[str, str]) -> None:
    headers = {**event("apigw_rest")["headers"], "Host": "images.example.com"}
    headers["Content-Type"] = "image/jpeg"
    response = invoke(
        resource="/images",
        path="/images",
        httpMethod="POST",
        queryStringParameters={"name": "x.jpg"},
        headers=headers,
        body=base64.b64encode(imagegen.jpeg(16, 16)).decode(),
        isBase64Encoded=True,
    )
    assert body(response)["url"].startswith("https://images.example.com/images/")


def header_lines(*lines: tuple[str, str]) -> dict[str, Any]:
    """``headers`` and ``multiValueHeaders`` as API Gateway makes them of the fixture's header
    lines and these: the last value of each name, and every value of each name."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in [*event("apigw_rest")["headers"].items(), *lines]:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {"headers": single, "multiValueHeaders": multi}


@pytest.mark.parametrize("second", ["x-meta-a", "X-Meta-A"])
def test_a_metadata_header_sent_twice_is_400_and_stores_nothing(
    moto_aws: dict[str, str], second: str
) -> None:
    """API Gateway's ``headers`` keeps one value of a repeated header: the parser reads them all."""
    response = invoke(
        resource="/images",
        path="/images",
        httpMethod="POST",
        queryStringParameters={"name": "x.png"},
        **header_lines(("Content-Type", "image/png"), ("x-meta-a", "1"), (second, "2")),
        body=base64.b64encode(imagegen.png(16, 16)).decode(),
        isBase64Encoded=True,
    )
    assert response["statusCode"] == 400, response["body"]
    assert body(response)["error"]["code"] == "invalid_metadata"
    stored = aws.s3().list_objects_v2(Bucket=wiring.deps().config.originals_bucket)
    assert stored["KeyCount"] == 0


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The service's log lines, formatted by its Powertools formatter, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield buffer
    logger.removeHandler(handler)


def test_an_unexpected_failure_is_a_json_500_and_an_error_log(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, json_logs: io.StringIO
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "latest", broken)
    image_id = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    response = invoke(
        resource="/images/{id}", path=f"/images/{image_id}", pathParameters={"id": image_id}
    )
    assert response["statusCode"] == 500
    assert body(response)["error"]["code"] == "internal_error"
    assert "disk on fire" not in response["body"]  # internals stay in the logs
    logs = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    errors = [entry for entry in logs if entry["level"] == "ERROR"]
    assert errors, logs
    entry = errors[-1]
    assert entry["timestamp"].endswith("+00:00")  # RFC 3339, UTC
    assert entry["function_request_id"] == LambdaContext.aws_request_id
    assert entry["correlation_id"] == "8b6a1c5e-0d7f-4c1e-9a3b-2f4e6d8c0a1b"
    assert "cold_start" in entry
    assert "disk on fire" in entry["exception"]


def test_the_routes_that_import_their_flow_on_first_use_answer(moto_aws: dict[str, str]) -> None:
    """/uploads and /images/<id>/gifs import their use cases inside the route."""
    issued = invoke(
        resource="/uploads",
        path="/uploads",
        httpMethod="POST",
        headers={**event("apigw_rest")["headers"], "Content-Type": "application/json"},
        body=json.dumps({"name": "a.png", "content_type": "image/png"}),
    )
    assert issued["statusCode"] == 201, issued["body"]
    upload_id = body(issued)["id"]
    status = invoke(
        resource="/uploads/{id}", path=f"/uploads/{upload_id}", pathParameters={"id": upload_id}
    )
    assert (status["statusCode"], body(status)["status"]) == (200, "pending")

    record = service.create_image(wiring.deps(), ImageUpload(imagegen.png(8, 8), name="b.png"))
    gifs = invoke(
        resource="/images/{id}/gifs",
        path=f"/images/{record.id}/gifs",
        pathParameters={"id": record.id},
    )
    assert gifs["statusCode"] == 200, gifs["body"]
    effects = body(gifs)["effects"]
    assert effects
    assert {effect["status"] for effect in effects.values()} == {"pending"}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_lost_race_is_a_json_409_and_the_image_is_unchanged(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Writers that keep losing the version race give up with 409 (the local mode runs one
    handler at a time, so HTTP tests never see it; tests/unit/test_concurrency.py races)."""
    deps = wiring.deps()
    record = service.create_image(deps, ImageUpload(imagegen.png(8, 8), name="b.png"))

    def taken(*args: object) -> None:
        raise VersionTaken("another writer got there first")

    repository = type(deps.repository)
    monkeypatch.setattr(repository, "put_version", taken)
    monkeypatch.setattr(repository, "put_tombstone", taken)
    response = invoke(
        resource="/images/{id}",
        path=f"/images/{record.id}",
        pathParameters={"id": record.id},
        httpMethod=method,
        headers={**event("apigw_rest")["headers"], "Content-Type": "image/jpeg"},
        body=base64.b64encode(imagegen.jpeg(16, 16)).decode(),
        isBase64Encoded=True,
    )
    assert response["statusCode"] == 409, response["body"]
    error = body(response)["error"]
    assert error["code"] == f"{'update' if method == 'PUT' else 'delete'}_conflict"
    assert "try again" in error["message"]
    assert service.latest(deps, record.id) == record
    assert service.list_versions(deps, record.id) == [record]
