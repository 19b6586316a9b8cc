"""Run the applied stack the way Lambda would, against the moto server it was applied to.

Each function runs in its own ``python -I -S`` process from the built artifacts only: its zip
extracted as the task root and the layer zip extracted as ``/opt``, with Lambda's search path
(task root, ``/opt/python/lib/pythonX.Y/site-packages``, ``/opt/python``) and nothing else
(``-I``: no PYTHON* variables, no user site; ``-S``: no site-packages of this machine). Its
environment is the applied function configuration's plus what Lambda sets, and its credentials
are its own role's (``sts:AssumeRole``). The one deviation: ``AWS_ENDPOINT_URL`` points its SDK
at moto.

The test plays the AWS services moto cannot: API Gateway and CloudFront (the events they send),
and Lambda's SQS poller (receive with the function's role, invoke with the batch, delete what
succeeded), as the event source mapping does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from tests.support.events import event as fixture_event
from tests.terraform.against_moto import REGION, Moto

ACCOUNT_ID = "123456789012"
ADMIN_USER = "imgsvc-rehearsal-admin"
DECISIONS_PATH = "/_rehearsal/decisions"
INVOKE_TIMEOUT = 300

# Lambda's bootstrap, reduced to what matters here: the search path, the handler, the context.
# https://docs.aws.amazon.com/lambda/latest/dg/python-package.html ("Dependency search path and
# runtime-included libraries"): the task root first, then the layer's two directories.
BOOTSTRAP = """\
import importlib, json, sys, time
task, opt, handler, event_file, result_file = sys.argv[1:6]
version = "python%d.%d" % sys.version_info[:2]
sys.path[:0] = [task, f"{opt}/python/lib/{version}/site-packages", f"{opt}/python"]

class Context:
    def __init__(self, environ):
        self.function_name = environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.invoked_function_arn = environ["IMGSVC_REHEARSAL_FUNCTION_ARN"]
        self.aws_request_id = environ["IMGSVC_REHEARSAL_REQUEST_ID"]
        self.log_group_name = environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = "rehearsal"
        self._deadline = time.monotonic() + int(environ["IMGSVC_REHEARSAL_TIMEOUT"])

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

import os
module, _, name = handler.rpartition(".")
function = getattr(importlib.import_module(module), name)
with open(event_file) as stream:
    event = json.load(stream)
result = function(event, Context(os.environ))
modules = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())}
with open(result_file, "w") as stream:
    json.dump({"result": result, "sys_path": sys.path, "modules": modules}, stream)
