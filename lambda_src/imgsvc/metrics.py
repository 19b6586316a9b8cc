"""Business and technical metrics in CloudWatch's embedded metric format (EMF), via Powertools.

Each event is one EMF line on stdout: CloudWatch Logs extracts the metrics from the function's
log group, so emitting costs no API call and no latency
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format.html).
Every line is published under one dimension set: ``Stage`` and ``Function`` on every metric,
plus at most one bounded dimension of its own (below). The namespace and the stage come from the
configuration (:mod:`imgsvc.config`); the function is the handler's name, set by
:func:`function` around each invocation (a context variable: the local mode runs every handler
in one process, in threads).

Dimensions are for values of bounded cardinality only: each CloudWatch dimension combination is
a metric of its own, billed monthly. Every value below is checked against a fixed set, and an
unexpected one is published as ``other``: never an image id, a key or a message.

========================  =============================  =====================================
metric (unit)             dimensions                     when
========================  =============================  =====================================
Requests (Count)          Route, StatusClass             every API or CDN-origin request
RenditionsMade (Count),   Format                         a rendition made on a miss
RenditionMs, RenditionBytes
UploadsProcessed (Count)  (none)                         a direct upload became version 1
UploadsRejected (Count)   Reason                         a direct upload was refused
GifsReady, GifsFailed     Effect                         a GIF made, or marked failed
(Count), GifMs
ReplicaReads (Count)      (none)                         an original read from the replica
VersionConflicts,         Operation                      a version number was taken by a racing
VersionConflictRetries                                   writer (and the write was tried again)
(Count)
========================  =============================  =====================================
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from imgsvc import config

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

OTHER = "other"
NONE = "none"

# The functions of the service (environments/stack/functions.tf): the Function dimension.
FUNCTIONS = frozenset({"api", "resize", "uploads", "effects"})
STATUS_CLASSES = frozenset({"1xx", "2xx", "3xx", "4xx", "5xx"})
# A request no route matched (404 route_not_found): one value, whatever the path was.
UNMATCHED = "unmatched"
FORMATS = frozenset({"original", "webp", "avif"})
OPERATIONS = frozenset({"update", "delete"})
# Why a direct upload is refused: the codes of the checks an uploaded file goes through
# (imgsvc.imaging, imgsvc.upload_processing), and processing_failed when the queue's retry
# window passed without an outcome (imgsvc.upload_tickets.give_up).
REJECT_REASONS = frozenset(
    {
        "bad_request",
        "corrupt_image",
        "decode_too_large",
        "empty_body",
        "format_not_accepted",
        "image_too_large",
        "invalid_metadata",
        "invalid_name",
        "missing_name",
        "not_an_image",
        "payload_too_large",
        "processing_failed",
        "too_many_chunks",
        "too_many_frames",
        "too_many_pixels",
        "too_many_scans",
        "unprocessable_image",
        "unsupported_content_type",
        "unsupported_media_type",
    }
)

# The routes of the API and of the CDN's origin, as the resolvers spell them (openapi.yaml's
# paths): Powertools gives the matched one as ``app.request.route``.
ROUTES = frozenset(
    {
        "/health",
        "/images",
        "/images/{image_id}",
        "/images/{image_id}/versions",
        "/images/{image_id}/versions/{version}",
        "/images/{image_id}/content",
        "/images/{image_id}/gifs",
        "/images/{image_id}/restore",
        "/uploads",
        "/uploads/{upload_id}",
        "/resize/{size}/{image_id}",
        "/r/{image_id}/{version}/{size}/{fmt}",
        UNMATCHED,
    }
)

_function: contextvars.ContextVar[str] = contextvars.ContextVar("imgsvc_function", default=NONE)
_route: contextvars.ContextVar[str] = contextvars.ContextVar("imgsvc_route", default=UNMATCHED)

Blob = dict[str, Any]
Sink = Callable[[Blob], None]


def _print(blob: Blob) -> None:
    print(json.dumps(blob, separators=(",", ":")), flush=True)


_sinks: list[Sink] = [_print]


def set_sink(sink: Sink | None) -> None:
    """Where EMF blobs go: stdout (the default, what CloudWatch Logs reads), or ``sink`` (the
    local mode prints them readably; tests collect them)."""
    _sinks[:] = [sink or _print]


def bounded(value: str, allowed: frozenset[str]) -> str:
    """``value`` if it is one of ``allowed``, else ``other``: a dimension stays bounded."""
    return value if value in allowed else OTHER


def status_class(status: int) -> str:
    return bounded(f"{status // 100}xx", STATUS_CLASSES)


def emit(values: Mapping[str, tuple[float, str]], **dimensions: str) -> None:
    """One EMF blob: ``values`` maps a metric name to (value, unit); the dimensions are Stage,
    Function and ``dimensions`` (each already bounded by the caller). Never raises: a metric
    that cannot be written is logged, and the work it measures goes on."""
    try:
        from aws_lambda_powertools.metrics import EphemeralMetrics

        cfg = config.load()
        # service="": no "service" dimension from POWERTOOLS_SERVICE_NAME; the set is ours.
        emf = EphemeralMetrics(namespace=cfg.metrics_namespace, service="")
        emf.add_dimension("Stage", cfg.stage)
        emf.add_dimension("Function", bounded(_function.get(), FUNCTIONS))
        for name, value in dimensions.items():
            emf.add_dimension(name, value)
        for name, (number, unit) in values.items():
            emf.add_metric(name=name, unit=unit, value=number)
        blob = dict(emf.serialize_metric_set())
        for sink in list(_sinks):
            sink(blob)
    except Exception:
        logger.exception("metric not emitted", extra={"metrics": sorted(values)})


@contextmanager
def function_scope(name: str) -> Iterator[None]:
    """Metrics emitted inside are the ``name`` function's (the Function dimension)."""
    token = _function.set(bounded(name, FUNCTIONS))
    route = _route.set(UNMATCHED)
    try:
        yield
    finally:
        _route.reset(route)
        _function.reset(token)


