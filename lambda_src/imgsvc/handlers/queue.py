"""What the queue consumers (the uploads and effect functions) share: the S3 event
notifications in an SQS message body, and whether a receive is the last before the DLQ.

Kept apart from the handlers so each function imports only its own flow (cold start).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


@dataclass(frozen=True, slots=True)
class S3Object:
    """One S3 event notification record, the parts the consumers use."""

    event_name: str
    bucket: str
    key: str
    version_id: str | None

    @property
    def created(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")


def s3_objects(body: str) -> list[S3Object]:
    """The S3 event records in an SQS message body.

    The body is the S3 event itself (S3 -> SQS, or SNS -> SQS with raw delivery) or an SNS
    envelope around it. S3's test event (sent when a notification is configured) gives none.
    Anything else is a ValueError: a message no retry can fix, which ends in the DLQ.
    """
    try:
        message = json.loads(body)
        if isinstance(message, dict) and message.get("Type") == "Notification":
            message = json.loads(message["Message"])
    except (json.JSONDecodeError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(f"the message is not an S3 event notification: {exc}") from None
    if not isinstance(message, dict):
        raise ValueError("the message is not an S3 event notification")
    if message.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(message.get("Records"), list):
        raise ValueError("the message is not an S3 event notification (no Records)")
    try:
        return [
            S3Object(
                event_name=record.event_name,
                bucket=record.s3.bucket.name,
                key=unquote_plus(record.s3.get_object.key),
                version_id=record.s3.get_object.version_id,
            )
            for record in S3Event(message).records
        ]
    except (KeyError, TypeError, AttributeError) as exc:  # AttributeError: a key not a string
        raise ValueError(f"malformed S3 event record: {type(exc).__name__} {exc}") from None


def final_attempt(record: SQSRecord, max_receive_count: int) -> bool:
    """Whether this receive is the last one before the queue's redrive policy takes it."""
    try:
        received = int(record.attributes.approximate_receive_count)
    except (KeyError, TypeError, ValueError):
        return False
    return received >= max_receive_count
