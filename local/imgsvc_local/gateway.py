"""What API Gateway does in front of the Lambda functions, done locally.

Routes come from openapi.yaml (the same file modules/api deploys); each request becomes the REST
proxy event AWS would send (binary bodies base64-encoded), and the handler's proxy response
becomes the HTTP response. The limits are AWS's: 10 MB per request, 6 MB per invocation.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from imgsvc.errors import error_body
from imgsvc_local.environments import EnvironmentPool, FunctionError

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
LAMBDA_MAX_PAYLOAD = 6 * 1024 * 1024
# What modules/api declares as binary media types: bodies of these types arrive base64-encoded.
BINARY_MEDIA_PREFIXES = ("image/", "multipart/form-data", "application/octet-stream")
STAGE = "local"
# API Gateway's answer for a path or method the API does not have (a method the path lacks too:
# API Gateway has no 405): its MISSING_AUTHENTICATION_TOKEN response, as modules/api words it.
MISSING_ROUTE_CODE = "not_found"
MISSING_ROUTE_MESSAGE = "No such route. The OpenAPI document lists the paths and methods."

# x-imgsvc-function -> the handler the Lambda function of that name runs.
FUNCTIONS: dict[str, str] = {
    "api": "imgsvc.handlers.api:handler",
    "resize": "imgsvc.handlers.resize:handler",
}

# Environments (worker processes) per function at most: concurrent requests run at once, each in
# an environment of its own, as Lambda runs them (imgsvc_local.environments).
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class Route:
    template: str
    method: str
    function: str
    pattern: re.Pattern[str]
    static_segments: int


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True, slots=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def load_routes(path: Path = OPENAPI_PATH) -> list[Route]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    routes: list[Route] = []
    for template, item in spec["paths"].items():
        regex = (
            "^" + re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        )
        static = sum(1 for part in template.split("/") if part and not part.startswith("{"))
        for method, operation in item.items():
            if method == "parameters":
                continue
            routes.append(
                Route(
                    template=template,
                    method=method.upper(),
                    function=operation.get("x-imgsvc-function", "api"),
                    pattern=re.compile(regex),
                    static_segments=static,
                )
            )
    # Most specific first: templates with more literal segments win (/uploads/x vs /{a}/{b}).
    routes.sort(key=lambda r: -r.static_segments)
    return routes


class LocalContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = f"imgsvc-local-{function_name}"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Gateway:
    def __init__(
        self,
        routes: list[Route] | None = None,
        environments: EnvironmentPool | None = None,
    ) -> None:
        self.routes = routes if routes is not None else load_routes()
        self.environments = environments or EnvironmentPool(FUNCTIONS, DEFAULT_CONCURRENCY)

    def match(self, method: str, path: str) -> Match | str | None:
        """The route for ``method path`` (still percent-encoded, as API Gateway matches it);
        None if no path matches, "method" if only the method does not."""
        path_matched = False
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            path_matched = True
            if route.method == method:
                return Match(route, {k: unquote(v) for k, v in found.groupdict().items()})
        return "method" if path_matched else None

    def invoke(
        self,
        *,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        host: str,
    ) -> ProxyResponse:
        if method == "OPTIONS":
            found = self.match("GET", path) or self.match("POST", path)
            function = found.route.function if isinstance(found, Match) else "api"
            return self._call(function, None, method, path, query, headers, body, source_ip, host)
        found = self.match(method, path)
        if not isinstance(found, Match):
            # No such path, or no such method on it (openapi.yaml has no HEAD methods, and API
            # Gateway does not answer a HEAD from a GET method): API Gateway answers every one
            # with its missing-route response; it has no 405.
            return _error(404, MISSING_ROUTE_CODE, MISSING_ROUTE_MESSAGE)
        assert isinstance(found, Match)
        if len(body) > API_GATEWAY_MAX_BODY:
            return _over_gateway_limit()
        return self._call(
            found.route.function,
            found,
            method,
            path,
            query,
            headers,
            body,
            source_ip,
            host,
        )

    def _call(
        self,
        function: str,
        found: Match | None,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        host: str,
    ) -> ProxyResponse:
        event = proxy_event(
            method=method,
            path=path,
            resource=found.route.template if found else path,
            path_parameters=found.path_parameters if found else None,
            query=query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            host=host,
        )
        payload = json.dumps(event)
        if len(payload) > LAMBDA_MAX_PAYLOAD:
            return _over_invoke_limit()
        if importlib.util.find_spec(FUNCTIONS[function].partition(":")[0]) is None:
            return _error(501, "not_implemented", f"The {function} function is not in this build.")
        try:
            result = self.environments.invoke(function, json.loads(payload))
        except FunctionError:
            # API Gateway's answer to a failed invocation (DEFAULT_5XX in modules/api).
            return _error(502, "internal_error", "Internal server error")
        return proxy_response(result)


def proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: dict[str, str] | None,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    host: str,
) -> dict[str, Any]:
    """The API Gateway REST proxy (v1) event for one request."""
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    # API Gateway answers only on its own host names, and sets X-Forwarded-Proto itself (the
    # protocol it was reached with): a client's Host or X-Forwarded-Proto never reaches the
    # function, so neither can end up in the URLs the function answers with.
    for name, value in [
        *((n, v) for n, v in headers if n.lower() not in ("host", "x-forwarded-proto")),
        ("Host", host),
        ("X-Forwarded-Proto", "http"),
    ]:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    binary = content_type.lower().startswith(BINARY_MEDIA_PREFIXES)
    if body and binary:
        event_body: str | None = base64.b64encode(body).decode("ascii")
    elif body:
        try:
            event_body = body.decode("utf-8")
        except UnicodeDecodeError:  # API Gateway would mangle it; base64 keeps it intact
            event_body, binary = base64.b64encode(body).decode("ascii"), True
    else:
        event_body = None
    now = time.time()
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": single_headers.get("User-Agent")},
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "local",
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": event_body,
        "isBase64Encoded": bool(event_body) and binary,
    }


def proxy_response(result: dict[str, Any]) -> ProxyResponse:
    """The HTTP response API Gateway makes of a Lambda proxy result."""
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (result.get("multiValueHeaders") or {}).items():
        seen.add(name.lower())
        headers.extend((name, str(v)) for v in values)
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return ProxyResponse(int(result.get("statusCode", 200)), headers, body)


def _error(status: int, code: str, message: str) -> ProxyResponse:
    body = json.dumps(error_body(code, message)).encode()
    return ProxyResponse(status, [("Content-Type", "application/json")], body)


def _over_gateway_limit() -> ProxyResponse:
    """A body over API Gateway's 10 MB payload quota: its REQUEST_TOO_LARGE response, which
    cannot be customised ("Customization of the 413 REQUEST_TOO_LARGE gateway response isn't
    currently supported", API Gateway developer guide, Gateway response types). REST APIs answer
    it in plain text, without the API's CORS headers, so a browser cannot even read the status.
    Clients must not send such a body: docs/api-limits.md."""
    return ProxyResponse(
        413,
        [("Content-Type", "text/plain")],
        f"HTTP content length exceeded {API_GATEWAY_MAX_BODY} bytes.".encode(),
    )


def _over_invoke_limit() -> ProxyResponse:
    """A proxy event over Lambda's 6 MB synchronous invocation payload: the function never runs,
    and API Gateway answers its REQUEST_TOO_LARGE gateway response, 413 ``{"message": "Request
    Too Long"}``, which an API cannot customise, so it carries no CORS headers (reported from a
    REST API with a Lambda proxy integration; AWS does not document this case: docs/api-limits.md
    says which bodies land here)."""
    return ProxyResponse(
        413, [("Content-Type", "application/json")], b'{"message": "Request Too Long"}'
    )
