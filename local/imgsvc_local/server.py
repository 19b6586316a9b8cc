"""The local mode's HTTP server: the API (through the local API Gateway), the CDN paths and the
web page, on 127.0.0.1."""

from __future__ import annotations

import email.errors
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from imgsvc.errors import error_body
from imgsvc_local import framing
from imgsvc_local.gateway import API_GATEWAY_MAX_BODY, Gateway, _over_gateway_limit

logger = logging.getLogger("localmode.http")

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
CDN_PREFIX = "/cdn"

# A local CDN: called with the path under /cdn and the request; returns a response.
CdnHandler = Callable[[str, Request], Response]
# The environ key where HeaderLinesRequestHandler puts the request's header lines.
HEADER_LINES = "imgsvc_local.header_lines"
# ... and the connection's input as it arrives (werkzeug's wsgi.input de-chunks without limits).
RAW_INPUT = "imgsvc_local.raw_input"
# Seconds a connection may stay silent while a request (line, headers, body) is being read: a
# client that stops sending gets a 408 (a body) or is disconnected (the head), and no thread
# waits for good.
READ_TIMEOUT = 10.0
# What http.client's header parser notes for a line it cannot read as a field (the request's
# other defects, e.g. a multipart Content-Type with no body in the header block, are harmless).
_HEADER_LINE_DEFECTS = (
    email.errors.MissingHeaderBodySeparatorDefect,
    email.errors.InvalidHeaderDefect,
)


class HeaderLinesRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, also keeping the header lines as the client sent them.

    API Gateway passes every header line on: names with ``_`` (``x-meta-my_key``) and each line
    of a repeated header. The WSGI environ cannot carry either: werkzeug drops names with ``_``
    (``HTTP_X_META_MY_KEY`` could be ``x-meta-my-key`` too) and joins repeated lines with commas.
    So the gateway reads the lines themselves, from ``environ[HEADER_LINES]``, and the body
    from the connection itself (``environ[RAW_INPUT]``, read by :mod:`imgsvc_local.framing`).
    Every read and write on the connection times out after ``timeout`` seconds of silence.
    """

    timeout = READ_TIMEOUT

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        # http.client stops reading fields at a line that is not one (a space or NUL in the
        # name, no colon): that line and every one after it, Content-Length included, would be
        # dropped without a word. API Gateway refuses such a request; so does the local mode.
        if any(isinstance(defect, _HEADER_LINE_DEFECTS) for defect in self.headers.defects):
            bad = str(self.headers.get_payload()).split("\r\n", 1)[0] or "(a header name)"
            self.send_error(
                HTTPStatus.BAD_REQUEST,
                "Malformed header line",
                f"{bad[:100]!r} is not a header line: use 'Name: value', the name made of "
                "letters, digits and '-'.",
            )
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's error reply (a request it cannot parse), as JSON like every other."""
        short, long = self.responses.get(code, ("Error", ""))
        status = message or short
        code_name = re.sub(r"[^a-z0-9]+", "_", status.lower()).strip("_")  # "line_too_long"
        body = json.dumps(error_body(code_name, f"{status}: {explain or long}")).encode()
        self.log_error("code %d, message %s", code, status)
        self.send_response(code, status)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        # As werkzeug does for the environ: an obsolete folded line is unfolded.
        environ[HEADER_LINES] = [
            (name, value.replace("\r\n", "")) for name, value in self.headers.items()
        ]
        environ[RAW_INPUT] = self.rfile
        return environ


