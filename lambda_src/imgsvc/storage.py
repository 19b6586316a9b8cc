"""Every S3 key family of the service (:mod:`imgsvc.keys`) behind one layer, with one rule for
"the key is missing" (:func:`is_missing`). The use cases call these stores; none of them
touches a boto3 client.

- :class:`OriginalStore`: the originals, one versioned key per image in the main bucket, and
  its replica in a backup region. Every version of an image is an S3 version of one key,
  addressed by its version id. The main bucket expires noncurrent versions after a few days;
  replication keeps them in the replica (with the same version ids), so reads fall back to it.
- :class:`RenditionStore`: renditions (``r/...``) in the renditions bucket, written once.
- :class:`GifStore`: GIFs and their failure markers (``gifs/...``) in the renditions bucket.
- :class:`Inbox`: the uploads bucket (``uploads/...``), where presigned POSTs put files.

:mod:`imgsvc.wiring` builds all four from the configuration.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from imgsvc import keys, metrics
from imgsvc.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef, ObjectIdentifierTypeDef

logger = logging.getLogger(__name__)

# S3's answers for a key or a version that is not there
# (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList):
# GET answers NoSuchKey or NoSuchVersion (404); HEAD has no body, so botocore gives the status,
# "404" (or "NotFound"). Nothing else is "missing": 403 (AccessDenied) is what S3 answers for a
# missing key when the caller may not s3:ListBucket, a misconfigured role, and 400
# (InvalidArgument) a malformed request; both are errors to raise, not absences to act on.
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})

META_IMAGE_ID = "image-id"
META_SHA256 = "sha256"
# The lowest version number an original's S3 version can be committed as (the writer read the
# latest version before storing the bytes): the GIF consumers look for its record from there.
META_VERSION_FLOOR = "version-floor"

# What S3 answers a conditional put when the key exists (412), or while another conditional
# write of the same key is in flight (409): either way another request stored the object.
_TAKEN = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})

GIF_CONTENT_TYPE = "image/gif"
# Versioned keys never change: browsers and the CDN may keep them for a year without asking.
GIF_CACHE_CONTROL = "public, max-age=31536000, immutable"
GIF_SUFFIX = ".gif"
FAILED_SUFFIX = ".failed"


def is_missing(exc: ClientError) -> bool:
    """Whether S3 said the key (or the version) is not there; see :data:`MISSING_CODES`."""
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING_CODES


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _head(client: S3Client, **params: Any) -> dict[str, Any] | None:
    """HeadObject's answer, None when the key (or version) is missing."""
    try:
        return dict(client.head_object(**params))
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise


def _get(client: S3Client, **params: Any) -> GetObjectOutputTypeDef | None:
    """GetObject's answer (its body unread), None when the key (or version) is missing."""
    try:
        return client.get_object(**params)
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise


