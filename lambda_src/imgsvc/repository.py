"""The metadata repository: image versions in DynamoDB (partition ``id``, sort ``version``).

Items per image id:
- ``version >= 1``, ``kind = "image"``: one per stored version (:class:`ImageVersion`).
- ``version >= 2``, ``kind = "deleted"``: a tombstone written by DELETE as the next version, so
  "latest" stays one query and a racing update cannot slip in behind a delete.
- ``version = 0``, ``kind = "upload"``: the direct-upload ticket of that id (see
  :mod:`imgsvc.upload_tickets`); ``latest`` and ``versions`` never return it. Tickets are the only
  items with a TTL (:data:`TTL_ATTRIBUTE`): versions and tombstones are kept for good.

Every write of a version is conditional on the key being free: two writers can never both own
one version number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imgsvc.records import ImageVersion, Tombstone, parse_rfc3339

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb.client import DynamoDBClient

KIND_IMAGE = "image"
KIND_DELETED = "deleted"
KIND_UPLOAD = "upload"
TICKET_VERSION = 0

# The table's TTL attribute (modules/metadata-table: ttl_attribute_name), epoch seconds as a
# Number. Only upload tickets carry it; DynamoDB deletes an item some time after it passes.
TTL_ATTRIBUTE = "purge_at"

UPLOAD_PENDING = "pending"
UPLOAD_PROCESSED = "processed"
UPLOAD_REJECTED = "rejected"
# The rejection of an upload given up on (its processing never finished): the only outcome a
# later delivery may still replace, with version 1 or the file's real rejection.
UPLOAD_GIVEN_UP = "processing_failed"


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
class UploadTicket:
    """A direct upload that was handed out: what the image will be called, and where it is.

    ``status`` is ``pending`` until the uploaded file was processed, then ``processed`` (the
    image exists as version 1 of ``id``) or ``rejected`` (``error_code``/``error_message`` say
    why). Both outcomes are final: a ticket is good for one image.

    ``purge_at`` (epoch seconds) is when the ticket is gone: DynamoDB's TTL deletes the item
    after it, lazily (up to days later), so readers treat it as deleted from then on. None for
    tickets written before tickets had a TTL.
    """

    id: str
    name: str
    content_type: str
    created_at: str
    expires_at: str
    status: str = UPLOAD_PENDING
    metadata: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    updated_at: str | None = None
    purge_at: int | None = None


def ticket_to_item(ticket: UploadTicket) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": _s(ticket.id),
        "version": _n(TICKET_VERSION),
        "kind": _s(KIND_UPLOAD),
        "name": _s(ticket.name),
        "content_type": _s(ticket.content_type),
        "created_at": _s(ticket.created_at),
        "expires_at": _s(ticket.expires_at),
        "status": _s(ticket.status),
        "metadata": {"M": {k: _s(v) for k, v in ticket.metadata.items()}},
    }
    if ticket.error_code is not None:
        item["error_code"] = _s(ticket.error_code)
    if ticket.error_message is not None:
        item["error_message"] = _s(ticket.error_message)
    if ticket.updated_at is not None:
        item["updated_at"] = _s(ticket.updated_at)
    if ticket.purge_at is not None:
        item[TTL_ATTRIBUTE] = _n(ticket.purge_at)
    return item


def ticket_from_item(item: dict[str, Any]) -> UploadTicket:
    def optional(name: str) -> str | None:
        value = item.get(name)
        return value["S"] if value else None

    return UploadTicket(
        id=item["id"]["S"],
        name=item["name"]["S"],
        content_type=item["content_type"]["S"],
        created_at=item["created_at"]["S"],
        expires_at=item["expires_at"]["S"],
        status=item["status"]["S"],
        metadata={k: v["S"] for k, v in item.get("metadata", {}).get("M", {}).items()},
        error_code=optional("error_code"),
        error_message=optional("error_message"),
        updated_at=optional("updated_at"),
        purge_at=int(item[TTL_ATTRIBUTE]["N"]) if TTL_ATTRIBUTE in item else None,
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

    def find_by_s3_version(
        self,
        image_id: str,
        s3_version_id: str,
        *,
        floor: int | None,
        until: datetime | None = None,
        page_size: int = 4,
    ) -> ImageVersion | None:
        """The record pointing at ``s3_version_id``, looked for from version ``floor`` up, a
        page of ``page_size`` items at a time: what it reads depends on how many versions were
        committed from ``floor`` on, not on how many came before. From a floor, the walk stops
        at the first record created after ``until`` (the last moment the S3 version's commit
        could have happened). With no floor (an S3 version stored before floors were recorded)
        every version is read, newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "id = :id AND version >= :floor",
            "ExpressionAttributeValues": {":id": _s(image_id), ":floor": _n(max(floor or 1, 1))},
            "ScanIndexForward": floor is not None,
            "ConsistentRead": True,
        }
        if floor is not None:
            kwargs["Limit"] = page_size
        while True:
            response = self.client.query(**kwargs)
            for item in response.get("Items", []):
                found = from_item(item)
                if isinstance(found, ImageVersion) and found.s3_version_id == s3_version_id:
                    return found
                if (
                    floor is not None
                    and until is not None
                    and isinstance(found, ImageVersion)
                    and parse_rfc3339(found.created_at) > until
                ):
                    return None  # committed later than this S3 version's commit could be
            last = response.get("LastEvaluatedKey")
            if not last:
                return None
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

    def put_ticket(self, ticket: UploadTicket) -> None:
        """Store a new upload ticket (version 0); VersionTaken if the id already has one."""
        self._put_new(ticket_to_item(ticket))

    def get_ticket(self, image_id: str) -> UploadTicket | None:
        """The stored ticket, also one past its ``purge_at`` that DynamoDB has not deleted yet
        (:func:`imgsvc.upload_tickets.live_ticket` hides those)."""
        response = self.client.get_item(
            TableName=self.table,
            Key={"id": _s(image_id), "version": _n(TICKET_VERSION)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return ticket_from_item(item) if item and item["kind"]["S"] == KIND_UPLOAD else None

    def mark_processed(self, image_id: str, at: str) -> None:
        """The ticket's image exists. Unconditional on the old status: once version 1 is
        committed, ``processed`` is the truth even if a racing delivery rejected other bytes."""
        self._settle(image_id, UPLOAD_PROCESSED, at, None, only_if_pending=False)

    def mark_rejected(self, image_id: str, at: str, code: str, message: str) -> bool:
        """Reject a pending (or given-up) ticket; False (nothing written) if it was settled
        already."""
        return self._settle(image_id, UPLOAD_REJECTED, at, (code, message), only_if_pending=True)

    def _settle(
        self,
        image_id: str,
        status: str,
        at: str,
        error: tuple[str, str] | None,
        *,
        only_if_pending: bool,
    ) -> bool:
        values: dict[str, Any] = {":status": _s(status), ":at": _s(at), ":kind": _s(KIND_UPLOAD)}
        condition = "#kind = :kind"
        if only_if_pending:
            condition += " AND (#status = :pending OR error_code = :given_up)"
            values[":pending"] = _s(UPLOAD_PENDING)
            values[":given_up"] = _s(UPLOAD_GIVEN_UP)
        if error is None:
            update = "SET #status = :status, updated_at = :at REMOVE error_code, error_message"
        else:
            update = (
                "SET #status = :status, updated_at = :at, error_code = :code, error_message = :m"
            )
            values[":code"], values[":m"] = _s(error[0]), _s(error[1])
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"id": _s(image_id), "version": _n(TICKET_VERSION)},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status", "#kind": "kind"},
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _put_new(self, item: dict[str, Any]) -> None:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise VersionTaken(f"{item['id']['S']} v{item['version']['N']}") from None
