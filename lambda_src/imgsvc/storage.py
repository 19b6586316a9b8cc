"""Original image bytes in S3: a versioned main bucket and its replica in a backup region.

Every version of an image is an S3 version of one key, addressed by its version id. The main
bucket expires noncurrent versions after a few days; replication keeps them in the replica (with
the same version ids), so reads fall back to the replica when the main copy has expired.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from imgsvc import metrics
from imgsvc.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger(__name__)

META_IMAGE_ID = "image-id"
META_SHA256 = "sha256"
_MISSING = {"NoSuchVersion", "NoSuchKey", "404", "NotFound", "InvalidArgument"}


@dataclass(frozen=True, slots=True)
class Location:
    """Where one stored version can be read: which client (region), bucket and version id."""

    client: S3Client
    bucket: str
    key: str
    version_id: str
    replica: bool = False


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code", "") in _MISSING


@dataclass(frozen=True, slots=True)
class Storage:
    """Read and write originals; ``replica_client`` is an S3 client in the replica's region."""

    client: S3Client
    bucket: str
    replica_client: S3Client | None = None
    replica_bucket: str = ""

    def put(self, key: str, data: bytes, *, content_type: str, image_id: str, sha256: str) -> str:
        """Store ``data`` as a new S3 version of ``key``; S3 checks the SHA-256 on arrival."""
        response = self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
            Metadata={META_IMAGE_ID: image_id, META_SHA256: sha256},
        )
        version_id = response.get("VersionId")
        if not version_id or version_id == "null":
            raise RuntimeError(f"bucket {self.bucket} is not versioned: refusing to store {key}")
        return version_id

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
        if self._has(self.client, self.bucket, key, version_id):
            return Location(self.client, self.bucket, key, version_id)
        replica = self.replica_client
        if replica is not None and self.replica_bucket:
            if self._has(replica, self.replica_bucket, key, version_id):
                metrics.replica_read()
                return Location(replica, self.replica_bucket, key, version_id, replica=True)
            found = self._find_by_sha256(replica, self.replica_bucket, key, sha256)
            if found:
                metrics.replica_read()
                return Location(replica, self.replica_bucket, key, found, replica=True)
        raise NotFound(
            "The stored bytes of this version are no longer available.", code="content_not_found"
        )

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
    def _has(client: S3Client, bucket: str, key: str, version_id: str) -> bool:
        try:
            client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

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
