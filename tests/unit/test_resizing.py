"""The resizing use case over moto with real Pillow: find the version, make-or-get the
rendition, store it once with its headers; bad input stores nothing."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from moto.s3.responses import S3Response
from PIL import Image

from imgsvc import aws, config, keys, renditions, resizing, service, storage, wiring
from imgsvc.errors import BadRequest, NotFound, UnprocessableImage
from imgsvc.image_requests import ImageUpload
from imgsvc.records import ImageVersion
from tests.support import imagegen

CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
OLD_BROWSER_ACCEPT = "image/png,image/*;q=0.8,*/*;q=0.5"


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    return wiring.deps()


@pytest.fixture
def store(deps: service.Deps) -> storage.RenditionStore:
    return deps.renditions


def create(deps: service.Deps, data: bytes, name: str = "a.jpg") -> ImageVersion:
    return service.create_image(deps, ImageUpload(data=data, name=name))


def rendition_keys(deps: service.Deps, image_id: str = "") -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=deps.config.renditions_bucket, Prefix=f"r/{image_id}")
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def origin(
    deps: service.Deps,
    store: storage.RenditionStore,
    image_id: str,
    version: int,
    size: str,
    fmt: str,
) -> storage.StoredRendition:
    request = resizing.parse_origin_path(f"/r/{image_id}/{version}/{size}/{fmt}", deps.config)
    return resizing.origin_rendition(replace(deps, renditions=store), request)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def corrupt_version(deps: service.Deps, record: ImageVersion) -> ImageVersion:
    """A new version whose stored bytes are not an image (as if S3 held garbage)."""
    garbage = b"\xff\xd8\xff\xe0" + b"not a jpeg at all " * 64
    digest = hashlib.sha256(garbage).hexdigest()
    s3_version = deps.originals.put(
        record.key, garbage, content_type="image/jpeg", image_id=record.id, sha256=digest
    )
    bad = replace(
        record,
        version=record.version + 1,
        s3_version_id=s3_version,
        sha256=digest,
        size=len(garbage),
    )
    deps.repository.put_version(bad)
    return bad


# --- the CDN origin path -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256x", (256, 192)),
        ("x128", (171, 128)),
        ("200x200", (200, 150)),
        ("200x200-cover", (200, 200)),
        ("1024x1024", (640, 480)),  # never upscaled
    ],
)
def test_each_size_form_gives_its_dimensions(
    deps: service.Deps, store: storage.RenditionStore, size: str, expected: tuple[int, int]
) -> None:
    record = create(deps, imagegen.jpeg(640, 480, seed=4))
    stored = origin(deps, store, record.id, 1, size, "original")
    assert stored.content_type == "image/jpeg"
    assert decode(stored.data).size == expected
    assert rendition_keys(deps, record.id) == [f"r/{record.id}/1/{size}/original"]


def test_a_made_rendition_is_stored_with_its_serving_headers_and_read_back_unchanged(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    record = create(deps, imagegen.jpeg(640, 480, seed=5))
    made = origin(deps, store, record.id, 1, "256x", "webp")
    key = keys.rendition_key(record.id, 1, "256x", "webp")
    head = aws.s3().head_object(Bucket=deps.config.renditions_bucket, Key=key)
    assert head["ContentType"] == "image/webp" == made.content_type
    assert head["CacheControl"] == "public, max-age=1209600" == made.cache_control
    assert head["ETag"] == made.etag
    assert decode(made.data).format == "WEBP"
    again = origin(deps, store, record.id, 1, "256x", "webp")
    assert again == made


def test_the_max_age_is_configurable(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.RENDITION_MAX_AGE, "60")
    config.load.cache_clear()
    wiring.deps.cache_clear()
    deps = wiring.deps()
    store = deps.renditions
    record = create(deps, imagegen.jpeg(64, 64))
    assert origin(deps, store, record.id, 1, "64x", "original").cache_control == (
        "public, max-age=60"
    )


def test_exif_rotated_jpegs_come_out_upright(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    # Stored 640x480, Orientation 6: shown 480x640 (portrait).
    record = create(deps, imagegen.jpeg_with_orientation(640, 480, 6, seed=6))
    image = decode(origin(deps, store, record.id, 1, "256x256", "original").data)
    assert image.size == (192, 256)
    assert image.getexif().get(imagegen.EXIF_ORIENTATION) is None  # no second rotation


@pytest.mark.parametrize(("fmt", "pillow_format"), [("original", "PNG"), ("webp", "WEBP")])
def test_alpha_is_kept(
    deps: service.Deps, store: storage.RenditionStore, fmt: str, pillow_format: str
) -> None:
    record = create(deps, imagegen.png(320, 240, alpha=True), name="logo.png")
    image = decode(origin(deps, store, record.id, 1, "128x", fmt).data)
    assert image.format == pillow_format
    assert image.mode in ("RGBA", "LA")
    low, high = image.getchannel("A").getextrema()  # type: ignore[misc]
    assert low < 64
    assert high > 192


def test_a_version_keeps_its_own_rendition_after_an_update(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    first = create(deps, imagegen.jpeg(640, 480, seed=1))
    old = origin(deps, store, first.id, 1, "200x200", "original")
    service.update_image(deps, first.id, ImageUpload(data=imagegen.png(300, 600, seed=2)))
    assert resizing.ensure_latest(deps, first.id, "200x200", None) == (f"/r/{first.id}/2/200x200")
    new = origin(deps, store, first.id, 2, "200x200", "original")
    assert (new.content_type, decode(new.data).size) == ("image/png", (100, 200))
    assert origin(deps, store, first.id, 1, "200x200", "original") == old
    assert decode(old.data).size == (200, 150)


def test_the_original_is_read_from_the_replica_when_the_main_copy_expired(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    data = imagegen.jpeg(300, 200, seed=9)
    record = create(deps, data)
    replica = aws.s3(deps.config.replica_region)
    replica.put_object(
        Bucket=deps.config.replica_bucket,
        Key=record.key,
        Body=data,
        Metadata={"sha256": record.sha256},
    )
    deps.originals.delete_version(record.key, record.s3_version_id)
    stored = origin(deps, store, record.id, 1, "100x", "original")
    assert decode(stored.data).size == (100, 67)


def test_bytes_gone_everywhere_is_404_and_nothing_is_stored(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    deps.originals.delete_version(record.key, record.s3_version_id)
    with pytest.raises(NotFound) as raised:
        origin(deps, store, record.id, 1, "64x", "original")
    assert raised.value.code == "content_not_found"
    assert rendition_keys(deps) == []


def test_an_original_that_cannot_be_decoded_is_422_and_nothing_is_stored(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    record = create(deps, imagegen.jpeg(64, 64))
    bad = corrupt_version(deps, record)
    with pytest.raises(UnprocessableImage) as raised:
        origin(deps, store, record.id, bad.version, "64x", "webp")
    assert raised.value.code == "corrupt_image"
    with pytest.raises(UnprocessableImage):
        resizing.ensure_latest(deps, record.id, "64x", CHROME_ACCEPT)
    assert rendition_keys(deps) == []


@pytest.mark.parametrize(
    ("version", "prepare", "code"),
    [
        (1, None, "image_not_found"),  # unknown id
        (2, "create", "version_not_found"),
        (1, "delete", "image_not_found"),
    ],
)
def test_unknown_or_deleted_images_and_versions_are_404(
    deps: service.Deps,
    store: storage.RenditionStore,
    version: int,
    prepare: str | None,
    code: str,
) -> None:
    image_id = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    if prepare:
        image_id = create(deps, imagegen.jpeg(64, 64)).id
    if prepare == "delete":
        service.delete_image(deps, image_id)
    with pytest.raises(NotFound) as raised:
        origin(deps, store, image_id, version, "64x", "original")
    assert raised.value.code == code
    if prepare != "create":
        with pytest.raises(NotFound):
            resizing.ensure_latest(deps, image_id, "64x", None)
    assert rendition_keys(deps) == []


# --- path validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "error", "code"),
    [
        ("/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/1/256x", NotFound, "not_found"),
        ("/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/1/256x/webp/x", NotFound, "not_found"),
        ("/gifs/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/1/256x/webp", NotFound, "not_found"),
        ("/r/3F2B8C1E-5D4A-4E6F-9A7B-0C1D2E3F4A5B/1/256x/webp", BadRequest, "invalid_id"),
        ("/r/not-an-id/1/256x/webp", BadRequest, "invalid_id"),
        ("/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/0/256x/webp", BadRequest, "invalid_version"),
        ("/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/v1/256x/webp", BadRequest, "invalid_version"),
        ("/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/1/300x/webp", BadRequest, "invalid_size"),
        ("/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/1/256x/gif", BadRequest, "invalid_format"),
    ],
)
def test_origin_paths_are_validated_before_any_lookup(
    deps: service.Deps, path: str, error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as raised:
        resizing.parse_origin_path(path, deps.config)
    assert getattr(raised.value, "code", None) == code


def test_an_unlisted_size_names_the_allowed_sides(deps: service.Deps) -> None:
    with pytest.raises(BadRequest) as raised:
        resizing.parse_origin_path(
            "/r/3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b/1/300x/webp", deps.config
        )
    allowed = ", ".join(str(side) for side in deps.config.rendition_sides)
    assert allowed in raised.value.message


def test_every_spelling_of_a_size_has_one_canonical_path(deps: service.Deps) -> None:
    image_id = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    request = resizing.parse_origin_path(f"/r/{image_id}/01/0256X0200-Cover/webp", deps.config)
    assert request.path == f"/r/{image_id}/1/256x200-cover/webp"
    assert request.key == request.path[1:]


# --- /resize: the latest version, format from Accept --------------------------------------------


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [(CHROME_ACCEPT, "webp"), (OLD_BROWSER_ACCEPT, "original"), (None, "original")],
)
def test_ensure_latest_makes_the_negotiated_format_once(
    deps: service.Deps, store: storage.RenditionStore, accept: str | None, fmt: str
) -> None:
    record = create(deps, imagegen.jpeg(640, 480, seed=3))
    path = resizing.ensure_latest(deps, record.id, "0256x", accept)
    assert path == f"/r/{record.id}/1/256x"
    assert rendition_keys(deps, record.id) == [f"r/{record.id}/1/256x/{fmt}"]
    key = f"r/{record.id}/1/256x/{fmt}"
    first = aws.s3().head_object(Bucket=deps.config.renditions_bucket, Key=key)
    assert resizing.ensure_latest(deps, record.id, "256x", accept) == path
    second = aws.s3().head_object(Bucket=deps.config.renditions_bucket, Key=key)
    assert second["LastModified"] == first["LastModified"]  # found, not made again


def test_ensure_latest_checks_the_input_before_looking_anything_up(
    deps: service.Deps, store: storage.RenditionStore
) -> None:
    with pytest.raises(BadRequest) as raised:
        resizing.ensure_latest(deps, "../etc", "256x", None)
    assert raised.value.code == "invalid_id"
    with pytest.raises(BadRequest) as raised:
        resizing.ensure_latest(deps, "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", "9x9", None)
    assert raised.value.code == "invalid_size"


# --- one result for concurrent first requests ----------------------------------------------------


@pytest.fixture
def atomic_conditional_puts(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 applies ``If-None-Match: *`` atomically; moto checks, then writes, in plain Python, so
    two threads could both pass the check. One put at a time gives moto S3's guarantee."""
    lock = threading.Lock()
    put_object: Callable[..., Any] = S3Response.put_object

    def serialised(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return put_object(self, *args, **kwargs)

    monkeypatch.setattr(S3Response, "put_object", serialised)


@pytest.fixture
def versioned_renditions(deps: service.Deps) -> str:
    """Versioning on the renditions bucket, so every successful write leaves a version."""
    bucket = deps.config.renditions_bucket
    aws.s3().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def test_concurrent_first_requests_get_identical_bytes_and_one_stored_version(
    deps: service.Deps,
    store: storage.RenditionStore,
    atomic_conditional_puts: None,
    versioned_renditions: str,
) -> None:
    record = create(deps, imagegen.jpeg(1200, 900, seed=11))
    barrier = threading.Barrier(8)

    def first_request(_: int) -> storage.StoredRendition:
        barrier.wait()
        return origin(deps, store, record.id, 1, "400x", "webp")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(first_request, range(8)))
    assert len({result.data for result in results}) == 1
    assert len({result.etag for result in results}) == 1
    listed = aws.s3().list_object_versions(Bucket=versioned_renditions, Prefix=f"r/{record.id}/")
    assert len(listed.get("Versions", [])) == 1
    stored = aws.s3().get_object(Bucket=versioned_renditions, Key=f"r/{record.id}/1/400x/webp")
    assert stored["Body"].read() == results[0].data


def put_new(
    store: storage.RenditionStore, key: str, rendition: renditions.Rendition
) -> storage.StoredRendition:
    return store.put_new(
        key,
        rendition.data,
        content_type=rendition.content_type,
        width=rendition.width,
        height=rendition.height,
    )


def test_a_later_writer_never_replaces_the_stored_rendition_and_answers_with_it(
    deps: service.Deps, store: storage.RenditionStore, versioned_renditions: str
) -> None:
    key = keys.rendition_key("3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", 1, "64x", "original")
    first_bytes = imagegen.encode(imagegen.photo(64, 48, seed=1), "PNG")
    first = put_new(store, key, renditions.Rendition(first_bytes, "image/png", 64, 48))
    other = renditions.Rendition(
        imagegen.encode(imagegen.photo(64, 48, seed=2), "PNG"), "image/png", 64, 48
    )
    assert other.data != first_bytes
    answer = put_new(store, key, other)
    assert answer == first
    listed = aws.s3().list_object_versions(Bucket=versioned_renditions, Prefix=key)
    assert len(listed["Versions"]) == 1
