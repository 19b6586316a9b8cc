"""The image API over real HTTP against the local mode: every route and status code."""

from __future__ import annotations

import hashlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests_toolbelt import MultipartEncoder

from imgsvc.config import DEFAULT_MAX_BODY_BYTES
from imgsvc.errors import error_body
from imgsvc_local import gateway
from tests.http.conftest import REPO, LocalMode
from tests.http.support import (
    assert_error,
    content_sha256,
    create,
    send_raw,
    snapshot,
    update,
)
from tests.support import costly, imagegen
from tests.support.pngbytes import png_with_short_pixel_data

pytestmark = pytest.mark.http

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_health(api: str) -> None:
    response = requests.get(f"{api}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_create_returns_the_record_and_the_exact_bytes(api: str) -> None:
    data = imagegen.jpeg(640, 480, seed=3)
    response = requests.post(
        f"{api}/images?name=holiday.jpg",
        data=data,
        headers={"Content-Type": "image/jpeg", "x-meta-author": "Ann", "X-Meta-Category": "sea"},
        timeout=30,
    )
    assert response.status_code == 201
    record = response.json()
    assert response.headers["Location"] == f"/images/{record['id']}"
    assert record["version"] == 1
    assert record["name"] == "holiday.jpg"
    assert (record["content_type"], record["width"], record["height"]) == ("image/jpeg", 640, 480)
    assert record["size"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["metadata"] == {"author": "Ann", "category": "sea"}
    assert RFC3339_UTC.match(record["created_at"])
    downloaded = requests.get(record["url"], timeout=30)
    assert downloaded.status_code == 200
    assert downloaded.content == data
    assert downloaded.headers["Content-Type"] == "image/jpeg"


def test_create_from_a_multipart_form(api: str) -> None:
    data = imagegen.png(200, 100, alpha=True)
    form = MultipartEncoder(
        fields={"image": ("dir/logo.png", data, "image/png"), "author": "Bo", "licence": "cc-by"}
    )
    response = requests.post(
        f"{api}/images", data=form, headers={"Content-Type": form.content_type}, timeout=30
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["name"] == "logo.png"
    assert record["content_type"] == "image/png"
    assert record["metadata"] == {"author": "Bo", "licence": "cc-by"}
    assert content_sha256(api, record["id"]) == hashlib.sha256(data).hexdigest()


def test_type_is_sniffed_not_taken_from_the_header(api: str) -> None:
    data = imagegen.png(50, 40)
    record = create(api, data, name="really-a-png.jpg")  # sent as image/jpeg
    assert record["content_type"] == "image/png"


def test_updates_make_versions_and_every_version_stays_readable(api: str) -> None:
    first_bytes, second_bytes = imagegen.jpeg(320, 240, seed=1), imagegen.webp(200, 150, seed=2)
    first = create(api, first_bytes, name="a.jpg", **{"x-meta-author": "Ann"})
    image_id = first["id"]
    second = update(api, image_id, second_bytes, "image/webp")
    assert second["version"] == 2
    assert second["id"] == image_id
    assert second["name"] == "a.jpg"
    assert second["metadata"] == {"author": "Ann"}
    assert second["content_type"] == "image/webp"

    assert requests.get(f"{api}/images/{image_id}", timeout=10).json() == second
    listing = requests.get(f"{api}/images/{image_id}/versions", timeout=10).json()
    assert listing == {"id": image_id, "versions": [second, first]}
    assert requests.get(f"{api}/images/{image_id}/versions/1", timeout=10).json() == first
    assert content_sha256(api, image_id) == hashlib.sha256(second_bytes).hexdigest()
    assert content_sha256(api, image_id, 1) == hashlib.sha256(first_bytes).hexdigest()
    redirect = requests.get(f"{api}/images/{image_id}/content", allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith("http://127.0.0.1:")


def test_parallel_updates_each_get_a_distinct_version_with_their_own_bytes(api: str) -> None:
    image_id = create(api, imagegen.jpeg(64, 64, seed=100))["id"]
    bodies = [imagegen.jpeg(64, 64, seed=200 + i) for i in range(8)]

    def put(data: bytes) -> requests.Response:
        return requests.put(
            f"{api}/images/{image_id}",
            data=data,
            headers={"Content-Type": "image/jpeg"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(put, bodies))

    ok = [r.json() for r in responses if r.status_code == 200]
    for r in responses:
        if r.status_code != 200:
            assert_error(r, 409)
    versions = [record["version"] for record in ok]
    assert len(versions) == len(set(versions)), f"two responses share a version: {versions}"
    assert len(ok) >= 1
    for record in ok:  # every committed version returns the bytes its client sent
        assert content_sha256(api, image_id, record["version"]) == record["sha256"]
        assert record["sha256"] in {hashlib.sha256(b).hexdigest() for b in bodies}
    listing = requests.get(f"{api}/images/{image_id}/versions", timeout=10).json()["versions"]
    assert sorted(r["version"] for r in listing) == list(range(1, len(ok) + 2))


def test_delete_hides_the_image_but_keeps_its_bytes(api: str, local_mode: LocalMode) -> None:
    data = imagegen.jpeg(100, 80, seed=9)
    record = create(api, data)
    image_id = record["id"]
    assert requests.delete(f"{api}/images/{image_id}", timeout=10).status_code == 204
    for response in (
        requests.get(f"{api}/images/{image_id}", timeout=10),
        requests.get(f"{api}/images/{image_id}/versions", timeout=10),
        requests.get(f"{api}/images/{image_id}/versions/1", timeout=10),
        requests.get(f"{api}/images/{image_id}/content", timeout=10),
        requests.put(
            f"{api}/images/{image_id}",
            data=data,
            headers={"Content-Type": "image/jpeg"},
            timeout=10,
        ),
        requests.delete(f"{api}/images/{image_id}", timeout=10),
    ):
        assert_error(response, 404, "image_not_found")
    s3 = local_mode.s3()
    versions = s3.list_object_versions(
        Bucket="imgsvc-local-originals", Prefix=f"originals/{image_id}"
    )
    assert versions["DeleteMarkers"], "delete must add a marker, not destroy versions"
    stored = s3.get_object(
        Bucket="imgsvc-local-originals",
        Key=f"originals/{image_id}",
        VersionId=versions["Versions"][0]["VersionId"],
    )
    assert stored["Body"].read() == data


def test_old_version_is_served_from_the_replica_after_main_expiry(
    api: str, local_mode: LocalMode
) -> None:
    old = imagegen.jpeg(120, 90, seed=11)
    record = create(api, old)
    image_id, key = record["id"], f"originals/{record['id']}"
    update(api, image_id, imagegen.jpeg(120, 90, seed=12), "image/jpeg")
    replica = local_mode.s3("eu-west-1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # replication is asynchronous, as in AWS
        listed = replica.list_object_versions(Bucket="imgsvc-local-replica", Prefix=key)
        if len(listed.get("Versions", [])) >= 2:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the replica never received both versions")
    main = local_mode.s3()
    for version in main.list_object_versions(Bucket="imgsvc-local-originals", Prefix=key)[
        "Versions"
    ]:
        if not version["IsLatest"]:  # what noncurrent-version expiry removes after 6 days
            main.delete_object(
                Bucket="imgsvc-local-originals", Key=key, VersionId=version["VersionId"]
            )
    redirect = requests.get(
        f"{api}/images/{image_id}/content?version=1", allow_redirects=False, timeout=10
    )
    assert redirect.status_code == 302
    assert "imgsvc-local-replica" in redirect.headers["Location"]
    assert content_sha256(api, image_id, 1) == hashlib.sha256(old).hexdigest()


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/images/not-a-uuid", 400, "invalid_id"),
        ("/images/..%2F..%2Fetc", 400, "invalid_id"),
        ("/images/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", 404, "image_not_found"),
        ("/images/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/versions", 404, "image_not_found"),
        ("/images/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/content", 404, "image_not_found"),
        ("/no/such/route", 404, gateway.MISSING_ROUTE_CODE),
    ],
)
def test_reads_of_bad_or_unknown_ids(api: str, path: str, status: int, code: str) -> None:
    assert_error(requests.get(f"{api}{path}", timeout=10), status, code)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize(
    ("image_id", "status", "code"),
    [
        ("not-a-uuid", 400, "invalid_id"),
        ("3F2B8C1E-5D4A-4E6F-9A7B-0C1D2E3F4A5B", 400, "invalid_id"),
        ("3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", 404, "image_not_found"),
    ],
    ids=["malformed", "uppercase", "unknown"],
)
def test_writes_to_bad_or_unknown_ids_leave_other_images_alone(
    api: str, method: str, image_id: str, status: int, code: str
) -> None:
    neighbour = create(api, imagegen.jpeg(40, 30, seed=7))["id"]
    before = snapshot(api, neighbour)
    response = requests.request(
        method,
        f"{api}/images/{image_id}",
        data=imagegen.jpeg(20, 20) if method == "PUT" else None,
        headers={"Content-Type": "image/jpeg"} if method == "PUT" else {},
        timeout=30,
    )
    assert_error(response, status, code)
    assert snapshot(api, neighbour) == before
    assert_error(requests.get(f"{api}/images/{image_id}", timeout=10), status, code)


def test_unknown_and_malformed_versions(api: str) -> None:
    image_id = create(api, imagegen.jpeg(32, 32))["id"]
    assert_error(requests.get(f"{api}/images/{image_id}/versions/5", timeout=10), 404)
    assert_error(requests.get(f"{api}/images/{image_id}/versions/0", timeout=10), 400)
    assert_error(requests.get(f"{api}/images/{image_id}/versions/x", timeout=10), 400)
    assert_error(requests.get(f"{api}/images/{image_id}/content?version=9", timeout=10), 404)
    assert_error(requests.get(f"{api}/images/{image_id}/content?version=-1", timeout=10), 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/images"), ("DELETE", "/health"), ("POST", "/images/{id}/versions")],
)
def test_a_method_the_path_lacks_gets_api_gateways_missing_route_answer(
    api: str, method: str, path: str
) -> None:
    """API Gateway has no 405: a method a path lacks gets its missing-route response, as a
    path it lacks does (MISSING_AUTHENTICATION_TOKEN, worded by modules/api)."""
    image_id = create(api, imagegen.jpeg(16, 16))["id"]
    response = requests.request(method, api + path.format(id=image_id), timeout=10)
    error = assert_error(response, 404, gateway.MISSING_ROUTE_CODE)
    assert error["message"] == gateway.MISSING_ROUTE_MESSAGE
    assert "Allow" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Proto": "javascript"},
        {"Host": "evil.example/x?", "X-Forwarded-Proto": "javascript"},
    ],
    ids=["host", "forwarded-proto", "both"],
)
def test_urls_in_answers_are_the_apis_whatever_the_request_says(
    api: str, headers: dict[str, str]
) -> None:
    created = create(api, imagegen.jpeg(16, 16), **headers)
    assert created["url"].startswith(f"{api}/images/{created['id']}/"), created["url"]
    read = requests.get(f"{api}/images/{created['id']}", headers=headers, timeout=10).json()
    assert read["url"].startswith(f"{api}/images/"), read["url"]


@pytest.mark.parametrize(
    "path", ["/health", "/images", "/images/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", "/no/such/route"]
)
def test_head_gets_api_gateways_answer_for_a_method_the_api_lacks(api: str, path: str) -> None:
    """openapi.yaml has no HEAD methods and API Gateway makes none from GET: it answers a HEAD
    with its missing-route response (modules/api's wording), headers only."""
    expected = json.dumps(error_body(gateway.MISSING_ROUTE_CODE, gateway.MISSING_ROUTE_MESSAGE))
    assert json.dumps(gateway.MISSING_ROUTE_MESSAGE) in (REPO / "modules/api/main.tf").read_text()
    head = requests.head(f"{api}{path}", timeout=10)
    assert (head.status_code, head.content) == (404, b"")
    assert head.headers["Content-Type"] == "application/json"
    assert head.headers["Content-Length"] == str(len(expected))


BAD_BODIES = {
    "not-an-image": (b"just some text, not pixels", "image/png", 415, "not_an_image"),
    "bmp": (imagegen.encode(imagegen.photo(20, 20), "BMP"), "image/bmp", 415, None),
    "text-content-type": (imagegen.jpeg(20, 20), "text/plain", 415, None),
    # requests sends no Content-Type for None: API Gateway would not pass the bytes as binary.
    "no-content-type": (imagegen.jpeg(20, 20), None, 415, "missing_content_type"),
    "truncated-jpeg": (imagegen.truncated(imagegen.jpeg(400, 300)), "image/jpeg", 422, None),
    # Ends cleanly after 100 of 240 rows, IEND intact: Pillow alone decodes it with black rows.
    "png-short-pixel-data": (
        png_with_short_pixel_data(imagegen.png(320, 240), rows=100),
        "image/png",
        422,
        "corrupt_image",
    ),
    "empty": (b"", "image/jpeg", 400, "empty_body"),
    "png-40000x40000": (imagegen.png_declaring(40000, 40000), "image/png", 422, "too_many_pixels"),
    "png-15000x10000": (imagegen.png_declaring(15000, 10000), "image/png", 422, "too_many_pixels"),
    # A 10x10 screen hiding a 20000x20000 frame (Pillow's own bomb check) and one of 9000x9000.
    "gif-frame-bomb": (
        imagegen.gif_with_frames((10, 10), [(10, 10), (20000, 20000)]),
        "image/gif",
        422,
        "too_many_pixels",
    ),
    "gif-frame-over-limit": (
        imagegen.gif_with_frames((10, 10), [(10, 10), (9000, 9000)]),
        "image/gif",
        422,
        "too_many_pixels",
    ),
    # Small files that would cost far more to decode than their size (imgsvc/imaging/limits.py).
    "jpeg-scan-bomb": (costly.jpeg_scan_bomb(3000), "image/jpeg", 422, "too_many_scans"),
    "png-tiny-chunks": (costly.png_of_tiny_chunks(200_000), "image/png", 422, "too_many_chunks"),
    # Over the function's 4.5 MB, and the answer names the service's limit. Larger bodies never
    # reach the function: tests/http/test_size_bands.py.
    "5-MB": (b"\xff\xd8\xff" + b"\x00" * (4_600_000), "image/jpeg", 413, "payload_too_large"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_update_is_refused_and_the_stored_image_is_unchanged(api: str, case: str) -> None:
    data, content_type, status, code = BAD_BODIES[case]
    image_id = create(api, imagegen.jpeg(80, 60, seed=5))["id"]
    before = snapshot(api, image_id)
    response = requests.put(
        f"{api}/images/{image_id}", data=data, headers={"Content-Type": content_type}, timeout=60
    )
    error = assert_error(response, status, code)
    if status == 413:
        assert "/uploads" in error["message"]
        assert f"at most {DEFAULT_MAX_BODY_BYTES:,}" in error["message"]  # the service's limit
    assert snapshot(api, image_id) == before


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_create_is_refused(api: str, case: str) -> None:
    data, content_type, status, code = BAD_BODIES[case]
    neighbour = create(api, imagegen.jpeg(40, 30, seed=6))["id"]
    before = snapshot(api, neighbour)
    response = requests.post(
        f"{api}/images?name=x.jpg", data=data, headers={"Content-Type": content_type}, timeout=60
    )
    assert_error(response, status, code)
    assert snapshot(api, neighbour) == before


@pytest.mark.parametrize(
    ("params", "headers", "code"),
    [
        ({"name": "a" * 252 + ".jpg"}, {}, "invalid_name"),
        ({"name": ["a.jpg", "b.jpg"]}, {}, "invalid_name"),
        ({"name": "a.jpg"}, {"x-meta-bad!key": "v"}, "invalid_metadata"),
        ({"name": "a.jpg"}, {"x-meta-_a": "v"}, "invalid_metadata"),
        ({"name": "a.jpg"}, {"x-meta-note": "x" * 2000}, "invalid_metadata"),
    ],
)
def test_malformed_creates_are_400(
    api: str, params: dict[str, str | list[str]], headers: dict[str, str], code: str
) -> None:
    response = requests.post(
        f"{api}/images",
        params=params,
        data=imagegen.jpeg(30, 30),
        headers={"Content-Type": "image/jpeg", **headers},
        timeout=30,
    )
    assert_error(response, 400, code)


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("", "image.jpg"),  # no name: a default one, as for a name with nothing usable left
        ("?name=..%2F..", "image.jpg"),
        ("?name=%00%1F", "image.jpg"),
        ("?name=" + "a" * 251 + ".jpg", "a" * 251 + ".jpg"),  # 255: kept whole
        ("?name=%FF%FE.jpg", "\ufffd\ufffd.jpg"),  # not UTF-8: U+FFFD, never the escapes
        ("?name=%C3%A9t%C3%A9.jpg", "\u00e9t\u00e9.jpg"),
    ],
    ids=["none", "path-only", "control-only", "255", "undecodable", "utf-8"],
)
def test_names_as_stored(api: str, query: str, stored: str) -> None:
    response = requests.post(
        f"{api}/images{query}",
        data=imagegen.jpeg(16, 16),
        headers={"Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == stored


def test_a_name_over_255_characters_is_refused_and_nothing_is_stored(api: str) -> None:
    image_id = create(api, imagegen.jpeg(16, 16), name="kept.jpg")["id"]
    before = snapshot(api, image_id)
    response = requests.put(
        f"{api}/images/{image_id}",
        params={"name": "n" * 256},
        data=imagegen.jpeg(16, 16, seed=3),
        headers={"Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert "256 characters" in assert_error(response, 400, "invalid_name")["message"]
    assert snapshot(api, image_id) == before


@pytest.mark.parametrize(
    ("value", "stored"),
    [("   ", ""), ("  spaced  ", "spaced"), ("caf\u00e9 \U0001f468\u200d\U0001f469", None)],
    ids=["only-spaces", "spaces-around", "zwj-emoji"],
)
def test_metadata_values_as_stored(api: str, value: str, stored: str | None) -> None:
    form = MultipartEncoder(
        fields={"note": value, "image": ("a.jpg", imagegen.jpeg(16, 16), "image/jpeg")}
    )
    response = requests.post(
        f"{api}/images", data=form, headers={"Content-Type": form.content_type}, timeout=30
    )
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == {"note": value if stored is None else stored}


@pytest.mark.parametrize("value", ["a\tb", "line\nbreak", "bell\x07"], ids=["tab", "lf", "bel"])
def test_a_control_character_in_a_value_is_refused_as_such(api: str, value: str) -> None:
    form = MultipartEncoder(
        fields={"note": value, "image": ("a.jpg", imagegen.jpeg(16, 16), "image/jpeg")}
    )
    response = requests.post(
        f"{api}/images", data=form, headers={"Content-Type": form.content_type}, timeout=30
    )
    message = assert_error(response, 400, "invalid_metadata")["message"]
    control = next(ch for ch in value if not ch.isprintable())
    assert f"control character U+{ord(control):04X}" in message
    assert "at most" not in message  # not a length problem


@pytest.mark.parametrize(
    "header", [("x-meta-", "empty key"), ("x-meta-_a", "starts with '_'")], ids=["empty", "_a"]
)
def test_bad_metadata_on_update_keeps_the_image(api: str, header: tuple[str, str]) -> None:
    image_id = create(api, imagegen.jpeg(30, 30), **{"x-meta-author": "Ann"})["id"]
    before = snapshot(api, image_id)
    response = requests.put(
        f"{api}/images/{image_id}",
        data=imagegen.jpeg(30, 30, seed=2),
        headers={"Content-Type": "image/jpeg", header[0]: header[1]},
        timeout=30,
    )
    assert_error(response, 400, "invalid_metadata")
    assert snapshot(api, image_id) == before


def test_metadata_header_names_with_underscores_are_kept(api: str) -> None:
    """API Gateway passes ``x-meta-my_key`` on; a WSGI server's environ drops such names."""
    record = create(api, imagegen.jpeg(30, 30), **{"x-meta-my_key": "v", "x-meta-other": "w"})
    assert record["metadata"] == {"my_key": "v", "other": "w"}
    assert requests.get(f"{api}/images/{record['id']}", timeout=10).json() == record


def test_path_in_the_name_is_removed(api: str) -> None:
    neighbour = create(api, imagegen.jpeg(30, 30))["id"]
    before = snapshot(api, neighbour)
    record = create(api, imagegen.jpeg(30, 30, seed=4), name="../../etc/passwd.jpg")
    assert record["name"] == "passwd.jpg"
    assert snapshot(api, neighbour) == before


def test_non_ascii_metadata_headers_are_refused_and_nothing_is_stored(api: str) -> None:
    """curl -H 'X-Meta-Author: é' sends UTF-8 bytes; a header has no charset, so they would be
    stored as "Ã©". The answer points to form fields, which carry UTF-8 text."""
    image_id = create(api, imagegen.jpeg(30, 30), **{"x-meta-author": "Ann"})["id"]
    before = snapshot(api, image_id)
    lines = [("Content-Type", "image/jpeg"), ("X-Meta-Author", "é".encode())]
    data = imagegen.jpeg(30, 30, seed=2)
    for method, target in (("POST", "/images?name=x.jpg"), ("PUT", f"/images/{image_id}")):
        error = assert_error(send_raw(api, method, target, lines, data), 400, "invalid_metadata")
        assert "multipart/form-data" in error["message"]
    assert snapshot(api, image_id) == before
    form = MultipartEncoder(fields={"image": ("x.jpg", data, "image/jpeg"), "author": "é"})
    response = requests.put(
        f"{api}/images/{image_id}",
        data=form.to_string(),
        headers={"Content-Type": form.content_type},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == {"author": "é"}


@pytest.mark.parametrize("second", ["x-meta-a", "X-Meta-A"])
def test_a_metadata_header_sent_twice_is_refused_not_merged(api: str, second: str) -> None:
    image_id = create(api, imagegen.jpeg(30, 30), **{"x-meta-a": "0"})["id"]
    before = snapshot(api, image_id)
    lines = [("Content-Type", "image/jpeg"), ("x-meta-a", "1"), (second, "2")]
    data = imagegen.jpeg(30, 30, seed=2)
    for method, target in (("POST", "/images?name=x.jpg"), ("PUT", f"/images/{image_id}")):
        error = assert_error(send_raw(api, method, target, lines, data), 400, "invalid_metadata")
        assert "given twice" in error["message"]
    assert snapshot(api, image_id) == before
