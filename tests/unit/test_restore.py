"""Restoring images over moto: undo a delete, revert a live image, and every refusal stores
nothing."""

from __future__ import annotations

import hashlib

import pytest

from imgsvc import aws, gifs, restore, service, wiring
from imgsvc.errors import BadRequest, Conflict, NotFound
from imgsvc.image_requests import ImageUpload
from imgsvc.records import Tombstone
from imgsvc.repository import VersionTaken
from tests.support import imagegen

UNKNOWN_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    return wiring.deps()


def upload(data: bytes, name: str = "a.jpg", **metadata: str) -> ImageUpload:
    return ImageUpload(data=data, name=name, metadata=metadata, metadata_given=bool(metadata))


def s3_versions(deps: service.Deps, image_id: str) -> list[str]:
    listed = aws.s3().list_object_versions(
        Bucket=deps.originals.bucket, Prefix=f"originals/{image_id}"
    )
    return [v["VersionId"] for v in listed.get("Versions", [])]


def stored_sha256(deps: service.Deps, image_id: str) -> str:
    """The sha256 of what a reader of the latest version gets."""
    return hashlib.sha256(service.read_original(deps, service.latest(deps, image_id))).hexdigest()


def test_a_deleted_image_comes_back_as_the_next_version_with_its_last_bytes(
    deps: service.Deps,
) -> None:
    first = service.create_image(deps, upload(imagegen.jpeg(40, 30), author="Ann"))
    second = service.update_image(deps, first.id, upload(imagegen.png(30, 20), name="b.png"))
    service.delete_image(deps, first.id)
    with pytest.raises(NotFound):
        service.latest(deps, first.id)

    restored = restore.restore_image(deps, first.id)

    assert restored.version == 4  # 1, 2, the delete's tombstone 3, then this
    assert (restored.name, restored.metadata) == ("b.png", {"author": "Ann"})
    assert (restored.content_type, restored.width, restored.height) == ("image/png", 30, 20)
    assert restored.sha256 == second.sha256
    assert restored.image_created_at == first.created_at
    assert restored.s3_version_id not in (first.s3_version_id, second.s3_version_id)
    assert service.latest(deps, first.id) == restored
    assert stored_sha256(deps, first.id) == second.sha256
    # History is kept: the old versions and the tombstone are all still there.
    history = list(deps.repository.versions(first.id))
    assert [r.version for r in history] == [4, 3, 2, 1]
    assert isinstance(history[1], Tombstone)


def test_a_named_version_of_a_deleted_image_is_restored(deps: service.Deps) -> None:
    first = service.create_image(deps, upload(imagegen.jpeg(40, 30), author="Ann"))
    service.update_image(deps, first.id, upload(imagegen.png(30, 20), name="b.png"))
    service.delete_image(deps, first.id)
    restored = restore.restore_image(deps, first.id, 1)
    assert (restored.version, restored.name, restored.sha256) == (4, "a.jpg", first.sha256)
    assert stored_sha256(deps, first.id) == first.sha256


def test_a_live_image_is_reverted_only_to_a_named_version(deps: service.Deps) -> None:
    first = service.create_image(deps, upload(imagegen.jpeg(40, 30)))
    second = service.update_image(deps, first.id, upload(imagegen.png(30, 20), name="b.png"))
    before = s3_versions(deps, first.id)
    with pytest.raises(Conflict) as caught:
        restore.restore_image(deps, first.id)
    assert caught.value.code == "image_not_deleted"
    assert service.latest(deps, first.id) == second
    assert s3_versions(deps, first.id) == before

    reverted = restore.restore_image(deps, first.id, 1)
    assert (reverted.version, reverted.sha256, reverted.name) == (3, first.sha256, "a.jpg")
    assert stored_sha256(deps, first.id) == first.sha256


@pytest.mark.parametrize(
    ("image_id", "version", "error", "code"),
    [
        ("not-an-id", None, BadRequest, "invalid_id"),
        (UNKNOWN_ID, None, NotFound, "image_not_found"),
        (UNKNOWN_ID, 1, NotFound, "image_not_found"),
    ],
)
def test_bad_ids_are_refused(
    deps: service.Deps, image_id: str, version: int | None, error: type, code: str
) -> None:
    with pytest.raises(error) as caught:
        restore.restore_image(deps, image_id, version)
    assert caught.value.code == code