def _remove_prefix(client: S3Client, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix``; returns how many."""
    removed = 0
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        objects: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"]} for item in page.get("Contents", [])
        ]
        if objects:  # a page holds at most 1000 keys, delete_objects' limit
            client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            removed += len(objects)
    return removed


# --- originals -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """Where one stored version can be read: which client (region), bucket and version id."""

    client: S3Client
    bucket: str
    key: str
    version_id: str
    replica: bool = False


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """What S3 says about one S3 version of an original, without its bytes."""

    last_modified: datetime
    # The lowest version number it can be committed as; None for versions stored before the
    # floor was recorded.
    version_floor: int | None


@dataclass(frozen=True, slots=True)
class OriginalStore:
    """Read and write originals; ``replica_client`` is an S3 client in the replica's region."""

    client: S3Client
    bucket: str
    replica_client: S3Client | None = None
    replica_bucket: str = ""

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        image_id: str,
        sha256: str,
        version_floor: int = 1,
    ) -> str:
        """Store ``data`` as a new S3 version of ``key``; S3 checks the SHA-256 on arrival.

        ``version_floor``: the lowest version number the caller may commit it as.
        """
        response = self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
            Metadata={
                META_IMAGE_ID: image_id,
                META_SHA256: sha256,
                META_VERSION_FLOOR: str(version_floor),
            },
        )
        version_id = response.get("VersionId")
        if not version_id or version_id == "null":
            raise RuntimeError(f"bucket {self.bucket} is not versioned: refusing to store {key}")
        return version_id

    def stored_version(self, key: str, version_id: str) -> StoredVersion | None:
        """One S3 version in the main bucket (one HEAD), None if it is not there."""
        head = _head(self.client, Bucket=self.bucket, Key=key, VersionId=version_id)
        if head is None:
            return None
        floor = str(head.get("Metadata", {}).get(META_VERSION_FLOOR, ""))
        return StoredVersion(
            last_modified=head["LastModified"],
            version_floor=int(floor) if floor.isascii() and floor.isdigit() else None,
        )

    def delete_version(self, key: str, version_id: str) -> None:
        """Remove one version for good (undoing a write whose record was never committed)."""
        self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def hide(self, key: str) -> None:
        """Add a delete marker: the key disappears, every stored version stays recoverable."""
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def locate(self, key: str, version_id: str, sha256: str) -> Location:
        """Find a stored version: the main bucket first, then the replica.

        In the replica, S3 replication keeps the version id; where it cannot (a copy made by other
        means), the version whose ``sha256`` metadata matches has the same bytes.
        """
        if _head(self.client, Bucket=self.bucket, Key=key, VersionId=version_id) is not None:
            return Location(self.client, self.bucket, key, version_id)
        replica = self.replica_client
        if replica is not None and self.replica_bucket:
            if _head(replica, Bucket=self.replica_bucket, Key=key, VersionId=version_id):
                metrics.replica_read()
                return Location(replica, self.replica_bucket, key, version_id, replica=True)
            found = self._find_by_sha256(replica, self.replica_bucket, key, sha256)
            if found:
                metrics.replica_read()
                return Location(replica, self.replica_bucket, key, found, replica=True)
        raise NotFound(
            "The stored bytes of this version are no longer available.", code="content_not_found"
        )

    def read(self, location: Location) -> bytes:
        """The bytes at ``location`` (from :meth:`locate`)."""
        found = location.client.get_object(
            Bucket=location.bucket, Key=location.key, VersionId=location.version_id
        )
        return found["Body"].read()

    def presign(self, location: Location, *, expires: int, filename: str, content_type: str) -> str:
        """A short-lived GET URL for the exact stored bytes of ``location``."""
        params: dict[str, Any] = {
            "Bucket": location.bucket,
            "Key": location.key,
            "VersionId": location.version_id,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": f"inline; filename*=UTF-8''{quote(filename)}",
        }
        return location.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires
        )

    @staticmethod
    def _find_by_sha256(client: S3Client, bucket: str, key: str, sha256: str) -> str | None:
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for version in page.get("Versions", []):
                if version.get("Key") != key or "VersionId" not in version:
                    continue
                head = client.head_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
                if head.get("Metadata", {}).get(META_SHA256) == sha256:
                    logger.info("replica copy found by checksum", extra={"key": key})
                    return version["VersionId"]
        return None


# --- renditions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRendition:
    """A rendition as stored in the renditions bucket, with the headers it is served with."""

    data: bytes
    content_type: str
    cache_control: str
    etag: str


@dataclass(frozen=True, slots=True)
class RenditionStore:
    """Renditions in the renditions bucket, written once with their serving headers."""

    client: S3Client
    bucket: str
    # How long browsers and the CDN keep a rendition (its key never changes meaning).
    max_age: int

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.max_age}"

    def exists(self, key: str) -> bool:
        return _head(self.client, Bucket=self.bucket, Key=key) is not None

    def get(self, key: str) -> StoredRendition | None:
        found = _get(self.client, Bucket=self.bucket, Key=key)
        if found is None:
            return None
        return StoredRendition(
            data=found["Body"].read(),
            content_type=found.get("ContentType", "application/octet-stream"),
            cache_control=found.get("CacheControl") or self.cache_control,
            etag=found.get("ETag", ""),
        )

    def put_new(
        self, key: str, data: bytes, *, content_type: str, width: int, height: int
    ) -> StoredRendition:
        """Store ``data`` at ``key`` unless something is there already; return what is stored
        (the existing object when another request was first)."""
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=self.cache_control,
                IfNoneMatch="*",
                Metadata={"width": str(width), "height": str(height)},
            )
        except ClientError as exc:
            if _code(exc) not in _TAKEN:
                raise
            existing = self.get(key)
            logger.info("rendition stored by another request", extra={"key": key})
            if existing is not None:
                return existing
            # 409: the other write has not landed yet. Rendering is deterministic, so these
            # bytes are what it is writing; the next request reads the stored object.
            return StoredRendition(data, content_type, self.cache_control, "")
        return StoredRendition(data, content_type, self.cache_control, response.get("ETag", ""))

    def remove_image(self, image_id: str) -> int:
        """Delete every rendition of every version of an image; returns how many."""
        return _remove_prefix(self.client, self.bucket, keys.rendition_prefix(image_id))


