"""The DynamoDB repository over moto: versions, latest, tombstones, conditional writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imgsvc import aws
from imgsvc.records import ImageVersion, Tombstone
from imgsvc.repository import TTL_ATTRIBUTE, Repository, VersionTaken

IMAGE_ID = "0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f"


def record(version: int, **changes: object) -> ImageVersion:
    base = {
        "id": IMAGE_ID,
        "version": version,
        "name": f"v{version}.jpg",
        "content_type": "image/jpeg",
        "width": 10,
        "height": 20,
        "size": 300,
        "sha256": "ab" * 32,
        "created_at": f"2026-11-22T10:00:0{version}.000Z",
        "bucket": "b",
        "key": f"originals/{IMAGE_ID}",
        "s3_version_id": f"s3v{version}",
        "image_created_at": "2026-11-22T10:00:01.000Z",
        "metadata": {"author": "Ann"},
    }
    base.update(changes)
    return ImageVersion(**base)  # type: ignore[arg-type]


@pytest.fixture
def repo(moto_aws: dict[str, str]) -> Repository:
    return Repository(aws.dynamodb(), "imgsvc-local-images")


def test_unknown_id_has_no_latest(repo: Repository) -> None:
    assert repo.latest(IMAGE_ID) is None
    assert list(repo.versions(IMAGE_ID)) == []


def test_round_trip_and_latest_is_the_highest_version(repo: Repository) -> None:
    for version in (1, 2, 3):
        repo.put_version(record(version))
    assert repo.latest(IMAGE_ID) == record(3)
    assert repo.get(IMAGE_ID, 2) == record(2)
    assert [r.version for r in repo.versions(IMAGE_ID)] == [3, 2, 1]


def test_a_taken_version_is_refused_and_not_overwritten(repo: Repository) -> None:
    repo.put_version(record(1))
    with pytest.raises(VersionTaken):
        repo.put_version(record(1, name="intruder.jpg"))
    stored = repo.get(IMAGE_ID, 1)
    assert isinstance(stored, ImageVersion)
    assert stored.name == "v1.jpg"


def test_tombstone_is_latest_and_takes_a_version_number(repo: Repository) -> None:
    repo.put_version(record(1))
    repo.put_tombstone(Tombstone(IMAGE_ID, 2, "2026-11-22T11:00:00.000Z"))
    assert isinstance(repo.latest(IMAGE_ID), Tombstone)
    with pytest.raises(VersionTaken):
        repo.put_version(record(2))


def test_versions_pages_through_many_items(repo: Repository) -> None:
    big = {f"k{i}": "x" * 1000 for i in range(30)}  # ~30 KB per item: several query pages
    for version in range(1, 41):
        repo.put_version(record(version, metadata=big))
    assert [r.version for r in repo.versions(IMAGE_ID)] == list(range(40, 0, -1))


def test_the_table_module_enables_ttl_on_the_attribute_tickets_carry() -> None:
    """modules/metadata-table's default ttl_attribute_name is what the service writes."""
    variables = (Path(__file__).parents[2] / "modules/metadata-table/variables.tf").read_text()
    block = re.search(r'variable "ttl_attribute_name" \{(.*?)\n\}', variables, re.S)
    assert block is not None
    default = re.search(r'^\s*default\s*=\s*"([^"]*)"', block[1], re.M)
    assert default is not None
    assert default[1] == TTL_ATTRIBUTE
