"""Direct uploads, the API's side: ``POST /uploads`` issues a ticket and a presigned POST,
``GET /uploads/<id>`` reports the ticket's status. :mod:`imgsvc.upload_processing` is the
other side, the uploads function that turns the file into version 1.

The flow (openapi.yaml, ``/uploads``)::

    POST /uploads {"name", "content_type", "metadata"} -> a ticket (DynamoDB: version 0 of a new
                                                          id) and a presigned POST for uploads/<id>
    client POSTs the form fields and a "file" part    -> S3 checks the policy, stores the file
    s3:ObjectCreated -> SQS -> uploads function        -> version 1 of <id>, or a rejection
    GET /uploads/<id>                                  -> pending | processed | rejected

The policy pins the key, the content type and the size range, and expires; S3 refuses anything
else. The bytes are still checked exactly like on the API path (``imaging.inspect``: type sniffed
from the bytes, pixel limit from the header, decodable), since a form field says nothing about them.

A ticket is good for one image. It is kept until a day after its form expired
(``TICKET_RETENTION``; far longer than the uploads queue retries a file), then DynamoDB's TTL
deletes it. From that moment it reads as never issued, whether DynamoDB has deleted it yet or
not: ``GET /uploads/<id>`` is a 404, and a file that arrives for it is deleted unprocessed.

Every pending status ends, even when nothing settles it:

- no file arrived before the form expired (plus ``EXPIRY_GRACE``): rejected, ``upload_expired``;
- a file arrived but the uploads queue's whole retry window (``Config.upload_retry_window``)
  passed without an outcome (the function was killed on the message's last receive, or the
  event never came): settled as the last receive would have (:func:`give_up`): ``processed`` if
  version 1 is committed, else rejected with ``processing_failed``, the file kept. That one
  rejection is not final: a redriven message that succeeds makes the ticket ``processed``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from imgsvc import imaging, keys, metrics, service
from imgsvc.errors import BadRequest, NotFound, UnsupportedMediaType
from imgsvc.image_requests import default_name, sanitize_name, validate_metadata
from imgsvc.records import parse_rfc3339, rfc3339
from imgsvc.repository import UPLOAD_GIVEN_UP, UPLOAD_PENDING, UploadTicket

if TYPE_CHECKING:
    from imgsvc.service import Deps
    from imgsvc.storage import UploadForm

logger = logging.getLogger(__name__)

# The form part S3 takes the file from (any other name is refused by S3).
FILE_FIELD = "file"
# How long after the form expired a ticket with no file is reported as expired: S3 checks the
# expiry when a POST starts, so a large upload begun just in time may still be arriving.
EXPIRY_GRACE = timedelta(minutes=5)
# How long a ticket is kept after its form expired; then DynamoDB's TTL removes it.
TICKET_RETENTION = timedelta(days=1)
_REQUEST_FIELDS = frozenset({"name", "content_type", "metadata"})


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """``POST /uploads``, parsed: the image's (sanitised) name, its type and metadata."""

    name: str
    content_type: str
    metadata: dict[str, str]


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
        name=name or default_name(content_type),
        content_type=content_type,
        metadata=validate_metadata(raw_metadata.items()),
    )


def create_upload(deps: Deps, request: UploadRequest) -> tuple[UploadTicket, UploadForm]:
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
    form = deps.inbox.presigned_post(
        keys.upload_key(image_id),
        request.content_type,
        max_bytes=cfg.max_upload_bytes,
        expires=cfg.upload_url_expires,
    )
    logger.info("upload ticket issued", extra={"image_id": image_id})
    return ticket, form


# --- GET /uploads/<id> -----------------------------------------------------------------------


def upload_status(deps: Deps, upload_id: str) -> UploadTicket:
    """The ticket of ``upload_id``; a pending one that can no longer be settled by processing
    (its form expired with no file, or its file's retry window passed) is settled first, so
    clients stop waiting."""
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
    if ticket.status != UPLOAD_PENDING:
        return ticket
    at = parse_rfc3339(now)
    window = timedelta(seconds=deps.config.upload_retry_window)
    form_expired = at > parse_rfc3339(ticket.expires_at) + EXPIRY_GRACE
    # A file arrives after its ticket was issued: before the window has passed since then, no
    # file can be past it (and the HEAD below is not needed).
    if not form_expired and at <= parse_rfc3339(ticket.created_at) + window:
        return ticket
    arrived = deps.inbox.arrived_at(keys.upload_key(upload_id))
    if arrived is None and form_expired:
        deps.repository.mark_rejected(
            upload_id,
            now,
            "upload_expired",
            "No file arrived before the upload form expired; request a new one with POST /uploads.",
        )
    elif arrived is not None and at > arrived + window:
        logger.warning(
            "upload given up on: no outcome within the queue's retry window",
            extra={"image_id": upload_id, "window_s": deps.config.upload_retry_window},
        )
        give_up(deps, upload_id)
    else:
        return ticket
    return deps.repository.get_ticket(upload_id) or ticket


def give_up(deps: Deps, image_id: str) -> None:
    """Settle a pending ticket whose file will not be processed: ``processed`` if version 1 was
    committed (what failed came after it), else rejected with ``processing_failed``."""
    if deps.repository.get(image_id, 1) is not None:
        deps.repository.mark_processed(image_id, deps.clock())
        return
    deps.repository.mark_rejected(
        image_id,
        deps.clock(),
        UPLOAD_GIVEN_UP,
        "The upload could not be processed; try again later with a new upload.",
    )
    metrics.upload_rejected(UPLOAD_GIVEN_UP)


def live_ticket(deps: Deps, image_id: str, now: str) -> UploadTicket | None:
    """The ticket of ``image_id``, None if there is none or it is past its ``purge_at`` (then
    DynamoDB may or may not have deleted it yet: both read the same)."""
    ticket = deps.repository.get_ticket(image_id)
    if ticket is None or (
        ticket.purge_at is not None and parse_rfc3339(now).timestamp() >= ticket.purge_at
    ):
        return None
    return ticket
