"""Terraform against moto: one moto server per test module, and the provider and backend
overrides that point a stage root at it (fake credentials, a local state file).

test_dev_apply applies environments/dev there; test_environments plans the stages there and
reads the plans.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

REGION = "eu-west-1"
# Every service the stack touches; all of them answered by the one moto server.
SERVICES = [
    "acm",
    "apigateway",
    "cloudfront",
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "s3control",
    "sns",
    "sqs",
    "ssm",
    "sts",
]


@dataclass
class Moto:
    endpoint: str
    process: subprocess.Popen[str]

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextmanager
def moto_server() -> Iterator[Moto]:
    """moto_server.py in its own process on 127.0.0.1, stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_server.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    assert port.isdigit(), f"moto did not start (exit code {process.poll()})"
    try:
        yield Moto(f"http://127.0.0.1:{port}", process)
    finally:
        assert process.stdin is not None
        process.stdin.close()  # the server stops when its stdin closes
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def provider_block(endpoint: str, alias: str | None = None) -> str:
    """An ``aws`` provider block (or the override of one) answering from moto at ``endpoint``."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    alias_line = f'  alias = "{alias}"\n' if alias else ""
    return (
        'provider "aws" {\n'
        f"{alias_line}"
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  s3_use_path_style           = true\n"
        f"\n  endpoints {{\n{endpoints}\n  }}\n}}\n"
    )


def provider_override(endpoint: str) -> str:
    """An override file for a stage root: every provider at ``endpoint``, a local backend."""
    backend = 'terraform {\n  backend "local" {}\n}\n'
    providers = "\n".join(provider_block(endpoint, a) for a in (None, "replica", "us_east_1"))
    return f"{backend}\n{providers}"
