"""moto's server on 127.0.0.1 standing in for AWS, and the resources the service needs in it.

Where moto is less strict or less complete than AWS in ways the service relies on, this module
makes up the difference, so the local mode refuses and delivers what AWS would:

- DynamoDB requests and conditional S3 PUTs are serialised, so their conditions hold as in AWS
  (:class:`_SerializeConditionalWrites`);
- presigned POST policies are enforced (:class:`_EnforcePostPolicy`): moto stores any form
  POST, S3 checks the signature, the expiry and every condition first;
- S3 event notifications carry the object's ``versionId`` (:func:`emulate_s3_event_versions`),
  which the GIF consumers need to find the image version an event is about.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from imgsvc import config

PRIMARY_REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}
# Receives before a message moves to its queue's DLQ (the consumers are told the same number).
MAX_RECEIVE_COUNT = 3


@dataclass(frozen=True, slots=True)
class Names:
    """Resource names of one local deployment (a prefix keeps parallel runs apart)."""

    prefix: str = "imgsvc-local"

    @property
    def table(self) -> str:
        return f"{self.prefix}-images"

    @property
    def originals(self) -> str:
        return f"{self.prefix}-originals"

    @property
    def replica(self) -> str:
        return f"{self.prefix}-replica"

    @property
    def renditions(self) -> str:
        return f"{self.prefix}-renditions"

    @property
    def uploads(self) -> str:
        return f"{self.prefix}-uploads"

    @property
    def originals_topic(self) -> str:
        return f"{self.prefix}-originals-events"

    @property
    def replication_queue(self) -> str:
        return f"{self.prefix}-replication"

    @property
    def uploads_queue(self) -> str:
        return f"{self.prefix}-uploads"

    def effect_queue(self, effect: str) -> str:
        return f"{self.prefix}-effect-{effect}"


class _SerializeConditionalWrites:
    """WSGI middleware: one DynamoDB request, and one conditional S3 PUT, at a time.

    Real DynamoDB applies a conditional write atomically per item, and S3 an ``If-None-Match``
    PUT; moto checks the condition and writes in plain Python, so two threads could both pass
    the check. Serialising those requests gives the local mode AWS's guarantee (everything else
    stays parallel).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        conditional_put = environ.get("REQUEST_METHOD") == "PUT" and (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ
        )
        if conditional_put or environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class _EnforcePostPolicy:
    """WSGI middleware: the checks S3 makes of a browser-form (presigned POST) upload.

    moto stores whatever a form POST sends. S3 first verifies the policy's SigV4 signature, its
    expiry and each condition (exact and ``starts-with`` matches, ``content-length-range``), and
    refuses form fields no condition covers. This does the same before moto sees the request,
    answering with S3's error codes (AccessDenied, SignatureDoesNotMatch, EntityTooLarge, ...).
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        credentials: Mapping[str, str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.access_key = credentials["AWS_ACCESS_KEY_ID"]
        self.secret_key = credentials["AWS_SECRET_ACCESS_KEY"]
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        content_type = environ.get("CONTENT_TYPE", "").lower()
        if environ.get("REQUEST_METHOD") != "POST" or not _is_bucket_post(environ):
            return self.app(environ, start_response)
        if not content_type.startswith("multipart/form-data"):
            # S3 takes a POST Object only as a multipart/form-data form ("POST Object", Amazon
            # S3 API Reference): anything else is refused before a field is read.
            return _s3_error(
                start_response,
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold: Bucket POST "
                "must be of the enclosure-type multipart/form-data",
            )
        from werkzeug.formparser import parse_form_data

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        _, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        fields = {name.lower(): value for name, value in form.items()}
        upload = files.get("file")
        size = len(upload.read()) if upload is not None else None
        bucket = environ.get("PATH_INFO", "").strip("/").split("/", 1)[0]
        refused = post_policy_error(
            bucket,
            fields,
            size,
            access_key=self.access_key,
            secret_key=self.secret_key,
            now=self.clock(),
        )
        if refused is not None:
            return _s3_error(start_response, *refused)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _is_bucket_post(environ: Mapping[str, Any]) -> bool:
    """A POST to a bucket itself (``/<bucket>``, no query): S3's POST Object, a form upload.
    (moto's other services take POSTs on ``/`` or ``/<account>/<queue>``; S3's own POST
    operations all have a query: ``?delete``, ``?uploads``, ...)"""
    parts = [p for p in environ.get("PATH_INFO", "").split("/") if p]
    return len(parts) == 1 and not environ.get("QUERY_STRING")


def _s3_error(
    start_response: Callable[..., Any], status: int, code: str, message: str
) -> list[bytes]:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex}</RequestId></Error>"
    ).encode()
    reason = {403: "Forbidden", 412: "Precondition Failed"}.get(status, "Bad Request")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(xml)))],
    )
    return [xml]


# Form fields S3 never requires a policy condition for.
_UNCONDITIONED_FIELDS = frozenset({"policy", "x-amz-signature", "file"})


def post_policy_error(
    bucket: str,
    fields: Mapping[str, str],
    file_size: int | None,
    *,
    access_key: str,
    secret_key: str,
    now: datetime,
) -> tuple[int, str, str] | None:
    """Why S3 would refuse this form POST (status, code, message), or None if it would take it.

    ``fields`` has lowercase names. Only SigV4 forms are checked (boto3 signs POSTs with SigV4
    when the client uses ``s3v4``, as the service's clients do).
    """
    if file_size is None:
        return 400, "InvalidArgument", "POST requires exactly one file upload per request."
    encoded = fields.get("policy")
    if not encoded:
        return 403, "AccessDenied", "Access Denied"
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        return 400, "InvalidArgument", "Only the AWS4-HMAC-SHA256 algorithm is supported here."
    scope = fields.get("x-amz-credential", "").split("/")
    if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
        return 400, "AuthorizationQueryParametersError", "Malformed x-amz-credential."
    if scope[0] != access_key:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist."
    key = f"AWS4{secret_key}".encode()
    for part in scope[1:]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        return (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        policy = json.loads(base64.b64decode(encoded))
        expiration = datetime.fromisoformat(policy["expiration"])
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        return 400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
    if now >= expiration:
        return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, expected_value),) = condition.items()
            condition = ["eq", f"${name}", expected_value]
        if not isinstance(condition, list) or len(condition) != 3:
            return 400, "InvalidPolicyDocument", f"Invalid Policy: condition {condition!r}."
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if file_size > high:
                return (
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                )
            if file_size < low:
                return (
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        actual = values.get(name)
        wanted = str(condition[2])
        matched = actual is not None and (
            actual == wanted
            if operator == "eq"
            else operator == "starts-with" and actual.startswith(wanted)
        )
        if not matched:
            return (
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
            )
    extra = sorted(
        name
        for name in fields
        if name not in covered
        and name not in _UNCONDITIONED_FIELDS
        and not name.startswith("x-ignore-")
    )
    if extra:
        return (
            403,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}",
        )
    return None


_S3_EVENTS_PATCHED = False


def emulate_s3_event_versions() -> None:
    """Make moto's S3 event notifications carry ``versionId`` as S3's do.

    moto leaves them out; the GIF consumers need the version id to find the image version an
    event is about. Patches moto's event builder once per process (moto is pinned).
    """
    global _S3_EVENTS_PATCHED
    if _S3_EVENTS_PATCHED:
        return
    from moto.s3 import notifications

    build = notifications._get_s3_event

    def with_version(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = build(event_name, bucket, key, notification_id)
        version_id = getattr(key, "version_id", None)
        for record in event["Records"]:
            if version_id and version_id != "null":
                record["s3"]["object"]["versionId"] = version_id
        return event

    notifications._get_s3_event = with_version
    _S3_EVENTS_PATCHED = True


class MotoServer:
    """moto's server in a thread of this process, on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # Lambda functions are only created here, never run (no Docker): the local mode calls
        # the handlers in-process.
        os.environ.setdefault("MOTO_DOCKER_NETWORK_MODE", "")
        app = _EnforcePostPolicy(
            _SerializeConditionalWrites(DomainDispatcherApplication(create_backend_app)),
            LOCAL_CREDENTIALS,
        )
        self._server = make_server(host, port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.server_address[1]}"

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def environment(endpoint: str | None, names: Names, **extra: str) -> dict[str, str]:
    """The environment the handlers see: moto's endpoint (None: in-process moto), fake
    credentials, the service config."""
    return {
        **LOCAL_CREDENTIALS,
        **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {}),
        "AWS_DEFAULT_REGION": PRIMARY_REGION,
        "AWS_REGION": PRIMARY_REGION,
        config.TABLE_NAME: names.table,
        config.ORIGINALS_BUCKET: names.originals,
        config.REPLICA_BUCKET: names.replica,
        config.REPLICA_REGION: REPLICA_REGION,
        config.RENDITIONS_BUCKET: names.renditions,
        config.UPLOADS_BUCKET: names.uploads,
        config.MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
        **extra,
    }


