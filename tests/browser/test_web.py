"""The web page in headless Chromium against the real local mode: uploads (API and direct), the
record, thumbnails, GIFs, versions, errors, keyboard use, a phone's viewport, accessibility, and
the page on another origin as AWS serves it."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from requests_toolbelt import MultipartEncoder

from imgsvc_local.resources import Names
from tests.browser.conftest import Service, chromium_missing, wait_until
from tests.support import imagegen

pytestmark = [
    pytest.mark.browser,
    pytest.mark.http,
    pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or ""),
]

API_LIMIT = 4_500_000
TIMES = "\N{MULTIPLICATION SIGN}"
EFFECTS = {"zoom", "spin", "hue"}
GIF_TIMEOUT = 180
ORIGINALS_BUCKET = Names().originals  # the local mode's default resource names

RECORD_JS = """() => Object.fromEntries([...document.querySelectorAll('#record > .record-row')]
    .map((row) => [row.querySelector('dt').textContent, row.querySelector('dd').textContent]))"""
METADATA_JS = """() => Object.fromEntries([...document.querySelectorAll('#record .metadata-item')]
    .map((item) => [item.querySelector('dt').textContent, item.querySelector('dd').textContent]))"""
# <progress> reflects .value into its value attribute: record every value the page shows.
TRACK_PROGRESS_JS = """() => {
  window.progressSeen = [];
  const bar = document.getElementById('progress');
  new MutationObserver(() => window.progressSeen.push(bar.value))
    .observe(bar, { attributes: true, attributeFilter: ['value'] });
}"""
# Each effect's <img> once all are ready and decoded; or what the page shows instead of a GIF
# or thumbnail it could not load (so a missing CDN fails at once, not at the timeout).
GIFS_RENDERED_JS = """(count) => {
  const items = [...document.querySelectorAll('#gifs > li.gif')];
  const broken = items.filter((li) => li.dataset.status === 'ready' && !li.querySelector('img'));
  if (broken.length) return { broken: broken.map((li) => li.textContent) };
  const loaded = items.filter((li) => {
    const img = li.querySelector('img');
    return li.dataset.status === 'ready' && img && img.complete && img.naturalWidth > 0;
  });
  return items.length === count && loaded.length === count
    ? { loaded: loaded.map((li) => [li.dataset.effect, li.querySelector('img').src]) } : null;
}"""
THUMBNAILS_JS = """() => {
  const thumb = document.getElementById('thumb');
  const versions = [...document.querySelectorAll('#versions .version-thumb')];
  const broken = [];
  if (thumb.hidden) broken.push(`#thumb: ${thumb.parentElement.textContent.trim()}`);
  for (const box of versions) {
    if (!box.querySelector('img')) broken.push(`version: ${box.textContent.trim()}`);
  }
  if (broken.length) return { broken };
  const images = [thumb, ...versions.map((box) => box.querySelector('img'))];
  return versions.length && images.every((img) => img.complete && img.naturalWidth > 0)
    ? { loaded: images.map((img) => [img.src, img.naturalWidth]) } : null;
}"""
NO_HORIZONTAL_SCROLL_JS = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  viewport: document.documentElement.clientWidth,
})"""


# --- helpers -------------------------------------------------------------------------------


def choose(page: Any, name: str, data: bytes, mime: str) -> None:
    page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])


def add_metadata(page: Any, key: str, value: str) -> None:
    page.get_by_role("button", name="Add metadata").click()
    page.locator("#meta-rows .meta-key").last.fill(key)
    page.locator("#meta-rows .meta-value").last.fill(value)


def wait_for_upload(page: Any, version: int, timeout: float = 120) -> dict[str, str]:
    """The record the page shows once it shows ``version``; fails on a shown error."""
    wait_until(
        page,
        """(version) => document.querySelector('#error.is-shown') ||
            [...document.querySelectorAll('#record dt')].some((dt) =>
              dt.textContent === 'Version' && dt.nextElementSibling.textContent === String(version))
            && document.querySelector('#upload-new').disabled === false""",
        version,
        timeout=timeout,
    )
    error = page.locator("#error.is-shown")
    assert error.count() == 0, error.inner_text()
    return dict(page.evaluate(RECORD_JS))


