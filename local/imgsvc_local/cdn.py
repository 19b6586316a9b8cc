"""The local mode's CDN: what CloudFront does (modules/cdn) for ``/cdn/r/*`` and ``/cdn/gifs/*``.

``/r/<id>/<version>/<size>[/<format>]``, as the distribution's ``/r/*`` behavior:

1. the viewer-request edge function (modules/cdn/functions/rendition-format.js): anything that
   is not a rendition path is a JSON 404; a path without a format gets the one ``Accept``
   asks for (:func:`viewer_request`, the rule of :func:`imgsvc.renditions.negotiate`);
2. the origin group: the object in the renditions bucket when it is there, with the headers
   it was stored with; else the failover origin, the resize function, invoked in an execution
   environment of its own (:mod:`imgsvc_local.environments`) with the function URL event
   CloudFront would send (only the path: the cache policy forwards no
   viewer headers).

``/gifs/<id>/<version>/<effect>.gif``: the object in the renditions bucket (the GIF effects
write there), or a JSON 404.

Every ``/r/`` answer carries ``Vary: Accept`` (the same path gives different formats), and
every answer the security headers of the distribution's response headers policy (HSTS aside:
this is plain HTTP). Nothing is cached here: the bucket is the cache.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from imgsvc import aws, config, keys, renditions, resizing
from imgsvc.errors import error_body
from imgsvc_local.environments import EnvironmentPool, FunctionError

logger = logging.getLogger("localmode.cdn")

FUNCTION_URL_ID = "localresize0000000000000000000000"
FUNCTION_URL_HOST = f"{FUNCTION_URL_ID}.lambda-url.us-east-1.on.aws"
# The distribution's response headers policy (modules/cdn), HSTS aside.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
NOT_A_RENDITION = (
    "Not a rendition: the path is /r/<id>/<version>/<size> with an optional /original, "
    "/webp or /avif."
)
# As the edge function's 404 (not a rendition path: that never changes).
NOT_A_RENDITION_CACHE_CONTROL = "public, max-age=300"
MISSING_CACHE_CONTROL = "public, max-age=5"
_MISSING = {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}


def viewer_request(uri: str, accept: str | None, *, avif_enabled: bool) -> str | None:
    """The CDN's viewer-request function: the URI with the accepted format appended (a URI
    naming one is kept), or None for a path that is not a rendition (a 404 at the edge)."""
    parsed = keys.parse_rendition_key(uri)
    if parsed is None or not uri.startswith("/"):
        return None
    if parsed[3] is not None:
        return uri
    # The format depends on Accept alone; the original's type only names "original".
    chosen = renditions.negotiate(accept, "image/jpeg", avif_enabled)
    return f"{uri}/{chosen.key}"


def handle(path: str, request: Request, environments: EnvironmentPool) -> Response:
    """Answer ``path`` (under ``/cdn``) as the CDN would; the resize function runs in one of
    ``environments``."""
    if request.method not in ("GET", "HEAD"):
        response = _json(405, "method_not_allowed", "The CDN serves GET and HEAD only.")
        response.headers["Allow"] = "GET, HEAD"
    elif path.startswith("/" + keys.RENDITIONS_PREFIX):
        response = _rendition(path, request, environments)
        response.headers["Vary"] = "Accept"
    elif path.startswith("/" + keys.GIFS_PREFIX):
        response = _gif(path, request)
    else:
        response = _json(404, "not_found", "The CDN serves /r/... renditions and /gifs/... GIFs.")
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _rendition(path: str, request: Request, environments: EnvironmentPool) -> Response:
    cfg = config.load()
    accept = ",".join(request.headers.getlist("Accept")) or None
    uri = viewer_request(path, accept, avif_enabled=resizing.avif_enabled(cfg))
    if uri is None:
        response = _json(404, "not_found", NOT_A_RENDITION)
        response.headers["Cache-Control"] = NOT_A_RENDITION_CACHE_CONTROL
        return response
    stored = _object(cfg.renditions_bucket, uri.lstrip("/"), request)
    if stored is not None:
        return stored
    return _failover(uri, request, environments)


def _gif(path: str, request: Request) -> Response:
    if keys.parse_gif_key(path) is not None:
        stored = _object(config.load().renditions_bucket, path.lstrip("/"), request)
        if stored is not None:
            return stored
    response = _json(
        404,
        "gif_not_found",
        "No such GIF (yet): GET /images/<id>/gifs on the API says which are ready.",
    )
    response.headers["Cache-Control"] = MISSING_CACHE_CONTROL
    return response


def _object(bucket: str, key: str, request: Request) -> Response | None:
    """The stored object with its stored headers, or None when S3 has nothing there."""
    try:
        found = aws.s3().get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in _MISSING:
            return None
        raise
    response = Response(found["Body"].read(), status=200, content_type=found.get("ContentType"))
    if found.get("CacheControl"):
        response.headers["Cache-Control"] = found["CacheControl"]
    if found.get("ETag"):
        response.headers["ETag"] = found["ETag"]
    if found.get("LastModified"):
        response.last_modified = found["LastModified"]
    return response.make_conditional(request)


def function_url_event(uri: str, request: Request) -> dict[str, Any]:
    """The Lambda function URL (payload 2.0) event CloudFront's failover sends for ``uri``:
    signed by origin access control, with CloudFront's own headers and none of the viewer's."""
    now = time.time()
    request_id = str(uuid.uuid4())
    source_ip = request.remote_addr or "127.0.0.1"
    headers = {
        "host": FUNCTION_URL_HOST,
        "user-agent": "Amazon CloudFront",
        "via": "2.0 local.cloudfront.net (CloudFront)",
        "x-amz-cf-id": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("="),
        "x-amzn-trace-id": f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": FUNCTION_URL_ID,
            "authorizer": {
                "iam": {
                    "accessKey": "ASIALOCALCLOUDFRONT0",
                    "accountId": "123456789012",
                    "callerId": "AROALOCALCLOUDFRONT0:OriginAccessSession",
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": "arn:aws:sts::123456789012:assumed-role/OriginAccessControlRole/"
                    "OriginAccessSession",
                    "userId": "AROALOCALCLOUDFRONT0:OriginAccessSession",
                }
            },
            "domainName": FUNCTION_URL_HOST,
            "domainPrefix": FUNCTION_URL_ID,
            "http": {
                "method": request.method,
                "path": uri,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": "Amazon CloudFront",
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }


def _failover(uri: str, request: Request, environments: EnvironmentPool) -> Response:
    try:
        result = environments.invoke("resize", function_url_event(uri, request))
    except FunctionError:
        # CloudFront's answer when the failover origin fails.
        return _json(502, "bad_gateway", "The resize function failed; retry the request.")
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    response = Response(body, status=int(result.get("statusCode", 200)))
    response.headers.clear()
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    if response.status_code == 200:
        return response.make_conditional(request)
    return response


def _json(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps(error_body(code, message)), status=status, mimetype="application/json"
    )