# --- GIFs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GifStore:
    """GIFs (``gifs/<id>/<version>/<effect>.gif``) and failure markers (``.failed``, a small
    JSON ``{"code", "message"}``) in the renditions bucket."""

    client: S3Client
    bucket: str

    @staticmethod
    def failure_key(image_id: str, version: int, effect: str) -> str:
        return f"{keys.GIFS_PREFIX}{image_id}/{version}/{effect}{FAILED_SUFFIX}"

    def found(self, image_id: str, version: int) -> dict[str, bool]:
        """effect -> True (its GIF exists) or False (only its failure marker does), for what
        exists of this version: one ListObjectsV2 answers for every effect."""
        prefix = f"{keys.GIFS_PREFIX}{image_id}/{version}/"
        found: dict[str, bool] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item.get("Key", "")[len(prefix) :]
                if name.endswith(GIF_SUFFIX):
                    found[name[: -len(GIF_SUFFIX)]] = True
                elif name.endswith(FAILED_SUFFIX):
                    found.setdefault(name[: -len(FAILED_SUFFIX)], False)
        return found

    def has_gif(self, image_id: str, version: int, effect: str) -> bool:
        key = keys.gif_key(image_id, version, effect)
        return _head(self.client, Bucket=self.bucket, Key=key) is not None

    def put_gif(
        self,
        image_id: str,
        version: int,
        effect: str,
        data: bytes,
        *,
        source_sha256: str,
        frames: int,
    ) -> str:
        key = keys.gif_key(image_id, version, effect)
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=GIF_CONTENT_TYPE,
            CacheControl=GIF_CACHE_CONTROL,
            Metadata={"source-sha256": source_sha256, "frames": str(frames)},
        )
        return key

    def put_failure(
        self, image_id: str, version: int, effect: str, code: str, message: str
    ) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.failure_key(image_id, version, effect),
            Body=json.dumps({"code": code, "message": message}).encode(),
            ContentType="application/json",
            CacheControl="no-store",
        )

    def remove(self, image_id: str, version: int, effect: str) -> None:
        """Delete ``effect``'s GIF and failure marker of this version (absent ones are fine)."""
        for key in (
            keys.gif_key(image_id, version, effect),
            self.failure_key(image_id, version, effect),
        ):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def remove_image(self, image_id: str) -> int:
        """Delete every GIF and marker of every version of an image; returns how many."""
        return _remove_prefix(self.client, self.bucket, keys.gif_prefix(image_id))


# --- direct uploads --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A presigned POST: send ``fields`` and the file (as the last part, ``file``) to ``url``."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file in the inbox: its bytes, or only its size when it is over the caller's limit."""

    size: int
    data: bytes | None


@dataclass(frozen=True, slots=True)
class Inbox:
    """The uploads bucket, where presigned POSTs put files until they are processed."""

    client: S3Client
    bucket: str

    def arrived_at(self, key: str) -> datetime | None:
        """When the file at ``key`` was stored, None if there is none."""
        head = _head(self.client, Bucket=self.bucket, Key=key)
        return None if head is None else head["LastModified"]

    def has(self, key: str) -> bool:
        return self.arrived_at(key) is not None

    def read(self, key: str, *, max_bytes: int) -> UploadedFile | None:
        """The file, None if it is gone; over ``max_bytes`` only its size (left unread)."""
        found = _get(self.client, Bucket=self.bucket, Key=key)
        if found is None:
            return None
        body = found["Body"]
        size = found.get("ContentLength", 0)
        if size > max_bytes:
            body.close()
            return UploadedFile(size=size, data=None)
        data = body.read()
        return UploadedFile(size=len(data), data=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def presigned_post(
        self, key: str, content_type: str, *, max_bytes: int, expires: int
    ) -> UploadForm:
        """A POST form for exactly ``key``, of ``content_type``, 1..max_bytes long.

        boto3 adds the bucket, key and signature conditions; the form fields carry the values the
        policy requires, so the client only adds the file.
        """
        fields = {"Content-Type": content_type}
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ]
        form = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires
        )
        return UploadForm(url=form["url"], fields={k: str(v) for k, v in form["fields"].items()})