def api_record(service: Service, image_id: str) -> dict[str, Any]:
    response = requests.get(f"{service.url}/images/{image_id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def image_form(data: bytes, filename: str | None, **meta: str) -> MultipartEncoder:
    """A JPEG with its metadata as text parts, which carry any text (headers only ASCII)."""
    return MultipartEncoder(fields={"image": (filename, data, "image/jpeg"), **meta})


def api_create(service: Service, data: bytes, name: str, **meta: str) -> dict[str, Any]:
    form = image_form(data, name, **meta)
    response = requests.post(
        f"{service.url}/images",
        params={"name": name},
        data=form.to_string(),
        headers={"Content-Type": form.content_type},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def noise_png(side: int) -> bytes:
    """An incompressible PNG (about 3 * side**2 bytes): too large for the API path."""
    return imagegen.encode(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)), "PNG")


def wait_for_gifs(page: Any) -> dict[str, str]:
    """effect -> src of each GIF, once every effect is ready and its image decoded."""
    found = wait_until(page, GIFS_RENDERED_JS, len(EFFECTS), timeout=GIF_TIMEOUT)
    assert "broken" not in found, f"GIFs reported ready did not load: {found['broken']}"
    return dict(found["loaded"])


def wait_for_thumbnails(page: Any) -> list[tuple[str, int]]:
    """(src, natural width) of the thumbnail and each version's, once all are decoded."""
    found = wait_until(page, THUMBNAILS_JS)
    assert "broken" not in found, f"thumbnails did not load: {found['broken']}"
    return [(src, width) for src, width in found["loaded"]]


def progress_seen(page: Any) -> list[float]:
    return list(page.evaluate("() => window.progressSeen"))


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


# --- uploads, record, versions ---------------------------------------------------------------


def test_upload_shows_the_record_and_a_new_version_in_the_versions_list(
    service: Service, page: Any, artifacts: Path
) -> None:
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{service.url}/")
    assert page.title() == "Image service"
    shot(page, artifacts, "01-empty")

    photo = imagegen.jpeg(800, 600, seed=3)
    choose(page, "harbour.jpg", photo, "image/jpeg")
    assert "harbour.jpg" in page.inner_text("#file-chosen")
    add_metadata(page, "Author", "Ada")  # keys are lowercase, as the service stores them
    add_metadata(page, "caption", "Zoë at the café, 日本")  # not header-safe: sent as a form part
    shot(page, artifacts, "02-chosen")
    page.evaluate(TRACK_PROGRESS_JS)
    page.get_by_role("button", name="Upload as a new image").click()
    shown = wait_for_upload(page, 1)
    # The upload's message, or the GIFs' that follows it once they are ready (the local mode
    # runs the API in processes of its own now, and the GIFs can be done within a second).
    status = page.inner_text("#status")
    assert status.startswith(("Uploaded harbour.jpg: version 1", "harbour.jpg: All ")), status

    image_id = shown["Id"]
    stored = api_record(service, image_id)
    assert stored["sha256"] == sha256(photo)
    assert stored["size"] == len(photo)
    assert stored["metadata"] == {"author": "Ada", "caption": "Zoë at the café, 日本"}
    assert shown["Name"] == "harbour.jpg"
    assert shown["Dimensions"] == f"800 {TIMES} 600 pixels"
    assert shown["SHA-256"] == stored["sha256"]
    assert shown["Type"] == "JPEG (image/jpeg)"
    assert f"({len(photo):,} bytes)" in shown["Size"]
    assert page.evaluate(METADATA_JS) == stored["metadata"]
    assert page.locator("#record a").get_attribute("href") == stored["url"]
    assert page.evaluate("() => location.hash") == f"#{image_id}"
    assert max(progress_seen(page)) == 100
    post = [r for r in sent if r.method == "POST" and r.url.startswith(f"{service.url}/images?")]
    assert len(post) == 1
    assert post[0].headers["x-meta-author"] == "Ada"
    assert "x-meta-caption" not in post[0].headers
    assert post[0].headers["content-type"].startswith("multipart/form-data; boundary=")
    assert page.locator("#meta-rows .meta-row").count() == 0  # the form is ready for the next

    # A new version: raw body, metadata only in x-meta-* headers.
    second = imagegen.png(320, 240, seed=5)
    choose(page, "harbour-night.png", second, "image/png")
    add_metadata(page, "author", "Grace")
    page.get_by_role("button", name="Upload as version 2 of harbour.jpg").click()
    shown = wait_for_upload(page, 2)
    assert shown["Id"] == image_id
    assert shown["Type"] == "PNG (image/png)"
    assert shown["Dimensions"] == f"320 {TIMES} 240 pixels"
    put = [r for r in sent if r.method == "PUT"]
    assert [r.url for r in put] == [f"{service.url}/images/{image_id}?name=harbour-night.png"]
    assert put[0].headers["x-meta-author"] == "Grace"
    assert put[0].headers["content-type"] == "image/png"

    versions = page.locator("#versions > li")
    wait_until(page, "() => document.querySelectorAll('#versions > li').length === 2")
    assert versions.nth(0).locator("h4").inner_text() == "Version 2 latest"
    assert versions.nth(1).locator("h4").inner_text() == "Version 1"
    listed = requests.get(f"{service.url}/images/{image_id}/versions", timeout=30).json()
    for item, version, data in zip(
        (versions.nth(0), versions.nth(1)), listed["versions"], (second, photo), strict=True
    ):
        href = item.get_by_role("link").get_attribute("href")
        assert href == version["url"]
        assert sha256(requests.get(href, timeout=30).content) == sha256(data)
    assert "author: Grace" in versions.nth(0).inner_text()
    assert "caption: Zoë at the café, 日本" in versions.nth(1).inner_text()
    shot(page, artifacts, "03-two-versions")


