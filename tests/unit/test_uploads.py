"""Direct uploads over moto: the request, the ticket and its presigned POST policy, the status,
and processing (good, refused, oversized, duplicate, crashed-midway and racing deliveries)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from imgsvc import (
    aws,
    keys,
    service,
    storage,
    upload_processing,
    upload_tickets,
    wiring,
)
from imgsvc.errors import BadRequest, NotFound, UnsupportedMediaType
from imgsvc.handlers import bodies
from imgsvc.image_requests import ImageUpload
from imgsvc.repository import TTL_ATTRIBUTE, Repository, UploadTicket
from tests.support import imagegen


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    return wiring.deps()


@pytest.fixture
def box(deps: service.Deps) -> storage.Inbox:
    return deps.inbox


def request_body(**fields: Any) -> bytes:
    payload = {"name": "photo.jpg", "content_type": "image/jpeg", **fields}
    return json.dumps({k: v for k, v in payload.items() if v is not ...}).encode()


def ticket(deps: service.Deps, box: storage.Inbox, **fields: Any) -> UploadTicket:
    issued, _ = upload_tickets.create_upload(
        deps, upload_tickets.parse_upload_request(request_body(**fields))
    )
    return issued


def put_file(box: storage.Inbox, image_id: str, data: bytes) -> None:
    box.client.put_object(Bucket=box.bucket, Key=keys.upload_key(image_id), Body=data)


def s3_versions(deps: service.Deps, image_id: str) -> list[str]:
    listed = aws.s3().list_object_versions(
        Bucket=deps.originals.bucket, Prefix=keys.original_key(image_id)
    )
    return [v["VersionId"] for v in listed.get("Versions", [])]


def status(deps: service.Deps, box: storage.Inbox, image_id: str) -> dict[str, Any]:
    return bodies.upload_status_body(upload_tickets.upload_status(deps, image_id))


# --- the request -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b'["photo.jpg"]', "invalid_json"),
        (request_body(name=...), "missing_name"),
        (request_body(name=42), "missing_name"),
        (request_body(name="x" * 256), "invalid_name"),
        (request_body(content_type=...), "missing_content_type"),
        (request_body(content_type=""), "missing_content_type"),
        (request_body(metadata=["a"]), "invalid_metadata"),
        (request_body(metadata={"n": 1}), "invalid_metadata"),
        (request_body(metadata={"bad key": "x"}), "invalid_metadata"),
        (request_body(metadata={"k": "line\nbreak"}), "invalid_metadata"),
        (request_body(size=10), "unknown_field"),
    ],
)
def test_bad_requests_are_400_with_a_code(body: bytes, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        upload_tickets.parse_upload_request(body)
    assert caught.value.code == code
    assert caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"name": "a.jpg", "content_type": "image/jpeg", "size": ' + b"9" * 5000 + b"}",
    ],
    ids=["deeply-nested-array", "deeply-nested-object", "integer-over-python-digit-limit"],
)
def test_json_the_decoder_refuses_past_its_limits_is_400_not_500(body: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        upload_tickets.parse_upload_request(body)
    assert caught.value.code == "invalid_json"
    assert caught.value.message


@pytest.mark.parametrize("content_type", ["text/html", "image/tiff", "image/svg+xml", "image/jpg"])
def test_a_type_that_is_not_an_accepted_image_is_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        upload_tickets.parse_upload_request(request_body(content_type=content_type))
    assert "image/jpeg" in caught.value.message


def test_a_good_request_is_sanitised_and_normalised() -> None:
    parsed = upload_tickets.parse_upload_request(
        request_body(
            name="../../secret/holiday.png",
            content_type=" IMAGE/PNG; charset=binary",
            metadata={"Author": " Ann "},
        )
    )
    assert parsed == upload_tickets.UploadRequest("holiday.png", "image/png", {"author": "Ann"})
    assert upload_tickets.parse_upload_request(request_body(metadata=None)).metadata == {}


# --- the ticket and its form -----------------------------------------------------------------


def test_the_form_pins_key_type_size_and_expiry(deps: service.Deps, box: storage.Inbox) -> None:
    deps = replace(deps, clock=lambda: "2026-11-22T14:00:00.000Z")
    issued, form = upload_tickets.create_upload(
        deps, upload_tickets.parse_upload_request(request_body(content_type="image/png"))
    )
    assert keys.is_image_id(issued.id)
    assert form.fields["key"] == f"uploads/{issued.id}"
    assert form.fields["Content-Type"] == "image/png"
    assert form.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(base64.b64decode(form.fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": box.bucket} in conditions
    assert {"key": f"uploads/{issued.id}"} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, deps.config.max_upload_bytes] in conditions
    expires = datetime.fromisoformat(policy["expiration"])
    now = datetime.now(UTC)
    assert now < expires <= now + timedelta(seconds=deps.config.upload_url_expires + 1)
    assert issued.expires_at == "2026-11-22T14:10:00.000Z"  # created_at + 600 s
    body = bodies.ticket_body(issued, form, deps.config)
    assert body["expires_in"] == 600
    assert body["max_bytes"] == 25 * 1024 * 1024
    assert body["upload"]["fields"] == form.fields


def test_a_ticket_is_not_an_image_version(deps: service.Deps, box: storage.Inbox) -> None:
    issued = ticket(deps, box, metadata={"author": "Ann"})
    stored = deps.repository.get_ticket(issued.id)
    assert stored == issued
    assert stored is not None
    assert (stored.status, stored.metadata) == ("pending", {"author": "Ann"})
    assert deps.repository.latest(issued.id) is None
    assert list(deps.repository.versions(issued.id)) == []
    with pytest.raises(NotFound):
        service.latest(deps, issued.id)
    assert status(deps, box, issued.id) == {"id": issued.id, "status": "pending"}


def test_status_of_unknown_and_malformed_ids(deps: service.Deps, box: storage.Inbox) -> None:
    with pytest.raises(BadRequest):
        upload_tickets.upload_status(deps, "not-an-id")
    with pytest.raises(NotFound) as caught:
        upload_tickets.upload_status(deps, "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b")
    assert caught.value.code == "upload_not_found"
    image = service.create_image(deps, ImageUpload(imagegen.png(8, 8), name="a.png"))
    with pytest.raises(NotFound):  # an image made through the API has no upload
        upload_tickets.upload_status(deps, image.id)


def test_a_form_that_expired_without_a_file_is_rejected(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(replace(deps, clock=lambda: "2026-11-22T14:00:00.000Z"), box)
    within_grace = replace(deps, clock=lambda: "2026-11-22T14:14:00.000Z")
    assert status(within_grace, box, issued.id)["status"] == "pending"
    later = replace(deps, clock=lambda: "2026-11-22T14:16:00.000Z")
    body = status(later, box, issued.id)
    assert body["status"] == "rejected"
    assert body["error"]["code"] == "upload_expired"
    assert "POST /uploads" in body["error"]["message"]
    assert deps.repository.get_ticket(issued.id).status == "rejected"  # type: ignore[union-attr]


def test_an_expired_form_whose_file_arrived_stays_pending(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(replace(deps, clock=lambda: "2026-11-22T14:00:00.000Z"), box)
    put_file(box, issued.id, imagegen.jpeg(32, 32))
    later = replace(deps, clock=lambda: "2026-11-22T15:00:00.000Z")
    assert status(later, box, issued.id)["status"] == "pending"


# --- processing ------------------------------------------------------------------------------


def test_a_good_image_becomes_version_1_with_the_tickets_name_and_metadata(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box, name="big.png", content_type="image/png", metadata={"a": "b"})
    data = imagegen.png(300, 200, alpha=True)
    put_file(box, issued.id, data)
    assert upload_processing.process_upload(deps, issued.id) == "processed"
    record = service.latest(deps, issued.id)
    assert (record.version, record.name, record.metadata) == (1, "big.png", {"a": "b"})
    assert (record.content_type, record.width, record.height) == ("image/png", 300, 200)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    stored = aws.s3().get_object(
        Bucket=deps.originals.bucket, Key=record.key, VersionId=record.s3_version_id
    )
    assert stored["Body"].read() == data
    assert not box.has(keys.upload_key(issued.id))
    assert status(deps, box, issued.id) == {"id": issued.id, "status": "processed"}


def test_the_type_comes_from_the_bytes_not_the_ticket(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box, content_type="image/jpeg")
    put_file(box, issued.id, imagegen.webp(40, 30))
    upload_processing.process_upload(deps, issued.id)
    assert service.latest(deps, issued.id).content_type == "image/webp"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<html>definitely not an image</html>", "not_an_image"),
        (imagegen.png_declaring(40000, 40000), "too_many_pixels"),
        (imagegen.truncated(imagegen.jpeg(200, 200)), "corrupt_image"),
        (b"", "empty_body"),
    ],
)
def test_refused_bytes_store_nothing_and_say_why(
    deps: service.Deps, box: storage.Inbox, data: bytes, code: str
) -> None:
    issued = ticket(deps, box)
    put_file(box, issued.id, data)
    assert upload_processing.process_upload(deps, issued.id) == "rejected"
    body = status(deps, box, issued.id)
    assert body["status"] == "rejected"
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert s3_versions(deps, issued.id) == []
    assert deps.repository.latest(issued.id) is None
    assert not box.has(keys.upload_key(issued.id))


def test_a_file_over_the_limit_is_refused_unread(deps: service.Deps, box: storage.Inbox) -> None:
    small = replace(deps, config=replace(deps.config, max_upload_bytes=1000))
    issued = ticket(small, box)
    put_file(box, issued.id, imagegen.jpeg(200, 200))
    assert upload_processing.process_upload(small, issued.id) == "rejected"
    assert status(small, box, issued.id)["error"]["code"] == "payload_too_large"
    assert s3_versions(deps, issued.id) == []


def test_a_duplicate_delivery_makes_one_version(deps: service.Deps, box: storage.Inbox) -> None:
    issued = ticket(deps, box)
    put_file(box, issued.id, imagegen.jpeg(64, 64))
    assert upload_processing.process_upload(deps, issued.id) == "processed"
    assert upload_processing.process_upload(deps, issued.id) == "duplicate"
    assert [r.version for r in service.list_versions(deps, issued.id)] == [1]
    assert len(s3_versions(deps, issued.id)) == 1


def test_a_crash_after_the_commit_is_finished_by_the_redelivery(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box, name="x.jpg")
    data = imagegen.jpeg(64, 64)
    put_file(box, issued.id, data)
    # The first delivery committed version 1, then died before settling the ticket.
    service.create_image(deps, ImageUpload(data, name="x.jpg"), image_id=issued.id)
    assert status(deps, box, issued.id)["status"] == "pending"
    assert upload_processing.process_upload(deps, issued.id) == "duplicate"
    assert status(deps, box, issued.id)["status"] == "processed"
    assert not box.has(keys.upload_key(issued.id))
    assert len(s3_versions(deps, issued.id)) == 1


def test_a_crash_after_settling_only_needs_the_file_removed(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    put_file(box, issued.id, imagegen.jpeg(64, 64))
    upload_processing.process_upload(deps, issued.id)
    put_file(box, issued.id, imagegen.png(10, 10))  # left over (or a second POST of the form)
    assert upload_processing.process_upload(deps, issued.id) == "duplicate"
    assert not box.has(keys.upload_key(issued.id))
    assert service.latest(deps, issued.id).content_type == "image/jpeg"


class _CommitRacesThePreCheck(Repository):
    """The racing delivery commits version 1 just after this one checked it was free."""

    def get(self, image_id: str, version: int) -> Any:
        if version == 1:
            return None
        return super().get(image_id, version)


def test_a_racing_delivery_that_committed_first_wins_and_no_bytes_are_left_over(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    data = imagegen.jpeg(64, 64)
    put_file(box, issued.id, data)
    first = service.create_image(deps, ImageUpload(data, name="photo.jpg"), image_id=issued.id)
    racing = replace(
        deps, repository=_CommitRacesThePreCheck(deps.repository.client, deps.repository.table)
    )
    assert upload_processing.process_upload(racing, issued.id) == "duplicate"
    assert s3_versions(deps, issued.id) == [first.s3_version_id]
    assert status(deps, box, issued.id)["status"] == "processed"


def test_processed_wins_over_a_late_rejection(deps: service.Deps, box: storage.Inbox) -> None:
    issued = ticket(deps, box)
    deps.repository.mark_processed(issued.id, deps.clock())
    assert not deps.repository.mark_rejected(issued.id, deps.clock(), "x", "late")
    assert status(deps, box, issued.id) == {"id": issued.id, "status": "processed"}


def test_a_file_after_the_ticket_was_rejected_is_deleted(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    put_file(box, issued.id, b"not an image")
    upload_processing.process_upload(deps, issued.id)
    put_file(box, issued.id, imagegen.jpeg(32, 32))
    assert upload_processing.process_upload(deps, issued.id) == "duplicate"
    assert not box.has(keys.upload_key(issued.id))
    assert deps.repository.latest(issued.id) is None
    assert status(deps, box, issued.id)["error"]["code"] == "not_an_image"


def test_a_file_without_a_ticket_is_deleted(deps: service.Deps, box: storage.Inbox) -> None:
    stray = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    put_file(box, stray, imagegen.jpeg(32, 32))
    assert upload_processing.process_upload(deps, stray) == "no_ticket"
    assert not box.has(keys.upload_key(stray))
    assert deps.repository.latest(stray) is None


def test_an_event_whose_file_is_gone_changes_nothing(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    assert upload_processing.process_upload(deps, issued.id) == "gone"
    assert status(deps, box, issued.id)["status"] == "pending"


class _OriginalsDown:
    """An S3 client whose writes to the originals bucket fail (an outage), reads work."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def put_object(self, **kwargs: Any) -> Any:
        raise ConnectionError("originals bucket unreachable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_failure_is_retried_and_recorded_only_on_the_last_attempt(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    put_file(box, issued.id, imagegen.jpeg(32, 32))
    broken = replace(deps, originals=replace(deps.originals, client=_OriginalsDown(aws.s3())))
    with pytest.raises(ConnectionError):
        upload_processing.process_upload(broken, issued.id)
    assert status(deps, box, issued.id)["status"] == "pending"
    with pytest.raises(ConnectionError):
        upload_processing.process_upload(broken, issued.id, final_attempt=True)
    body = status(deps, box, issued.id)
    assert body["status"] == "rejected"
    assert body["error"]["code"] == "processing_failed"
    assert box.has(keys.upload_key(issued.id))  # kept for investigation
    assert deps.repository.latest(issued.id) is None


# --- ticket retention (DynamoDB TTL) ---------------------------------------------------------

ISSUED_AT = "2026-11-22T14:00:00.000Z"
# The form expires 600 s after issue (the default); the ticket is kept one day after that.
PURGE_AT = int(datetime(2026, 11, 23, 14, 10, tzinfo=UTC).timestamp())


def at(deps: service.Deps, when: datetime) -> service.Deps:
    return replace(deps, clock=lambda: when.isoformat().replace("+00:00", "Z"))


def table_items(deps: service.Deps) -> list[dict[str, Any]]:
    return aws.dynamodb().scan(TableName=deps.config.table_name)["Items"]


def test_a_ticket_item_carries_a_ttl_a_day_after_its_form_expires(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(replace(deps, clock=lambda: ISSUED_AT), box)
    assert issued.purge_at == PURGE_AT
    item = aws.dynamodb().get_item(
        TableName=deps.config.table_name, Key={"id": {"S": issued.id}, "version": {"N": "0"}}
    )["Item"]
    assert item[TTL_ATTRIBUTE] == {"N": str(PURGE_AT)}  # a Number: DynamoDB ignores strings
    assert deps.repository.get_ticket(issued.id) == issued


def test_only_tickets_carry_the_ttl_attribute_and_settling_keeps_it(
    deps: service.Deps, box: storage.Inbox
) -> None:
    processed, rejected, pending = ticket(deps, box), ticket(deps, box), ticket(deps, box)
    put_file(box, processed.id, imagegen.jpeg(32, 32))
    put_file(box, rejected.id, b"not an image")
    assert upload_processing.process_upload(deps, processed.id) == "processed"
    assert upload_processing.process_upload(deps, rejected.id) == "rejected"
    image = service.create_image(deps, ImageUpload(imagegen.png(8, 8), name="a.png"))
    service.update_image(deps, image.id, ImageUpload(imagegen.png(9, 9), name="b.png"))
    service.delete_image(deps, image.id)  # a tombstone as version 3

    items = table_items(deps)
    kinds = {(item["kind"]["S"], TTL_ATTRIBUTE in item) for item in items}
    assert kinds == {("upload", True), ("image", False), ("deleted", False)}
    tickets = {item["id"]["S"]: item for item in items if item["version"]["N"] == "0"}
    assert set(tickets) == {processed.id, rejected.id, pending.id}
    for issued in (processed, rejected, pending):
        assert tickets[issued.id][TTL_ATTRIBUTE] == {"N": str(issued.purge_at)}


def test_a_ticket_past_its_ttl_reads_as_gone_before_dynamodb_deletes_it(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(replace(deps, clock=lambda: ISSUED_AT), box)
    purge = datetime.fromtimestamp(PURGE_AT, UTC)
    just_before = status(at(deps, purge - timedelta(seconds=1)), box, issued.id)
    assert just_before["error"]["code"] == "upload_expired"
    with pytest.raises(NotFound) as caught:
        upload_tickets.upload_status(at(deps, purge), issued.id)
    assert caught.value.code == "upload_not_found"
    assert "expired" in caught.value.message
    assert "POST /uploads" in caught.value.message
    assert deps.repository.get_ticket(issued.id) is not None  # still in the table (TTL is lazy)


def test_a_file_for_a_ticket_past_its_ttl_is_deleted_unprocessed(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(replace(deps, clock=lambda: ISSUED_AT), box)
    put_file(box, issued.id, imagegen.jpeg(32, 32))
    late = at(deps, datetime.fromtimestamp(PURGE_AT + 60, UTC))
    assert upload_processing.process_upload(late, issued.id) == "no_ticket"
    assert not box.has(keys.upload_key(issued.id))
    assert deps.repository.get(issued.id, 1) is None


def test_a_ticket_written_without_a_ttl_is_still_read(
    deps: service.Deps, box: storage.Inbox
) -> None:
    """Tickets issued before tickets had a TTL have none: they read as before."""
    old = UploadTicket(
        id="3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b",
        name="a.jpg",
        content_type="image/jpeg",
        created_at=ISSUED_AT,
        expires_at="2026-11-22T14:10:00.000Z",
    )
    deps.repository.put_ticket(old)
    assert TTL_ATTRIBUTE not in table_items(deps)[0]
    later = at(deps, datetime(2027, 1, 1, tzinfo=UTC))
    assert status(later, box, old.id)["error"]["code"] == "upload_expired"


def test_the_local_table_deletes_expired_tickets_by_ttl(deps: service.Deps) -> None:
    described = aws.dynamodb().describe_time_to_live(TableName=deps.config.table_name)
    assert described["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": TTL_ATTRIBUTE,
    }


# --- an upload nobody settles ----------------------------------------------------------------


def test_an_arrived_file_with_no_outcome_is_given_up_after_the_queues_retry_window(
    deps: service.Deps, box: storage.Inbox
) -> None:
    """The uploads function died on the last receive (or the event never came)."""
    issued = ticket(deps, box)
    put_file(box, issued.id, imagegen.jpeg(32, 32))
    arrived = box.arrived_at(keys.upload_key(issued.id))
    assert arrived is not None
    window = timedelta(seconds=deps.config.upload_retry_window)
    assert status(at(deps, arrived + window), box, issued.id)["status"] == "pending"
    body = status(at(deps, arrived + window + timedelta(seconds=1)), box, issued.id)
    assert body["status"] == "rejected"
    assert body["error"]["code"] == "processing_failed"
    assert box.has(keys.upload_key(issued.id))  # kept for investigation and a redrive
    # A redelivery still processes it: the give-up was not final.
    assert upload_processing.process_upload(deps, issued.id) == "processed"
    assert status(deps, box, issued.id) == {"id": issued.id, "status": "processed"}


def test_a_given_up_upload_whose_image_was_committed_reads_processed(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    data = imagegen.jpeg(32, 32)
    put_file(box, issued.id, data)
    service.create_image(deps, ImageUpload(data, name="a.jpg"), image_id=issued.id)
    arrived = box.arrived_at(keys.upload_key(issued.id))
    assert arrived is not None
    late = at(deps, arrived + timedelta(seconds=deps.config.upload_retry_window + 1))
    assert status(late, box, issued.id)["status"] == "processed"


def test_a_given_up_upload_redelivered_with_bad_bytes_says_why(
    deps: service.Deps, box: storage.Inbox
) -> None:
    issued = ticket(deps, box)
    put_file(box, issued.id, b"not an image at all")
    upload_tickets.give_up(deps, issued.id)
    assert upload_processing.process_upload(deps, issued.id) == "rejected"
    body = status(deps, box, issued.id)
    assert body["error"]["code"] == "not_an_image"  # the real reason replaces the give-up
    assert not box.has(keys.upload_key(issued.id))
