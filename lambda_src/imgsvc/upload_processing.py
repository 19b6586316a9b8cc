"""Direct uploads, the uploads function's side: the file at ``uploads/<id>`` becomes version 1
of ``<id>``, or the ticket says why not (:mod:`imgsvc.upload_tickets` issues the tickets).

Processing is idempotent and can be repeated from any point it may have crashed at:

1. ticket settled (processed or rejected): only delete the upload object (a redelivery, or a
   crash between settling the ticket and deleting the file). A ticket rejected with
   ``processing_failed`` (given up on) is processed again instead: a redriven message may
   succeed;
2. version 1 already committed: settle the ticket as processed, delete (a crash after the commit);
3. otherwise ``service.create_image`` makes version 1 (a ``VersionTaken`` there means a racing
   delivery committed it first: done), then the ticket is settled, then the file is deleted.
   Bytes that fail the checks store nothing: the ticket says why (the error's code and message)
   and the file is deleted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from imgsvc import keys, metrics, service
from imgsvc.errors import PayloadTooLarge, ServiceError
from imgsvc.image_requests import ImageUpload
from imgsvc.repository import (
    UPLOAD_GIVEN_UP,
    UPLOAD_PENDING,
    UPLOAD_REJECTED,
    UploadTicket,
    VersionTaken,
)
from imgsvc.upload_tickets import give_up, live_ticket

if TYPE_CHECKING:
    from imgsvc.service import Deps

logger = logging.getLogger(__name__)


def process_upload(deps: Deps, image_id: str, *, final_attempt: bool = False) -> str:
    """Turn the file at ``uploads/<image_id>`` into version 1 of ``image_id``, or reject it.

    Returns what happened (for logs): ``processed``, ``rejected``, ``duplicate`` (already settled
    or committed), ``no_ticket`` or ``gone`` (no file). Raises on failures worth retrying; on the
    ``final_attempt`` (the queue's last receive before its DLQ) the ticket is settled first
    (:func:`imgsvc.upload_tickets.give_up`), and the file is kept for investigation. A function
    killed on that receive settles nothing: ``GET /uploads/<id>`` gives up once the queue's retry
    window has passed.
    """
    try:
        return _process(deps, image_id)
    except Exception:
        if final_attempt:
            try:
                give_up(deps, image_id)
            except Exception:  # the original error is the one that matters
                logger.exception("could not record the failed upload", extra={"image_id": image_id})
        raise


def _settled(ticket: UploadTicket) -> bool:
    """Whether the ticket has its final outcome (a give-up can still turn into a success)."""
    if ticket.status == UPLOAD_PENDING:
        return False
    return not (ticket.status == UPLOAD_REJECTED and ticket.error_code == UPLOAD_GIVEN_UP)


def _process(deps: Deps, image_id: str) -> str:
    key = keys.upload_key(image_id)
    ticket = live_ticket(deps, image_id, deps.clock())
    if ticket is None:
        # Not a file we asked for (or its ticket expired): never keep unknown bytes.
        logger.warning("upload without a ticket deleted", extra={"image_id": image_id})
        deps.inbox.delete(key)
        return "no_ticket"
    if _settled(ticket):
        deps.inbox.delete(key)
        return "duplicate"
    if deps.repository.get(image_id, 1) is not None:
        deps.repository.mark_processed(image_id, deps.clock())
        deps.inbox.delete(key)
        return "duplicate"

    max_bytes = deps.config.max_upload_bytes
    try:
        found = deps.inbox.read(key, max_bytes=max_bytes)
        if found is None:
            logger.warning("upload event without a file", extra={"image_id": image_id})
            return "gone"
        if found.data is None:
            raise PayloadTooLarge(
                f"The file is {found.size:,} bytes; uploads take at most {max_bytes:,}.",
                code="payload_too_large",
            )
        upload = ImageUpload(
            data=found.data, name=ticket.name, metadata=dict(ticket.metadata), metadata_given=True
        )
        service.create_image(deps, upload, image_id=image_id)
        outcome = "processed"
    except VersionTaken:
        outcome = "duplicate"  # a racing delivery of the same file committed version 1 first
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        _reject(deps, image_id, exc)
        return "rejected"
    deps.repository.mark_processed(image_id, deps.clock())
    deps.inbox.delete(key)
    logger.info("upload processed", extra={"image_id": image_id, "outcome": outcome})
    return outcome


def _reject(deps: Deps, image_id: str, exc: ServiceError) -> None:
    settled = deps.repository.mark_rejected(image_id, deps.clock(), exc.code, exc.message)
    metrics.upload_rejected(exc.code)
    deps.inbox.delete(keys.upload_key(image_id))
    logger.info(
        "upload rejected",
        extra={"image_id": image_id, "code": exc.code, "first": settled},
    )