def test_a_large_image_goes_straight_to_storage_with_progress(
    service: Service, page: Any, artifacts: Path
) -> None:
    big = noise_png(1300)
    assert len(big) > API_LIMIT
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{service.url}/")
    choose(page, "scan.png", big, "image/png")
    assert "goes straight to storage" in page.inner_text("#file-chosen")
    add_metadata(page, "source", "scanner")
    page.evaluate(TRACK_PROGRESS_JS)
    page.get_by_role("button", name="Upload as a new image").click()
    shown = wait_for_upload(page, 1, timeout=240)

    stored = api_record(service, shown["Id"])
    assert (stored["size"], stored["sha256"]) == (len(big), sha256(big))
    assert stored["metadata"] == {"source": "scanner"}
    assert shown["Dimensions"] == f"1,300 {TIMES} 1,300 pixels"
    posts = [r for r in sent if r.method == "POST"]
    assert posts[0].url == f"{service.url}/uploads"
    assert posts[0].post_data_json == {
        "name": "scan.png",
        "content_type": "image/png",
        "metadata": {"source": "scanner"},
    }
    # The file went to the presigned URL (storage), never through the API.
    assert len(posts) == 2
    assert not posts[1].url.startswith(service.url)
    assert any(r.url == f"{service.url}/uploads/{stored['id']}" for r in sent)
    seen = progress_seen(page)
    assert seen
    assert max(seen) == 100
    shot(page, artifacts, "04-direct-upload")


def stored_versions(service: Service) -> int:
    """How many image versions the originals bucket holds (every upload adds one)."""
    listed = service.local.s3().list_object_versions(Bucket=ORIGINALS_BUCKET)
    return len(listed.get("Versions", []))


