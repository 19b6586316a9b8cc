"""Where things live in S3: one place for every key scheme, shared by the API, the resize and
effect functions, the local mode's CDN and (as path patterns) the Terraform `cdn` module.

Originals bucket:  ``originals/<id>`` (one key per image; S3 versions are the image's versions).
Uploads bucket:    ``uploads/<id>`` (direct uploads land here, then move to originals).
Renditions bucket: ``r/<id>/<version>/<size>/<format>`` (resized; ``format`` is ``original``,
                   ``webp`` or ``avif``) and ``gifs/<id>/<version>/<effect>.gif`` (effects).

The CDN serves the renditions bucket at the same paths (``/r/...``, ``/gifs/...``); a CloudFront
viewer-request function appends ``/<format>`` to ``/r/<id>/<version>/<size>`` from ``Accept``.
Versions in the keys mean an update never serves a stale rendition and needs no invalidation.
"""

from __future__ import annotations

import re
import uuid

ORIGINALS_PREFIX = "originals/"
UPLOADS_PREFIX = "uploads/"
RENDITIONS_PREFIX = "r/"
GIFS_PREFIX = "gifs/"

RENDITION_FORMATS = ("original", "webp", "avif")

_RENDITION = re.compile(
    r"^r/(?P<id>[0-9a-f-]{36})/(?P<version>[1-9][0-9]{0,8})/(?P<size>[^/]{1,32})"
    r"(?:/(?P<format>original|webp|avif))?$"
)
_GIF = re.compile(
    r"^gifs/(?P<id>[0-9a-f-]{36})/(?P<version>[1-9][0-9]{0,8})/(?P<effect>[a-z0-9-]{1,32})\.gif$"
)


def is_image_id(value: str) -> bool:
    """True for a canonical lowercase UUID4 string, the only ids the service hands out."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return parsed.version == 4 and str(parsed) == value


def original_key(image_id: str) -> str:
    return f"{ORIGINALS_PREFIX}{image_id}"


def upload_key(image_id: str) -> str:
    return f"{UPLOADS_PREFIX}{image_id}"


def id_from_key(key: str, prefix: str) -> str | None:
    """The image id of an ``originals/`` or ``uploads/`` key, or None if it is not one."""
    if not key.startswith(prefix):
        return None
    candidate = key[len(prefix) :]
    return candidate if is_image_id(candidate) else None


def rendition_key(image_id: str, version: int, size: str, fmt: str) -> str:
    return f"{RENDITIONS_PREFIX}{image_id}/{version}/{size}/{fmt}"


def rendition_prefix(image_id: str) -> str:
    """Every rendition of every version of an image."""
    return f"{RENDITIONS_PREFIX}{image_id}/"


def gif_prefix(image_id: str) -> str:
    """Every GIF (and failure marker) of every version of an image."""
    return f"{GIFS_PREFIX}{image_id}/"


def rendition_path(image_id: str, version: int, size: str) -> str:
    """The CDN path without the format: the edge (or local CDN) negotiates it from Accept."""
    return f"/{RENDITIONS_PREFIX}{image_id}/{version}/{size}"


def parse_rendition_key(key: str) -> tuple[str, int, str, str | None] | None:
    """``(id, version, size, format or None)`` of a rendition key or path, or None."""
    match = _RENDITION.match(key.lstrip("/"))
    if not match or not is_image_id(match["id"]):
        return None
    return match["id"], int(match["version"]), match["size"], match["format"]


def gif_key(image_id: str, version: int, effect: str) -> str:
    return f"{GIFS_PREFIX}{image_id}/{version}/{effect}.gif"


def parse_gif_key(key: str) -> tuple[str, int, str] | None:
    match = _GIF.match(key.lstrip("/"))
    if not match or not is_image_id(match["id"]):
        return None
    return match["id"], int(match["version"]), match["effect"]
