"""On-the-fly resizing over real HTTP against the local mode: ``/resize`` redirects, the local
CDN (``/cdn/r/...``: the edge function's Accept rule, S3, failover to the resize function),
GIFs through the CDN, and the CloudFront Function's JS against the same Accept rule."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import boto3
import pytest
import requests
from PIL import Image

from imgsvc import renditions
from imgsvc.repository import Repository
from imgsvc_local import cdn, resources
from tests.http.conftest import REPO, LocalMode
from tests.http.support import assert_error, create, update
from tests.support import imagegen

http = pytest.mark.http

NAMES = resources.Names()
UNKNOWN_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
SAFARI_15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
OLD_BROWSER = "image/png,image/*;q=0.8,*/*;q=0.5"
ALLOWED = "64, 100, 128, 200, 256, 400, 512, 800, 1024, 1600, 2048"
LONG_MAX_AGE = "public, max-age=1209600"


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def resize(api: str, size: str, image_id: str, accept: str | None = CHROME) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    return requests.get(
        f"{api}/resize/{size}/{image_id}", headers=headers, allow_redirects=False, timeout=60
    )


def cdn_get(url: str, accept: str | None = CHROME, method: str = "GET") -> requests.Response:
    headers = {"Accept": accept} if accept else {"Accept": ""}
    return requests.request(method, url, headers=headers, allow_redirects=False, timeout=60)


def stored(local_mode: LocalMode, key: str) -> dict[str, Any] | None:
    try:
        return local_mode.s3().get_object(Bucket=NAMES.renditions, Key=key)  # type: ignore[no-any-return]
    except local_mode.s3().exceptions.NoSuchKey:
        return None


def rendition_keys(local_mode: LocalMode, image_id: str) -> list[str]:
    listed = local_mode.s3().list_objects_v2(Bucket=NAMES.renditions, Prefix=f"r/{image_id}/")
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


# --- /resize and the CDN path ------------------------------------------------------------------


@http
@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256x", (256, 192)),
        ("x100", (133, 100)),
        ("200x200", (200, 150)),
        ("128x128-cover", (128, 128)),
        ("2048x2048", (640, 480)),
    ],
)
def test_resize_redirects_to_the_cdn_which_serves_each_size_form(
    api: str, size: str, expected: tuple[int, int]
) -> None:
    record = create(api, imagegen.jpeg(640, 480, seed=21))
    response = resize(api, size, record["id"])
    assert response.status_code == 302, response.text
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    canonical = renditions.parse_size(size, [int(s) for s in ALLOWED.split(", ")]).canonical
    assert location == f"{api}/cdn/r/{record['id']}/1/{canonical}"
    image = cdn_get(location)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/webp"
    assert decode(image.content).size == expected


@http
def test_the_first_cdn_request_fails_over_to_the_resize_function_and_later_ones_hit_s3(
    api: str, local_mode: LocalMode
) -> None:
    record = create(api, imagegen.jpeg(800, 600, seed=22))
    url = f"{api}/cdn/r/{record['id']}/1/400x"
    assert rendition_keys(local_mode, record["id"]) == []
    first = cdn_get(url)
    assert first.status_code == 200, first.text
    for response in (first, cdn_get(url)):
        assert response.headers["Content-Type"] == "image/webp"
        assert response.headers["Cache-Control"] == LONG_MAX_AGE  # on the first request too
        assert response.headers["Vary"] == "Accept"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.raw.headers.getlist("Date")) == 1  # a singleton field (RFC 9110)
    second = cdn_get(url)
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert rendition_keys(local_mode, record["id"]) == [f"r/{record['id']}/1/400x/webp"]
    object_ = stored(local_mode, f"r/{record['id']}/1/400x/webp")
    assert object_ is not None
    assert object_["CacheControl"] == LONG_MAX_AGE
    assert object_["Body"].read() == first.content
    revalidated = requests.get(
        url, headers={"Accept": CHROME, "If-None-Match": first.headers["ETag"]}, timeout=30
    )
    assert revalidated.status_code == 304
    head = cdn_get(url, method="HEAD")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Type"] == "image/webp"


@http
def test_head_has_the_length_of_the_get_on_a_miss_and_on_a_hit(api: str) -> None:
    """The first HEAD fails over to the resize function, the second is served from S3."""
    record = create(api, imagegen.jpeg(800, 600, seed=23))
    url = f"{api}/cdn/r/{record['id']}/1/256x256"
    miss, hit = cdn_get(url, method="HEAD"), cdn_get(url, method="HEAD")
    get = cdn_get(url)
    assert get.status_code == 200, get.text
    for head in (miss, hit):
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["Content-Length"] == str(len(get.content))
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert head.headers["ETag"] == get.headers["ETag"]


@http
@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (CHROME, "image/webp"),
        (SAFARI_15, "image/webp"),
        ("image/webp;q=0", "image/jpeg"),
        (OLD_BROWSER, "image/jpeg"),
        ("*/*", "image/jpeg"),
        (None, "image/jpeg"),
    ],
)
def test_the_cdn_negotiates_the_format_from_accept(
    api: str, local_mode: LocalMode, accept: str | None, content_type: str
) -> None:
    record = create(api, imagegen.jpeg(320, 240, seed=23))
    response = cdn_get(f"{api}/cdn/r/{record['id']}/1/128x", accept)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Vary"] == "Accept"
    fmt = "webp" if content_type == "image/webp" else "original"
    assert rendition_keys(local_mode, record["id"]) == [f"r/{record['id']}/1/128x/{fmt}"]
    explicit = cdn_get(f"{api}/cdn/r/{record['id']}/1/128x/{fmt}", OLD_BROWSER)
    assert explicit.content == response.content  # a path naming its format keeps it


@http
def test_exif_rotated_jpegs_are_served_upright(api: str) -> None:
    # Stored 600x400 with Orientation 8 (rotate 90 counter-clockwise): shown 400x600.
    record = create(api, imagegen.jpeg_with_orientation(600, 400, 8, seed=24))
    location = resize(api, "200x200", record["id"], OLD_BROWSER).headers["Location"]
    image = decode(cdn_get(location, OLD_BROWSER).content)
    assert (image.format, image.size) == ("JPEG", (133, 200))
    assert image.getexif().get(imagegen.EXIF_ORIENTATION) is None


@http
@pytest.mark.parametrize(("accept", "pillow_format"), [(CHROME, "WEBP"), (OLD_BROWSER, "PNG")])
def test_transparency_survives_resizing(api: str, accept: str, pillow_format: str) -> None:
    record = create(api, imagegen.png(400, 300, alpha=True), name="logo.png")
    image = decode(cdn_get(f"{api}/cdn/r/{record['id']}/1/200x", accept).content)
    assert (image.format, image.size) == (pillow_format, (200, 150))
    low, high = image.getchannel("A").getextrema()  # type: ignore[misc]
    assert low < 64
    assert high > 192


@http
def test_an_update_gets_new_renditions_and_the_old_version_keeps_its_own(api: str) -> None:
    record = create(api, imagegen.jpeg(640, 480, seed=25))
    old_url = resize(api, "200x200", record["id"]).headers["Location"]
    old = cdn_get(old_url)
    assert decode(old.content).size == (200, 150)
    update(api, record["id"], imagegen.png(300, 600, seed=26), "image/png")
    new_url = resize(api, "200x200", record["id"]).headers["Location"]
    assert new_url == f"{api}/cdn/r/{record['id']}/2/200x200"
    assert decode(cdn_get(new_url).content).size == (100, 200)
    again = cdn_get(old_url)
    assert again.content == old.content


# --- errors ------------------------------------------------------------------------------------


@http
def test_unlisted_sizes_are_400_listing_the_allowed_sides(api: str) -> None:
    record = create(api, imagegen.jpeg(64, 64))
    for response in (
        resize(api, "300x300", record["id"]),
        cdn_get(f"{api}/cdn/r/{record['id']}/1/300x300"),
    ):
        error = assert_error(response, 400, "invalid_size")
        assert ALLOWED in error["message"]
        assert response.headers["Cache-Control"] == "public, max-age=5"


@http
def test_unknown_and_deleted_images_are_404(api: str, local_mode: LocalMode) -> None:
    record = create(api, imagegen.jpeg(64, 64))
    assert requests.delete(f"{api}/images/{record['id']}", timeout=30).status_code == 204
    for image_id in (UNKNOWN_ID, record["id"]):
        for response in (
            resize(api, "64x", image_id),
            cdn_get(f"{api}/cdn/r/{image_id}/1/64x"),
        ):
            assert_error(response, 404, "image_not_found")
            assert response.headers["Cache-Control"] == "public, max-age=5"
        assert rendition_keys(local_mode, image_id) == []


@http
def test_paths_that_are_not_renditions_are_404_at_the_edge(api: str) -> None:
    for path in (
        "/cdn/r/",
        f"/cdn/r/{UNKNOWN_ID}/0/64x",
        f"/cdn/r/{UNKNOWN_ID.upper()}/1/64x",
        f"/cdn/r/{UNKNOWN_ID}/1/64x/gif",
        f"/cdn/r/{UNKNOWN_ID}/1/64x/webp/extra",
        f"/cdn/r/{UNKNOWN_ID}/1/{'1' * 33}",
    ):
        response = cdn_get(api + path)
        assert_error(response, 404, "not_found")
    assert_error(cdn_get(f"{api}/cdn/elsewhere"), 404, "not_found")
    refused = requests.post(f"{api}/cdn/r/{UNKNOWN_ID}/1/64x", timeout=30)
    assert_error(refused, 405, "method_not_allowed")


def corrupt_latest(local_mode: LocalMode, image_id: str) -> int:
    """Store garbage as a new S3 version of the original and commit a record pointing at it,
    as if the stored bytes had been damaged; returns the new version number."""
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    dynamodb = boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url=local_mode.moto_url, **credentials
    )
    repository = Repository(dynamodb, NAMES.table)
    latest = repository.latest(image_id)
    assert latest is not None
    assert not hasattr(latest, "deleted_at")
    garbage = b"\x89PNG\r\n\x1a\n" + b"\x00damaged" * 100
    digest = hashlib.sha256(garbage).hexdigest()
    put = local_mode.s3().put_object(
        Bucket=NAMES.originals,
        Key=f"originals/{image_id}",
        Body=garbage,
        ContentType="image/png",
        Metadata={"image-id": image_id, "sha256": digest},
    )
    version = latest.version + 1
    repository.put_version(
        replace(  # type: ignore[type-var]
            latest,
            version=version,
            s3_version_id=put["VersionId"],
            sha256=digest,
            size=len(garbage),
            content_type="image/png",
        )
    )
    return version


@http
def test_an_original_that_cannot_be_decoded_is_422_with_nothing_cached_or_stored(
    api: str, local_mode: LocalMode
) -> None:
    record = create(api, imagegen.jpeg(64, 64))
    version = corrupt_latest(local_mode, record["id"])
    for response in (
        cdn_get(f"{api}/cdn/r/{record['id']}/{version}/64x"),
        resize(api, "64x", record["id"]),
    ):
        error = assert_error(response, 422, "corrupt_image")
        assert "Upload it again" in error["message"]
        assert response.headers["Cache-Control"] == "no-store"
    assert rendition_keys(local_mode, record["id"]) == []
    good = cdn_get(f"{api}/cdn/r/{record['id']}/1/64x")  # version 1 is still fine
    assert good.status_code == 200


@http
def test_concurrent_first_requests_get_one_consistent_rendition(
    api: str, local_mode: LocalMode
) -> None:
    record = create(api, imagegen.jpeg(1600, 1200, seed=27))
    url = f"{api}/cdn/r/{record['id']}/1/512x"
    barrier = threading.Barrier(8)

    def first(_: int) -> requests.Response:
        barrier.wait()
        return cdn_get(url)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(first, range(8)))
    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1
    assert len({response.headers["ETag"] for response in responses}) == 1
    assert rendition_keys(local_mode, record["id"]) == [f"r/{record['id']}/1/512x/webp"]
    object_ = stored(local_mode, f"r/{record['id']}/1/512x/webp")
    assert object_ is not None
    assert object_["Body"].read() == responses[0].content


# --- GIFs through the CDN ----------------------------------------------------------------------


@http
def test_gifs_are_served_from_the_renditions_bucket_or_404(api: str, local_mode: LocalMode) -> None:
    record = create(api, imagegen.jpeg(64, 64))
    key = f"gifs/{record['id']}/1/local-test.gif"
    missing = cdn_get(f"{api}/cdn/{key}")
    assert_error(missing, 404, "gif_not_found")
    assert missing.headers["Cache-Control"] == "public, max-age=5"
    data = imagegen.gif(40, 30, frames=3)
    local_mode.s3().put_object(
        Bucket=NAMES.renditions,
        Key=key,
        Body=data,
        ContentType="image/gif",
        CacheControl="public, max-age=31536000, immutable",
    )
    found = cdn_get(f"{api}/cdn/{key}")
    assert found.status_code == 200
    assert found.content == data
    assert found.headers["Content-Type"] == "image/gif"
    assert found.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert_error(cdn_get(f"{api}/cdn/gifs/{record['id']}/1/../../x.gif"), 404)


# --- one Accept rule: the CloudFront Function (JS) and the local CDN (Python) ------------------

FUNCTION_JS = REPO / "modules" / "cdn" / "functions" / "rendition-format.js"
BASE_URI = f"/r/{UNKNOWN_ID}/3/400x300"
# Runs the function file the way Terraform renders it, in a fresh VM context like CloudFront's.
NODE_RUNNER = """
const fs = require("node:fs");
const vm = require("node:vm");
const [file, avif] = process.argv.slice(1);
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const context = vm.createContext({});
vm.runInContext(fs.readFileSync(file, "utf8").replace("${avif_enabled}", avif), context);
const out = cases.map(([uri, accept]) => {
  const headers = accept === null ? {} : { accept: { value: accept } };
  const result = context.handler({ request: { method: "GET", uri, querystring: {}, headers } });
  return result.statusCode ? null : result.uri;
});
process.stdout.write(JSON.stringify(out));
"""
ACCEPT_TABLE: list[str | None] = [
    None,
    "",
    CHROME,
    FIREFOX,
    SAFARI_15,
    OLD_BROWSER,
    "*/*",
    "image/*",
    "image/webp",
    "image/avif",
    "Image/WebP; q=0.5",
    "image/webpx",
    "image/webp;q=0",
    "image/webp; q=0.0, image/avif; q=0",
    "image/webp;q=0.001",
    "image/avif;q=0.5,image/webp;q=0.9",
    "image/avif;q=0.9,image/webp;q=0.5",
    "image/avif;q=0.5,image/webp;q=0.5",
    "image/webp;q=abc",
    "image/webp;q=",
    "image/webp;q=1.5",
    "image/webp;q=-1",
    "image/webp;q=Infinity",
    "image/webp;q=0.5x",
    "image/webp;q=0, image/webp",
    "image/webp, image/webp;q=0",
    "image/webp;level=1",
    "image/webp;q=0.5000",
    "image/webp;q=1.000",
    "image/webp;q=1.0001",
    "image/webp;q=.5",
    "image/webp; Q=0.7, image/avif;q=0.7",
]
URI_TABLE = [
    BASE_URI,
    f"{BASE_URI}/original",
    f"{BASE_URI}/webp",
    f"{BASE_URI}/avif",
    f"{BASE_URI}/gif",
    f"{BASE_URI}/webp/extra",
    "/r/",
    f"/r/{UNKNOWN_ID}/3",
    f"/r/{UNKNOWN_ID}/0/400x300",
    f"/r/{UNKNOWN_ID.upper()}/3/400x300",
    f"/r/{UNKNOWN_ID[:14]}c{UNKNOWN_ID[15:]}/3/400x300",  # a UUID, but not version 4
    f"/r/{UNKNOWN_ID[:19]}7{UNKNOWN_ID[20:]}/3/400x300",  # not the RFC 4122 variant
    f"/r/{UNKNOWN_ID}/3/{'x' * 33}",
    f"/r/{UNKNOWN_ID}/1234567890/400x300",
    "/r/../originals/x",
]


def run_function(cases: list[tuple[str, str | None]], avif_enabled: bool) -> list[str | None]:
    done = subprocess.run(
        ["node", "-e", NODE_RUNNER, str(FUNCTION_JS), "true" if avif_enabled else "false"],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not FUNCTION_JS.is_file(),
    reason="needs node and modules/cdn/functions/rendition-format.js",
)


@needs_node
@pytest.mark.parametrize("avif_enabled", [False, True])
def test_the_cloudfront_function_and_the_local_cdn_agree_on_every_path(
    avif_enabled: bool,
) -> None:
    cases = [(uri, CHROME) for uri in URI_TABLE]
    expected = [cdn.viewer_request(uri, CHROME, avif_enabled=avif_enabled) for uri, _ in cases]
    assert run_function(cases, avif_enabled) == expected


def _accept_cases() -> list[Any]:
    return [
        pytest.param(avif_enabled, accept)
        for avif_enabled in (False, True)
        for accept in ACCEPT_TABLE
    ]


@needs_node
@pytest.mark.skipif(not renditions.avif_supported(), reason="negotiate needs Pillow with AVIF")
@pytest.mark.parametrize(("avif_enabled", "accept"), _accept_cases())
def test_the_cloudfront_function_negotiates_like_the_local_cdn(
    avif_enabled: bool, accept: str | None
) -> None:
    expected = cdn.viewer_request(BASE_URI, accept, avif_enabled=avif_enabled)
    assert run_function([(BASE_URI, accept)], avif_enabled) == [expected]
