"""GIF effects of image versions over moto: which version an event means, making each GIF once,
recording failures, and the status GET /images/<id>/gifs reports."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from imgsvc import aws, config, effects, gifs, keys, service, storage, wiring
from imgsvc.errors import BadRequest, NotFound, UnprocessableImage
from imgsvc.handlers import bodies
from imgsvc.image_requests import ImageUpload
from imgsvc.records import ImageVersion, parse_rfc3339, rfc3339
from tests.support import imagegen


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    found = wiring.deps()
    return replace(found, config=replace(found.config, cdn_base_url="https://cdn.example.com"))


@pytest.fixture
def store(deps: service.Deps) -> storage.GifStore:
    return deps.gifs


def create(deps: service.Deps, data: bytes | None = None) -> ImageVersion:
    upload = ImageUpload(data if data is not None else imagegen.jpeg(96, 64), name="a.jpg")
    return service.create_image(deps, upload)


def status_body(deps: service.Deps, image_id: str) -> dict[str, Any]:
    """What GET /images/<id>/gifs answers."""
    return bodies.gifs_body(gifs.status(deps, image_id), deps.config.cdn_base_url)


def stored(store: storage.GifStore, key: str) -> dict[str, Any]:
    return dict(store.client.get_object(Bucket=store.bucket, Key=key))


def test_effects_default_to_all_and_unknown_names_are_refused() -> None:
    assert gifs.configured_effects(config.Config()) == tuple(effects.EFFECTS)
    assert len(gifs.configured_effects(config.Config())) >= 3
    assert gifs.configured_effects(config.Config(gif_effects=("hue",))) == ("hue",)
    with pytest.raises(ValueError, match="sparkle"):
        gifs.configured_effects(config.Config(gif_effects=("zoom", "sparkle")))


# --- finding the version ---------------------------------------------------------------------


def test_an_event_finds_its_version_by_s3_version_id(deps: service.Deps) -> None:
    first = create(deps)
    second = service.update_image(deps, first.id, ImageUpload(imagegen.png(20, 10)))
    assert gifs.find_version(deps, first.id, first.s3_version_id) == first
    assert gifs.find_version(deps, first.id, second.s3_version_id) == second


def put_uncommitted(deps: service.Deps, image_id: str) -> str:
    """An S3 version written by a create whose record is not (or never) committed."""
    data = imagegen.jpeg(32, 32)
    return deps.originals.put(
        keys.original_key(image_id),
        data,
        content_type="image/jpeg",
        image_id=image_id,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_an_s3_version_without_a_record_yet_is_retried(deps: service.Deps) -> None:
    image_id = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
    s3_version = put_uncommitted(deps, image_id)
    with pytest.raises(gifs.NotCommittedYet):
        gifs.find_version(deps, image_id, s3_version)


def test_a_write_abandoned_before_its_commit_is_dropped_once_no_writer_can_be_alive(
    deps: service.Deps, store: storage.GifStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A writer that timed out between the S3 put and the commit never undid its put."""
    first = create(deps)
    s3_version = put_uncommitted(deps, first.id)
    found = deps.originals.stored_version(first.key, s3_version)
    assert found is not None
    stored_at = found.last_modified

    def at(delay: timedelta) -> service.Deps:
        return replace(deps, clock=lambda: rfc3339(stored_at + delay))

    with pytest.raises(gifs.NotCommittedYet):  # a slow commit may still land: retry
        gifs.find_version(at(timedelta(minutes=14)), first.id, s3_version)
    late = at(gifs.ABANDONED_AFTER + timedelta(seconds=1))
    assert gifs.find_version(late, first.id, s3_version) is None
    assert gifs.handle_original(late, "zoom", first.key, s3_version) == "dropped"
    assert store.found(first.id, 1) == {}
    assert service.latest(deps, first.id) == first  # the committed version is untouched
    # The warning says how old the write is, in seconds, days included (a DLQ redrive is late).
    caplog.clear()
    assert gifs.find_version(at(timedelta(days=2, seconds=5)), first.id, s3_version) is None
    (warning,) = [r for r in caplog.records if "abandoned" in r.getMessage()]
    assert warning.age_s == 2 * 86400 + 5  # type: ignore[attr-defined]


def test_an_undone_write_is_dropped(deps: service.Deps, store: storage.GifStore) -> None:
    first = create(deps)
    s3_version = put_uncommitted(deps, first.id)  # an update whose commit failed...
    deps.originals.delete_version(first.key, s3_version)  # ...and was undone (service._undo)
    assert gifs.find_version(deps, first.id, s3_version) is None
    assert gifs.handle_original(deps, "zoom", first.key, s3_version) == "dropped"
    assert store.found(first.id, 1) == {}


