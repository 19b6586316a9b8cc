"""Originals in S3 over moto: versioned writes, undo, hiding, and the replica fallback."""

from __future__ import annotations

import hashlib

import pytest

from imgsvc import aws, config
from imgsvc.errors import NotFound
from imgsvc.storage import Storage

KEY = "originals/0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f"


@pytest.fixture
def storage(moto_aws: dict[str, str]) -> Storage:
    cfg = config.load()
    return Storage(
        client=aws.s3(),
        bucket=cfg.originals_bucket,
        replica_client=aws.s3(cfg.replica_region),
        replica_bucket=cfg.replica_bucket,
    )


def put(storage: Storage, data: bytes) -> str:
    return storage.put(
        KEY,
        data,
        content_type="image/png",
        image_id="0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f",
        sha256=hashlib.sha256(data).hexdigest(),
    )


def read(location) -> bytes:  # type: ignore[no-untyped-def]
    obj = location.client.get_object(
        Bucket=location.bucket, Key=location.key, VersionId=location.version_id
    )
    return obj["Body"].read()  # type: ignore[no-any-return]


def test_each_write_is_a_version_of_one_key(storage: Storage) -> None:
    first, second = put(storage, b"one"), put(storage, b"two")
    assert first != second
    assert read(storage.locate(KEY, first, hashlib.sha256(b"one").hexdigest())) == b"one"
    assert read(storage.locate(KEY, second, hashlib.sha256(b"two").hexdigest())) == b"two"


def test_undo_removes_only_that_version(storage: Storage) -> None:
    first = put(storage, b"one")
    second = put(storage, b"two")
    storage.delete_version(KEY, second)
    assert read(storage.locate(KEY, first, hashlib.sha256(b"one").hexdigest())) == b"one"
    current = storage.client.get_object(Bucket=storage.bucket, Key=KEY)["Body"].read()
    assert current == b"one"


def test_hidden_key_keeps_its_versions(storage: Storage) -> None:
    first = put(storage, b"one")
    storage.hide(KEY)
    with pytest.raises(storage.client.exceptions.NoSuchKey):
        storage.client.get_object(Bucket=storage.bucket, Key=KEY)
    assert read(storage.locate(KEY, first, hashlib.sha256(b"one").hexdigest())) == b"one"


def test_expired_main_copy_is_read_from_the_replica(storage: Storage) -> None:
    data = b"old bytes"
    digest = hashlib.sha256(data).hexdigest()
    version = put(storage, data)
    put(storage, b"newer")
    # Replication copies the version (moto cannot keep the id, so the copy has its own) ...
    assert storage.replica_client is not None
    storage.replica_client.put_object(
        Bucket=storage.replica_bucket, Key=KEY, Body=data, Metadata={"sha256": digest}
    )
    storage.replica_client.put_object(
        Bucket=storage.replica_bucket, Key=KEY, Body=b"newer", Metadata={"sha256": "other"}
    )
    # ... then the main bucket's noncurrent-version expiry removes the old one.
    storage.client.delete_object(Bucket=storage.bucket, Key=KEY, VersionId=version)
    location = storage.locate(KEY, version, digest)
    assert location.replica
    assert location.bucket == storage.replica_bucket
    assert read(location) == data


def test_a_version_gone_everywhere_is_404(storage: Storage) -> None:
    version = put(storage, b"gone")
    storage.client.delete_object(Bucket=storage.bucket, Key=KEY, VersionId=version)
    with pytest.raises(NotFound):
        storage.locate(KEY, version, hashlib.sha256(b"gone").hexdigest())
