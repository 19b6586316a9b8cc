"""Animated-GIF effects of every new image version: which version an originals event is about,
making one effect's GIF exactly once, and what ``GET /images/<id>/gifs`` reports.

Every new version (API or direct upload) is a new S3 version of ``originals/<id>``; its create
event reaches one queue per effect (S3 -> SNS -> SQS). The consumer of effect ``e``:

1. finds the version number: the record whose ``s3_version_id`` is the event's ``versionId``.
   No record yet but the S3 version exists: the commit is racing the event, retry later
   (:class:`NotCommittedYet`). The S3 version is gone: an undone write, nothing to do. Still
   no record :data:`ABANDONED_AFTER` it was stored: an abandoned write, nothing to do.
2. skips it if ``gifs/<id>/<version>/<e>.gif`` exists (redeliveries, duplicate events);
3. reads the original (main bucket, or the replica) and writes the GIF with a long, immutable
   ``Cache-Control``: the key has the version in it, so its bytes never change.

Failure is recorded durably as a small JSON marker ``gifs/<id>/<version>/<e>.failed``
(``{"code", "message"}``), written when the original cannot be made into a GIF (corrupt, over
the pixel limit, its bytes gone) or on the last receive before the queue's DLQ takes the
message. The status of an effect is ``ready`` if the GIF exists (it wins over a marker: a
redriven message may succeed later), else ``failed`` if the marker exists, else ``pending``.
One ListObjectsV2 on ``gifs/<id>/<version>/`` answers for every effect.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from imgsvc import aws, effects, keys, service
from imgsvc.errors import NotFound, UnprocessableImage
from imgsvc.records import ImageVersion, Tombstone, parse_rfc3339

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

    from imgsvc.config import Config
    from imgsvc.service import Deps

logger = logging.getLogger(__name__)

READY = "ready"
FAILED = "failed"
PENDING = "pending"
# Versioned keys never change: browsers and the CDN may keep them for a year without asking.
GIF_CACHE_CONTROL = "public, max-age=31536000, immutable"
FAILED_SUFFIX = ".failed"
GIF_SUFFIX = ".gif"
_MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NotFound", "InvalidArgument"}
# An original's S3 version still without a record this long after it was stored was abandoned:
# the writer (the api or uploads function) stopped between storing and committing. Lambda ends
# every invocation within 15 minutes; the effect queues redeliver for longer than that
# (max_receive_count x visibility timeout), so the last receives see the write as abandoned.
ABANDONED_AFTER = timedelta(minutes=16)


class NotCommittedYet(Exception):
    """The S3 version exists but no record points at it yet: retry the message later."""


def configured_effects(cfg: Config) -> tuple[str, ...]:
    """The effects every version gets (``IMGSVC_GIF_EFFECTS``; default DEFAULT_EFFECTS)."""
    names = cfg.gif_effects or effects.DEFAULT_EFFECTS
    for name in names:
        effects.get_effect(name)  # ValueError naming the known ones
    return names


def failure_key(image_id: str, version: int, effect: str) -> str:
    return f"{keys.GIFS_PREFIX}{image_id}/{version}/{effect}{FAILED_SUFFIX}"


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code", "") in _MISSING


@dataclass(frozen=True, slots=True)
class GifStore:
    """GIFs and failure markers in the renditions bucket."""

    client: S3Client
    bucket: str

    def states(self, image_id: str, version: int) -> dict[str, str]:
        """effect -> ``ready`` or ``failed`` for what exists of this version (one list call)."""
        prefix = f"{keys.GIFS_PREFIX}{image_id}/{version}/"
        found: dict[str, str] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item.get("Key", "")[len(prefix) :]
                if name.endswith(GIF_SUFFIX):
                    found[name[: -len(GIF_SUFFIX)]] = READY
                elif name.endswith(FAILED_SUFFIX):
                    found.setdefault(name[: -len(FAILED_SUFFIX)], FAILED)
        return found

    def has_gif(self, image_id: str, version: int, effect: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=keys.gif_key(image_id, version, effect))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def put_gif(self, record: ImageVersion, effect: str, gif: effects.Gif) -> str:
        key = keys.gif_key(record.id, record.version, effect)
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=gif.data,
            ContentType=effects.CONTENT_TYPE,
            CacheControl=GIF_CACHE_CONTROL,
            Metadata={"source-sha256": record.sha256, "frames": str(gif.frames)},
        )
        return key

    def put_failure(
        self, image_id: str, version: int, effect: str, code: str, message: str
    ) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=failure_key(image_id, version, effect),
            Body=json.dumps({"code": code, "message": message}).encode(),
            ContentType="application/json",
            CacheControl="no-store",
        )

    def remove(self, image_id: str, version: int, effect: str) -> None:
        """Delete ``effect``'s GIF and failure marker of this version (absent ones are fine)."""
        for key in (
            keys.gif_key(image_id, version, effect),
            failure_key(image_id, version, effect),
        ):
            self.client.delete_object(Bucket=self.bucket, Key=key)


def store(cfg: Config) -> GifStore:
    return GifStore(aws.s3(), cfg.renditions_bucket)


# --- GET /images/<id>/gifs -------------------------------------------------------------------