def test_cancel_stops_an_upload_and_nothing_is_stored(service: Service, page: Any) -> None:
    before = stored_versions(service)
    # Slow the upload down (Chromium's own throttling) so that there is time to cancel: the
    # 0.75 MB photo takes about 19 s, far longer than the click can lag on a loaded machine (at
    # 200 kB/s, 4 s, a full `make test` once saw the whole body arrive before the cancel).
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 40_000},
    )
    page.goto(f"{service.url}/")
    photo = imagegen.jpeg(2000, 1500, seed=19, quality=95)
    choose(page, "slow.jpg", photo, "image/jpeg")
    page.evaluate(TRACK_PROGRESS_JS)
    page.get_by_role("button", name="Upload as a new image").click()
    wait_until(page, "() => window.progressSeen.some((v) => v > 0 && v < 100)", timeout=60)
    assert page.get_by_role("button", name="Upload as a new image").is_disabled()
    page.get_by_role("button", name="Cancel upload").click()
    wait_until(
        page,
        "() => document.getElementById('status').textContent === 'Upload of slow.jpg cancelled.'",
    )
    assert page.get_by_role("button", name="Upload as a new image").is_enabled()
    assert page.locator("#progress-row").is_hidden()
    assert page.locator("#image").is_hidden()
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.wait_for_timeout(1000)  # a request that had reached the service would be stored by now
    assert stored_versions(service) == before
    assert "slow.jpg" in page.inner_text("#file-chosen")  # still chosen: upload again at will


# --- thumbnails and GIFs -----------------------------------------------------------------------


def test_thumbnails_and_every_gif_render(service: Service, page: Any, artifacts: Path) -> None:
    page.goto(f"{service.url}/")
    choose(page, "meadow.jpg", imagegen.jpeg(640, 480, seed=7), "image/jpeg")
    page.get_by_role("button", name="Upload as a new image").click()
    image_id = wait_for_upload(page, 1)["Id"]

    rendered = wait_for_gifs(page)
    state = requests.get(f"{service.url}/images/{image_id}/gifs", timeout=30).json()
    assert set(rendered) == set(state["effects"]) == EFFECTS
    for effect, src in rendered.items():
        assert src == state["effects"][effect]["url"]
    assert page.inner_text("#gifs-note") == "All 3 GIFs are ready."
    for effect in EFFECTS:
        alt = page.locator(f'#gifs li[data-effect="{effect}"] img').get_attribute("alt")
        assert alt == f"{effect.capitalize()} effect of meadow.jpg, animated"

    thumbs = wait_for_thumbnails(page)
    assert [src for src, _ in thumbs] == [
        f"{service.url}/resize/256x256/{image_id}?v=1",
        f"{service.url}/cdn/r/{image_id}/1/256x256",
    ]
    assert all(0 < width <= 256 for _, width in thumbs)
    shot(page, artifacts, "05-gifs-ready")


