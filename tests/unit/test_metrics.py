"""Metrics in CloudWatch's embedded metric format, read from what real handler runs print.

Every handler below runs over moto with real image bytes; the EMF blobs are the JSON lines with
an ``_aws`` key on stdout (what CloudWatch Logs turns into metrics). Each blob is checked against
the EMF specification's shape, and every dimension value against a fixed, bounded set: never an
image id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from imgsvc import aws, config, metrics, service, upload_tickets, wiring
from imgsvc.handlers import api, resize
from imgsvc.handlers import effects as effects_handler
from imgsvc.handlers import uploads as uploads_handler
from imgsvc.image_requests import ImageUpload
from imgsvc.records import ImageVersion
from imgsvc.repository import Repository, VersionTaken
from tests.support import imagegen
from tests.support.events import LambdaContext, event
from tests.unit.handlers.test_resize_handler import url_event
from tests.unit.handlers.test_uploads_handler import put_file, s3_body, sqs_event

STAGE = "test-stage"
NAMESPACE = "imgsvc-test"
UNITS = {"Count", "Milliseconds", "Bytes"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# Every dimension the service may publish, and every value it may take.
def allowed_values() -> dict[str, frozenset[str]]:
    from imgsvc.effects import EFFECTS

    other = frozenset({metrics.OTHER})
    return {
        "Stage": frozenset({STAGE}),
        "Function": metrics.FUNCTIONS | frozenset({metrics.NONE}) | other,
        "Route": metrics.ROUTES | other,
        "StatusClass": metrics.STATUS_CLASSES | other,
        "Format": metrics.FORMATS | other,
        "Reason": metrics.REJECT_REASONS | other,
        "Effect": frozenset(EFFECTS) | other,
        "Operation": metrics.OPERATIONS | other,
    }


@pytest.fixture
def env(moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv(config.STAGE, STAGE)
    monkeypatch.setenv(config.METRICS_NAMESPACE, NAMESPACE)
    # Powertools would add a "service" dimension from it: the dimension sets stay the code's.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "imgsvc")
    wiring.reset()
    return moto_aws


class Emitted:
    """The EMF blobs printed since the fixture started (reads pytest's captured stdout)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.blobs: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        for line in self._capsys.readouterr().out.splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict) and "_aws" in parsed:
                check_emf(parsed)
                self.blobs.append(parsed)
        return self.blobs

    def named(self, metric: str) -> list[dict[str, Any]]:
        return [blob for blob in self.read() if metric in blob]


@pytest.fixture
def emitted(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Iterator[Emitted]:
    capsys.readouterr()  # what ran before the test is not its output
    found = Emitted(capsys)
    yield found
    check_bounded(found.read())


def check_emf(blob: dict[str, Any]) -> None:
    """The EMF specification's structure: one directive in our namespace, each dimension and
    metric it names a top-level member, values numbers, units CloudWatch units."""
    directives = blob["_aws"]["CloudWatchMetrics"]
    assert isinstance(blob["_aws"]["Timestamp"], int)
    assert len(directives) == 1
    (directive,) = directives
    assert directive["Namespace"] == NAMESPACE
    (dimension_set,) = directive["Dimensions"]
    assert dimension_set[:2] == ["Stage", "Function"]
    assert len(dimension_set) <= 4  # Stage, Function and the metric's own (Route, StatusClass)
    for name in dimension_set:
        assert isinstance(blob[name], str)
    for definition in directive["Metrics"]:
        assert definition["Unit"] in UNITS
        found = blob[definition["Name"]]  # a number, or an array of them
        assert all(
            isinstance(v, (int, float)) for v in (found if isinstance(found, list) else [found])
        )


def check_bounded(blobs: list[dict[str, Any]]) -> None:
    allowed = allowed_values()
    for blob in blobs:
        (dimension_set,) = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
        for name in dimension_set:
            assert name in allowed, f"unknown dimension {name}"
            assert blob[name] in allowed[name], (name, blob[name])
            assert not UUID.search(blob[name]), (name, blob[name])


def dims(blob: dict[str, Any]) -> dict[str, str]:
    (dimension_set,) = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    return {name: blob[name] for name in dimension_set}


def value(blob: dict[str, Any], metric: str) -> float:
    found = blob[metric]
    if isinstance(found, list):
        (found,) = found
    return float(found)


def units(blob: dict[str, Any]) -> dict[str, str]:
    return {m["Name"]: m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


def call_api(**overrides: Any) -> dict[str, Any]:
    return api.handler(event("apigw_rest", **overrides), LambdaContext())


def post_image(data: bytes, name: str = "x.png") -> dict[str, Any]:
    return call_api(
        resource="/images",
        path="/images",
        httpMethod="POST",
        queryStringParameters={"name": name},
        headers={**event("apigw_rest")["headers"], "Content-Type": "image/png"},
        body=base64.b64encode(data).decode(),
        isBase64Encoded=True,
    )


def get(path: str, resource: str) -> dict[str, Any]:
    return call_api(resource=resource, path=path, httpMethod="GET")


def create(data: bytes | None = None) -> ImageVersion:
    upload = ImageUpload(data if data is not None else imagegen.jpeg(120, 90), name="a.jpg")
    return service.create_image(wiring.deps(), upload)


# --- requests --------------------------------------------------------------------------------


def test_api_requests_are_counted_by_route_and_status_class(emitted: Emitted) -> None:
    created = post_image(imagegen.png(32, 16))
    assert created["statusCode"] == 201
    image_id = json.loads(created["body"])["id"]
    assert get(f"/images/{image_id}", "/images/{image_id}")["statusCode"] == 200
    missing = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    assert get(f"/images/{missing}", "/images/{image_id}")["statusCode"] == 404
    assert get("/nowhere/at/all", "/{proxy+}")["statusCode"] == 404
    seen = [(dims(b)["Route"], dims(b)["StatusClass"]) for b in emitted.named("Requests")]
    assert seen == [
        ("/images", "2xx"),
        ("/images/{image_id}", "2xx"),
        ("/images/{image_id}", "4xx"),
        ("unmatched", "4xx"),
    ]
    for blob in emitted.named("Requests"):
        assert dims(blob)["Function"] == "api"
        assert dims(blob)["Stage"] == STAGE
        assert value(blob, "Requests") == 1
        assert units(blob) == {"Requests": "Count"}


def test_a_crashing_route_is_a_5xx(emitted: Emitted, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("the table is on fire")

    monkeypatch.setattr(service, "latest", boom)
    missing = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    assert get(f"/images/{missing}", "/images/{image_id}")["statusCode"] == 500
    (blob,) = emitted.named("Requests")
    assert (dims(blob)["Route"], dims(blob)["StatusClass"]) == ("/images/{image_id}", "5xx")


# --- renditions --------------------------------------------------------------------------------


def test_a_miss_becomes_a_rendition_metric_and_a_hit_does_not(emitted: Emitted) -> None:
    record = create(imagegen.jpeg(300, 200))
    path = f"/r/{record.id}/1/100x/webp"
    first = resize.handler(url_event(path), LambdaContext())
    assert first["statusCode"] == 200
    (made,) = emitted.named("RenditionsMade")
    assert dims(made) == {"Stage": STAGE, "Function": "resize", "Format": "webp"}
    assert value(made, "RenditionsMade") == 1
    assert value(made, "RenditionBytes") == len(base64.b64decode(first["body"]))
    assert value(made, "RenditionMs") > 0
    assert units(made) == {
        "RenditionsMade": "Count",
        "RenditionMs": "Milliseconds",
        "RenditionBytes": "Bytes",
    }
    assert resize.handler(url_event(path), LambdaContext())["statusCode"] == 200  # a hit
    assert len(emitted.named("RenditionsMade")) == 1
    routes = [dims(b)["Route"] for b in emitted.named("Requests")]
    assert routes == ["/r/{image_id}/{version}/{size}/{fmt}"] * 2


# --- uploads ---------------------------------------------------------------------------------


def _ticket() -> str:
    found = wiring.deps()
    request = upload_tickets.UploadRequest("big.jpg", "image/jpeg", {"author": "Ann"})
    ticket, _ = upload_tickets.create_upload(found, request)
    return ticket.id


def test_uploads_processed_and_rejected_by_reason(emitted: Emitted) -> None:
    good, bad, huge = _ticket(), _ticket(), _ticket()
    put_file(good, imagegen.jpeg(64, 48))
    put_file(bad, b"this is not an image at all")
    put_file(huge, imagegen.png_declaring(40000, 40000))
    response = uploads_handler.handler(
        sqs_event(*(s3_body("s3_upload_created", f"uploads/{i}") for i in (good, bad, huge))),
        LambdaContext(),
    )
    assert response["batchItemFailures"] == []
    (processed,) = emitted.named("UploadsProcessed")
    assert dims(processed) == {"Stage": STAGE, "Function": "uploads"}
    reasons = sorted(dims(b)["Reason"] for b in emitted.named("UploadsRejected"))
    tickets = {i: wiring.deps().repository.get_ticket(i) for i in (bad, huge)}
    assert reasons == sorted(t.error_code for t in tickets.values() if t and t.error_code)
    assert len(reasons) == 2


def test_an_upload_given_up_on_is_rejected_as_processing_failed(
    emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    image_id = _ticket()
    put_file(image_id, imagegen.jpeg(64, 48))

    def unavailable(*_: object, **__: object) -> None:
        raise ConnectionError("S3 is down")

    monkeypatch.setattr(service, "create_image", unavailable)
    response = uploads_handler.handler(
        sqs_event(s3_body("s3_upload_created", f"uploads/{image_id}"), receive_count=5),
        LambdaContext(),
    )
    assert len(response["batchItemFailures"]) == 1
    (rejected,) = emitted.named("UploadsRejected")
    assert dims(rejected)["Reason"] == "processing_failed"


# --- GIFs ------------------------------------------------------------------------------------


def test_gif_effects_ready_and_failed_with_their_milliseconds(
    emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = create()
    too_large = create(imagegen.jpeg(200, 150))
    effects_handler.handler_for("zoom")(
        sqs_event(s3_body("s3_original_created", ready.key, ready.s3_version_id)), LambdaContext()
    )
    # The effects function's pixel limit is below the image's: it cannot be made, a marker
    # says so (a GIF that fails for good).
    monkeypatch.setenv(config.MAX_PIXELS, "1000")
    wiring.reset()
    effects_handler.handler_for("zoom")(
        sqs_event(s3_body("s3_original_created", too_large.key, too_large.s3_version_id)),
        LambdaContext(),
    )
    (made,) = emitted.named("GifsReady")
    (failed,) = emitted.named("GifsFailed")
    for blob in (made, failed):
        assert dims(blob) == {"Stage": STAGE, "Function": "effects", "Effect": "zoom"}
        assert value(blob, "GifMs") > 0
        assert units(blob)["GifMs"] == "Milliseconds"


# --- replica reads and version conflicts ------------------------------------------------------


def test_a_read_served_from_the_replica_is_counted(emitted: Emitted) -> None:
    data = imagegen.png(20, 20)
    record = create(data)
    found = wiring.deps()
    storage = found.originals
    assert storage.replica_client is not None
    # Replication's copy (moto cannot keep the version id), then the main copy expires.
    storage.replica_client.put_object(
        Bucket=storage.replica_bucket,
        Key=record.key,
        Body=data,
        Metadata={"sha256": hashlib.sha256(data).hexdigest()},
    )
    aws.s3().delete_object(Bucket=storage.bucket, Key=record.key, VersionId=record.s3_version_id)
    response = get(f"/images/{record.id}/content", "/images/{image_id}/content")
    assert response["statusCode"] == 302
    (blob,) = emitted.named("ReplicaReads")
    assert dims(blob) == {"Stage": STAGE, "Function": "api"}
    # A read from the main bucket is not one.
    create_response = post_image(imagegen.png(8, 8))
    other = json.loads(create_response["body"])["id"]
    assert get(f"/images/{other}/content", "/images/{image_id}/content")["statusCode"] == 302
    assert len(emitted.named("ReplicaReads")) == 1


def test_version_conflicts_and_their_retries(
    emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = create()
    real = Repository.put_version
    calls = {"n": 0}

    def taken_once(self: Repository, version: ImageVersion) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise VersionTaken("a racing writer")
        real(self, version)

    monkeypatch.setattr(Repository, "put_version", taken_once)
    updated = service.update_image(
        wiring.deps(), record.id, ImageUpload(imagegen.png(10, 10), name="b.png")
    )
    assert updated.version == 2
    (blob,) = emitted.named("VersionConflicts")
    assert dims(blob)["Operation"] == "update"
    assert (value(blob, "VersionConflicts"), value(blob, "VersionConflictRetries")) == (1, 1)

    def always_taken(self: Repository, version: ImageVersion) -> None:
        raise VersionTaken("always")

    monkeypatch.setattr(Repository, "put_version", always_taken)
    with pytest.raises(service.Conflict):
        service.update_image(wiring.deps(), record.id, ImageUpload(imagegen.png(), name="c.png"))
    last = emitted.named("VersionConflicts")[-1]
    assert "VersionConflictRetries" not in last  # the last attempt gave up: a 409, no retry


# --- bounded dimensions, whatever the input ----------------------------------------------------


def test_every_route_of_the_functions_is_a_route_dimension() -> None:
    registered = {
        route.openapi_path
        for app in (api.app, resize.api, resize.origin)
        for route in app._static_routes + app._dynamic_routes
    }
    assert registered
    assert registered <= metrics.ROUTES


def test_unexpected_values_never_become_dimensions(emitted: Emitted) -> None:
    image_id = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    with metrics.function_scope(image_id):
        metrics.rendition_made(image_id, 1.0, 10)
        metrics.upload_rejected(f"bad {image_id}")
        metrics.version_conflict(image_id, retried=False)
        metrics.gif("made", image_id, 1.0)
    blobs = emitted.read()
    assert len(blobs) == 4
    assert all(image_id not in json.dumps(dims(b)) for b in blobs)
    assert {dims(b)["Function"] for b in blobs} == {metrics.OTHER}
    # A route API Gateway never sends (a hand-made event) is counted as unmatched, not by path.
    response = call_api(resource=f"/images/{image_id}", path=f"/x/{image_id}", httpMethod="GET")
    assert response["statusCode"] == 404
    assert dims(emitted.named("Requests")[-1])["Route"] == "unmatched"


def test_a_metric_that_cannot_be_written_never_fails_the_work(
    emitted: Emitted, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(blob: dict[str, Any]) -> None:
        raise OSError("stdout closed")

    metrics.set_sink(broken)
    try:
        assert post_image(imagegen.png(8, 8))["statusCode"] == 201
    finally:
        metrics.set_sink(None)
    assert "metric not emitted" in caplog.text


def test_the_namespace_and_stage_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config.from_env({})
    assert (cfg.metrics_namespace, cfg.stage) == ("imgsvc", "default")
    cfg = config.from_env({config.METRICS_NAMESPACE: " ns ", config.STAGE: "prod"})
    assert (cfg.metrics_namespace, cfg.stage) == ("ns", "prod")
