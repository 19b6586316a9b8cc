"""Configuration: every environment variable the functions read, named once, read once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

# The names Terraform (modules/api, modules/fanout) and the local mode set.
TABLE_NAME = "IMGSVC_TABLE_NAME"
ORIGINALS_BUCKET = "IMGSVC_ORIGINALS_BUCKET"
REPLICA_BUCKET = "IMGSVC_REPLICA_BUCKET"
REPLICA_REGION = "IMGSVC_REPLICA_REGION"
RENDITIONS_BUCKET = "IMGSVC_RENDITIONS_BUCKET"
UPLOADS_BUCKET = "IMGSVC_UPLOADS_BUCKET"
EVENTS_TOPIC_ARN = "IMGSVC_EVENTS_TOPIC_ARN"
API_BASE_URL = "IMGSVC_API_BASE_URL"
CDN_BASE_URL = "IMGSVC_CDN_BASE_URL"
CDN_DISTRIBUTION_ID = "IMGSVC_CDN_DISTRIBUTION_ID"
MAX_BODY_BYTES = "IMGSVC_MAX_BODY_BYTES"
MAX_PIXELS = "IMGSVC_MAX_PIXELS"
MAX_UPLOAD_BYTES = "IMGSVC_MAX_UPLOAD_BYTES"
UPLOAD_URL_EXPIRES = "IMGSVC_UPLOAD_URL_EXPIRES"
CONTENT_URL_EXPIRES = "IMGSVC_CONTENT_URL_EXPIRES"
RENDITION_SIZES = "IMGSVC_RENDITION_SIZES"
RENDITION_MAX_AGE = "IMGSVC_RENDITION_MAX_AGE"
GIF_BOX = "IMGSVC_GIF_BOX"
GIF_FRAMES = "IMGSVC_GIF_FRAMES"
GIF_FRAME_MS = "IMGSVC_GIF_FRAME_MS"
GIF_EFFECTS = "IMGSVC_GIF_EFFECTS"
EFFECT = "IMGSVC_EFFECT"
# The maxReceiveCount of the queue a consumer reads (its redrive policy): on that receive a
# message is on its last attempt, and the consumer records the failure before the DLQ takes it.
MAX_RECEIVE_COUNT = "IMGSVC_MAX_RECEIVE_COUNT"
# How long (seconds) the effect queues and the uploads queue keep retrying one event: past it a
# GIF or an upload still pending was given up on (its consumer died on the last receive, or the
# event never came), and its status says so. Terraform sets each from its queue's settings.
GIF_RETRY_WINDOW = "IMGSVC_GIF_RETRY_WINDOW"
UPLOAD_RETRY_WINDOW = "IMGSVC_UPLOAD_RETRY_WINDOW"
CORS_ORIGINS = "IMGSVC_CORS_ORIGINS"
AVIF_ENABLED = "IMGSVC_AVIF_ENABLED"
LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
# imgsvc.metrics: the CloudWatch namespace (Powertools' own variable) and the Stage dimension.
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
STAGE = "IMGSVC_STAGE"

# What one Lambda invocation can carry: 6 MB of payload, after base64 (4/3) and the event's
# own headers, leaves about 4.5 MB of image on the API path. Larger files use direct uploads.
DEFAULT_MAX_BODY_BYTES = 4_500_000
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
DEFAULT_RENDITION_SIDES = (64, 100, 128, 200, 256, 400, 512, 800, 1024, 1600, 2048)
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_METRICS_NAMESPACE = "imgsvc"
DEFAULT_STAGE = "default"
# With no setting: every receive of the default count with the 6 x 15-minute visibility timeout
# AWS recommends for Lambda's longest timeout, plus 16 minutes for the event's delivery.
DEFAULT_RETRY_WINDOW = DEFAULT_MAX_RECEIVE_COUNT * 6 * 900 + 960


@dataclass(frozen=True, slots=True)
class Config:
    """The typed view of the environment; build it with :func:`load` or directly in tests."""

    table_name: str = ""
    originals_bucket: str = ""
    replica_bucket: str = ""
    replica_region: str = ""
    renditions_bucket: str = ""
    uploads_bucket: str = ""
    events_topic_arn: str = ""
    api_base_url: str = ""
    cdn_base_url: str = ""
    # The CloudFront distribution whose edge caches a delete invalidates (none: nothing to do).
    cdn_distribution_id: str = ""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    upload_url_expires: int = 600
    content_url_expires: int = 900
    rendition_sides: tuple[int, ...] = DEFAULT_RENDITION_SIDES
    rendition_max_age: int = 1_209_600
    gif_box: int = 400
    gif_frames: int = 16
    gif_frame_ms: int = 80
    gif_effects: tuple[str, ...] = ()
    effect: str = ""
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    gif_retry_window: int = DEFAULT_RETRY_WINDOW
    upload_retry_window: int = DEFAULT_RETRY_WINDOW
    cors_origins: tuple[str, ...] = ()
    avif_enabled: bool = False
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    stage: str = DEFAULT_STAGE


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _frame_ms(env: Mapping[str, str]) -> int:
    # GIF counts delays in hundredths of a second, and browsers slow delays under 20 ms to 100 ms.
    value = _int(env, GIF_FRAME_MS, 80)
    if value < 20 or value % 10:
        raise ValueError(f"{GIF_FRAME_MS} must be a multiple of 10 from 20, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _csv(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def from_env(env: Mapping[str, str]) -> Config:
    """Parse a mapping of environment variables; raises ``ValueError`` naming a bad one."""
    sides = _csv(env, RENDITION_SIZES)
    return Config(
        table_name=env.get(TABLE_NAME, ""),
        originals_bucket=env.get(ORIGINALS_BUCKET, ""),
        replica_bucket=env.get(REPLICA_BUCKET, ""),
        replica_region=env.get(REPLICA_REGION, ""),
        renditions_bucket=env.get(RENDITIONS_BUCKET, ""),
        uploads_bucket=env.get(UPLOADS_BUCKET, ""),
        events_topic_arn=env.get(EVENTS_TOPIC_ARN, ""),
        api_base_url=env.get(API_BASE_URL, "").rstrip("/"),
        cdn_base_url=env.get(CDN_BASE_URL, "").rstrip("/"),
        cdn_distribution_id=env.get(CDN_DISTRIBUTION_ID, "").strip(),
        max_body_bytes=_int(env, MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
        max_pixels=_int(env, MAX_PIXELS, DEFAULT_MAX_PIXELS),
        max_upload_bytes=_int(env, MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_BYTES),
        upload_url_expires=_int(env, UPLOAD_URL_EXPIRES, 600),
        content_url_expires=_int(env, CONTENT_URL_EXPIRES, 900),
        rendition_sides=tuple(int(s) for s in sides) if sides else DEFAULT_RENDITION_SIDES,
        rendition_max_age=_int(env, RENDITION_MAX_AGE, 1_209_600),
        gif_box=_int(env, GIF_BOX, 400),
        gif_frames=_int(env, GIF_FRAMES, 16),
        gif_frame_ms=_frame_ms(env),
        gif_effects=_csv(env, GIF_EFFECTS),
        effect=env.get(EFFECT, ""),
        max_receive_count=_int(env, MAX_RECEIVE_COUNT, DEFAULT_MAX_RECEIVE_COUNT),
        gif_retry_window=_int(env, GIF_RETRY_WINDOW, DEFAULT_RETRY_WINDOW),
        upload_retry_window=_int(env, UPLOAD_RETRY_WINDOW, DEFAULT_RETRY_WINDOW),
        cors_origins=_csv(env, CORS_ORIGINS),
        avif_enabled=_bool(env, AVIF_ENABLED),
        metrics_namespace=env.get(METRICS_NAMESPACE, "").strip() or DEFAULT_METRICS_NAMESPACE,
        stage=env.get(STAGE, "").strip() or DEFAULT_STAGE,
    )


@cache
def load() -> Config:
    """The process-wide configuration, read from ``os.environ`` once (cleared by tests)."""
    return from_env(os.environ)
