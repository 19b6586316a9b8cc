"""Headless Chromium (Debian's, driven by Playwright) against the real local mode process.

The local mode serves the page at ``/`` with a same-origin config. A second origin serves the
same files with absolute URLs in ``config.js``, as the CDN's site bucket does in AWS (the API,
the CDN and the upload bucket on other origins), and the local mode allows it by CORS.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from imgsvc.config import DEFAULT_MAX_BODY_BYTES
from tests.http.conftest import REPO, LocalMode, free_port, start_local_mode, stop_local_mode

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browser"
WEB_DIR = REPO / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if CHROMIUM.exists():
        return None
    return f"{CHROMIUM} is missing: install Debian's chromium package (make browser-deps)"


@dataclass
class Service:
    """The local mode, and the page as AWS serves it: from another origin."""

    local: LocalMode
    site_url: str

    @property
    def url(self) -> str:
        return self.local.url


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    site_port = free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    local = start_local_mode(
        tmp_path_factory.mktemp("browser-local-mode") / "local-mode.log",
        IMGSVC_CORS_ORIGINS=site_origin,
    )
    try:
        # What environments/stack/web.tf uploads: web/* but a local config.js, and a generated one.
        site = tmp_path_factory.mktemp("site")
        for path in sorted(WEB_DIR.rglob("*")):
            relative = path.relative_to(WEB_DIR)
            if path.is_file() and str(relative) != "config.js" and not path.name.startswith("."):
                (site / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, site / relative)
        config = {
            "apiBaseUrl": local.url,
            "cdnBaseUrl": f"{local.url}/cdn",
            "maxApiBytes": DEFAULT_MAX_BODY_BYTES,
        }
        (site / "config.js").write_text(f"window.IMGSVC_CONFIG = {json.dumps(config)};\n")
        handler = functools.partial(_QuietHandler, directory=str(site))
        server = ThreadingHTTPServer(("127.0.0.1", site_port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield Service(local=local, site_url=site_origin)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        stop_local_mode(local)


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 900},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab; the test fails if the page throws or breaks its own CSP."""
    tab = browser_context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"console: {message.text}")

    tab.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    tab.on("console", on_console)
    yield tab
    tab.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def wait_until(page: Any, script: str, arg: Any = None, timeout: float = 90) -> Any:
    """Evaluate ``script`` (a JS function) until it returns something truthy.

    ``page.wait_for_function`` evaluates strings, which the page's CSP forbids; evaluate does not.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {script}")
        page.wait_for_timeout(200)