def test_a_deleted_image_gets_no_gifs(deps: service.Deps, store: storage.GifStore) -> None:
    first = create(deps)
    service.delete_image(deps, first.id)
    assert gifs.find_version(deps, first.id, first.s3_version_id) is None
    outcome = gifs.handle_original(deps, "zoom", first.key, first.s3_version_id)
    assert outcome == "dropped"
    assert store.found(first.id, 1) == {}


@pytest.mark.parametrize("made", [True, False], ids=["gif", "failure-marker"])
def test_an_image_deleted_while_its_gif_is_made_keeps_no_gif(
    deps: service.Deps, store: storage.GifStore, monkeypatch: pytest.MonkeyPatch, made: bool
) -> None:
    first = create(deps)
    real = effects.make_gif

    def deleted_meanwhile(*args: Any, **kwargs: Any) -> effects.Gif:
        gif = real(*args, **kwargs)
        service.delete_image(deps, first.id)  # its purge runs before the GIF is written
        if not made:
            raise UnprocessableImage("cannot be made", code="corrupt_image")
        return gif

    monkeypatch.setattr(effects, "make_gif", deleted_meanwhile)
    outcome = gifs.handle_original(deps, "zoom", first.key, first.s3_version_id)
    assert outcome == "dropped"
    assert store.found(first.id, 1) == {}  # nothing left for the CDN to serve


def test_events_that_are_not_image_versions_are_ignored(
    deps: service.Deps, store: storage.GifStore
) -> None:
    assert gifs.handle_original(deps, "zoom", "originals/not-a-uuid", "v") == "ignored"
    first = create(deps)
    assert gifs.handle_original(deps, "zoom", first.key, None) == "ignored"


# --- making GIFs -----------------------------------------------------------------------------


@pytest.mark.parametrize("effect", sorted(effects.EFFECTS))
def test_each_effect_writes_an_animated_gif_with_immutable_caching(
    deps: service.Deps, store: storage.GifStore, effect: str
) -> None:
    record = create(deps, imagegen.jpeg(120, 80))
    assert gifs.handle_original(deps, effect, record.key, record.s3_version_id) == "made"
    found = stored(store, keys.gif_key(record.id, 1, effect))
    assert found["ContentType"] == "image/gif"
    assert found["CacheControl"] == "public, max-age=31536000, immutable"
    with Image.open(io.BytesIO(found["Body"].read())) as gif:
        assert gif.format == "GIF"
        assert gif.is_animated
        assert gif.n_frames > 1
        assert gif.size == ((80, 80) if effect == "spin" else (120, 80))


def test_a_gif_is_made_once(deps: service.Deps, store: storage.GifStore) -> None:
    record = create(deps)
    assert gifs.make_effect(deps, record, "hue") == "made"
    first = stored(store, keys.gif_key(record.id, 1, "hue"))["ETag"]
    assert gifs.make_effect(deps, record, "hue") == "exists"
    assert stored(store, keys.gif_key(record.id, 1, "hue"))["ETag"] == first


def test_the_gif_follows_the_knobs(deps: service.Deps, store: storage.GifStore) -> None:
    small = replace(deps, config=replace(deps.config, gif_box=40, gif_frames=4, gif_frame_ms=50))
    record = create(small, imagegen.jpeg(200, 100))
    gifs.make_effect(small, record, "zoom")
    data = stored(store, keys.gif_key(record.id, 1, "zoom"))["Body"].read()
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.size == (40, 20)
        assert gif.n_frames <= 4
        assert gif.info["duration"] >= 50


def test_an_undecodable_original_is_recorded_as_failed(
    deps: service.Deps, store: storage.GifStore
) -> None:
    record = create(deps)
    # Bytes that passed the checks once but cannot be decoded now (e.g. damaged in storage).
    broken = imagegen.truncated(imagegen.jpeg(200, 200), keep=0.2)
    aws.s3().put_object(Bucket=deps.originals.bucket, Key=record.key, Body=broken)
    damaged_version = aws.s3().list_object_versions(
        Bucket=deps.originals.bucket, Prefix=record.key
    )["Versions"][0]["VersionId"]
    damaged = replace(record, s3_version_id=damaged_version)
    assert gifs.make_effect(deps, damaged, "spin") == "failed"
    marker = json.loads(stored(store, store.failure_key(record.id, 1, "spin"))["Body"].read())
    assert marker["code"] == "corrupt_image"
    assert marker["message"]
    assert status_body(deps, record.id)["effects"]["spin"] == {"status": "failed"}


