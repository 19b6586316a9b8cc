"""The metadata repository: image versions in DynamoDB (partition ``id``, sort ``version``).

Items per image id:
- ``version >= 1``, ``kind = "image"``: one per stored version (:class:`ImageVersion`).
- ``version >= 2``, ``kind = "deleted"``: a tombstone written by DELETE as the next version, so
  "latest" stays one query and a racing update cannot slip in behind a delete.
- ``version = 0``: reserved for the direct-upload ticket of that id (see :mod:`imgsvc.uploads`).

Every write of a version is conditional on the key being free: two writers can never both own
one version number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imgsvc.records import ImageVersion, Tombstone

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

KIND_IMAGE = "image"
KIND_DELETED = "deleted"


class VersionTaken(Exception):
    """The version number was written by someone else first (conditional write failed)."""


def _s(value: str) -> dict[str, Any]:
    return {"S": value}


def _n(value: int) -> dict[str, Any]:
    return {"N": str(value)}


def to_item(record: ImageVersion) -> dict[str, Any]:
    return {
        "id": _s(record.id),
        "version": _n(record.version),
        "kind": _s(KIND_IMAGE),
        "name": _s(record.name),
        "content_type": _s(record.content_type),
        "width": _n(record.width),
        "height": _n(record.height),
        "size": _n(record.size),
        "sha256": _s(record.sha256),
        "created_at": _s(record.created_at),
        "image_created_at": _s(record.image_created_at),
        "s3_bucket": _s(record.bucket),
        "s3_key": _s(record.key),
        "s3_version_id": _s(record.s3_version_id),
        "metadata": {"M": {k: _s(v) for k, v in record.metadata.items()}},
    }


def from_item(item: dict[str, Any]) -> ImageVersion | Tombstone:
    image_id = item["id"]["S"]
    version = int(item["version"]["N"])
    if item.get("kind", {}).get("S") == KIND_DELETED:
        return Tombstone(id=image_id, version=version, deleted_at=item["deleted_at"]["S"])
    return ImageVersion(
        id=image_id,
        version=version,
        name=item["name"]["S"],
        content_type=item["content_type"]["S"],
        width=int(item["width"]["N"]),
        height=int(item["height"]["N"]),
        size=int(item["size"]["N"]),
        sha256=item["sha256"]["S"],
        created_at=item["created_at"]["S"],
        image_created_at=item["image_created_at"]["S"],
        bucket=item["s3_bucket"]["S"],
        key=item["s3_key"]["S"],
        s3_version_id=item["s3_version_id"]["S"],
        metadata={k: v["S"] for k, v in item.get("metadata", {}).get("M", {}).items()},
    )


@dataclass(frozen=True, slots=True)
class Repository:
    """Image versions in one DynamoDB table."""

    client: DynamoDBClient
    table: str

    def latest(self, image_id: str) -> ImageVersion | Tombstone | None:
        """The highest version (a record or a tombstone), or None for an unknown id."""
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="id = :id AND version > :zero",
            ExpressionAttributeValues={":id": _s(image_id), ":zero": _n(0)},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return from_item(items[0]) if items else None

    def get(self, image_id: str, version: int) -> ImageVersion | Tombstone | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"id": _s(image_id), "version": _n(version)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def versions(self, image_id: str) -> Iterator[ImageVersion | Tombstone]:
        """Every version of ``image_id``, newest first (tombstones included)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "id = :id AND version > :zero",
            "ExpressionAttributeValues": {":id": _s(image_id), ":zero": _n(0)},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**kwargs)
            for item in response.get("Items", []):
                yield from_item(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def put_version(self, record: ImageVersion) -> None:
        """Write ``record`` only if its version number is free; else raise VersionTaken."""
        self._put_new(to_item(record))

    def put_tombstone(self, tombstone: Tombstone) -> None:
        self._put_new(
            {
                "id": _s(tombstone.id),
                "version": _n(tombstone.version),
                "kind": _s(KIND_DELETED),
                "deleted_at": _s(tombstone.deleted_at),
            }
        )

    def _put_new(self, item: dict[str, Any]) -> None:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise VersionTaken(f"{item['id']['S']} v{item['version']['N']}") from None