"""


@dataclass
class Invocation:
    function: str
    returncode: int
    result: Any
    logs: str
    errors: str
    sys_path: list[str]
    modules: dict[str, str | None]

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Function:
    """One deployed function as the rehearsal runs it."""

    key: str  # the stack's key: api, resize, uploads, effect-<name>
    name: str
    arn: str
    handler: str
    role_arn: str
    timeout: int
    memory: int
    variables: dict[str, str]
    credentials: dict[str, str] = field(default_factory=dict)

    def client(self, endpoint: str, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=self.credentials["AccessKeyId"],
            aws_secret_access_key=self.credentials["SecretAccessKey"],
            aws_session_token=self.credentials["SessionToken"],
        )


def extract(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(dest)
    return dest


@dataclass
class Rehearsal:
    moto: Moto
    task_root: Path  # the deployed function zip, extracted (all functions ship the same)
    opt: Path  # the layer zip built for this machine, extracted
    work: Path
    functions: dict[str, Function]
    admin: dict[str, str] = field(default_factory=dict)
    decisions_from: int = 0

    # --- clients -------------------------------------------------------------------------

    def admin_client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=self.moto.endpoint,
            aws_access_key_id=self.admin["AccessKeyId"],
            aws_secret_access_key=self.admin["SecretAccessKey"],
        )

    def decisions(self) -> list[dict[str, Any]]:
        """moto's authorisation decisions since enforcement was switched on for this run."""
        found = requests.get(self.moto.endpoint + DECISIONS_PATH, timeout=30)
        found.raise_for_status()
        return list(found.json())[self.decisions_from :]

    # --- running a function ----------------------------------------------------------------

    def environment(self, function: Function, request_id: str) -> dict[str, str]:
        """What Lambda puts in the environment, then the function's own variables."""
        creds = function.credentials
        env = {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "rehearsal",
            "AWS_EXECUTION_ENV": "AWS_Lambda_rehearsal",
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            # Nothing of this machine's AWS configuration, no instance metadata.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            # The one deviation from Lambda: the SDK talks to moto.
            "AWS_ENDPOINT_URL": self.moto.endpoint,
            "IMGSVC_REHEARSAL_FUNCTION_ARN": function.arn,
            "IMGSVC_REHEARSAL_REQUEST_ID": request_id,
            "IMGSVC_REHEARSAL_TIMEOUT": str(function.timeout),
        }
        return {**env, **function.variables}

    @property
    def bootstrap(self) -> Path:
        """The runtime's entry point (it is ``__main__`` in every function process)."""
        path = self.work / "bootstrap.py"
        if not path.exists():
            path.write_text(BOOTSTRAP)
        return path

    def invoke(self, key: str, event: dict[str, Any]) -> Invocation:
        function = self.functions[key]
        request_id = str(uuid.uuid4())
        directory = self.work / "invocations" / request_id
        directory.mkdir(parents=True)
        (directory / "event.json").write_text(json.dumps(event))
        bootstrap = self.bootstrap
        done = subprocess.run(
            [
                sys.executable,
                "-I",
                "-S",
                str(bootstrap),
                str(self.task_root),
                str(self.opt),
                function.handler,
                str(directory / "event.json"),
                str(directory / "result.json"),
            ],
            env=self.environment(function, request_id),
            cwd=self.task_root,
            capture_output=True,
            text=True,
            timeout=INVOKE_TIMEOUT,
            check=False,
        )
        output = directory / "result.json"
        found = json.loads(output.read_text()) if output.exists() else {}
        return Invocation(
            function=key,
            returncode=done.returncode,
            result=found.get("result"),
            logs=done.stdout,
            errors=done.stderr,
            sys_path=list(found.get("sys_path", [])),
            modules=dict(found.get("modules", {})),
        )

    # --- what API Gateway, CloudFront and Lambda's SQS poller send --------------------------

    def queue_url(self, queue_arn: str) -> str:
        """The queue's URL from its ARN, as the poller knows it (no sqs:GetQueueUrl)."""
        _, _, _, _, account, name = queue_arn.split(":")
        return f"{self.moto.endpoint}/{account}/{name}"

    def poll(self, key: str, *, containing: str, wait: float = 30.0) -> list[dict[str, Any]]:
        """Receive from the function's queue with its own role, as its event source mapping
        does, until a message body holds ``containing``; the SQS records of one batch."""
        function = self.functions[key]
        lam = self.admin_client("lambda")
        (mapping,) = lam.list_event_source_mappings(FunctionName=function.name)[
            "EventSourceMappings"
        ]
        queue_arn = mapping["EventSourceArn"]
        sqs = function.client(self.moto.endpoint, "sqs")
        url = self.queue_url(queue_arn)
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if any(containing in record["body"] for record in records):
                break
            received = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=1,
            )
            for message in received.get("Messages", []):
                records.append(
                    {
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": message.get("Attributes", {}),
                        "messageAttributes": message.get("MessageAttributes", {}),
                        "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": REGION,
                    }
                )
        return records

    def consume(self, key: str, *, containing: str) -> tuple[Invocation, list[dict[str, Any]]]:
        """One poll, one invocation with the batch, then the poller deletes what succeeded."""
        records = self.poll(key, containing=containing)
        assert any(containing in r["body"] for r in records), f"{key}: no message on {containing}"
        invocation = self.invoke(key, {"Records": records})
        failed = {
            item["itemIdentifier"]
            for item in (invocation.result or {}).get("batchItemFailures", [])
        }
        if invocation.ok:
            function = self.functions[key]
            sqs = function.client(self.moto.endpoint, "sqs")
            for record in records:
                if record["messageId"] in failed:
                    continue
                url = self.queue_url(record["eventSourceARN"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        return invocation, records


def rest_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    binary: bool = False,
    stage: str,
    stage_variables: dict[str, str] | None,
    api_id: str,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (binary media types arrive base64-encoded)."""
    event = fixture_event("apigw_rest")
    host = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    headers = {**event["headers"], "Host": host}
    if content_type:
        headers["Content-Type"] = content_type
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=headers,
        multiValueHeaders={name: [value] for name, value in headers.items()},
        pathParameters=path_parameters,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        stageVariables=stage_variables,
        body=(
            None
            if body is None
            else base64.b64encode(body).decode()
            if binary
            else body.decode("utf-8")
        ),
        isBase64Encoded=bool(body) and binary,
    )
    context = event["requestContext"]
    context.update(
        resourcePath=resource,
        httpMethod=method,
        path=f"/{stage}{path}",
        stage=stage,
        apiId=api_id,
        domainName=host,
        domainPrefix=api_id,
        requestId=str(uuid.uuid4()),
    )
    return event


def origin_event(path: str) -> dict[str, Any]:
    """What CloudFront sends the resize function's URL when a rendition is missing in S3."""
    event = fixture_event("lambda_url_rendition")
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return event


def set_enforcement(moto: Moto, on: bool) -> None:
    """moto's IAM enforcement: on from the next request, or off ("inf" requests without it)."""
    response = requests.post(
        f"{moto.endpoint}/moto-api/reset-auth",
        data=b"0" if on else b"inf",
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    response.raise_for_status()


@contextmanager
def enforced(rehearsal: Rehearsal) -> Iterator[Rehearsal]:
    rehearsal.decisions_from = 0
    rehearsal.decisions_from = len(rehearsal.decisions())
    set_enforcement(rehearsal.moto, True)
    try:
        yield rehearsal
    finally:
        set_enforcement(rehearsal.moto, False)


def prepare(
    moto: Moto, function_names: dict[str, str], task_zip: Path, layer_zip: Path, work: Path
) -> Rehearsal:
    """Read the applied functions, assume their roles and make the harness's administrator,
    all before enforcement is on (moto crashes assuming a service role under enforcement)."""
    lam = moto.client("lambda")
    sts = moto.client("sts")
    functions: dict[str, Function] = {}
    for key, name in function_names.items():
        config = lam.get_function_configuration(FunctionName=name)
        function = Function(
            key=key,
            name=name,
            arn=config["FunctionArn"],
            handler=config["Handler"],
            role_arn=config["Role"],
            timeout=int(config["Timeout"]),
            memory=int(config["MemorySize"]),
            variables=dict(config.get("Environment", {}).get("Variables", {})),
        )
        assumed = sts.assume_role(RoleArn=function.role_arn, RoleSessionName=name)
        function.credentials = dict(assumed["Credentials"])
        functions[key] = function
    iam = moto.client("iam")
    iam.create_user(UserName=ADMIN_USER)
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(everything)
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    rehearsal = Rehearsal(
        moto=moto,
        task_root=extract(task_zip, work / "task"),
        opt=extract(layer_zip, work / "opt"),
        work=work,
        functions=functions,
    )
    rehearsal.admin = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    return rehearsal


def remove_admin(moto: Moto) -> None:
    iam = moto.client("iam")
    for key in iam.list_access_keys(UserName=ADMIN_USER)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=ADMIN_USER, AccessKeyId=key["AccessKeyId"])
    iam.delete_user_policy(UserName=ADMIN_USER, PolicyName="everything")
    iam.delete_user(UserName=ADMIN_USER)