def test_a_failure_on_the_last_attempt_is_recorded_and_still_raised(
    deps: service.Deps, store: storage.GifStore
) -> None:
    record = create(deps)
    flaky = storage.GifStore(_HeadFails(store.client), store.bucket)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        gifs.handle_original(replace(deps, gifs=flaky), "zoom", record.key, record.s3_version_id)
    assert store.found(record.id, 1) == {}  # a retry is coming: still pending
    with pytest.raises(ConnectionError):
        gifs.handle_original(
            replace(deps, gifs=flaky), "zoom", record.key, record.s3_version_id, final_attempt=True
        )
    assert store.found(record.id, 1) == {"zoom": False}
    marker = json.loads(stored(store, store.failure_key(record.id, 1, "zoom"))["Body"].read())
    assert marker["code"] == "internal_error"


class _HeadFails:
    """A client whose HEAD fails (an outage of reads) while writes still work."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def head_object(self, **kwargs: Any) -> Any:
        raise ConnectionError("renditions bucket unreachable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


# --- the status ------------------------------------------------------------------------------


def test_status_goes_from_pending_to_ready_with_cdn_urls(
    deps: service.Deps, store: storage.GifStore
) -> None:
    record = create(deps)
    assert status_body(deps, record.id) == {
        "id": record.id,
        "version": 1,
        "effects": {name: {"status": "pending"} for name in effects.EFFECTS},
    }
    gifs.make_effect(deps, record, "zoom")
    body = status_body(deps, record.id)
    assert body["effects"]["zoom"] == {
        "status": "ready",
        "url": f"https://cdn.example.com/gifs/{record.id}/1/zoom.gif",
    }
    assert body["effects"]["hue"] == {"status": "pending"}


def test_status_is_about_the_latest_version(deps: service.Deps, store: storage.GifStore) -> None:
    record = create(deps)
    for name in effects.EFFECTS:
        gifs.make_effect(deps, record, name)
    service.update_image(deps, record.id, ImageUpload(imagegen.png(30, 30)))
    body = status_body(deps, record.id)
    assert body["version"] == 2
    assert {e["status"] for e in body["effects"].values()} == {"pending"}


def test_a_gif_that_exists_wins_over_a_failure_marker(
    deps: service.Deps, store: storage.GifStore
) -> None:
    record = create(deps)
    store.put_failure(record.id, 1, "hue", "internal_error", "gave up")
    gifs.make_effect(deps, record, "hue")  # a redriven message succeeded later
    assert status_body(deps, record.id)["effects"]["hue"]["status"] == "ready"


def test_status_reports_only_the_configured_effects(
    deps: service.Deps, store: storage.GifStore
) -> None:
    only_hue = replace(deps, config=replace(deps.config, gif_effects=("hue",)))
    record = create(only_hue)
    assert set(status_body(only_hue, record.id)["effects"]) == {"hue"}


def test_status_of_unknown_deleted_and_malformed_ids(
    deps: service.Deps, store: storage.GifStore
) -> None:
    with pytest.raises(BadRequest):
        status_body(deps, "../etc")
    with pytest.raises(NotFound):
        status_body(deps, "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b")
    record = create(deps)
    service.delete_image(deps, record.id)
    with pytest.raises(NotFound):
        status_body(deps, record.id)


def test_a_pending_gif_is_failed_once_the_queues_retry_window_has_passed(
    deps: service.Deps, store: storage.GifStore
) -> None:
    """Its consumer died on the last receive (no marker written), or its event never came."""
    record = create(deps)
    window = timedelta(seconds=deps.config.gif_retry_window)
    committed = parse_rfc3339(record.created_at)

    def at(moment: datetime) -> service.Deps:
        return replace(deps, clock=lambda: rfc3339(moment))

    within = gifs.status(at(committed + window), record.id)
    assert set(within.states.values()) == {"pending"}
    past = gifs.status(at(committed + window + timedelta(seconds=1)), record.id)
    assert set(past.states.values()) == {"failed"}
    gifs.make_effect(deps, record, "hue")  # a redriven message succeeds: ready wins
    assert gifs.status(at(committed + 2 * window), record.id).states["hue"] == "ready"


# --- the cost of one event ---------------------------------------------------------------------


class _Counting:
    """A boto3 client that counts its calls and the DynamoDB items they return."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: Counter[str] = Counter()
        self.items = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.real, name)
        if name in ("exceptions", "meta") or not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            answer = found(*args, **kwargs)
            if name == "query":
                self.items += len(answer.get("Items", []))
            elif name == "get_item" and "Item" in answer:
                self.items += 1
            return answer

        return call


