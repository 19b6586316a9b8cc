"""The local deployment's AWS resources in moto, named and created as the Terraform modules
create them in AWS: buckets (originals and replica versioned), the table (TTL on upload
tickets), the originals' event topic with one queue per consumer, and the uploads queue; and
the environment the handlers see."""

from __future__ import annotations

import json
from dataclasses import dataclass

from imgsvc import config
from imgsvc_local.s3_emulation import emulate_s3_event_versions

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
