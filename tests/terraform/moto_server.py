"""moto's server for the `terraform apply` test, in its own process on 127.0.0.1.

    python tests/terraform/moto_server.py   # prints the port, serves until stdin closes

A separate process keeps moto's global state away from the tests' own in-process mocks.
Lambda runs without Docker (functions are stored, never executed). Two gaps of moto 5.2.1 are
filled here, in this test process only:

- CloudFront cache policies, response headers policies and CloudFront Functions have no moto
  API at all: :class:`CloudFrontExtras` keeps them in memory, echoing each configuration back
  exactly as it was sent, which is all Terraform needs to create, read and delete them.
- With ``use_docker`` off, moto publishes layers in its Docker-less backend but looks them up
  in the other one when a function uses them ("LayerVersion does not exist").
- SQS: setting any attribute clears the queue's Policy, and RedriveAllowPolicy is never
  returned, so Terraform waits forever for a DLQ's policies to show up.
- CloudFront distribution ARNs lack the empty region field, which Lambda permissions reject.
- S3 DeleteObjects fails (500) on a key whose versions include a delete marker, so
  `force_destroy` of a versioned bucket retries forever.
- API Gateway: AWS refuses to turn on a stage's access or execution logging while the account
  (in that region) has no CloudWatch role in its API Gateway settings ("CloudWatch Logs role ARN
  must be set in account settings to enable logging"); moto accepts it. Refused here as AWS does.
- Bucket policies: moto evaluates no Bool conditions, so the usual TLS-only statement (deny
  when aws:SecureTransport is false) denies every object write. Requests count as TLS here,
  as they are against AWS's HTTPS endpoints.
- S3 event notifications lack the object's versionId, which AWS sends for a versioned bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
- SQS event source mappings: moto "invokes" the function without running it (no Docker) and
  deletes the batch. Here messages stay in the queue, for the test that plays Lambda's poller
  (tests/terraform/rehearsal.py).

For the rehearsal, which runs the deployed functions with moto's IAM enforcement on
(``POST /moto-api/reset-auth``), three more (all inert while enforcement is off):

- Its signature check fails for valid requests: S3 ones whose query holds ``/`` or ``:``,
  API Gateway's (REST paths), even an administrator's. It is skipped; who the caller is (the
  access key and session token) and what it may do are still checked.
- DynamoDB calls are checked against resource ``*``, so a statement for a table's ARN never
  matches. Here they are checked against the table named in the request.
- A browser's POST of a presigned form carries its signer's credentials in form fields, not an
  ``Authorization`` header (moto fails on it). S3 allows it when the signer may PutObject that
  key (the form's policy and signature are not checked here); here it is authorised as such.

Every authorisation decision is recorded, and ``GET /_rehearsal/decisions`` returns them:
``[{"principal", "action", "resource", "allowed"}]``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

API = "/2020-05-31/"
XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
ACCOUNT_ID = "123456789012"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Response = tuple[str, list[tuple[str, str]], bytes]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _strip_declaration(xml: str) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", xml)


def _element(xml: str, name: str) -> str | None:
    """The raw text of the first ``<name ...>...</name>`` element (or ``<name/>``) in ``xml``."""
    match = re.search(rf"<{name}(\s[^>]*)?(/>|>.*?</{name}>)", xml, re.DOTALL)
    return match[0] if match else None


def _text(xml: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", xml, re.DOTALL)
    return match[1] if match else ""


@dataclass
class _Policy:
    id: str
    config: str  # the *Config element exactly as the client sent it
    etag: str
    modified: str


@dataclass
class _Function:
    name: str
    config: str  # the FunctionConfig element as sent
    code: bytes
    etag: str
    created: str
    modified: str
    live: tuple[str, str, bytes] | None = None  # (etag, config, code) of the published stage


@dataclass
class CloudFrontExtras:
    """The CloudFront APIs moto lacks, in front of moto's WSGI app."""

    app: WsgiApp
    policies: dict[str, dict[str, _Policy]] = field(default_factory=dict)
    functions: dict[str, _Function] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    # Path segment -> (root element, config element).
    KINDS: ClassVar[dict[str, tuple[str, str]]] = {
        "cache-policy": ("CachePolicy", "CachePolicyConfig"),
        "response-headers-policy": ("ResponseHeadersPolicy", "ResponseHeadersPolicyConfig"),
        "origin-request-policy": ("OriginRequestPolicy", "OriginRequestPolicyConfig"),
    }

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path == DECISIONS_PATH:
            with _DECISIONS_LOCK:
                body = json.dumps(_DECISIONS).encode()
            start("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path.startswith(API):
            parts = path[len(API) :].strip("/").split("/")
            if parts[0] in self.KINDS or parts[0] == "function":
                with self.lock:
                    status, headers, body = self._dispatch(environ, parts)
                start(status, headers)
                return [body]
        return self.app(environ, start)

    def _etag(self) -> str:
        return f"E{next(self._counter):012d}"

    def _dispatch(self, environ: dict[str, Any], parts: list[str]) -> Response:
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        query = dict(
            pair.split("=", 1) for pair in environ.get("QUERY_STRING", "").split("&") if "=" in pair
        )
        if parts[0] == "function":
            return self._function(method, parts[1:], body, query)
        return self._policy(parts[0], method, parts[1:], body)

    @staticmethod
    def _xml(status: str, body: str, etag: str | None = None, **extra: str) -> Response:
        headers = [("Content-Type", "text/xml")]
        if etag:
            headers.append(("ETag", etag))
        headers += [(k.replace("_", "-"), v) for k, v in extra.items()]
        payload = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode()
        return status, headers, payload

    @classmethod
    def _error(cls, status: str, code: str, message: str) -> Response:
        body = (
            f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>"
        )
        return cls._xml(status, body)

    def _policy(self, kind: str, method: str, rest: list[str], body: str) -> Response:
        root, config_name = self.KINDS[kind]
        store = self.policies.setdefault(kind, {})

        def render(policy: _Policy) -> str:
            return (
                f'<{root} xmlns="{XMLNS}"><Id>{policy.id}</Id>'
                f"<LastModifiedTime>{policy.modified}</LastModifiedTime>"
                f"{policy.config}</{root}>"
            )

        if not rest and method == "POST":
            config = _element(_strip_declaration(body), config_name) or ""
            name = _text(config, "Name")
            if any(_text(p.config, "Name") == name for p in store.values()):
                return self._error("409 Conflict", f"{root}AlreadyExists", f"{name} exists")
            policy = _Policy(str(uuid.uuid4()), config, self._etag(), _now())
            store[policy.id] = policy
            location = f"https://cloudfront.amazonaws.com{API}{kind}/{policy.id}"
            return self._xml("201 Created", render(policy), policy.etag, Location=location)
        if not rest and method == "GET":
            items = "".join(
                f"<{root}Summary><Type>custom</Type>{render(p)}</{root}Summary>"
                for p in store.values()
            )
            listing = f'<{root}List xmlns="{XMLNS}"><MaxItems>100</MaxItems>'
            listing += f"<Quantity>{len(store)}</Quantity><Items>{items}</Items></{root}List>"
            return self._xml("200 OK", listing)
        found = store.get(rest[0]) if rest else None
        if found is None:
            return self._error("404 Not Found", f"NoSuch{root}", "not found")
        if method == "GET" and rest[1:] == ["config"]:
            return self._xml("200 OK", found.config, found.etag)
        if method == "GET":
            return self._xml("200 OK", render(found), found.etag)
        if method == "PUT":
            found.config = _element(_strip_declaration(body), config_name) or found.config
            found.etag, found.modified = self._etag(), _now()
            return self._xml("200 OK", render(found), found.etag)
        if method == "DELETE":
            del store[found.id]
            return "204 No Content", [], b""
        return self._error("400 Bad Request", "InvalidArgument", method)

    def _function(self, method: str, rest: list[str], body: str, query: dict[str, str]) -> Response:
        def summary(function: _Function, stage: str) -> str:
            live = stage == "LIVE"
            config = function.live[1] if live and function.live else function.config
            status = "UNASSOCIATED" if function.live else "UNPUBLISHED"
            arn = f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{function.name}"
            return (
                f'<FunctionSummary xmlns="{XMLNS}"><Name>{function.name}</Name>'
                f"<Status>{status}</Status>{config}<FunctionMetadata>"
                f"<FunctionARN>{arn}</FunctionARN><Stage>{stage}</Stage>"
                f"<CreatedTime>{function.created}</CreatedTime>"
                f"<LastModifiedTime>{function.modified}</LastModifiedTime>"
                "</FunctionMetadata></FunctionSummary>"
            )

        if not rest and method == "POST":
            request = _strip_declaration(body)
            name = _text(request, "Name")
            if name in self.functions:
                return self._error("409 Conflict", "FunctionAlreadyExists", f"{name} exists")
            now = _now()
            function = _Function(
                name=name,
                config=_element(request, "FunctionConfig") or "",
                code=base64.b64decode(_text(request, "FunctionCode")),
                etag=self._etag(),
                created=now,
                modified=now,
            )
            self.functions[name] = function
            location = f"https://cloudfront.amazonaws.com{API}function/{name}"
            return self._xml(
                "201 Created", summary(function, "DEVELOPMENT"), function.etag, Location=location
            )
        if not rest and method == "GET":
            items = "".join(summary(f, "DEVELOPMENT") for f in self.functions.values())
            listing = f'<FunctionList xmlns="{XMLNS}"><MaxItems>100</MaxItems>'
            listing += f"<Quantity>{len(self.functions)}</Quantity><Items>{items}</Items>"
            return self._xml("200 OK", listing + "</FunctionList>")
        found = self.functions.get(rest[0]) if rest else None
        if found is None:
            return self._error("404 Not Found", "NoSuchFunctionExists", "not found")
        stage = query.get("Stage", "DEVELOPMENT")
        live = stage == "LIVE"
        if live and found.live is None:
            return self._error("404 Not Found", "NoSuchFunctionExists", "not published")
        etag = found.live[0] if live and found.live else found.etag
        if method == "GET" and rest[1:] == ["describe"]:
            return self._xml("200 OK", summary(found, stage), etag)
        if method == "GET" and not rest[1:]:
            code = found.live[2] if live and found.live else found.code
            return "200 OK", [("Content-Type", "application/octet-stream"), ("ETag", etag)], code
        if method == "POST" and rest[1:] == ["publish"]:
            found.live = (self._etag(), found.config, found.code)
            found.modified = _now()
            return self._xml("200 OK", summary(found, "LIVE"), found.live[0])
        if method == "PUT" and not rest[1:]:
            request = _strip_declaration(body)
            found.config = _element(request, "FunctionConfig") or found.config
            found.code = base64.b64decode(_text(request, "FunctionCode"))
            found.etag, found.modified = self._etag(), _now()
            return self._xml("200 OK", summary(found, "DEVELOPMENT"), found.etag)
        if method == "DELETE" and not rest[1:]:
            del self.functions[found.name]
            return "204 No Content", [], b""
        return self._error("400 Bad Request", "InvalidArgument", method)


def _fix_distribution_arn() -> None:
    """CloudFront ARNs have an empty region: arn:aws:cloudfront::<account>:... (moto 5.2.1)."""
    from moto.cloudfront.models import Distribution

    init = Distribution.__init__

    def _init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.arn = self.arn.replace(":cloudfront:", ":cloudfront::", 1)

    setattr(Distribution, "__init__", _init)  # noqa: B010


def _fix_bucket_policy_conditions() -> None:
    """Requests are TLS: a statement only for aws:SecureTransport false does not apply."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    is_action_permitted = IAMPolicyStatement.is_action_permitted

    def _permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        secure = (self._statement.get("Condition") or {}).get("Bool", {}).get(_TLS)
        if secure is not None and "true" not in str(secure).lower():
            return PermissionResult.NEUTRAL
        return is_action_permitted(self, action, resource, principal, incoming_condition_values)

    setattr(IAMPolicyStatement, "is_action_permitted", _permitted)  # noqa: B010


_TLS = "aws:SecureTransport"


def _fix_logging_needs_the_account_role() -> None:
    """A stage's logging needs the account's CloudWatch role, as on AWS (moto 5.2.1 lets it be).

    Terraform turns logging on with UpdateStage: access logs (``/accessLogSettings/...``) from
    aws_api_gateway_stage, execution logs (``/*/*/logging/loglevel``) from
    aws_api_gateway_method_settings.
    """
    from moto.apigateway.exceptions import BadRequestException
    from moto.apigateway.models import APIGatewayBackend

    update_stage = APIGatewayBackend.update_stage

    def _enables_logging(op: dict[str, Any]) -> bool:
        path = str(op.get("path", ""))
        if op.get("op") != "replace":
            return False
        if path.startswith("/accessLogSettings/"):
            return True
        return path.endswith("/logging/loglevel") and str(op.get("value", "")).upper() != "OFF"

    def _update(self: Any, function_id: str, stage_name: str, patch_operations: Any) -> Any:
        enabling = any(_enables_logging(op) for op in patch_operations or [])
        if enabling and not self.get_account().cloudwatch_role_arn:
            raise BadRequestException(
                "CloudWatch Logs role ARN must be set in account settings to enable logging"
            )
        return update_stage(self, function_id, stage_name, patch_operations)

    setattr(APIGatewayBackend, "update_stage", _update)  # noqa: B010


def _fix_delete_marker_disposal() -> None:
    """A delete marker holds no data: nothing to release when its key goes (moto 5.2.1)."""
    from moto.s3.models import FakeDeleteMarker

    def _dispose(self: Any, garbage: bool = False) -> None:
        return None

    setattr(FakeDeleteMarker, "dispose", _dispose)  # noqa: B010


def _fix_layer_lookup() -> None:
    """Look layers up in the backend that published them (moto 5.2.1, use_docker off)."""
    from moto.awslambda import models
    from moto.awslambda.exceptions import UnknownLayerVersionException
    from moto.awslambda.utils import get_backend

    def layers_data(self: Any, arns: list[str]) -> list[Any]:
        backend = get_backend(self.account_id, self.region)
        versions = [backend.layers_versions_by_arn(arn) for arn in arns]
        if not all(versions):
            raise UnknownLayerVersionException(arns)
        return [{"Arn": v.arn, "CodeSize": v.code_size} for v in versions if v]

    setattr(models.LambdaFunction, "_get_layers_data", layers_data)  # noqa: B010


_ALLOW = "RedriveAllowPolicy"


def _fix_sqs_attributes() -> None:
    """Keep Policy unless it is being set; return RedriveAllowPolicy (moto 5.2.1)."""
    from moto.sqs.models import Queue, SQSBackend

    set_attributes = Queue._set_attributes
    attributes = Queue.attributes.fget  # type: ignore[attr-defined]

    def _set(self: Any, values: dict[str, Any], now: float | None = None) -> None:
        kept = self.policy if hasattr(self, "_policy_json") else None
        set_attributes(self, values, now)
        if "Policy" not in values:
            self.policy = kept

    def _get(self: Any) -> dict[str, Any]:
        found: dict[str, Any] = attributes(self)
        allow = getattr(self, "redrive_allow_policy", None)
        if allow:
            found["RedriveAllowPolicy"] = allow
        return found

    get_queue_attributes = SQSBackend.get_queue_attributes

    def _get_named(self: Any, queue_name: str, names: list[str]) -> dict[str, Any]:
        found = get_queue_attributes(self, queue_name, [n for n in names if n != _ALLOW])
        if _ALLOW in names:
            allow = getattr(self.get_queue(queue_name), "redrive_allow_policy", None)
            if allow:
                found[_ALLOW] = allow
        return found

    setattr(Queue, "_set_attributes", _set)  # noqa: B010
    setattr(SQSBackend, "get_queue_attributes", _get_named)  # noqa: B010
    setattr(Queue, "attributes", property(_get))  # noqa: B010


def _fix_sqs_event_source_mappings() -> None:
    """Leave messages for the poller the test plays; moto would 'invoke' and delete them."""
    from moto.sqs.models import Queue

    add_message = Queue.add_message

    def _add(self: Any, message: Any) -> None:
        mappings = self.lambda_event_source_mappings
        self.lambda_event_source_mappings = {}
        try:
            add_message(self, message)
        finally:
            self.lambda_event_source_mappings = mappings

    setattr(Queue, "add_message", _add)  # noqa: B010


def _fix_s3_event_version_id() -> None:
    """Put the version id into S3 event records of versioned buckets, as AWS does."""
    from moto.s3 import notifications

    get_event = notifications._get_s3_event

    def _event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event: dict[str, Any] = get_event(event_name, bucket, key, notification_id)
        version = getattr(key, "version_id", None)
        if version and version != "null":
            for record in event["Records"]:
                record["s3"]["object"]["versionId"] = version
        return event

    setattr(notifications, "_get_s3_event", _event)  # noqa: B010


DECISIONS_PATH = "/_rehearsal/decisions"
_DECISIONS: list[dict[str, Any]] = []
_DECISIONS_LOCK = threading.Lock()


def _record_decisions() -> None:
    """Keep every authorisation decision moto makes while enforcement is on."""
    from moto.iam.access_control import IAMRequestBase

    check = IAMRequestBase.check_action_permitted

    def _checked(self: Any, resource: str) -> None:
        entry = {"principal": self._access_key.arn, "action": self._action, "resource": resource}
        try:
            check(self, resource)
        except Exception:
            with _DECISIONS_LOCK:
                _DECISIONS.append({**entry, "allowed": False})
            raise
        with _DECISIONS_LOCK:
            _DECISIONS.append({**entry, "allowed": True})

    setattr(IAMRequestBase, "check_action_permitted", _checked)  # noqa: B010


def _skip_signature_check() -> None:
    """moto 5.2.1 rejects valid signatures (S3 queries with "/" or ":", API Gateway)."""
    from moto.iam.access_control import IAMRequestBase

    def _unchecked(self: Any) -> None:
        return None

    setattr(IAMRequestBase, "check_signature", _unchecked)  # noqa: B010


def _fix_dynamodb_resource() -> None:
    """Check DynamoDB calls against the table they name, as IAM does (moto 5.2.1: "*")."""
    from moto.dynamodb.responses import DynamoHandler

    def _determine_resource(self: Any) -> str:
        # call_action has set self.body to the parsed request before it asks.
        table = (getattr(self, "body", None) or {}).get("TableName")
        if not isinstance(table, str) or not table:
            return "*"
        if table.startswith("arn:"):
            return table
        return f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"

    setattr(DynamoHandler, "_determine_resource", _determine_resource)  # noqa: B010


def _authorize_presigned_posts() -> None:
    """A form POST is authorised as its signer's s3:PutObject of the form's key."""
    from moto.s3.responses import S3Response

    authorize = S3Response._authenticate_and_authorize_s3_action

    def _authorize(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        fields = {name.lower(): values for name, values in (self.querystring or {}).items()}
        credential = fields.get("x-amz-credential")
        if self.method != "POST" or "Authorization" in self.headers or not credential:
            return authorize(self, bucket_name=bucket_name, key_name=key_name)  # type: ignore[no-any-return]
        headers = dict(self.headers)
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credential[0]}, SignedHeaders=host, Signature=form"
        )
        token = fields.get("x-amz-security-token")
        if token:
            headers["X-Amz-Security-Token"] = token[0]
        key = (fields.get("key") or [key_name])[0]
        saved, self.headers = self.headers, headers
        try:
            return authorize(self, bucket_name=bucket_name, key_name=key)  # type: ignore[no-any-return]
        finally:
            self.headers = saved

    setattr(S3Response, "_authenticate_and_authorize_s3_action", _authorize)  # noqa: B010


def main() -> int:
    from moto.core.config import default_user_config
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    default_user_config["lambda"] = {"use_docker": False}
    _fix_layer_lookup()
    _fix_sqs_attributes()
    _fix_distribution_arn()
    _fix_bucket_policy_conditions()
    _fix_delete_marker_disposal()
    _fix_sqs_event_source_mappings()
    _fix_s3_event_version_id()
    _record_decisions()
    _skip_signature_check()
    _fix_dynamodb_resource()
    _authorize_presigned_posts()
    _fix_logging_needs_the_account_role()
    extras = CloudFrontExtras(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, extras, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
