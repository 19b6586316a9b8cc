"""The image use cases: create, update, read, list, locate bytes, delete.

Ordering that keeps every failure harmless: inspect the bytes first (nothing stored on bad
input), write the S3 version second, commit the DynamoDB record last with a conditional write.
If the commit fails the S3 version is removed again, so no record ever points at missing bytes
and a failed request leaves what was stored before it untouched.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imgsvc import edgecache, imaging, keys, metrics
from imgsvc.errors import BadRequest, Conflict, NotFound
from imgsvc.image_requests import default_name
from imgsvc.records import ImageVersion, Tombstone, now_rfc3339
from imgsvc.repository import Repository, VersionTaken

if TYPE_CHECKING:
    from imgsvc.config import Config
    from imgsvc.edgecache import EdgeCache
    from imgsvc.image_requests import ImageUpload
    from imgsvc.storage import GifStore, Inbox, OriginalStore, RenditionStore

logger = logging.getLogger(__name__)

# Each failed conditional write means another writer committed a version: with N concurrent
# writers on one image, N attempts always suffice. Past this many the client gets a 409.
MAX_COMMIT_ATTEMPTS = 12


@dataclass(frozen=True, slots=True)
class Deps:
    """What the use cases need; the handlers build it from the config and cached clients."""

    config: Config
    repository: Repository
    # The storage layer: one store per S3 key family (imgsvc.storage).
    originals: OriginalStore
    renditions: RenditionStore
    gifs: GifStore
    inbox: Inbox
    # The CDN's edge caches, when there is a CDN (a delete invalidates the image there).
    edge_cache: EdgeCache | None = None
    clock: Callable[[], str] = now_rfc3339
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))


def require_id(image_id: str) -> str:
    if not keys.is_image_id(image_id):
        raise BadRequest(
            f"{image_id[:64]!r} is not an image id: ids are lowercase UUIDs like "
            "'3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b'.",
            code="invalid_id",
        )
    return image_id


def parse_version(raw: str | None) -> int | None:
    """A version number from a path or query string (None when absent)."""
    if raw is None:
        return None
    # ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and other scripts'.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 999_999_999:
        raise BadRequest(
            f"{raw[:32]!r} is not a version number: use a whole number from 1.",
            code="invalid_version",
        )
    return int(raw)


def _not_found(image_id: str) -> NotFound:
    return NotFound(
        f"No image {image_id}: it does not exist or was deleted.", code="image_not_found"
    )


def latest(deps: Deps, image_id: str) -> ImageVersion:
    """The latest version of a live image; 404 for unknown or deleted ids."""
    found = deps.repository.latest(require_id(image_id))
    if not isinstance(found, ImageVersion):
        raise _not_found(image_id)
    return found


def get_version(deps: Deps, image_id: str, version: int) -> ImageVersion:
    """One version of a live image; 404 if the image is deleted or the version unknown."""
    latest(deps, image_id)
    found = deps.repository.get(image_id, version)
    if not isinstance(found, ImageVersion):
        raise NotFound(f"Image {image_id} has no version {version}.", code="version_not_found")
    return found


def list_versions(deps: Deps, image_id: str) -> list[ImageVersion]:
    """Every version of a live image, newest first."""
    records = list(deps.repository.versions(require_id(image_id)))
    if not records or not isinstance(records[0], ImageVersion):
        raise _not_found(image_id)
    return [record for record in records if isinstance(record, ImageVersion)]


def create_image(deps: Deps, upload: ImageUpload, *, image_id: str | None = None) -> ImageVersion:
    """Store a new image as version 1."""
    info = imaging.inspect(upload.data, max_pixels=deps.config.max_pixels)
    name = upload.name or default_name(info.content_type)
    image_id = image_id or deps.new_id()
    key = keys.original_key(image_id)
    s3_version = deps.originals.put(
        key, upload.data, content_type=info.content_type, image_id=image_id, sha256=info.sha256
    )
    now = deps.clock()
    record = _record(deps, image_id, 1, name, upload.metadata, info, s3_version, now, now)
    try:
        deps.repository.put_version(record)
    except BaseException:
        _undo(deps, key, s3_version)
        raise
    logger.info("image created", extra={"image_id": image_id, "version": 1, "size": info.size})
    return record


def update_image(deps: Deps, image_id: str, upload: ImageUpload) -> ImageVersion:
    """Store a new version; the name and metadata carry over when the request gives none."""
    require_id(image_id)
    info = imaging.inspect(upload.data, max_pixels=deps.config.max_pixels)
    previous = latest(deps, image_id)
    key = keys.original_key(image_id)
    s3_version = deps.originals.put(
        key,
        upload.data,
        content_type=info.content_type,
        image_id=image_id,
        sha256=info.sha256,
        version_floor=previous.version + 1,  # a commit only ever lands above what was read
    )
    try:
        for attempt in range(MAX_COMMIT_ATTEMPTS):
            record = _record(
                deps,
                image_id,
                previous.version + 1,
                upload.name or previous.name,
                upload.metadata if upload.metadata_given else previous.metadata,
                info,
                s3_version,
                deps.clock(),
                previous.image_created_at,
            )
            try:
                deps.repository.put_version(record)
            except VersionTaken:
                metrics.version_conflict("update", retried=attempt + 1 < MAX_COMMIT_ATTEMPTS)
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 (jitter)
                previous = latest(deps, image_id)
                continue
            logger.info(
                "image updated",
                extra={"image_id": image_id, "version": record.version, "attempts": attempt + 1},
            )
            return record
        raise Conflict(
            f"Image {image_id} is being updated by too many clients at once; nothing was stored. "
            "Read the latest version and try again.",
            code="update_conflict",
        )
    except BaseException:
        _undo(deps, key, s3_version)
        raise


def delete_image(deps: Deps, image_id: str) -> None:
    """Hide an image from readers: a tombstone version, then an S3 delete marker.

    Stored versions stay in the versioned bucket (until noncurrent expiry) and in the replica.
    """
    previous = latest(deps, image_id)
    for attempt in range(MAX_COMMIT_ATTEMPTS):
        try:
            deps.repository.put_tombstone(Tombstone(image_id, previous.version + 1, deps.clock()))
            break
        except VersionTaken:
            metrics.version_conflict("delete", retried=attempt + 1 < MAX_COMMIT_ATTEMPTS)
            previous = latest(deps, image_id)
    else:
        raise Conflict(
            f"Image {image_id} is being updated while you delete it; try again.",
            code="delete_conflict",
        )
    deps.originals.hide(previous.key)
    purge_derivatives(deps, image_id)
    forget_at_edges(deps, image_id, previous.version + 1)
    logger.info("image deleted", extra={"image_id": image_id, "version": previous.version})


def forget_at_edges(deps: Deps, image_id: str, tombstone_version: int) -> str | None:
    """Invalidate the image's renditions and GIFs in the CDN's edge caches.

    Best effort after the tombstone, like :func:`purge_derivatives`: a failure is logged (with
    what to invalidate by hand), not raised. Returns the invalidation's id, if one was made.
    """
    if deps.edge_cache is None:
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return deps.edge_cache.forget_image(image_id, f"delete-{image_id}-{tombstone_version}")
    except (BotoCoreError, ClientError):
        logger.exception(
            "edge caches not invalidated: they serve the image until its renditions expire",
            extra={"image_id": image_id, "paths": edgecache.image_paths(image_id)},
        )
        return None


def purge_derivatives(deps: Deps, image_id: str) -> int:
    """Remove an image's renditions and GIFs, so the CDN's origin stops serving them.

    Best effort after the tombstone (the source of truth): a failure is logged, not raised.
    The CDN's edge caches are asked to drop them by :func:`forget_at_edges`. Returns how many
    objects were removed.
    """
    if not deps.renditions.bucket:
        return 0
    removed = 0
    try:
        removed += deps.renditions.remove_image(image_id)
        removed += deps.gifs.remove_image(image_id)
    except Exception:
        logger.exception(
            "could not remove renditions of a deleted image", extra={"image_id": image_id}
        )
    return removed


def content_url(deps: Deps, image_id: str, version: int | None) -> str:
    """A short-lived URL returning the exact stored bytes (main bucket, or replica if expired)."""
    record = latest(deps, image_id) if version is None else get_version(deps, image_id, version)
    location = deps.originals.locate(record.key, record.s3_version_id, record.sha256)
    return deps.originals.presign(
        location,
        expires=deps.config.content_url_expires,
        filename=record.name,
        content_type=record.content_type,
    )


def read_original(deps: Deps, record: ImageVersion) -> bytes:
    """The exact bytes of a version: the main bucket, or the replica when it has expired there.

    NotFound if they are gone everywhere.
    """
    return deps.originals.read(
        deps.originals.locate(record.key, record.s3_version_id, record.sha256)
    )


def _record(
    deps: Deps,
    image_id: str,
    version: int,
    name: str,
    metadata: dict[str, str],
    info: imaging.ImageInfo,
    s3_version: str,
    created_at: str,
    image_created_at: str,
) -> ImageVersion:
    return ImageVersion(
        id=image_id,
        version=version,
        name=name,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        size=info.size,
        sha256=info.sha256,
        created_at=created_at,
        bucket=deps.originals.bucket,
        key=keys.original_key(image_id),
        s3_version_id=s3_version,
        image_created_at=image_created_at,
        metadata=dict(metadata),
    )


def _undo(deps: Deps, key: str, s3_version: str) -> None:
    try:
        deps.originals.delete_version(key, s3_version)
    except Exception:  # the original error matters more; an orphan version is only cost
        logger.exception("could not remove uncommitted S3 version", extra={"key": key})
