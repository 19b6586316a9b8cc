"""The JSON bodies of the API's answers (the schemas of openapi.yaml), built from what the use
cases return. The use cases return typed values; only the handlers know the wire format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imgsvc import keys
from imgsvc.repository import UPLOAD_REJECTED

if TYPE_CHECKING:
    from imgsvc.config import Config
    from imgsvc.gifs import GifStatus
    from imgsvc.records import ImageVersion
    from imgsvc.repository import UploadTicket
    from imgsvc.storage import UploadForm


def image_body(record: ImageVersion, base_url: str) -> dict[str, Any]:
    """The ``Image`` schema: one version; ``url`` returns this version's exact bytes."""
    return {
        "id": record.id,
        "version": record.version,
        "name": record.name,
        "content_type": record.content_type,
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "sha256": record.sha256,
        "metadata": dict(record.metadata),
        "created_at": record.created_at,
        "url": f"{base_url}/images/{record.id}/content?version={record.version}",
    }


def versions_body(image_id: str, records: list[ImageVersion], base_url: str) -> dict[str, Any]:
    """The ``Versions`` schema: every version of an image, newest first."""
    return {"id": image_id, "versions": [image_body(record, base_url) for record in records]}


def gifs_body(status: GifStatus, cdn_base_url: str) -> dict[str, Any]:
    """The ``Gifs`` schema: each effect's status, and the CDN URL of the ready ones."""
    from imgsvc.gifs import READY  # loaded with the route (imgsvc.gifs): not on a cold start

    record = status.record
    effects: dict[str, Any] = {}
    for name, state in status.states.items():
        entry: dict[str, str] = {"status": state}
        if state == READY:
            entry["url"] = f"{cdn_base_url}/{keys.gif_key(record.id, record.version, name)}"
        effects[name] = entry
    return {"id": record.id, "version": record.version, "effects": effects}


def ticket_body(ticket: UploadTicket, form: UploadForm, cfg: Config) -> dict[str, Any]:
    """The ``UploadTicket`` schema: where and how to send the file."""
    return {
        "id": ticket.id,
        "upload": {"url": form.url, "fields": dict(form.fields)},
        "expires_in": cfg.upload_url_expires,
        "max_bytes": cfg.max_upload_bytes,
    }


def upload_status_body(ticket: UploadTicket) -> dict[str, Any]:
    """The ``UploadStatus`` schema: pending, processed, or rejected with the reason."""
    body: dict[str, Any] = {"id": ticket.id, "status": ticket.status}
    if ticket.status == UPLOAD_REJECTED:
        body["error"] = {
            "code": ticket.error_code or "rejected",
            "message": ticket.error_message or "The upload was rejected.",
        }
    return body