class LocalApp:
    """WSGI app: ``/cdn/...`` -> the CDN, API routes -> the gateway, else the web page."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        cdn: CdnHandler | None = None,
        web_dir: Path = WEB_DIR,
        web_config: dict[str, Any] | None = None,
    ) -> None:
        self.gateway = gateway
        self.cdn = cdn
        self.web_dir = web_dir
        self.web_config = web_config or {}
        # The API's host name (host:port), as API Gateway's own domain name: the requests'
        # Host headers are the client's to choose.
        self.api_host: str | None = None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        try:
            response = self.dispatch(request)
        except Exception:  # werkzeug would answer with an HTML page
            logger.exception("the local mode failed on %s %s", request.method, request.path)
            response = _json_error(500, "internal_error", "The local mode failed: see its log.")
        elapsed = (time.perf_counter() - started) * 1000
        logger.info(
            '%s "%s %s" %s %.1fms',
            request.remote_addr,
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            elapsed,
        )
        # The HTTP server dates every response itself (http.server's send_response); a Date from
        # the app (werkzeug's make_conditional sets one) would be a second, and Date is a
        # singleton field.
        response.headers.pop("Date", None)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == CDN_PREFIX or path.startswith(CDN_PREFIX + "/"):
            if self.cdn is None:
                return _json_error(404, "not_found", "The CDN is not part of this build.")
            return self.cdn(path[len(CDN_PREFIX) :], request)
        if request.method in ("GET", "HEAD") and self._is_web_path(path):
            return self._web(path)
        raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or path
        # Under another WSGI server (no HEADER_LINES), what its environ kept.
        headers = request.environ.get(HEADER_LINES) or list(request.headers.items())
        try:
            body = self._body(request, headers)
        except framing.BodyError as exc:
            return self._refused(request, exc)
        proxy = self.gateway.invoke(
            method=request.method,
            path=raw_path.split("?", 1)[0],
            query=query_parameters(request.environ.get("QUERY_STRING", "")),
            headers=headers,
            body=body,
            source_ip=request.remote_addr or "127.0.0.1",
            host=self.api_host or request.host,
        )
        response = Response(proxy.body, status=proxy.status)
        response.headers.clear()
        for name, value in proxy.headers:
            response.headers.add(name, value)
        return response

    @staticmethod
    def _body(request: Request, headers: list[tuple[str, str]]) -> bytes:
        """The request's body, never more than API Gateway takes (the cap is checked before a
        byte of the body is read)."""
        raw = request.environ.get(RAW_INPUT)
        if raw is None:  # another WSGI server: its own framing, capped here
            length = request.content_length or 0
            if length > API_GATEWAY_MAX_BODY:
                raise framing.BodyError(413, "payload_too_large", "", length)
            return request.get_data(cache=False)
        return framing.read_body(raw, headers, API_GATEWAY_MAX_BODY)

    @staticmethod
    def _refused(request: Request, error: framing.BodyError) -> Response:
        """The answer to a body that was not read: what the gateway answers for one over its
        limit, else the framing error. The connection is closed after it (the rest of the body
        is unread: it cannot be told from a next request)."""
        if error.status == 413:  # API Gateway's own REQUEST_TOO_LARGE, as the gateway answers it
            proxy = _over_gateway_limit()
            response = Response(proxy.body, status=proxy.status)
            response.headers.clear()
            for name, value in proxy.headers:
                response.headers.add(name, value)
        else:
            response = _json_error(error.status, error.code, error.message)
        logger.info("%s %s refused: %s", request.method, request.path, error.code)
        return response

    def _is_web_path(self, path: str) -> bool:
        if path in ("/", "/config.js"):
            return True
        return self.gateway.match("GET", path) is None and self._web_file(path) is not None

    def _web_file(self, path: str) -> Path | None:
        relative = "index.html" if path == "/" else path.lstrip("/")
        candidate = (self.web_dir / relative).resolve()
        if self.web_dir.resolve() not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def _web(self, path: str) -> Response:
        if path == "/config.js":
            body = f"window.IMGSVC_CONFIG = {json.dumps(self.web_config)};\n"
            return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-store"})
        found = self._web_file(path)
        if found is None:
            return _json_error(404, "not_found", "The web page is not part of this build.")
        mimetype = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return Response(
            found.read_bytes(), mimetype=mimetype, headers={"Cache-Control": "no-cache"}
        )


def query_parameters(query_string: str) -> list[tuple[str, str]]:
    """The query's parameters, in order, percent-decoded as UTF-8: escapes that do not decode
    (``%FF``) become U+FFFD, never the escape's own text. (The WSGI environ holds the bytes as
    Latin-1 characters.)"""
    text = query_string.encode("latin-1").decode("utf-8", "replace")
    return parse_qsl(text, keep_blank_values=True, errors="replace")


def _json_error(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps(error_body(code, message)), status=status, mimetype="application/json"
    )
