"""Restore an image from its stored versions: undo a delete, or bring back an older version.

A delete (:func:`imgsvc.service.delete_image`) writes a tombstone as the next version and hides
the S3 key behind a delete marker; every stored version stays in the versioned originals bucket
(until its noncurrent expiry) and in the replica. A restore never rewrites history: it reads
the exact bytes of the chosen version (main bucket, else the replica), checks them against the
record's sha256, stores them as a new S3 version and commits them as the next version of the
image with the chosen version's name and metadata. Readers then see the image again; the new
S3 version's create event makes its GIF effects, like any new version.

The order is that of :mod:`imgsvc.service`: bytes first, the conditional DynamoDB write last,
and the S3 version removed again if the write fails, so a failed restore changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from imgsvc import keys, service
from imgsvc.errors import Conflict, NotFound
from imgsvc.records import ImageVersion, Tombstone
from imgsvc.repository import VersionTaken

if TYPE_CHECKING:
    from imgsvc.service import Deps

logger = logging.getLogger(__name__)


def restore_image(deps: Deps, image_id: str, version: int | None = None) -> ImageVersion:
    """A new latest version of ``image_id`` with the bytes, name and metadata of ``version``.

    Without ``version``: the last stored version of a deleted image (what the delete hid).
    ``version`` may name any stored version, of a deleted image or of a live one (reverting it).
    NotFound for an unknown image or version, or bytes gone everywhere; Conflict for a live
    image without ``version`` (nothing to undo), or when another write takes the version number.
    """
    service.require_id(image_id)
    history = list(deps.repository.versions(image_id))
    if not history:
        raise NotFound(f"No image {image_id}: nothing was ever stored.", code="image_not_found")
    latest = history[0]
    deleted = isinstance(latest, Tombstone)
    source = _source(history, image_id, version, deleted=deleted)
    data = service.read_original(deps, source)
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.sha256:  # a replica copy found by checksum could, in theory, differ
        raise NotFound(
            f"The stored bytes of version {source.version} of {image_id} do not match its "
            "record; nothing was restored.",
            code="content_not_found",
        )
    key = keys.original_key(image_id)
    s3_version = deps.originals.put(
        key,
        data,
        content_type=source.content_type,
        image_id=image_id,
        sha256=source.sha256,
        version_floor=latest.version + 1,  # a commit only ever lands above what was read
    )
    record = ImageVersion(
        id=image_id,
        version=latest.version + 1,
        name=source.name,
        content_type=source.content_type,
        width=source.width,
        height=source.height,
        size=source.size,
        sha256=source.sha256,
        created_at=deps.clock(),
        bucket=deps.originals.bucket,
        key=key,
        s3_version_id=s3_version,
        image_created_at=source.image_created_at,
        metadata=dict(source.metadata),
    )
    try:
        deps.repository.put_version(record)
    except VersionTaken:
        _undo(deps, key, s3_version)
        raise Conflict(
            f"Image {image_id} changed while it was being restored; nothing was restored. "
            "Look at its versions and try again.",
            code="restore_conflict",
        ) from None
    except BaseException:
        _undo(deps, key, s3_version)
        raise
    logger.info(
        "image restored",
        extra={
            "image_id": image_id,
            "version": record.version,
            "from_version": source.version,
            "was_deleted": deleted,
        },
    )
    return record


def _source(
    history: list[ImageVersion | Tombstone], image_id: str, version: int | None, *, deleted: bool
) -> ImageVersion:
    """The stored version to restore (``history`` is newest first)."""
    if version is None:
        if not deleted:
            raise Conflict(
                f"Image {image_id} is not deleted: name the version to bring back "
                "(?version=N) to make it the latest again.",
                code="image_not_deleted",
            )
        for record in history:
            if isinstance(record, ImageVersion):
                return record
        raise NotFound(f"Image {image_id} has no stored version.", code="version_not_found")
    for record in history:
        if record.version == version and isinstance(record, ImageVersion):
            return record
    raise NotFound(
        f"Image {image_id} has no stored version {version} (a delete's own version number "
        "holds no image).",
        code="version_not_found",
    )


def _undo(deps: Deps, key: str, s3_version: str) -> None:
    try:
        deps.originals.delete_version(key, s3_version)
    except Exception:  # the original error matters more; an orphan version is only cost
        logger.exception("could not remove uncommitted S3 version", extra={"key": key})
