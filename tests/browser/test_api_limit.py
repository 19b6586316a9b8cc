"""The page learns the stage's API body limit from config.js (maxApiBytes, which
environments/stack/web.tf and the local mode write) and never sends the API a larger body: past
the limit API Gateway answers its own 413 without CORS headers (docs/api-limits.md).

Here the stage's limit is lowered to 300 kB, so a 0.5 MB image, well under the service's
default, must go straight to storage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import chromium_missing
from tests.browser.test_web import add_metadata, choose, noise_png, sha256, wait_for_upload
from tests.http.conftest import LocalMode, start_local_mode, stop_local_mode
from tests.support import imagegen

pytestmark = [
    pytest.mark.browser,
    pytest.mark.http,
    pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or ""),
]

STAGE_LIMIT = 300_000


@pytest.fixture(scope="module")
def low_limit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    mode = start_local_mode(
        tmp_path_factory.mktemp("low-limit") / "local-mode.log",
        IMGSVC_MAX_BODY_BYTES=str(STAGE_LIMIT),
    )
    yield mode
    stop_local_mode(mode)


def posts(sent: list[Any]) -> list[str]:
    return [request.url for request in sent if request.method in ("POST", "PUT")]


def record(mode: LocalMode, image_id: str) -> dict[str, Any]:
    import requests

    response = requests.get(f"{mode.url}/images/{image_id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_config_js_carries_the_stages_limit(low_limit: LocalMode, page: Any) -> None:
    page.goto(f"{low_limit.url}/")
    assert page.evaluate("() => window.IMGSVC_CONFIG.maxApiBytes") == STAGE_LIMIT
    assert "Files over 300 kB go straight to storage" in page.inner_text("#file-hint")


def test_a_file_over_the_stages_limit_goes_straight_to_storage(
    low_limit: LocalMode, page: Any
) -> None:
    data = noise_png(400)  # about 0.5 MB: over the stage's limit, far under the default
    assert STAGE_LIMIT < len(data) < 4_500_000
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{low_limit.url}/")
    choose(page, "mid.png", data, "image/png")
    assert "goes straight to storage" in page.inner_text("#file-chosen")
    add_metadata(page, "source", "browser")
    page.get_by_role("button", name="Upload as a new image").click()
    shown = wait_for_upload(page, 1, timeout=180)
    stored = record(low_limit, shown["Id"])
    assert (stored["size"], stored["sha256"]) == (len(data), sha256(data))
    assert stored["metadata"] == {"source": "browser"}
    sent_to = posts(sent)
    assert sent_to[0] == f"{low_limit.url}/uploads"
    assert f"{low_limit.url}/images?name=mid.png" not in sent_to  # never through the API


def test_a_new_version_over_the_limit_is_refused_before_sending(
    low_limit: LocalMode, page: Any
) -> None:
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{low_limit.url}/")
    choose(page, "small.jpg", imagegen.jpeg(64, 48, seed=4), "image/jpeg")
    page.get_by_role("button", name="Upload as a new image").click()
    wait_for_upload(page, 1)
    before = posts(sent)
    choose(page, "mid.png", noise_png(400), "image/png")
    page.locator("#upload-version").click()
    error = page.locator("#error.is-shown")
    error.wait_for()
    assert "New versions go through the API, which takes at most 300 kB" in error.inner_text()
    assert posts(sent) == before  # nothing was sent


def test_a_stale_config_falls_back_to_storage_on_the_functions_413(
    low_limit: LocalMode, page: Any
) -> None:
    """A config.js that promises more than the stage takes (an old deployment's): the function's
    JSON 413 says so before storing anything, and the page sends the same file straight to
    storage."""
    stale = {"apiBaseUrl": "", "cdnBaseUrl": "/cdn", "maxApiBytes": 4_500_000}
    page.route(
        "**/config.js",
        lambda route: route.fulfill(
            status=200,
            content_type="text/javascript",
            body=f"window.IMGSVC_CONFIG = {json.dumps(stale)};\n",
        ),
    )
    data = noise_png(400)
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{low_limit.url}/")
    choose(page, "stale.png", data, "image/png")
    page.get_by_role("button", name="Upload as a new image").click()
    shown = wait_for_upload(page, 1, timeout=180)
    stored = record(low_limit, shown["Id"])
    assert stored["sha256"] == sha256(data)
    sent_to = posts(sent)
    assert sent_to[:2] == [f"{low_limit.url}/images?name=stale.png", f"{low_limit.url}/uploads"]


def test_the_page_is_split_into_modules_it_loads(low_limit: LocalMode, page: Any) -> None:
    """app.js imports its parts from web/lib as native ES modules (no build step): every one
    is served as JavaScript and loads under the page's CSP."""
    loaded: list[Any] = []
    page.on("response", lambda response: loaded.append(response))
    page.goto(f"{low_limit.url}/")
    page.wait_for_load_state("networkidle")
    modules = {
        Path(r.url).name: r.headers.get("content-type", "") for r in loaded if "/lib/" in r.url
    }
    on_disk = {p.name for p in (Path(__file__).resolve().parents[2] / "web" / "lib").glob("*.js")}
    assert set(modules) == on_disk
    assert all(kind.startswith("text/javascript") for kind in modules.values()), modules
