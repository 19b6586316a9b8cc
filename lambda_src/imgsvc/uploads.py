"""Direct uploads: a ticket per upload, a presigned POST straight to S3, and the processing of
the file when its create event arrives.

The flow (openapi.yaml, ``/uploads``)::

    POST /uploads {"name", "content_type", "metadata"} -> a ticket (DynamoDB: version 0 of a new
                                                          id) and a presigned POST for uploads/<id>
    client POSTs the form fields and a "file" part    -> S3 checks the policy, stores the file
    s3:ObjectCreated -> SQS -> uploads function        -> process_upload(id): version 1 of <id>
    GET /uploads/<id>                                  -> pending | processed | rejected

The policy pins the key, the content type and the size range, and expires; S3 refuses anything
else. The bytes are still checked exactly like on the API path (``imaging.inspect``: type sniffed
from the bytes, pixel limit from the header, decodable), since a form field says nothing about them.

A ticket is good for one image: once processed or rejected, later files for it are deleted.
It is kept until a day after its form expired (``TICKET_RETENTION``; far longer than the uploads
queue retries a file), then DynamoDB's TTL deletes it. From that moment it reads as never issued,
whether DynamoDB has deleted it yet or not: ``GET /uploads/<id>`` is a 404, and a file that
arrives for it is deleted unprocessed.

Processing is idempotent and can be repeated from any point it may have crashed at:

1. ticket settled (processed or rejected): only delete the upload object (a redelivery, or a
   crash between settling the ticket and deleting the file);
2. version 1 already committed: settle the ticket as processed, delete (a crash after the commit);
3. otherwise ``service.create_image`` makes version 1 (a ``VersionTaken`` there means a racing
   delivery committed it first: done), then the ticket is settled, then the file is deleted.
   Bytes that fail the checks store nothing: the ticket says why (the error's code and message)
   and the file is deleted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from imgsvc import aws, imaging, keys, metrics, service
from imgsvc.errors import BadRequest, NotFound, PayloadTooLarge, ServiceError, UnsupportedMediaType
from imgsvc.records import parse_rfc3339, rfc3339
from imgsvc.repository import (
    UPLOAD_PENDING,
    UPLOAD_REJECTED,
    UploadTicket,
    VersionTaken,
)
from imgsvc.uploads_parsing import ImageUpload, sanitize_name, validate_metadata

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

    from imgsvc.config import Config
    from imgsvc.service import Deps

logger = logging.getLogger(__name__)

# The form part S3 takes the file from (any other name is refused by S3).
FILE_FIELD = "file"
# How long after the form expired a ticket with no file is reported as expired: S3 checks the
# expiry when a POST starts, so a large upload begun just in time may still be arriving.
EXPIRY_GRACE = timedelta(minutes=5)
# How long a ticket is kept after its form expired; then DynamoDB's TTL removes it.
TICKET_RETENTION = timedelta(days=1)
_REQUEST_FIELDS = frozenset({"name", "content_type", "metadata"})
_MISSING = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """``POST /uploads``, parsed: the image's (sanitised) name, its type and metadata."""

    name: str
    content_type: str
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A presigned POST: send ``fields`` and the file (as the last part, ``file``) to ``url``."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Inbox:
    """The uploads bucket, where presigned POSTs put files until they are processed."""

    client: S3Client
    bucket: str

    def has(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def read(self, key: str, *, max_bytes: int) -> bytes | None:
        """The file's bytes, None if it is gone; PayloadTooLarge (unread) over ``max_bytes``."""
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        body = found["Body"]
        size = found.get("ContentLength", 0)
        if size > max_bytes:
            body.close()
            raise _too_large(size, max_bytes)
        return body.read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


def inbox(cfg: Config) -> Inbox:
    return Inbox(aws.s3(), cfg.uploads_bucket)


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code", "") in _MISSING


def _too_large(size: int, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is {size:,} bytes; uploads take at most {max_bytes:,}.",
        code="payload_too_large",
    )


# --- POST /uploads ---------------------------------------------------------------------------


def parse_upload_request(body: bytes) -> UploadRequest:
    """Parse and check the JSON body of ``POST /uploads``.

    Raises BadRequest (not a JSON object, a missing or mistyped field, an unknown field, bad
    metadata, a name with nothing left after sanitising) or UnsupportedMediaType (a
    ``content_type`` that is not an accepted image type).
    """
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else None
    except RecursionError:  # the decoder recurses once per nested array or object
        raise BadRequest(
            "The body is not valid JSON: it is nested too deeply.", code="invalid_json"
        ) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer over int's limit
        raise BadRequest(f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise BadRequest(
            'Send a JSON object: {"name": "photo.jpg", "content_type": "image/jpeg", '
            '"metadata": {"author": "me"}}.',
            code="invalid_json",
        )
    unknown = sorted(set(payload) - _REQUEST_FIELDS)
    if unknown:
        raise BadRequest(
            f"Unknown field(s) {', '.join(map(repr, unknown))}: the fields are 'name', "
            "'content_type' and 'metadata'.",
            code="unknown_field",
        )
    raw_name = payload.get("name")
    if not isinstance(raw_name, str):
        raise BadRequest(
            "'name' is required: the image's file name, a string.", code="missing_name"
        )
    name = sanitize_name(raw_name)
    if name is None:
        raise BadRequest(
            f"'name' {raw_name[:64]!r} has no usable characters: give a file name like "
            "'photo.jpg'.",
            code="invalid_name",
        )
    raw_type = payload.get("content_type")
    if not isinstance(raw_type, str) or not raw_type.strip():
        raise BadRequest(
            "'content_type' is required: one of " + ", ".join(sorted(imaging.CONTENT_TYPES)) + ".",
            code="missing_content_type",
        )
    content_type = raw_type.split(";", 1)[0].strip().lower()
    if content_type not in imaging.CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"Content type {raw_type[:64]!r} is not accepted; upload one of: "
            + ", ".join(sorted(imaging.CONTENT_TYPES))
            + ".",
            code="unsupported_content_type",
        )
    raw_metadata = payload.get("metadata", {})
    if raw_metadata is None:
        raw_metadata = {}
    if not isinstance(raw_metadata, dict) or not all(
        isinstance(value, str) for value in raw_metadata.values()
    ):
        raise BadRequest(
            '\'metadata\' must be an object of string values, like {"author": "me"}.',
            code="invalid_metadata",
        )
    return UploadRequest(
        name=name, content_type=content_type, metadata=validate_metadata(raw_metadata.items())
    )


def presigned_form(
    client: S3Client,
    bucket: str,
    image_id: str,
    content_type: str,
    *,
    max_bytes: int,
    expires: int,
) -> UploadForm:
    """A POST form for exactly ``uploads/<image_id>``, of ``content_type``, 1..max_bytes long.

    boto3 adds the bucket, key and signature conditions; the form fields carry the values the
    policy requires, so the client only adds the file.
    """
    fields = {"Content-Type": content_type}
    conditions: list[Any] = [
        {"Content-Type": content_type},
        ["content-length-range", 1, max_bytes],
    ]
    form = client.generate_presigned_post(
        Bucket=bucket,
        Key=keys.upload_key(image_id),
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=expires,
    )
    return UploadForm(url=form["url"], fields={k: str(v) for k, v in form["fields"].items()})


def create_upload(
    deps: Deps, box: Inbox, request: UploadRequest
) -> tuple[UploadTicket, UploadForm]:
    """Record a ticket for a new image id and return it with its presigned POST."""
    cfg = deps.config
    image_id = deps.new_id()
    now = deps.clock()
    expires_at = parse_rfc3339(now) + timedelta(seconds=cfg.upload_url_expires)
    ticket = UploadTicket(
        id=image_id,
        name=request.name,
        content_type=request.content_type,
        metadata=dict(request.metadata),
        created_at=now,
        expires_at=rfc3339(expires_at),
        purge_at=int((expires_at + TICKET_RETENTION).timestamp()),
    )
    deps.repository.put_ticket(ticket)
    form = presigned_form(
        box.client,
        box.bucket,
        image_id,
        request.content_type,
        max_bytes=cfg.max_upload_bytes,
        expires=cfg.upload_url_expires,
    )
    logger.info("upload ticket issued", extra={"image_id": image_id})
    return ticket, form


def ticket_body(ticket: UploadTicket, form: UploadForm, cfg: Config) -> dict[str, Any]:
    """The ``UploadTicket`` response of openapi.yaml."""
    return {
        "id": ticket.id,
        "upload": {"url": form.url, "fields": dict(form.fields)},
        "expires_in": cfg.upload_url_expires,
        "max_bytes": cfg.max_upload_bytes,
    }


# --- GET /uploads/<id> -----------------------------------------------------------------------


def status_body(ticket: UploadTicket) -> dict[str, Any]:
    """The ``UploadStatus`` response of openapi.yaml."""
    body: dict[str, Any] = {"id": ticket.id, "status": ticket.status}
    if ticket.status == UPLOAD_REJECTED:
        body["error"] = {
            "code": ticket.error_code or "rejected",
            "message": ticket.error_message or "The upload was rejected.",
        }
    return body


def upload_status(deps: Deps, box: Inbox, upload_id: str) -> UploadTicket:
    """The ticket of ``upload_id``; a pending one whose form expired with no file arriving is
    settled as rejected (``upload_expired``) first, so clients stop waiting."""
    service.require_id(upload_id)
    now = deps.clock()
    ticket = live_ticket(deps, upload_id, now)
    if ticket is None:
        raise NotFound(
            f"No upload {upload_id}: it was never issued, or it expired (an upload's status is"
            f" kept {TICKET_RETENTION // timedelta(hours=1)} hours after its form expires; the"
            " image of a processed upload stays at /images/<id>). POST /uploads issues a new one.",
            code="upload_not_found",
        )
    if (
        ticket.status == UPLOAD_PENDING
        and parse_rfc3339(now) > parse_rfc3339(ticket.expires_at) + EXPIRY_GRACE
        and not box.has(keys.upload_key(upload_id))
    ):
        deps.repository.mark_rejected(
            upload_id,
            now,
            "upload_expired",
            "No file arrived before the upload form expired; request a new one with POST /uploads.",
        )
        ticket = deps.repository.get_ticket(upload_id) or ticket
    return ticket


# --- processing ------------------------------------------------------------------------------


def process_upload(deps: Deps, box: Inbox, image_id: str, *, final_attempt: bool = False) -> str:
    """Turn the file at ``uploads/<image_id>`` into version 1 of ``image_id``, or reject it.

    Returns what happened (for logs): ``processed``, ``rejected``, ``duplicate`` (already settled
    or committed), ``no_ticket`` or ``gone`` (no file). Raises on failures worth retrying; on the
    ``final_attempt`` (the queue's last receive before its DLQ) the ticket is settled first:
    ``processed`` if version 1 was committed, else rejected with ``processing_failed``, and
    the file is kept for investigation.
    """
    try:
        return _process(deps, box, image_id)
    except Exception:
        if final_attempt:
            _give_up(deps, image_id)
        raise


def _process(deps: Deps, box: Inbox, image_id: str) -> str:
    key = keys.upload_key(image_id)
    ticket = live_ticket(deps, image_id, deps.clock())
    if ticket is None:
        # Not a file we asked for (or its ticket expired): never keep unknown bytes.
        logger.warning("upload without a ticket deleted", extra={"image_id": image_id})
        box.delete(key)
        return "no_ticket"
    if ticket.status != UPLOAD_PENDING:
        box.delete(key)
        return "duplicate"
    if deps.repository.get(image_id, 1) is not None:
        deps.repository.mark_processed(image_id, deps.clock())
        box.delete(key)
        return "duplicate"

    try:
        data = box.read(key, max_bytes=deps.config.max_upload_bytes)
        if data is None:
            logger.warning("upload event without a file", extra={"image_id": image_id})
            return "gone"
        upload = ImageUpload(
            data=data, name=ticket.name, metadata=dict(ticket.metadata), metadata_given=True
        )
        service.create_image(deps, upload, image_id=image_id)
        outcome = "processed"
    except VersionTaken:
        outcome = "duplicate"  # a racing delivery of the same file committed version 1 first
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        _reject(deps, box, image_id, exc)
        return "rejected"
    deps.repository.mark_processed(image_id, deps.clock())
    box.delete(key)
    logger.info("upload processed", extra={"image_id": image_id, "outcome": outcome})
    return outcome


def _reject(deps: Deps, box: Inbox, image_id: str, exc: ServiceError) -> None:
    settled = deps.repository.mark_rejected(image_id, deps.clock(), exc.code, exc.message)
    metrics.upload_rejected(exc.code)
    box.delete(keys.upload_key(image_id))
    logger.info(
        "upload rejected",
        extra={"image_id": image_id, "code": exc.code, "first": settled},
    )


def _give_up(deps: Deps, image_id: str) -> None:
    try:
        if deps.repository.get(image_id, 1) is not None:
            # Version 1 is committed (what failed came after it): the upload did succeed.
            deps.repository.mark_processed(image_id, deps.clock())
            return
        deps.repository.mark_rejected(
            image_id,
            deps.clock(),
            "processing_failed",
            "The upload could not be processed; try again later with a new upload.",
        )
        metrics.upload_rejected("processing_failed")
    except Exception:  # the original error is the one that matters
        logger.exception("could not record the failed upload", extra={"image_id": image_id})


def live_ticket(deps: Deps, image_id: str, now: str) -> UploadTicket | None:
    """The ticket of ``image_id``, None if there is none or it is past its ``purge_at`` (then
    DynamoDB may or may not have deleted it yet: both read the same)."""
    ticket = deps.repository.get_ticket(image_id)
    if ticket is None or (
        ticket.purge_at is not None and parse_rfc3339(now).timestamp() >= ticket.purge_at
    ):
        return None
    return ticket