def function(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a handler: what it emits carries ``Function=name``."""

    def decorate(handler: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(handler)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            with function_scope(name):
                return handler(*args, **kwargs)

        return wrapped

    return decorate


# --- requests --------------------------------------------------------------------------------


def remember_route(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """A Powertools middleware (``app.use([metrics.remember_route])``): notes the matched route
    for :func:`request`. A request no route matched runs it too, with the request's own path
    as the "route": anything not in :data:`ROUTES` is ``unmatched`` (a test keeps every
    registered route in it)."""
    route = app.request.route
    _route.set(route if route in ROUTES else UNMATCHED)
    return next_middleware(app)


def request(response: Mapping[str, Any]) -> None:
    """Count one answered request by its route and status class."""
    try:
        status = int(response.get("statusCode", 0))
    except (TypeError, ValueError):
        status = 0
    emit(
        {"Requests": (1, "Count")},
        Route=bounded(_route.get(), ROUTES),
        StatusClass=status_class(status),
    )


# --- business events -------------------------------------------------------------------------


def rendition_made(fmt: str, ms: float, size: int) -> None:
    """A rendition made on a miss: its format, how long it took and its size."""
    emit(
        {
            "RenditionsMade": (1, "Count"),
            "RenditionMs": (round(ms, 1), "Milliseconds"),
            "RenditionBytes": (size, "Bytes"),
        },
        Format=bounded(fmt, FORMATS),
    )


def upload_processed() -> None:
    emit({"UploadsProcessed": (1, "Count")})


def upload_rejected(reason: str) -> None:
    emit({"UploadsRejected": (1, "Count")}, Reason=bounded(reason, REJECT_REASONS))


def gif(outcome: str, effect: str, ms: float) -> None:
    """A GIF ``made`` (GifsReady) or ``failed`` (GifsFailed), with its milliseconds; the other
    outcomes (exists, dropped, ignored) are not GIF work and are not counted."""
    from imgsvc.effects import EFFECTS  # the effect functions have it loaded already

    name = {"made": "GifsReady", "failed": "GifsFailed"}.get(outcome)
    if name is None:
        return
    emit(
        {name: (1, "Count"), "GifMs": (round(ms, 1), "Milliseconds")},
        Effect=bounded(effect, frozenset(EFFECTS)),
    )


def replica_read() -> None:
    """An original's bytes were found in the replica only (expired or lost in the main bucket)."""
    emit({"ReplicaReads": (1, "Count")})


def version_conflict(operation: str, *, retried: bool) -> None:
    """A racing writer took the version number; ``retried``: the write is tried again."""
    values = {"VersionConflicts": (1.0, "Count")}
    if retried:
        values["VersionConflictRetries"] = (1.0, "Count")
    emit(values, Operation=bounded(operation, OPERATIONS))