def test_a_version_that_holds_no_image_is_404_and_nothing_is_stored(deps: service.Deps) -> None:
    first = service.create_image(deps, upload(imagegen.jpeg()))
    service.delete_image(deps, first.id)
    before = s3_versions(deps, first.id)
    for version in (2, 9):  # 2 is the delete's tombstone, 9 was never written
        with pytest.raises(NotFound) as caught:
            restore.restore_image(deps, first.id, version)
        assert caught.value.code == "version_not_found"
    assert s3_versions(deps, first.id) == before
    assert isinstance(deps.repository.latest(first.id), Tombstone)


def test_bytes_gone_everywhere_are_404_and_the_image_stays_deleted(deps: service.Deps) -> None:
    first = service.create_image(deps, upload(imagegen.jpeg()))
    service.delete_image(deps, first.id)
    deps.originals.delete_version(first.key, first.s3_version_id)  # expired, no replica copy
    with pytest.raises(NotFound) as caught:
        restore.restore_image(deps, first.id)
    assert caught.value.code == "content_not_found"
    assert isinstance(deps.repository.latest(first.id), Tombstone)


def test_bytes_expired_in_the_main_bucket_come_from_the_replica(deps: service.Deps) -> None:
    data = imagegen.jpeg(50, 40)
    first = service.create_image(deps, upload(data))
    # The replica's copy, as replication makes it (its version id may differ; the checksum
    # metadata finds it).
    aws.s3(deps.config.replica_region).put_object(
        Bucket=deps.config.replica_bucket,
        Key=first.key,
        Body=data,
        Metadata={"image-id": first.id, "sha256": first.sha256},
    )
    service.delete_image(deps, first.id)
    deps.originals.delete_version(first.key, first.s3_version_id)
    restored = restore.restore_image(deps, first.id)
    assert restored.sha256 == first.sha256
    assert stored_sha256(deps, first.id) == first.sha256


def test_a_lost_race_is_409_and_removes_the_bytes_it_stored(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = service.create_image(deps, upload(imagegen.jpeg()))
    service.delete_image(deps, first.id)
    before = s3_versions(deps, first.id)

    def taken(self: object, record: object) -> None:
        raise VersionTaken("someone else")

    monkeypatch.setattr(type(deps.repository), "put_version", taken)
    with pytest.raises(Conflict) as caught:
        restore.restore_image(deps, first.id)
    assert caught.value.code == "restore_conflict"
    assert s3_versions(deps, first.id) == before
    assert isinstance(deps.repository.latest(first.id), Tombstone)


def test_the_gif_event_of_a_restore_waits_for_its_commit_and_old_events_stay_dropped(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = imagegen.jpeg(40, 30)
    first = service.create_image(deps, upload(data))
    service.delete_image(deps, first.id)
    # The old version's event (a redelivery) is for a deleted image: nothing to do.
    assert gifs.find_version(deps, first.id, first.s3_version_id) is None

    # The restore's S3 version exists before its record: its event races the commit, as a new
    # version's does. It must be retried, not dropped (its GIFs would never be made).
    stored: list[str] = []
    put = deps.originals.put

    def put_and_remember(*args: object, **kwargs: object) -> str:
        stored.append(put(*args, **kwargs))  # type: ignore[arg-type]
        with pytest.raises(gifs.NotCommittedYet):
            gifs.find_version(deps, first.id, stored[0])
        return stored[0]

    monkeypatch.setattr(
        type(deps.originals), "put", lambda self, *a, **k: put_and_remember(*a, **k)
    )
    restored = restore.restore_image(deps, first.id)
    assert stored == [restored.s3_version_id]
    assert gifs.find_version(deps, first.id, restored.s3_version_id) == restored
    assert gifs.find_version(deps, first.id, first.s3_version_id) == first  # live again
