"""The API function: every route of openapi.yaml with ``x-imgsvc-function: api``.

Cold start: the GIF status (:mod:`imgsvc.gifs`, with the effects) and the direct-upload
tickets (:mod:`imgsvc.upload_tickets`) are imported by their routes on first use, so a cold
start that serves ``/images`` or ``/health`` does not pay for them. The answers' JSON bodies
come from :mod:`imgsvc.handlers.bodies`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from imgsvc import metrics, service
from imgsvc.errors import BadRequest
from imgsvc.handlers.bodies import (
    gifs_body,
    image_body,
    ticket_body,
    upload_status_body,
    versions_body,
)
from imgsvc.handlers.http import (
    base_url,
    body_bytes,
    cors_config,
    header_values,
    json_response,
    register_error_handlers,
)
from imgsvc.image_requests import ImageUpload, parse_image_request
from imgsvc.logs import logger
from imgsvc.wiring import deps

app = APIGatewayRestResolver(cors=cors_config())
app.use(middlewares=[metrics.remember_route])
register_error_handlers(app)


def _upload() -> ImageUpload:
    names = (app.current_event.multi_value_query_string_parameters or {}).get("name") or []
    if len(names) > 1:  # API Gateway's single-value view would silently keep the last
        raise BadRequest("The 'name' parameter is given more than once.", code="invalid_name")
    return parse_image_request(
        body=body_bytes(app),
        headers=header_values(app),
        name=app.current_event.get_query_string_value("name"),
        max_bytes=deps().config.max_body_bytes,
    )


@app.get("/health")
def health() -> Response[str]:
    return json_response(200, {"status": "ok"})


@app.post("/images")
def create_image() -> Response[str]:
    record = service.create_image(deps(), _upload())
    return json_response(
        201, image_body(record, base_url(app)), headers={"Location": f"/images/{record.id}"}
    )


@app.get("/images/<image_id>")
def get_image(image_id: str) -> Response[str]:
    return json_response(200, image_body(service.latest(deps(), image_id), base_url(app)))


@app.put("/images/<image_id>")
def update_image(image_id: str) -> Response[str]:
    service.require_id(image_id)
    record = service.update_image(deps(), image_id, _upload())
    return json_response(200, image_body(record, base_url(app)))


@app.delete("/images/<image_id>")
def delete_image(image_id: str) -> Response[str]:
    service.delete_image(deps(), image_id)
    return Response(status_code=204, body="")


@app.post("/images/<image_id>/restore")
def restore_image(image_id: str) -> Response[str]:
    from imgsvc import restore

    version = service.parse_version(app.current_event.get_query_string_value("version"))
    record = restore.restore_image(deps(), image_id, version)
    return json_response(200, image_body(record, base_url(app)))


@app.get("/images/<image_id>/versions")
def list_versions(image_id: str) -> Response[str]:
    records = service.list_versions(deps(), image_id)
    return json_response(200, versions_body(image_id, records, base_url(app)))


@app.get("/images/<image_id>/versions/<version>")
def get_version(image_id: str, version: str) -> Response[str]:
    number = service.parse_version(version)
    assert number is not None
    record = service.get_version(deps(), service.require_id(image_id), number)
    return json_response(200, image_body(record, base_url(app)))


@app.get("/images/<image_id>/content")
def get_content(image_id: str) -> Response[str]:
    version = service.parse_version(app.current_event.get_query_string_value("version"))
    url = service.content_url(deps(), image_id, version)
    return Response(
        status_code=302, body="", headers={"Location": url, "Cache-Control": "no-store"}
    )


@app.get("/images/<image_id>/gifs")
def get_gifs(image_id: str) -> Response[str]:
    from imgsvc import gifs

    found = deps()
    body = gifs_body(gifs.status(found, image_id), found.config.cdn_base_url)
    return json_response(200, body, headers={"Cache-Control": "no-store"})


@app.post("/uploads")
def create_upload() -> Response[str]:
    from imgsvc import upload_tickets

    found = deps()
    request = upload_tickets.parse_upload_request(body_bytes(app))
    ticket, form = upload_tickets.create_upload(found, request)
    return json_response(
        201,
        ticket_body(ticket, form, found.config),
        headers={"Location": f"/uploads/{ticket.id}", "Cache-Control": "no-store"},
    )


@app.get("/uploads/<upload_id>")
def get_upload(upload_id: str) -> Response[str]:
    from imgsvc import upload_tickets

    ticket = upload_tickets.upload_status(deps(), upload_id)
    return json_response(200, upload_status_body(ticket), headers={"Cache-Control": "no-store"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.function("api")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = app.resolve(event, context)
    metrics.request(response)
    return response
