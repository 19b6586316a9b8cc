"""A scripted HTTP server on 127.0.0.1 for the CLI's edge cases the real service never shows
(a lying download, S3's XML errors, API Gateway's own answers, a proxy's HTML page)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Scripted:
    """``routes[(method, path)] = (status, headers, body)``; every request lands in ``seen``."""

    url: str = ""
    routes: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def route(self, method: str, path: str, status: int, body: bytes = b"", **headers: str) -> None:
        self.routes[(method, path)] = (
            status,
            {k.replace("_", "-"): v for k, v in headers.items()},
            body,
        )


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    state = Scripted()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            status, headers, payload = state.routes.get(
                (self.command, self.path), (404, {"Content-Type": "text/plain"}, b"no route")
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
