"""What a client gets for a body in each size band, as API Gateway and Lambda answer in AWS.

- Up to the service's ``max_body_bytes`` (4.5 MB by default): the function takes the image.
- Over it, while the proxy event still fits Lambda's 6 MB invocation payload: the function's
  own 413 ``payload_too_large``, which points to ``POST /uploads``.
- Over Lambda's invocation payload (a body of about 4.7 MB and more, once base64-encoded into the
  event), up to 10 MB: the function never runs, and API Gateway answers its REQUEST_TOO_LARGE
  413, ``{"message": "Request Too Long"}``, which an API cannot customise (no CORS headers).
- Over API Gateway's 10 MB: its REQUEST_TOO_LARGE 413, which AWS does not let an API customise:
  plain text, no JSON, no CORS headers.

None of them changes what was stored. docs/api-limits.md gives the sources.
"""

from __future__ import annotations

import pytest
import requests

from imgsvc.config import DEFAULT_MAX_BODY_BYTES
from imgsvc_local import gateway
from tests.http.support import assert_error, create, snapshot
from tests.support import imagegen

pytestmark = pytest.mark.http

JPEG_START = b"\xff\xd8\xff"
# Over the function's limit, but small enough for the event (base64 adds a third).
OVER_SERVICE = JPEG_START + b"\x00" * (DEFAULT_MAX_BODY_BYTES + 100_000)
# Under API Gateway's 10 MB, over Lambda's 6 MB event.
OVER_INVOKE = JPEG_START + b"\x00" * (6 * 1024 * 1024)
# Over API Gateway's 10 MB.
OVER_GATEWAY = JPEG_START + b"\x00" * (10 * 1024 * 1024)


def _send(api: str, method: str, image_id: str | None, data: bytes) -> requests.Response:
    url = f"{api}/images/{image_id}" if image_id else f"{api}/images?name=big.jpg"
    return requests.request(
        method, url, data=data, headers={"Content-Type": "image/jpeg"}, timeout=120
    )


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_over_the_service_limit_is_the_functions_413(api: str, method: str) -> None:
    image_id = create(api, imagegen.jpeg(60, 40, seed=21))["id"]
    before = snapshot(api, image_id)
    response = _send(api, method, image_id if method == "PUT" else None, OVER_SERVICE)
    error = assert_error(response, 413, "payload_too_large")
    assert "/uploads" in error["message"]
    assert f"at most {DEFAULT_MAX_BODY_BYTES:,}" in error["message"]
    assert snapshot(api, image_id) == before


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_over_lambdas_invoke_limit_is_api_gateways_json_413(api: str, method: str) -> None:
    """Reported from a REST API with a Lambda proxy integration (docs/api-limits.md): 413,
    ``application/json``, ``{"message": "Request Too Long"}``, the REQUEST_TOO_LARGE gateway
    response, not the API's error shape and not a 5xx."""
    image_id = create(api, imagegen.jpeg(60, 40, seed=22))["id"]
    before = snapshot(api, image_id)
    response = _send(api, method, image_id if method == "PUT" else None, OVER_INVOKE)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "Request Too Long"}
    assert "Access-Control-Allow-Origin" not in response.headers
    assert snapshot(api, image_id) == before


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_over_api_gateways_10_mb_is_its_plain_text_413(api: str, method: str) -> None:
    image_id = create(api, imagegen.jpeg(60, 40, seed=23))["id"]
    before = snapshot(api, image_id)
    response = _send(api, method, image_id if method == "PUT" else None, OVER_GATEWAY)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == f"HTTP content length exceeded {gateway.API_GATEWAY_MAX_BODY} bytes."
    assert "Access-Control-Allow-Origin" not in response.headers
    assert snapshot(api, image_id) == before


def test_the_bands_meet_where_aws_puts_them() -> None:
    """The local gateway's limits are AWS's quotas, not round numbers of its own."""
    assert gateway.API_GATEWAY_MAX_BODY == 10 * 1024 * 1024
    # Lambda: "Invocation payload (request and response): 6 MB each for synchronous" (quotas).
    assert gateway.LAMBDA_MAX_PAYLOAD == 6 * 1024 * 1024
    # The default service limit leaves room for base64 and the event's envelope.
    assert DEFAULT_MAX_BODY_BYTES * 4 / 3 + 20_000 < gateway.LAMBDA_MAX_PAYLOAD
