"""moto's server on 127.0.0.1 standing in for AWS, and the resources the service needs in it."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from imgsvc import config

PRIMARY_REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


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


class _SerializeDynamoDB:
    """WSGI middleware: one DynamoDB request at a time.

    Real DynamoDB applies a conditional write atomically per item; moto checks the condition
    and writes in plain Python, so two threads could both pass the check. Serialising its
    DynamoDB requests gives the local mode DynamoDB's guarantee (S3 and the rest stay parallel).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class MotoServer:
    """moto's server in a thread of this process, on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # Lambda functions are only created here, never run (no Docker): the local mode calls
        # the handlers in-process.
        os.environ.setdefault("MOTO_DOCKER_NETWORK_MODE", "")
        app = _SerializeDynamoDB(DomainDispatcherApplication(create_backend_app))
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
        **extra,
    }


def create_resources(names: Names) -> dict[str, str]:
    """Buckets (main and replica versioned), the table, and the originals' event topic.

    Returns ARNs/URLs of what later pieces subscribe to. Uses the clients of :mod:`imgsvc.aws`,
    so the environment (endpoint, credentials) must be set first.
    """
    from imgsvc import aws

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
    replication_queue = subscribe_queue(topic_arn, names.replication_queue)
    return {"originals_topic_arn": topic_arn, "replication_queue_url": replication_queue}


def subscribe_queue(
    topic_arn: str, queue_name: str, *, max_receive_count: int | None = None
) -> str:
    """Create a queue (with a DLQ when ``max_receive_count`` is set) subscribed to the topic."""
    from imgsvc import aws

    sqs = aws.sqs()
    attributes: dict[str, str] = {"VisibilityTimeout": "30"}
    if max_receive_count is not None:
        dlq_url = sqs.create_queue(QueueName=f"{queue_name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
        )
    queue_url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.sns().subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue_url
