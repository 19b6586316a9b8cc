"""AWS clients: created on first use, cached for reuse across invocations, replaceable in tests.

Nothing here runs at import time (cold start). The endpoint comes from boto3's own
``AWS_ENDPOINT_URL`` handling, which is how the local mode points everything at moto.

The SDK is the one the layer bundles (build.py), found before the runtime's own on Lambda's
search path. The S3 client checks on creation that its botocore can send what the code sends
(:func:`check_s3_model`): an older SDK would fail every such call with a vague parameter error,
or, worse, drop nothing and never be noticed; this fails first, naming the fix.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_cloudfront.client import CloudFrontClient
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

# S3 PutObject parameters the code relies on: conditional writes (renditions are written once,
# IfNoneMatch="*") and checksums (S3 checks an original's SHA-256 on arrival).
REQUIRED_PUT_OBJECT_MEMBERS = ("IfNoneMatch", "ChecksumSHA256")

_lock = threading.Lock()
_clients: dict[tuple[str, str | None], Any] = {}


def client(service: str, region: str | None = None) -> Any:
    """The cached boto3 client for ``service`` (in ``region``, default: the function's own)."""
    key = (service, region or None)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _clients:
            import boto3  # deferred: importing boto3 is most of a cold start
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 4})
            if service == "s3":
                config = _s3_config(config)
            created = boto3.client(  # type: ignore[call-overload]
                service, region_name=region or None, config=config
            )
            if service == "s3":
                check_s3_model(created.meta.service_model)
            _clients[key] = created
        return _clients[key]


def check_s3_model(model: Any) -> None:
    """RuntimeError unless the S3 model of this botocore has every PutObject parameter the code
    sends (:data:`REQUIRED_PUT_OBJECT_MEMBERS`)."""
    members = model.operation_model("PutObject").input_shape.members
    missing = [name for name in REQUIRED_PUT_OBJECT_MEMBERS if name not in members]
    if missing:
        import botocore

        raise RuntimeError(
            f"botocore {botocore.__version__} (from {botocore.__file__}) cannot send S3 PutObject "
            f"{', '.join(missing)}. The functions need the SDK their layer bundles: deploy the "
            "layer that build.py makes, listed first in the function's layers."
        )


def _s3_config(base: Config) -> Config:
    """Where S3 requests, presigned URLs and presigned POST forms point.

    On AWS: the bucket's regional virtual-hosted endpoint, https://<bucket>.s3.<region>.amazonaws.com/
    (SigV4 signs for that region). botocore's default for presigning is the global endpoint
    https://<bucket>.s3.amazonaws.com/, which S3 answers with a 307 to the regional one for up to
    24 hours after a bucket is created outside us-east-1 (AWS: "Request routing", and the
    knowledge-center article "Why does Amazon S3 return an HTTP 307 Temporary Redirect
    response?"); a browser's CORS POST does not follow it. ``us_east_1_regional_endpoint`` does
    the same in us-east-1 (s3.us-east-1.amazonaws.com).

    On a custom endpoint (AWS_ENDPOINT_URL[_S3]: the local mode's moto server), botocore's own
    choice: path-style for an address such as 127.0.0.1, which has no bucket subdomains.
    """
    from botocore.config import Config

    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
        return base.merge(Config(signature_version="s3v4"))
    regional = Config(
        signature_version="s3v4",
        s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
    )
    return base.merge(regional)


def s3(region: str | None = None) -> S3Client:
    return client("s3", region)  # type: ignore[no-any-return]


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")  # type: ignore[no-any-return]


def sns() -> SNSClient:
    return client("sns")  # type: ignore[no-any-return]


def sqs() -> SQSClient:
    return client("sqs")  # type: ignore[no-any-return]


def cloudfront() -> CloudFrontClient:
    return client("cloudfront")  # type: ignore[no-any-return]


def set_client(service: str, value: Any, region: str | None = None) -> None:
    """Inject a client (tests, or the local mode with its own endpoint)."""
    with _lock:
        _clients[(service, region or None)] = value


def reset() -> None:
    """Forget every cached client (tests that switch moto backends)."""
    with _lock:
        _clients.clear()
