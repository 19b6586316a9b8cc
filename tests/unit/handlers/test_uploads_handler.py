"""The uploads function on real-shaped SQS events and on moto's own S3 -> SQS delivery."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from imgsvc import aws, keys, service, upload_tickets, wiring
from imgsvc.handlers import queue
from imgsvc.handlers import uploads as handler_module
from imgsvc_local.workers import QueueWorker
from tests.support import imagegen
from tests.support.events import LambdaContext, event

UNKNOWN_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


def s3_body(fixture: str, key: str, version_id: str | None = None) -> str:
    """An S3 event fixture for ``key`` (and ``versionId``), as the JSON an SQS body carries."""
    notification = event(fixture)
    obj = notification["Records"][0]["s3"]["object"]
    obj["key"] = key
    if version_id is not None:
        obj["versionId"] = version_id
    return json.dumps(notification)


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    """The SQS event fixture with one record per body."""
    template = event("sqs_s3_notification")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"message-{index}"
        record["body"] = body
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


@pytest.fixture
def issued(moto_aws: dict[str, str]) -> str:
    """A pending upload ticket's id."""
    found = wiring.deps()
    request = upload_tickets.UploadRequest("big.jpg", "image/jpeg", {"author": "Ann"})
    ticket, _ = upload_tickets.create_upload(found, request)
    return ticket.id


def put_file(image_id: str, data: bytes) -> None:
    cfg = wiring.deps().config
    aws.s3().put_object(Bucket=cfg.uploads_bucket, Key=keys.upload_key(image_id), Body=data)


def ticket_status(image_id: str) -> str:
    ticket = wiring.deps().repository.get_ticket(image_id)
    assert ticket is not None
    return ticket.status


def test_the_s3_event_fixture_is_what_the_sqs_fixture_carries() -> None:
    carried = json.loads(event("sqs_s3_notification")["Records"][0]["body"])
    assert carried == event("s3_upload_created")


def test_a_file_posted_to_the_bucket_is_processed_through_the_queue(
    moto_aws: dict[str, str], issued: str
) -> None:
    worker = QueueWorker(
        name="uploads",
        queue_url=moto_aws["uploads_queue_url"],
        handler=handler_module.handler,
        context_factory=LambdaContext,
        visibility_timeout=0,
        wait_seconds=0,
    )
    assert worker.poll_once() == 1  # S3's test event, sent when the notification was set up
    assert worker.poll_once() == 0  # ...handled, not retried
    data = imagegen.jpeg(300, 200)
    put_file(issued, data)  # moto's S3 notification puts the event on the uploads queue
    assert worker.poll_once() == 1
    record = service.latest(wiring.deps(), issued)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert (record.name, record.metadata) == ("big.jpg", {"author": "Ann"})
    assert ticket_status(issued) == "processed"
    assert worker.poll_once() == 0  # deleted from the queue


def test_a_poison_message_fails_alone(moto_aws: dict[str, str], issued: str) -> None:
    put_file(issued, imagegen.png(40, 40))
    response = handler_module.handler(
        sqs_event("this is not an S3 event", s3_body("s3_upload_created", f"uploads/{issued}")),
        LambdaContext(),
    )
    assert failed_ids(response) == ["message-0"]
    assert ticket_status(issued) == "processed"


def test_a_refused_file_is_a_handled_message(moto_aws: dict[str, str], issued: str) -> None:
    put_file(issued, imagegen.png_declaring(40000, 40000))
    response = handler_module.handler(
        sqs_event(s3_body("s3_upload_created", f"uploads/{issued}")), LambdaContext()
    )
    assert failed_ids(response) == []  # no retry can fix it
    ticket = wiring.deps().repository.get_ticket(issued)
    assert ticket is not None
    assert (ticket.status, ticket.error_code) == ("rejected", "too_many_pixels")


def test_test_events_and_other_keys_are_skipped(moto_aws: dict[str, str]) -> None:
    put_file(UNKNOWN_ID, b"whatever")
    response = handler_module.handler(
        sqs_event(
            json.dumps(event("s3_test_event")),
            s3_body("s3_upload_created", "elsewhere/file.jpg"),
            s3_body("s3_upload_created", "uploads/not-an-id"),
        ),
        LambdaContext(),
    )
    assert failed_ids(response) == []


_S3_RECORD = '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, '
_S3_RECORD += '"object": {"key": %s}}}]}'


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"Records": "nope"}',
        '{"Records": [{"eventName": "ObjectCreated:Put"}]}',
        '{"Type": "Notification", "Message": "not json"}',
        pytest.param(_S3_RECORD % "null", id="a-null-key"),
        pytest.param(_S3_RECORD % "7", id="a-number-key"),
        pytest.param("[" * 100_000, id="nested-deeper-than-the-json-decoder-recurses"),
    ],
)
def test_bodies_that_are_not_s3_events_are_errors(body: str) -> None:
    with pytest.raises(ValueError, match="S3 event"):
        queue.s3_objects(body)


def test_keys_are_url_decoded_and_sns_envelopes_unwrapped() -> None:
    envelope = event("sqs_sns_envelope")["Records"][0]["body"]
    (found,) = queue.s3_objects(envelope)
    assert found == queue.S3Object(
        event_name="ObjectCreated:Put",
        bucket="imgsvc-local-originals",
        key=f"originals/{UNKNOWN_ID}",
        version_id="096fKKXTRTtl3on89fVO.nfljtsv6qko",
    )
    (spaced,) = queue.s3_objects(s3_body("s3_upload_created", "uploads/a+b%2Bc.jpg"))
    assert spaced.key == "uploads/a b+c.jpg"
    assert spaced.version_id is None
    assert spaced.created


class _OriginalsDown:
    """The S3 client, except that storing originals fails (an outage)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def put_object(self, **kwargs: Any) -> Any:
        raise ConnectionError("originals bucket unreachable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_the_last_receive_records_the_failure_and_still_fails(
    moto_aws: dict[str, str], issued: str
) -> None:
    put_file(issued, imagegen.jpeg(32, 32))
    wiring.deps.cache_clear()
    aws.set_client("s3", _OriginalsDown(aws.s3()))
    body = s3_body("s3_upload_created", f"uploads/{issued}")
    response = handler_module.handler(sqs_event(body, receive_count=2), LambdaContext())
    assert failed_ids(response) == ["message-0"]
    assert ticket_status(issued) == "pending"
    response = handler_module.handler(sqs_event(body, receive_count=3), LambdaContext())
    assert failed_ids(response) == ["message-0"]
    assert ticket_status(issued) == "rejected"


class _SettlingFailsOnce:
    """The DynamoDB client, except that the first ``processed`` update of a ticket fails."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.failed = False

    def update_item(self, **kwargs: Any) -> Any:
        status = kwargs["ExpressionAttributeValues"][":status"]["S"]
        if status == "processed" and not self.failed:
            self.failed = True
            raise ConnectionError("table unreachable")
        return self.real.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_the_last_receive_never_rejects_an_upload_whose_image_was_committed(
    moto_aws: dict[str, str], issued: str
) -> None:
    put_file(issued, imagegen.jpeg(32, 32))
    wiring.deps.cache_clear()
    aws.set_client("dynamodb", _SettlingFailsOnce(aws.dynamodb()))
    body = s3_body("s3_upload_created", f"uploads/{issued}")
    response = handler_module.handler(sqs_event(body, receive_count=3), LambdaContext())
    assert failed_ids(response) == ["message-0"]  # retried: the file is kept for the redrive
    assert service.latest(wiring.deps(), issued).version == 1
    assert ticket_status(issued) == "processed"  # not "rejected: processing_failed"
