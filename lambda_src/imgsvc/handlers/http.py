"""What every API Gateway handler shares: errors as JSON, the body as bytes, the base URL."""

from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import CORSConfig, Response, content_types

from imgsvc import config
from imgsvc.errors import ServiceError, error_body

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = logging.getLogger(__name__)

JSON = content_types.APPLICATION_JSON


def json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(payload, separators=(",", ":")),
        headers=headers or {},
    )


def cors_config() -> CORSConfig | None:
    """CORS for the configured origins only (none configured: no CORS headers at all)."""
    origins = list(config.load().cors_origins)
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        # Metadata travels as x-meta-<key> headers: their names are open-ended, and a preflight
        # list is matched literally, so allow any request header (Authorization is never needed).
        allow_headers=["*"],
        expose_headers=["Location"],
        max_age=600,
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map the error hierarchy to statuses in one place; anything else is a logged 500."""

    @app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
    def _service_error(exc: ServiceError) -> Response[str]:
        if exc.status >= 500:
            logger.error("request failed", extra={"code": exc.code})
        return json_response(exc.status, exc.body())

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unexpected error")
        return json_response(
            500,
            error_body("internal_error", "Something went wrong on our side; try again later."),
        )

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        event = app.current_event
        return json_response(
            404,
            error_body(
                "route_not_found",
                f"No route {event.http_method} {event.path}: see openapi.yaml for the API.",
            ),
        )


def body_bytes(app: APIGatewayRestResolver) -> bytes:
    """The request body as sent: API Gateway base64-encodes binary media types."""
    event = app.current_event
    raw = event.body or ""
    if event.is_base64_encoded:
        return base64.b64decode(raw)
    return raw.encode("utf-8")


def lower_headers(app: APIGatewayRestResolver) -> dict[str, str]:
    return {name.lower(): value for name, value in (app.current_event.headers or {}).items()}


def header_values(app: APIGatewayRestResolver) -> dict[str, list[str]]:
    """Every value of every request header, by lowercase name.

    API Gateway's ``headers`` keeps only the last value of a header sent twice; its
    ``multiValueHeaders`` has them all (read raw: names differing only in case are one header,
    and Powertools' case-insensitive view would keep one of them). A header only in ``headers``
    (an event written by hand) counts too.
    """
    event = app.current_event.raw_event
    values: dict[str, list[str]] = {}
    for name, lines in (event.get("multiValueHeaders") or {}).items():
        values.setdefault(name.lower(), []).extend(lines)
    for name, value in (event.get("headers") or {}).items():
        values.setdefault(name.lower(), [value])
    return values


def base_url(app: APIGatewayRestResolver) -> str:
    """The API's public base URL: configured, or derived from the request (host + stage)."""
    configured = config.load().api_base_url
    if configured:
        return configured
    event = app.current_event
    headers = lower_headers(app)
    context = event.request_context
    host = headers.get("host") or context.domain_name or "localhost"
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    stage = context.stage
    # The default execute-api host carries the stage in the path; custom domains map it away.
    prefix = f"/{stage}" if ".execute-api." in host and stage and stage != "$default" else ""
    return f"{proto}://{host}{prefix}"
