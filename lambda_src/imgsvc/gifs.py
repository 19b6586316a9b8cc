"""Animated-GIF effects of every new image version: which version an originals event is about,
making one effect's GIF exactly once, and the status ``GET /images/<id>/gifs`` reports.

Every new version (API or direct upload) is a new S3 version of ``originals/<id>``; its create
event reaches one queue per effect (S3 -> SNS -> SQS). The consumer of effect ``e``:

1. finds the version number: the record whose ``s3_version_id`` is the event's ``versionId``,
   looked up from the S3 version's ``version-floor`` metadata (the lowest number it can be
   committed as), so one event reads a few records however many versions the image has.
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
redriven message may succeed later), else ``failed`` if the marker exists, or if the effect
queues' whole retry window (``Config.gif_retry_window``) has passed since the version was
committed (its consumer was killed on the last receive, or the event never came), else
``pending``. One ListObjectsV2 on ``gifs/<id>/<version>/`` answers for every effect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from imgsvc import effects, keys, service
from imgsvc.errors import NotFound, UnprocessableImage
from imgsvc.records import ImageVersion, Tombstone, parse_rfc3339

if TYPE_CHECKING:
    from imgsvc.config import Config
    from imgsvc.service import Deps

logger = logging.getLogger(__name__)

READY = "ready"
FAILED = "failed"
PENDING = "pending"
# An original's S3 version still without a record this long after it was stored was abandoned:
# the writer (the api or uploads function) stopped between storing and committing. Lambda ends
# every invocation within 15 minutes; the effect queues redeliver for longer than that
# (max_receive_count x visibility timeout), so the last receives see the write as abandoned.
ABANDONED_AFTER = timedelta(minutes=16)


class NotCommittedYet(Exception):
    """The S3 version exists but no record points at it yet: retry the message later."""


@dataclass(frozen=True, slots=True)
class GifStatus:
    """The GIFs of the latest version of an image: effect -> ready, failed or pending."""

    record: ImageVersion
    states: dict[str, str]


def configured_effects(cfg: Config) -> tuple[str, ...]:
    """The effects every version gets (``IMGSVC_GIF_EFFECTS``; default DEFAULT_EFFECTS)."""
    names = cfg.gif_effects or effects.DEFAULT_EFFECTS
    for name in names:
        effects.get_effect(name)  # ValueError naming the known ones
    return names


# --- GET /images/<id>/gifs -------------------------------------------------------------------


def status(deps: Deps, image_id: str) -> GifStatus:
    """The state of every configured effect for the latest version of a live image."""
    record = service.latest(deps, image_id)
    found = deps.gifs.found(record.id, record.version)
    given_up = parse_rfc3339(deps.clock()) > parse_rfc3339(record.created_at) + timedelta(
        seconds=deps.config.gif_retry_window
    )
    states: dict[str, str] = {}
    for name in configured_effects(deps.config):
        if name in found:
            states[name] = READY if found[name] else FAILED
        else:
            states[name] = FAILED if given_up else PENDING
    return GifStatus(record, states)


# --- the consumer ----------------------------------------------------------------------------


def find_version(deps: Deps, image_id: str, s3_version_id: str) -> ImageVersion | None:
    """The record of the S3 version an event is about; None if there is nothing to do (the
    write was undone, or the image is deleted). Raises NotCommittedYet while the commit races.

    Its cost does not grow with the image's history: one HEAD of the S3 version, the latest
    record, and the records from the S3 version's ``version-floor`` on (those committed while
    its own commit was being tried: a few, however many versions came before).

    Of a deleted image, an S3 version whose floor is above the delete's version was stored
    after it: a restore (:mod:`imgsvc.restore`), whose commit races the event like any new
    version's. It is waited for; every other version of a deleted image has nothing to do.
    """
    stored = deps.originals.stored_version(keys.original_key(image_id), s3_version_id)
    if stored is None:
        return None  # removed again: the write was undone (its commit failed)
    # Read after the S3 version: a commit between the HEAD and these reads is found now.
    latest = deps.repository.latest(image_id)
    if isinstance(latest, Tombstone):
        if stored.version_floor is None or stored.version_floor <= latest.version:
            return None
    elif isinstance(latest, ImageVersion) and latest.s3_version_id == s3_version_id:
        return latest
    elif latest is not None:
        found = deps.repository.find_by_s3_version(
            image_id,
            s3_version_id,
            floor=stored.version_floor,
            until=stored.last_modified + ABANDONED_AFTER,
        )
        if found is not None:
            return found
    age = parse_rfc3339(deps.clock()) - stored.last_modified
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


def make_effect(deps: Deps, record: ImageVersion, effect: str) -> str:
    """Write ``effect``'s GIF of ``record`` unless it exists; returns ``exists``, ``made``,
    ``failed`` (the original cannot be made into a GIF: a marker records why) or ``dropped``
    (the image was deleted meanwhile: what was written is removed again)."""
    gifs = deps.gifs
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
        key = gifs.put_gif(
            record.id,
            record.version,
            effect,
            gif.data,
            source_sha256=record.sha256,
            frames=gif.frames,
        )
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
    effect: str,
    key: str,
    s3_version_id: str | None,
    *,
    final_attempt: bool = False,
) -> str:
    """One originals-bucket create event for ``effect``; returns what happened (for logs).

    Raises (so the message is retried) on anything worth retrying; on the ``final_attempt``
    a failure marker is written first, so the status says ``failed`` once the DLQ has it. A
    function killed on that receive writes none: :func:`status` says ``failed`` once the retry
    window has passed.
    """
    image_id = keys.id_from_key(key, keys.ORIGINALS_PREFIX)
    if image_id is None or not s3_version_id:
        logger.warning("not an image version event", extra={"key": key[:200]})
        return "ignored"
    record = find_version(deps, image_id, s3_version_id)
    if record is None:
        return "dropped"
    try:
        return make_effect(deps, record, effect)
    except Exception:
        if final_attempt:
            _record_failure(deps, record, effect)
        raise


def _record_failure(deps: Deps, record: ImageVersion, effect: str) -> None:
    try:
        deps.gifs.put_failure(
            record.id,
            record.version,
            effect,
            "internal_error",
            "The GIF could not be made after several attempts.",
        )
    except Exception:  # the original error is the one that matters
        logger.exception("could not record the failed gif", extra={"image_id": record.id})