def status(deps: Deps, gifs: GifStore, image_id: str) -> dict[str, Any]:
    """The ``Gifs`` response of openapi.yaml for the latest version of a live image."""
    cfg = deps.config
    record = service.latest(deps, image_id)
    states = gifs.states(record.id, record.version)
    body: dict[str, Any] = {}
    for name in configured_effects(cfg):
        state = states.get(name, PENDING)
        entry: dict[str, str] = {"status": state}
        if state == READY:
            entry["url"] = f"{cfg.cdn_base_url}/{keys.gif_key(record.id, record.version, name)}"
        body[name] = entry
    return {"id": record.id, "version": record.version, "effects": body}


# --- the consumer ----------------------------------------------------------------------------


def find_version(deps: Deps, image_id: str, s3_version_id: str) -> ImageVersion | None:
    """The record of the S3 version an event is about; None if there is nothing to do (the
    write was undone, or the image is deleted). Raises NotCommittedYet while the commit races."""
    records = list(deps.repository.versions(image_id))
    if records and isinstance(records[0], Tombstone):
        return None
    for record in records:
        if isinstance(record, ImageVersion) and record.s3_version_id == s3_version_id:
            return record
    try:
        head = deps.storage.client.head_object(
            Bucket=deps.storage.bucket, Key=keys.original_key(image_id), VersionId=s3_version_id
        )
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    # Checked after the S3 version: a commit between the query and the head is found now.
    for record in deps.repository.versions(image_id):
        if isinstance(record, ImageVersion) and record.s3_version_id == s3_version_id:
            return record
    age = parse_rfc3339(deps.clock()) - head["LastModified"]
    if age > ABANDONED_AFTER:
        # No writer runs this long: it stopped between storing and committing (a timeout or an
        # out-of-memory end skips service._undo). Retrying until the DLQ would only raise alarms.
        logger.warning(
            "an original version has no record: its write was abandoned",
            extra={
                "image_id": image_id,
                "s3_version_id": s3_version_id,
                "age_s": int(age.total_seconds()),
            },
        )
        return None
    raise NotCommittedYet(f"{image_id} S3 version {s3_version_id} has no record yet")


def make_effect(deps: Deps, gifs: GifStore, record: ImageVersion, effect: str) -> str:
    """Write ``effect``'s GIF of ``record`` unless it exists; returns ``exists``, ``made``,
    ``failed`` (the original cannot be made into a GIF: a marker records why) or ``dropped``
    (the image was deleted meanwhile: what was written is removed again)."""
    if gifs.has_gif(record.id, record.version, effect):
        return "exists"
    cfg = deps.config
    extra: dict[str, object]
    try:
        gif = effects.make_gif(
            service.read_original(deps, record),
            effect,
            box=cfg.gif_box,
            frames=cfg.gif_frames,
            frame_ms=cfg.gif_frame_ms,
            max_pixels=cfg.max_pixels,
        )
    except (UnprocessableImage, NotFound) as exc:
        gifs.put_failure(record.id, record.version, effect, exc.code, exc.message)
        outcome, extra = "failed", {"code": exc.code}
    else:
        key = gifs.put_gif(record, effect, gif)
        outcome, extra = "made", {"key": key, "bytes": len(gif.data), "frames": gif.frames}
    if not isinstance(deps.repository.latest(record.id), ImageVersion):
        # Deleted while the GIF was made: the delete's purge (service.purge_derivatives) ran
        # before this write, which would outlive the image. A delete writes its tombstone before
        # it purges, so either this read sees the tombstone or the purge comes after the write.
        gifs.remove(record.id, record.version, effect)
        logger.info("gif of a deleted image removed", extra={"image_id": record.id})
        return "dropped"
    log = logger.warning if outcome == "failed" else logger.info
    log(
        f"gif {outcome}",
        extra={"image_id": record.id, "version": record.version, "effect": effect, **extra},
    )
    return outcome


def handle_original(
    deps: Deps,
    gifs: GifStore,
    effect: str,
    key: str,
    s3_version_id: str | None,
    *,
    final_attempt: bool = False,
) -> str:
    """One originals-bucket create event for ``effect``; returns what happened (for logs).

    Raises (so the message is retried) on anything worth retrying; on the ``final_attempt``
    a failure marker is written first, so the status says ``failed`` once the DLQ has it.
    """
    image_id = keys.id_from_key(key, keys.ORIGINALS_PREFIX)
    if image_id is None or not s3_version_id:
        logger.warning("not an image version event", extra={"key": key[:200]})
        return "ignored"
    record = find_version(deps, image_id, s3_version_id)
    if record is None:
        return "dropped"
    try:
        return make_effect(deps, gifs, record, effect)
    except Exception:
        if final_attempt:
            _record_failure(gifs, record, effect)
        raise


def _record_failure(gifs: GifStore, record: ImageVersion, effect: str) -> None:
    try:
        gifs.put_failure(
            record.id,
            record.version,
            effect,
            "internal_error",
            "The GIF could not be made after several attempts.",
        )
    except Exception:  # the original error is the one that matters
        logger.exception("could not record the failed gif", extra={"image_id": record.id})
