"""AWS clients: created on first use, cached for reuse across invocations, replaceable in tests.

Nothing here runs at import time (cold start). The endpoint comes from boto3's own
``AWS_ENDPOINT_URL`` handling, which is how the local mode points everything at moto.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_cloudfront.client import CloudFrontClient
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

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
                # SigV4 presigned URLs that work in every region, path-style on custom endpoints.
                config = config.merge(Config(signature_version="s3v4"))
            _clients[key] = boto3.client(  # type: ignore[call-overload]
                service, region_name=region or None, config=config
            )
        return _clients[key]


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
