"""The resize function: the API route ``GET /resize/<size>/<id>`` and the CDN's failover origin.

Two event shapes reach it:

- API Gateway REST proxy events (``/resize/{size}/{id}``): make the latest version's rendition
  when it is missing, then ``302`` to it on the CDN. The CDN's URL comes from the stage
  variable ``cdnBaseUrl`` (the CDN's failover origin is this function, so its URL cannot be in
  this function's environment without a dependency cycle), else from ``IMGSVC_CDN_BASE_URL``.
- Lambda function URL events (payload 2.0) from CloudFront when a rendition is missing from
  S3: ``/r/<id>/<version>/<size>/<format>`` (the edge function added the format). Answers the
  rendition's bytes with the headers S3 serves it with afterwards, so the first response and
  every later one look the same; ``302`` back to the same path when the rendition is too large
  for a Lambda response (the next request finds it in S3).

Errors are JSON and short-lived in caches: 4xx for 5 seconds, 422 (an original that cannot
be decoded) and 5xx not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    LambdaFunctionUrlResolver,
    Response,
)
from aws_lambda_powertools.logging import correlation_paths

from imgsvc import metrics, resizing
from imgsvc.errors import ServiceError, ServiceUnavailable, error_body
from imgsvc.handlers.http import cors_config, json_response
from imgsvc.logs import logger
from imgsvc.wiring import deps

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    from imgsvc.config import Config

# The API stage variable with the CDN's base URL (environments/*: stage_variables).
CDN_STAGE_VARIABLE = "cdnBaseUrl"
# A function URL answers at most 6 MB, and binary bodies are base64 (4/3): keep headroom for
# the headers and JSON around it. Larger renditions are served from S3 through a redirect.
LAMBDA_RESPONSE_LIMIT = 6_000_000
MAX_INLINE_BYTES = (LAMBDA_RESPONSE_LIMIT - 64 * 1024) * 3 // 4
# Seconds caches may keep a 4xx: a rendition missing a moment ago must not stay missing.
ERROR_MAX_AGE = 5

api = APIGatewayRestResolver(cors=cors_config())
origin = LambdaFunctionUrlResolver()


def error_cache_control(status: int) -> str:
    """4xx for seconds; 422 (the original cannot be made into a rendition) and 5xx never."""
    if status == 422 or status >= 500:
        return "no-store"
    return f"public, max-age={ERROR_MAX_AGE}"


def _error(status: int, body: dict[str, Any]) -> Response[str]:
    return json_response(status, body, headers={"Cache-Control": error_cache_control(status)})


def _register_error_handlers(app: ApiGatewayResolver) -> None:
    @app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
    def _service_error(exc: ServiceError) -> Response[str]:
        if exc.status >= 500:
            logger.error("request failed", extra={"code": exc.code})
        return _error(exc.status, exc.body())

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unexpected error")
        return _error(
            500, error_body("internal_error", "Something went wrong on our side; try again later.")
        )

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        return _error(
            404,
            error_body(
                "route_not_found",
                "No such route: renditions are GET /resize/<size>/<id> on the API and "
                "/r/<id>/<version>/<size>/<format> on the CDN.",
            ),
        )


_register_error_handlers(api)
_register_error_handlers(origin)
api.use(middlewares=[metrics.remember_route])
origin.use(middlewares=[metrics.remember_route])


def cdn_base_url(stage_variables: dict[str, str] | None, cfg: Config) -> str:
    """The CDN's base URL: the API stage variable, else the configuration."""
    url = ((stage_variables or {}).get(CDN_STAGE_VARIABLE) or cfg.cdn_base_url).rstrip("/")
    if not url.startswith(("https://", "http://")):
        logger.error("CDN base URL not configured", extra={"value": url[:100]})
        raise ServiceUnavailable(
            "Renditions are not available: the CDN's URL is not configured.",
            code="cdn_not_configured",
        )
    return url


def _accept(app: APIGatewayRestResolver) -> str | None:
    """The request's Accept header; several header lines are read as one list."""
    event = app.current_event
    lines = event.multi_value_headers.get("accept")
    if lines:
        return ",".join(lines)
    return event.headers.get("accept")


@api.get("/resize/<size>/<image_id>")
def resize(size: str, image_id: str) -> Response[str]:
    found = deps()
    path = resizing.ensure_latest(found, image_id, size, _accept(api))
    location = cdn_base_url(api.current_event.stage_variables, found.config) + path
    # The latest version changes with every update: the redirect itself is never cached.
    return Response(
        status_code=302, body="", headers={"Location": location, "Cache-Control": "no-store"}
    )


def _cdn_location(path: str, cfg: Config) -> str:
    """Where to send a viewer on the CDN: absolute when the CDN's URL is configured, else the
    path (the CDN serves renditions at its root, so it resolves against the viewer's URL)."""
    return f"{cfg.cdn_base_url}{path}" if cfg.cdn_base_url else path


@origin.route("/r/<image_id>/<version>/<size>/<fmt>", method=["GET", "HEAD"])
def rendition(**_parts: str) -> Response[Any]:
    event = origin.current_event
    found = deps()
    cfg = found.config
    request = resizing.parse_origin_path(event.path, cfg)
    if request.path != event.path:  # e.g. 0400X: one spelling, one object, one cache entry
        return Response(
            status_code=301,
            body="",
            headers={
                "Location": _cdn_location(request.path, cfg),
                "Cache-Control": found.renditions.cache_control,
            },
        )
    stored = resizing.origin_rendition(found, request)
    if len(stored.data) > MAX_INLINE_BYTES:
        logger.info("rendition too large to return", extra={"bytes": len(stored.data)})
        return Response(
            status_code=302,
            body="",
            headers={"Location": _cdn_location(request.path, cfg), "Cache-Control": "no-store"},
        )
    headers = {"Cache-Control": stored.cache_control, "Vary": "Accept"}
    if stored.etag:
        headers["ETag"] = stored.etag
    body = stored.data
    if event.http_method == "HEAD":
        # The GET's headers without its bytes: Content-Length is still the GET's (RFC 9110).
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(status_code=200, content_type=stored.content_type, body=body, headers=headers)


def _is_function_url(event: dict[str, Any]) -> bool:
    return event.get("version") == "2.0" and "rawPath" in event


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.function("resize")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Both event shapes carry ``requestContext.requestId``: one correlation id path."""
    app = origin if _is_function_url(event) else api
    response = app.resolve(event, context)
    metrics.request(response)
    return response