def create_resources(names: Names) -> dict[str, str]:
    """Buckets (main and replica versioned), the table (TTL on upload tickets), the originals'
    event topic with one queue per consumer, and the uploads bucket's queue.

    Returns ARNs/URLs of what the workers consume: ``replication_queue_url``,
    ``uploads_queue_url``, ``<effect>_queue_url`` per GIF effect (each with ``..._dlq_url``).
    Uses the clients of :mod:`imgsvc.aws`, so the environment (endpoint, credentials) must be
    set first.
    """
    from imgsvc import aws, gifs
    from imgsvc.repository import TTL_ATTRIBUTE

    emulate_s3_event_versions()

    s3 = aws.s3()
    replica_s3 = aws.s3(REPLICA_REGION)
    for client, bucket, region in (
        (s3, names.originals, PRIMARY_REGION),
        (replica_s3, names.replica, REPLICA_REGION),
        (s3, names.renditions, PRIMARY_REGION),
        (s3, names.uploads, PRIMARY_REGION),
    ):
        if region == PRIMARY_REGION:
            client.create_bucket(Bucket=bucket)
        else:
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        if bucket in (names.originals, names.replica):
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )

    aws.dynamodb().create_table(
        TableName=names.table,
        KeySchema=[
            {"AttributeName": "id", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    # As in AWS (modules/metadata-table): upload tickets expire through DynamoDB's TTL.
    aws.dynamodb().update_time_to_live(
        TableName=names.table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )

    # As in AWS (modules/fanout): the originals bucket's events go to one SNS topic; each
    # consumer has its own queue on it. Here the replicator is one such consumer.
    topic_arn = aws.sns().create_topic(Name=names.originals_topic)["TopicArn"]
    s3.put_bucket_notification_configuration(
        Bucket=names.originals,
        NotificationConfiguration={
            "TopicConfigurations": [
                {
                    "TopicArn": topic_arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "originals/"}]}},
                }
            ]
        },
    )
    resources = {
        "originals_topic_arn": topic_arn,
        "replication_queue_url": subscribe_queue(topic_arn, names.replication_queue),
    }
    # As in AWS: one queue (and DLQ) per effect function on the same topic.
    for effect in gifs.configured_effects(config.load()):
        queue = subscribe_queue(
            topic_arn, names.effect_queue(effect), max_receive_count=MAX_RECEIVE_COUNT
        )
        resources[f"{effect}_queue_url"] = queue
        resources[f"{effect}_dlq_url"] = _dlq_url(names.effect_queue(effect))

    # Direct uploads: the uploads bucket's create events go straight to the uploads queue.
    uploads_queue = create_queue(names.uploads_queue, max_receive_count=MAX_RECEIVE_COUNT)
    s3.put_bucket_notification_configuration(
        Bucket=names.uploads,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": _queue_arn(uploads_queue),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                }
            ]
        },
    )
    resources["uploads_queue_url"] = uploads_queue
    resources["uploads_dlq_url"] = _dlq_url(names.uploads_queue)
    return resources


def _queue_arn(queue_url: str) -> str:
    from imgsvc import aws

    return aws.sqs().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]


def _dlq_url(queue_name: str) -> str:
    from imgsvc import aws

    return aws.sqs().get_queue_url(QueueName=f"{queue_name}-dlq")["QueueUrl"]


def create_queue(queue_name: str, *, max_receive_count: int | None = None) -> str:
    """Create a queue, with a DLQ ``<name>-dlq`` when ``max_receive_count`` is set."""
    from imgsvc import aws

    sqs = aws.sqs()
    attributes: dict[str, str] = {"VisibilityTimeout": "30"}
    if max_receive_count is not None:
        dlq_url = sqs.create_queue(QueueName=f"{queue_name}-dlq")["QueueUrl"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": _queue_arn(dlq_url), "maxReceiveCount": max_receive_count}
        )
    return sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]


def subscribe_queue(
    topic_arn: str, queue_name: str, *, max_receive_count: int | None = None
) -> str:
    """Create a queue (with a DLQ when ``max_receive_count`` is set) subscribed to the topic."""
    from imgsvc import aws

    queue_url = create_queue(queue_name, max_receive_count=max_receive_count)
    queue_arn = _queue_arn(queue_url)
    aws.sns().subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue_url
