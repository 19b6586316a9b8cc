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

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from imgsvc.errors import error_body
from imgsvc_local.gateway import Gateway

logger = logging.getLogger("localmode.http")

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
CDN_PREFIX = "/cdn"

# A local CDN: called with the path under /cdn and the request; returns a response.
CdnHandler = Callable[[str, Request], Response]
# The environ key where HeaderLinesRequestHandler puts the request's header lines.
HEADER_LINES = "imgsvc_local.header_lines"
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
    So the gateway reads the lines themselves, from ``environ[HEADER_LINES]``.
    """

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

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        response = self.dispatch(request)
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
        proxy = self.gateway.invoke(
            method=request.method,
            path=raw_path.split("?", 1)[0],
            query=list(request.args.items(multi=True)),
            # Under another WSGI server (no HEADER_LINES), what its environ kept.
            headers=request.environ.get(HEADER_LINES) or list(request.headers.items()),
            body=request.get_data(cache=False),
            source_ip=request.remote_addr or "127.0.0.1",
            host=request.host,
        )
        response = Response(proxy.body, status=proxy.status)
        response.headers.clear()
        for name, value in proxy.headers:
            response.headers.add(name, value)
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


def _json_error(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps(error_body(code, message)), status=status, mimetype="application/json"
    )