def event_cost(deps: service.Deps, record: ImageVersion) -> tuple[dict[str, int], int]:
    """The calls (S3 and DynamoDB) and DynamoDB items one effect event reads to find its
    version."""
    s3 = _Counting(deps.originals.client)
    table = _Counting(deps.repository.client)
    counted = replace(
        deps,
        originals=replace(deps.originals, client=s3),
        repository=replace(deps.repository, client=table),
    )
    assert gifs.find_version(counted, record.id, record.s3_version_id) == record
    return {**s3.calls, **table.calls}, table.items


def test_one_events_cost_does_not_grow_with_the_images_history(deps: service.Deps) -> None:
    """Issue 16: find_version listed every version of the image for every event."""
    young = create(deps)
    young_latest = service.update_image(deps, young.id, ImageUpload(imagegen.png(8, 8)))
    old = create(deps)
    versions = [old]
    for seed in range(40):
        versions.append(
            service.update_image(deps, old.id, ImageUpload(imagegen.png(8, 8, seed=seed)))
        )
    # The latest version (the usual event): one HEAD, one single-item query.
    assert event_cost(deps, versions[-1]) == event_cost(deps, young_latest)
    calls, items = event_cost(deps, versions[-1])
    assert (calls, items) == ({"head_object": 1, "query": 1}, 1)
    # An older version (a late or redriven event): one more query from its floor, one page.
    calls, items = event_cost(deps, versions[1])
    assert calls == {"head_object": 1, "query": 2}
    assert items <= 1 + 4  # the latest, and a page from the floor: not the 41 versions


def test_a_version_committed_above_its_floor_is_found(deps: service.Deps) -> None:
    """A commit that lost races lands above the floor stored with its bytes."""
    first = create(deps)
    data = imagegen.png(12, 12)
    s3_version = deps.originals.put(
        first.key,
        data,
        content_type="image/png",
        image_id=first.id,
        sha256=hashlib.sha256(data).hexdigest(),
        version_floor=2,
    )
    service.update_image(deps, first.id, ImageUpload(imagegen.png(9, 9)))  # took version 2
    third = replace(first, version=3, s3_version_id=s3_version, sha256="0" * 64)
    deps.repository.put_version(third)
    assert gifs.find_version(deps, first.id, s3_version) == third


def test_a_version_stored_without_a_floor_is_still_found(deps: service.Deps) -> None:
    """Originals stored before the floor existed carry no ``version-floor``."""
    first = create(deps)
    data = imagegen.png(10, 10)
    put = aws.s3().put_object(Bucket=deps.originals.bucket, Key=first.key, Body=data)
    legacy = deps.originals.stored_version(first.key, put["VersionId"])
    assert legacy is not None
    assert legacy.version_floor is None
    second = replace(first, version=2, s3_version_id=put["VersionId"])
    deps.repository.put_version(second)
    assert gifs.find_version(deps, first.id, put["VersionId"]) == second
    assert gifs.find_version(deps, first.id, first.s3_version_id) == first


def test_a_late_event_of_an_abandoned_write_does_not_read_the_history_after_it(
    deps: service.Deps,
) -> None:
    """An S3 version whose writer died before its commit, redriven after the image grew: its
    commit could only have landed while that writer lived (ABANDONED_AFTER), so the records
    committed after that are not read."""
    first = create(deps)
    data = imagegen.png(12, 12)
    s3_version = deps.originals.put(
        first.key,
        data,
        content_type="image/png",
        image_id=first.id,
        sha256=hashlib.sha256(data).hexdigest(),
        version_floor=2,
    )
    stored = deps.originals.stored_version(first.key, s3_version)
    assert stored is not None
    later = replace(deps, clock=lambda: rfc3339(stored.last_modified + timedelta(hours=1)))
    for seed in range(40):
        service.update_image(later, first.id, ImageUpload(imagegen.png(8, 8, seed=seed)))

    table = _Counting(deps.repository.client)
    redriven = replace(
        deps,
        repository=replace(deps.repository, client=table),
        clock=lambda: rfc3339(stored.last_modified + timedelta(days=2)),
    )
    assert gifs.find_version(redriven, first.id, s3_version) is None  # abandoned: dropped
    assert table.items <= 1 + 4, table.calls  # the latest, and a page from the floor: not 40
