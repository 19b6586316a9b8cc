"""moto_server.py behaves as AWS where the Terraform tests rely on it (beyond moto 5.2.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.terraform.against_moto import Moto, moto_server

pytestmark = pytest.mark.terraform

LOGS = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/x"
ROLE = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    with moto_server() as server:
        yield server


def _stage(moto: Moto, region: str) -> tuple[Any, str]:
    apigw = moto.client("apigateway", region)
    api = apigw.create_rest_api(name="logging")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="v1", deploymentId=deployment)
    return apigw, api


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOGS},
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
    ],
    ids=["access-logs", "execution-logs"],
)
def test_logging_needs_the_accounts_cloudwatch_role(moto: Moto, operation: dict[str, str]) -> None:
    # AWS: "CloudWatch Logs role ARN must be set in account settings to enable logging".
    region = "eu-north-1" if "access" in operation["path"] else "eu-south-1"
    apigw, api = _stage(moto, region)
    with pytest.raises(ClientError, match="CloudWatch Logs role ARN must be set"):
        apigw.update_stage(restApiId=api, stageName="v1", patchOperations=[operation])
    apigw.update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE}]
    )
    apigw.update_stage(restApiId=api, stageName="v1", patchOperations=[operation])


def test_turning_logging_off_needs_no_role(moto: Moto) -> None:
    apigw, api = _stage(moto, "ap-south-1")
    off = {"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}
    apigw.update_stage(restApiId=api, stageName="v1", patchOperations=[off])
