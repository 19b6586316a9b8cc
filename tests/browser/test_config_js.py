"""What the page does with the config.js it is given: none (a site bucket without it, or a page
opened from a copy of web/), or one whose maxApiBytes is not a positive whole number. The page's
modules (web/lib/deployment.js) fall back to the service's default limit, and the page says that
it does not know where the service is, instead of failing to load.

The page is served from web/ by the browser's request routing: no service is needed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from imgsvc.config import DEFAULT_MAX_BODY_BYTES
from tests.browser.conftest import WEB_DIR, chromium_missing, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or ""),
]

ORIGIN = "http://127.0.0.1:9"  # never contacted: every request is answered by the route below
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def serve_web(page: Any, config_js: str | None) -> None:
    """Answer the page's requests from web/, with ``config_js`` as config.js (404 if None)."""

    def handle(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :].split("?", 1)[0] or "/"
        if path == "/config.js":
            if config_js is None:
                route.fulfill(status=404, body="Not Found", content_type="text/plain")
            else:
                route.fulfill(status=200, body=config_js, content_type="text/javascript")
            return
        file = WEB_DIR / ("index.html" if path == "/" else path.lstrip("/"))
        if WEB_DIR not in file.resolve().parents or not file.is_file():
            route.fulfill(status=404, body="Not Found", content_type="text/plain")
            return
        route.fulfill(status=200, path=str(file), content_type=TYPES.get(file.suffix, "text/plain"))

    page.route(f"{ORIGIN}/**", handle)


def hint(page: Any) -> str:
    return str(
        wait_until(
            page,
            "() => { const t = document.getElementById('file-hint').textContent;"
            " return t.includes('straight to storage') && t; }",
        )
    )


def test_without_config_js_the_page_loads_and_says_where_it_is_lost(page: Any) -> None:
    serve_web(page, None)
    page.goto(f"{ORIGIN}/")
    message = wait_until(
        page, "() => document.getElementById('error-message').textContent || false"
    )
    assert "config.js did not load" in message
    assert "4.5 MB" in hint(page)  # the service's default limit


@pytest.mark.parametrize("value", ["4.5MB", -1, 0, 1.5, None, "3000000", 2**60], ids=repr)
def test_a_max_api_bytes_that_is_not_a_positive_integer_is_the_default(
    page: Any, value: Any
) -> None:
    config = {"apiBaseUrl": ORIGIN, "cdnBaseUrl": f"{ORIGIN}/cdn", "maxApiBytes": value}
    serve_web(page, f"window.IMGSVC_CONFIG = {json.dumps(config)};\n")
    page.goto(f"{ORIGIN}/")
    shown = hint(page)
    assert "4.5 MB" in shown, shown
    assert not page.evaluate("() => document.getElementById('error-message').textContent")


def test_the_stages_limit_is_the_one_the_page_names(page: Any) -> None:
    config = {"apiBaseUrl": ORIGIN, "cdnBaseUrl": f"{ORIGIN}/cdn", "maxApiBytes": 3_000_000}
    serve_web(page, f"window.IMGSVC_CONFIG = {json.dumps(config)};\n")
    page.goto(f"{ORIGIN}/")
    assert "3 MB" in hint(page)
    assert DEFAULT_MAX_BODY_BYTES != 3_000_000
