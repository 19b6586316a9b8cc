"""On-the-fly renditions: find the image version, get its rendition or make and store it.

Two ways in, one rule for what is stored (``keys.rendition_key``):

- ``GET /resize/<size>/<id>`` (:func:`ensure_latest`): the latest version, the format
  negotiated from ``Accept``; makes the rendition when it is missing and returns the CDN path
  (without the format: the CDN negotiates it again from the same ``Accept``).
- The CDN's failover origin, ``/r/<id>/<version>/<size>/<format>`` (:func:`parse_origin_path`,
  :func:`origin_rendition`): the rendition's bytes, made and stored when missing.

Renditions are derived data, written once: the key holds the version, so an update never
serves a stale rendition, and the put is conditional (``If-None-Match: *``), so the first
writer wins and every concurrent request answers with the stored object's bytes, whatever the
encoder of the losing request made. Nothing is stored when the original cannot be decoded.

This module only reads the metadata table and the originals; it writes the renditions bucket.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgsvc import keys, metrics, renditions, service
from imgsvc.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from imgsvc.config import Config
    from imgsvc.records import ImageVersion
    from imgsvc.renditions import OutputFormat, Size
    from imgsvc.service import Deps
    from imgsvc.storage import StoredRendition

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OriginRequest:
    """A validated CDN origin path: ``/r/<id>/<version>/<size>/<format>``."""

    image_id: str
    version: int
    size: Size
    format_key: str

    @property
    def key(self) -> str:
        return keys.rendition_key(self.image_id, self.version, self.size.canonical, self.format_key)

    @property
    def path(self) -> str:
        """The canonical path of this rendition (``/`` + its key)."""
        return f"/{self.key}"


def avif_enabled(cfg: Config) -> bool:
    """Whether ``Accept`` negotiation may pick AVIF (``Config.avif_enabled``, off when absent).

    The CDN's edge function has the same switch (modules/cdn ``avif_enabled``); both must agree.
    """
    return cfg.avif_enabled


def parse_origin_path(path: str, cfg: Config) -> OriginRequest:
    """Validate a CDN origin path; :class:`NotFound` if it is not a rendition path at all,
    :class:`BadRequest` naming the part that is wrong (an unlisted size lists the allowed)."""
    parts = path.split("/")
    if len(parts) != 6 or parts[0] != "" or parts[1] != keys.RENDITIONS_PREFIX.rstrip("/"):
        raise NotFound(
            "Not a rendition: the path is /r/<id>/<version>/<size>/<format>, "
            "format one of original, webp, avif.",
            code="not_found",
        )
    _, _, image_id, version_text, size_text, format_key = parts
    service.require_id(image_id)
    version = service.parse_version(version_text)
    assert version is not None
    size = renditions.parse_size(size_text, cfg.rendition_sides)
    if format_key not in keys.RENDITION_FORMATS:
        raise BadRequest(
            f"{format_key[:16]!r} is not a rendition format: use one of "
            f"{', '.join(keys.RENDITION_FORMATS)}.",
            code="invalid_format",
        )
    if format_key == "avif" and not renditions.avif_supported():
        raise BadRequest(
            "AVIF renditions are not available here: use webp or original.",
            code="format_not_available",
        )
    return OriginRequest(image_id, version, size, format_key)


def origin_rendition(deps: Deps, request: OriginRequest) -> StoredRendition:
    """The stored rendition of a CDN origin path, made and stored first when missing.

    404 for an unknown or deleted image or version, 422 (nothing stored) for an original that
    cannot be decoded.
    """
    record = service.get_version(deps, request.image_id, request.version)
    fmt = renditions.output_format(request.format_key, record.content_type)
    found = deps.renditions.get(request.key)
    if found is not None:
        return found
    return _make(deps, record, request.size, fmt, request.key)


def ensure_latest(
    deps: Deps,
    image_id: str,
    size_text: str,
    accept: str | None,
) -> str:
    """Make the latest version's rendition if it is missing; return its CDN path (no format).

    400 for a bad id or an unlisted size, 404 for an unknown or deleted image, 422 (nothing
    stored) for an original that cannot be decoded.
    """
    cfg = deps.config
    service.require_id(image_id)
    size = renditions.parse_size(size_text, cfg.rendition_sides)
    record = service.latest(deps, image_id)
    fmt = renditions.negotiate(accept, record.content_type, avif_enabled(cfg))
    key = keys.rendition_key(record.id, record.version, size.canonical, fmt.key)
    if not deps.renditions.exists(key):
        _make(deps, record, size, fmt, key)
    return keys.rendition_path(record.id, record.version, size.canonical)


def _make(
    deps: Deps,
    record: ImageVersion,
    size: Size,
    fmt: OutputFormat,
    key: str,
) -> StoredRendition:
    started = time.perf_counter()
    original = service.read_original(deps, record)
    rendition = renditions.render(original, size, fmt, max_pixels=deps.config.max_pixels)
    stored = deps.renditions.put_new(
        key,
        rendition.data,
        content_type=rendition.content_type,
        width=rendition.width,
        height=rendition.height,
    )
    metrics.rendition_made(fmt.key, (time.perf_counter() - started) * 1000, len(stored.data))
    logger.info(
        "rendition made",
        extra={
            "key": key,
            "bytes": len(stored.data),
            "width": rendition.width,
            "height": rendition.height,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return stored
