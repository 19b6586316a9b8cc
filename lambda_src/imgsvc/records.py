"""The image version record: what DynamoDB keeps per version (clients see it as
:func:`imgsvc.handlers.bodies.image_body`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def rfc3339(value: datetime) -> str:
    """``value`` (timezone-aware) as RFC 3339 UTC with milliseconds, e.g.
    ``2026-11-22T14:32:00.123Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_rfc3339() -> str:
    """The current time as :func:`rfc3339` text (what ``Deps.clock`` returns)."""
    return rfc3339(datetime.now(UTC))


def parse_rfc3339(text: str) -> datetime:
    """The timezone-aware time of :func:`rfc3339` text (or any ISO 8601 time with an offset)."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class ImageVersion:
    """One stored version of an image (DynamoDB item: ``id`` + ``version``)."""

    id: str
    version: int
    name: str
    content_type: str
    width: int
    height: int
    size: int
    sha256: str
    created_at: str
    bucket: str
    key: str
    s3_version_id: str
    image_created_at: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The marker a DELETE writes as the next version: readers then see 404."""

    id: str
    version: int
    deleted_at: str