def test_a_failed_effect_is_shown_as_failed_and_polling_stops(
    service: Service, page: Any, artifacts: Path
) -> None:
    """The local mode makes every effect it can, so the answer of the real API is changed on
    the way to the page: one effect reported failed, as a consumer's failure marker makes it."""
    record = api_create(service, imagegen.jpeg(320, 240, seed=9), "pier.jpg")
    polls: list[str] = []

    def one_failed(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["effects"]["spin"] = {"status": "failed"}
        polls.append(route.request.url)
        route.fulfill(response=response, json=body)

    page.route(f"{service.url}/images/{record['id']}/gifs", one_failed)
    page.goto(f"{service.url}/#{record['id']}")
    wait_until(
        page,
        "() => document.getElementById('gifs-note').textContent.includes('ready;')",
        timeout=GIF_TIMEOUT,
    )
    assert page.inner_text("#gifs-note") == "2 of 3 GIFs are ready; 1 could not be made."
    failed = page.locator('#gifs li[data-effect="spin"]')
    assert failed.get_attribute("data-status") == "failed"
    assert "Could not be made" in failed.inner_text()
    assert "Failed" in failed.inner_text()
    assert failed.locator("img").count() == 0
    settled = len(polls)
    page.wait_for_timeout(1500)  # longer than the first waits of the backoff
    assert len(polls) == settled  # nothing pending: polling has stopped
    shot(page, artifacts, "06-gif-failed")


# --- errors --------------------------------------------------------------------------------------


def test_errors_are_shown_in_plain_words_with_the_code_quietly(
    service: Service, page: Any, artifacts: Path
) -> None:
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{service.url}/")

    # Not an image type: refused before anything is sent.
    choose(page, "notes.txt", b"shopping list", "text/plain")
    assert page.inner_text("#error-message") == (
        "“notes.txt” (text/plain) is not an image the service accepts. "
        "Choose a JPEG, PNG, GIF or WebP file."
    )
    assert page.inner_text("#file-chosen") == ""

    # Bytes that only claim to be a JPEG: the service's own verdict, word for word.
    fake = b"this is not really a JPEG\n" * 40
    choose(page, "fake.jpg", fake, "image/jpeg")
    assert page.locator("#error.is-shown").count() == 0
    page.get_by_role("button", name="Upload as a new image").click()
    page.wait_for_selector("#error.is-shown")
    verdict = requests.post(
        f"{service.url}/images",
        params={"name": "fake.jpg"},
        data=fake,
        headers={"Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert verdict.status_code == 415
    error = verdict.json()["error"]
    assert page.inner_text("#error-message") == f"Upload failed: {error['message']}"
    assert page.inner_text("#error-code") == f"code: {error['code']} · HTTP 415"
    sizes = page.evaluate(
        """() => ['#error-message', '#error-code'].map((s) =>
            parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"""
    )
    assert sizes[1] < sizes[0]  # the code is there, but quietly
    assert page.locator("#image").is_hidden()  # nothing was stored, nothing is shown
    assert not [r for r in sent if r.method == "POST" and "notes.txt" in r.url]
    shot(page, artifacts, "07-error")

    # A metadata key the service would refuse: the field is marked and focused.
    choose(page, "ok.jpg", imagegen.jpeg(64, 48), "image/jpeg")
    add_metadata(page, "bad key!", "x")
    page.get_by_role("button", name="Upload as a new image").click()
    assert "“bad key!” is not a usable key" in page.inner_text("#error-message")
    key = page.locator("#meta-rows .meta-key").last
    assert key.get_attribute("aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.classList.contains('meta-key')")

    # Opening: not an id (checked here), an unknown id (the service's 404).
    page.get_by_label("Image id").fill("not-an-id")
    page.get_by_role("button", name="Open").click()
    assert page.inner_text("#error-message").startswith("“not-an-id” is not an image id.")
    unknown = str(uuid.uuid4())
    page.get_by_label("Image id").fill(unknown)
    page.get_by_role("button", name="Open").click()
    expected = requests.get(f"{service.url}/images/{unknown}", timeout=30)
    assert expected.status_code == 404
    message = f"Could not open the image: {expected.json()['error']['message']}"
    wait_until(page, "(m) => document.getElementById('error-message').textContent === m", message)
    assert page.inner_text("#error-code").endswith("HTTP 404")


# --- keyboard, phone, accessibility ---------------------------------------------------------------


def tab_to(page: Any, selector: str, limit: int = 40) -> int:
    """Press Tab until ``selector`` has focus; returns how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} never got focus with Tab")


def test_keyboard_only_upload(service: Service, page: Any, artifacts: Path) -> None:
    # Intercept file choosers from the start: Playwright turns interception on when the first
    # listener is added, and a chooser opened before that never reaches the test.
    page.on("filechooser", lambda chooser: None)
    page.goto(f"{service.url}/")
    assert page.locator("#dropzone").get_attribute("for") == "file"  # the zone is its label
    assert tab_to(page, ".skip-link") == 1
    tab_to(page, "#file")
    outline = page.evaluate(
        """() => { const s = getComputedStyle(document.getElementById('dropzone'));
                   return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
    )
    assert outline[0] == "solid"  # the drop zone shows where focus is
    assert outline[1] >= 2
    page.screenshot(path=str(artifacts / "08-keyboard-focus.png"))
    photo = imagegen.jpeg(480, 360, seed=11)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(files=[{"name": "keys.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    assert "keys.jpg" in page.inner_text("#file-chosen")

    tab_to(page, "#meta-add")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.classList.contains('meta-key')")
    page.keyboard.type("author")
    page.keyboard.press("Tab")
    page.keyboard.type("Kay")
    tab_to(page, "#upload-new")
    page.keyboard.press("Enter")
    shown = wait_for_upload(page, 1)
    assert api_record(service, shown["Id"])["metadata"] == {"author": "Kay"}
    assert page.evaluate("() => document.activeElement.id") == "image-heading"


def test_drop_zone_takes_a_dropped_image(service: Service, page: Any) -> None:
    page.goto(f"{service.url}/")
    drop = """([name, type, bytes]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
      document.getElementById('dropzone').dispatchEvent(
        new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }"""
    page.evaluate(drop, ["dropped.gif", "image/gif", list(imagegen.gif(48, 32, frames=2))])
    assert "dropped.gif · GIF" in page.inner_text("#file-chosen")
    assert page.locator("#file-preview").is_visible()
    page.get_by_role("button", name="Upload as a new image").click()
    shown = wait_for_upload(page, 1)
    assert shown["Type"] == "GIF (image/gif)"
    page.evaluate(drop, ["notes.pdf", "application/pdf", list(b"%PDF-1.4")])
    assert "is not an image the service accepts" in page.inner_text("#error-message")


@pytest.fixture(scope="module")
def two_versions(service: Service) -> dict[str, Any]:
    """An image with two versions and long metadata, made through the API."""
    first = api_create(
        service,
        imagegen.jpeg(1200, 800, seed=13),
        "a-very-long-file-name-from-a-camera-roll-IMG_20261122_143200_HDR_final.jpg",
        description="A long description without spaces " + "x" * 120,
        place="Tromsø",
    )
    form = image_form(imagegen.jpeg(600, 900, seed=14), None, place="Bodø")  # keeps the name
    response = requests.put(
        f"{service.url}/images/{first['id']}",
        data=form.to_string(),
        headers={"Content-Type": form.content_type},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def open_image(page: Any, service: Service, record: dict[str, Any]) -> None:
    page.goto(f"{service.url}/#{record['id']}")
    wait_for_upload(page, record["version"])
    wait_until(page, "() => document.querySelectorAll('#versions > li').length === 2")
    wait_until(page, "() => document.querySelectorAll('#gifs > li').length === 3")


def test_phone_viewport_has_no_horizontal_scroll(
    service: Service, page: Any, artifacts: Path, two_versions: dict[str, Any]
) -> None:
    page.set_viewport_size({"width": 375, "height": 667})
    open_image(page, service, two_versions)
    page.get_by_role("button", name="Add metadata").click()
    page.get_by_label("Image id").fill("x" * 200)
    page.get_by_role("button", name="Open").click()  # a long error message must wrap too
    page.wait_for_selector("#error.is-shown")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        size = page.evaluate(NO_HORIZONTAL_SCROLL_JS)
        assert size["scrollWidth"] <= size["viewport"] == 375, (scheme, size)
        shot(page, artifacts, f"09-phone-{scheme}")


A11Y_AUDIT_JS = """() => {
  const problems = [];
  const visible = (el) => el.getClientRects().length > 0 || el.classList.contains('file-input');
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(visible);
  if (headings.filter((h) => h.tagName === 'H1').length !== 1) problems.push('not one h1');
  let level = 0;
  for (const h of headings) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(`heading jumps to ${h.tagName}: ${h.textContent}`);
    level = next;
  }
  for (const control of document.querySelectorAll('input, button, select, textarea, summary')) {
    if (!visible(control)) continue;
    const labelled = (control.labels && [...control.labels].some((l) => l.textContent.trim()))
      || control.getAttribute('aria-label') || control.getAttribute('aria-labelledby')
      || (['BUTTON', 'SUMMARY'].includes(control.tagName) && control.textContent.trim());
    if (!labelled) problems.push(`no label: ${control.outerHTML.slice(0, 80)}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`no alt: ${img.src}`);
    else if (img.closest('#image') && !img.alt.trim()) problems.push(`empty alt: ${img.src}`);
  }
  const status = document.getElementById('status');
  if (status.getAttribute('role') !== 'status' || status.getAttribute('aria-live') !== 'polite')
    problems.push('no polite live region');
  if (document.getElementById('error').getAttribute('role') !== 'alert') problems.push('no alert');
  for (const region of document.querySelectorAll('[role=status], [role=alert], [aria-live]')) {
    // A live region must be in the accessibility tree before it changes to be read out.
    if (getComputedStyle(region).display === 'none' && !region.closest('[hidden]'))
      problems.push(`live region not rendered: #${region.id}`);
  }
  if (!document.documentElement.lang) problems.push('no lang');
  return problems;
}"""

# WCAG 2 contrast of every visible text against the background it is drawn on.
CONTRAST_AUDIT_JS = """async () => {
  // Colours change with transitions after a scheme switch: measure where they end.
  await Promise.all(document.getAnimations()
    .filter((a) => a instanceof CSSTransition).map((a) => a.finished));
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.body).backgroundColor);
  };
  const problems = [];
  for (const el of document.querySelectorAll('body *')) {
    const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!hasText || el.getClientRects().length === 0) continue;
    if (el.closest('[disabled], .skip-link, template')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    const fg = parse(style.color);
    const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      problems.push(`${ratio.toFixed(2)} ${el.tagName}.${el.className}: ${el.textContent.trim()}`);
  }
  return problems;
}"""


def test_labels_headings_alt_text_live_regions_and_contrast(
    service: Service, page: Any, two_versions: dict[str, Any]
) -> None:
    open_image(page, service, two_versions)
    page.get_by_role("button", name="Add metadata").click()
    page.locator("summary").click()  # the API key field
    page.get_by_label("Image id").fill("nope")
    page.get_by_role("button", name="Open").click()  # show the error box too
    page.wait_for_selector("#error.is-shown")
    assert page.evaluate(A11Y_AUDIT_JS) == []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate(CONTRAST_AUDIT_JS) == [], scheme


# --- the page on another origin, as in AWS -------------------------------------------------


def test_the_page_works_from_another_origin_like_the_cdn(
    service: Service, page: Any, artifacts: Path
) -> None:
    page.goto(f"{service.site_url}/")
    big = noise_png(1300)  # straight to storage: the presigned POST is cross-origin too
    choose(page, "remote-scan.png", big, "image/png")
    page.get_by_role("button", name="Upload as a new image").click()
    scan_id = wait_for_upload(page, 1, timeout=240)["Id"]
    assert api_record(service, scan_id)["sha256"] == sha256(big)

    photo = imagegen.jpeg(500, 400, seed=17)
    choose(page, "remote.jpg", photo, "image/jpeg")
    page.get_by_role("button", name="Upload as a new image").click()
    wait_until(page, "() => document.getElementById('image-heading').textContent === 'remote.jpg'")
    shown = wait_for_upload(page, 1)
    assert api_record(service, shown["Id"])["sha256"] == sha256(photo)
    choose(page, "remote-2.jpg", imagegen.jpeg(300, 400, seed=18), "image/jpeg")
    page.get_by_role("button", name="Upload as version 2 of remote.jpg").click()
    wait_for_upload(page, 2)
    wait_until(page, "() => document.querySelectorAll('#versions > li').length === 2")

    wait_for_gifs(page)
    assert len(wait_for_thumbnails(page)) == 3  # the latest, and both versions
    shot(page, artifacts, "10-other-origin")


def test_metadata_headers_pass_the_cors_preflight(service: Service, page: Any) -> None:
    page.goto(f"{service.site_url}/")
    choose(page, "tagged.jpg", imagegen.jpeg(200, 150), "image/jpeg")
    add_metadata(page, "author", "Ada")
    page.get_by_role("button", name="Upload as a new image").click()
    shown = wait_for_upload(page, 1, timeout=60)
    assert api_record(service, shown["Id"])["metadata"] == {"author": "Ada"}
