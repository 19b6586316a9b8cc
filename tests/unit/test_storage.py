"""The storage layer over moto: originals (versioned writes, undo, hiding, the replica
fallback), and the one rule every store follows for a missing key."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from imgsvc import aws, config
from imgsvc import storage as layer
from imgsvc.errors import NotFound
from imgsvc.storage import OriginalStore

KEY = "originals/0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f"


@pytest.fixture
def storage(moto_aws: dict[str, str]) -> OriginalStore:
    cfg = config.load()
    return OriginalStore(
        client=aws.s3(),
        bucket=cfg.originals_bucket,
        replica_client=aws.s3(cfg.replica_region),
        replica_bucket=cfg.replica_bucket,
    )


def put(storage: OriginalStore, data: bytes) -> str:
    return storage.put(
        KEY,
        data,
        content_type="image/png",
        image_id="0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f",
        sha256=hashlib.sha256(data).hexdigest(),
    )


def read(location: layer.Location) -> bytes:
    return layer.OriginalStore(location.client, location.bucket).read(location)


def test_each_write_is_a_version_of_one_key(storage: OriginalStore) -> None:
    first, second = put(storage, b"one"), put(storage, b"two")
    assert first != second
    assert read(storage.locate(KEY, first, hashlib.sha256(b"one").hexdigest())) == b"one"
    assert read(storage.locate(KEY, second, hashlib.sha256(b"two").hexdigest())) == b"two"


def test_undo_removes_only_that_version(storage: OriginalStore) -> None:
    first = put(storage, b"one")
    second = put(storage, b"two")
    storage.delete_version(KEY, second)
    assert read(storage.locate(KEY, first, hashlib.sha256(b"one").hexdigest())) == b"one"
    current = storage.client.get_object(Bucket=storage.bucket, Key=KEY)["Body"].read()
    assert current == b"one"


def test_hidden_key_keeps_its_versions(storage: OriginalStore) -> None:
    first = put(storage, b"one")
    storage.hide(KEY)
    with pytest.raises(storage.client.exceptions.NoSuchKey):
        storage.client.get_object(Bucket=storage.bucket, Key=KEY)
    assert read(storage.locate(KEY, first, hashlib.sha256(b"one").hexdigest())) == b"one"


def test_expired_main_copy_is_read_from_the_replica(storage: OriginalStore) -> None:
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


def test_a_version_gone_everywhere_is_404(storage: OriginalStore) -> None:
    version = put(storage, b"gone")
    storage.client.delete_object(Bucket=storage.bucket, Key=KEY, VersionId=version)
    with pytest.raises(NotFound):
        storage.locate(KEY, version, hashlib.sha256(b"gone").hexdigest())


def test_the_floor_of_a_version_number_travels_with_the_s3_version(
    storage: OriginalStore,
) -> None:
    data = b"three"
    version = storage.put(
        KEY,
        data,
        content_type="image/png",
        image_id="0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f",
        sha256=hashlib.sha256(data).hexdigest(),
        version_floor=7,
    )
    found = storage.stored_version(KEY, version)
    assert found is not None
    assert found.version_floor == 7
    storage.delete_version(KEY, version)
    assert storage.stored_version(KEY, version) is None


# --- one rule for a missing key ----------------------------------------------------------------

# Before the storage layer, four copies of this rule disagreed: NoSuchVersion and
# InvalidArgument were "missing" for the originals and the GIFs, errors for the renditions and
# the uploads inbox.
CODES = ["NoSuchKey", "NoSuchVersion", "404", "NotFound", "InvalidArgument", "403", "AccessDenied"]
IMAGE_ID = "0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f"


class _Answers:
    """An S3 client whose reads all fail with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def _fail(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": self.code, "Message": "test"}}, "HeadObject")

    head_object = get_object = _fail


def _lookups(client: Any) -> dict[str, Callable[[], object]]:
    """Every read of the layer that answers "not there" (None or False) for a missing key."""
    originals = layer.OriginalStore(client, "originals")
    gifs = layer.GifStore(client, "renditions")
    inbox = layer.Inbox(client, "uploads")
    renditions = layer.RenditionStore(client, "renditions", 60)
    return {
        "originals.stored_version": lambda: originals.stored_version(KEY, "v1"),
        "renditions.exists": lambda: renditions.exists("r/x"),
        "renditions.get": lambda: renditions.get("r/x"),
        "gifs.has_gif": lambda: gifs.has_gif(IMAGE_ID, 1, "zoom"),
        "inbox.arrived_at": lambda: inbox.arrived_at("uploads/x"),
        "inbox.read": lambda: inbox.read("uploads/x", max_bytes=10),
    }


@pytest.mark.parametrize("code", CODES)
def test_every_store_reads_an_s3_error_code_the_same_way(code: str) -> None:
    answers: dict[str, str] = {}
    for name, lookup in _lookups(_Answers(code)).items():
        try:
            answers[name] = "missing" if lookup() in (None, False) else "found"
        except ClientError:
            answers[name] = "error"
    expected = "missing" if code in layer.MISSING_CODES else "error"
    assert answers == dict.fromkeys(answers, expected)


def test_only_s3s_not_found_answers_mean_missing() -> None:
    assert frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"}) == layer.MISSING_CODES


def test_a_missing_version_is_missing_in_moto_as_in_s3(storage: OriginalStore) -> None:
    """moto answers a HEAD or GET of an unknown version as S3 does (404, NoSuchVersion)."""
    version = put(storage, b"one")
    assert storage.stored_version(KEY, version) is not None
    assert (
        storage.stored_version(KEY, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gd")
        is None
    )
    assert storage.stored_version("originals/none", version) is None


USE_CASES = ("gifs", "service", "resizing", "upload_tickets", "upload_processing")


@pytest.mark.parametrize("module", USE_CASES)
def test_no_use_case_reaches_a_boto3_client(module: str) -> None:
    """The use cases call the stores and the repository; only those hold clients."""
    source = (Path(layer.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    clients = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("client", "replica_client")
    ]
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom | ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert clients == [], f"{module}.py touches a client at lines {clients}"
    # (Catching botocore's errors is fine: service.forget_at_edges logs an edge-cache failure.)
    assert not imported & {"aws", "imgsvc.aws", "boto3"}, module
