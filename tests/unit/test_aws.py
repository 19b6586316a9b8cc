"""The SDK check: an S3 client whose botocore cannot send what the code sends fails at once."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.model import ServiceModel

from imgsvc import aws


def _s3_model_without(*dropped: str) -> ServiceModel:
    """The installed S3 model with PutObject's ``dropped`` parameters taken out, as in an
    older botocore."""
    loader = boto3.session.Session()._loader  # type: ignore[attr-defined]
    raw: dict[str, Any] = loader.load_service_model("s3", "service-2")
    shape = raw["operations"]["PutObject"]["input"]["shape"]
    members = raw["shapes"][shape]["members"]
    raw["shapes"][shape]["members"] = {k: v for k, v in members.items() if k not in dropped}
    return ServiceModel(raw, "s3")


def test_the_installed_sdk_sends_conditional_writes_and_checksums() -> None:
    client = boto3.client("s3", region_name="eu-west-1")
    aws.check_s3_model(client.meta.service_model)  # no error


@pytest.mark.parametrize(
    "dropped", [("IfNoneMatch",), ("ChecksumSHA256",), ("IfNoneMatch", "ChecksumSHA256")]
)
def test_an_sdk_without_them_is_a_clear_error_naming_the_fix(dropped: tuple[str, ...]) -> None:
    with pytest.raises(RuntimeError) as raised:
        aws.check_s3_model(_s3_model_without(*dropped))
    message = str(raised.value)
    assert f"cannot send S3 PutObject {', '.join(dropped)}." in message
    assert "botocore 1." in message
    assert "build.py" in message


def test_the_s3_client_is_checked_when_it_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    old = _s3_model_without("IfNoneMatch")
    real_client = boto3.client

    def client(service: str, **kwargs: Any) -> Any:
        made = real_client(service, **kwargs)  # type: ignore[call-overload]
        made.meta._service_model = old
        return made

    monkeypatch.setattr(boto3, "client", client)
    aws.reset()
    try:
        with pytest.raises(RuntimeError, match="IfNoneMatch"):
            aws.s3("eu-west-1")
        assert aws.client("sqs", "eu-west-1") is not None  # only S3 is checked
    finally:
        aws.reset()
