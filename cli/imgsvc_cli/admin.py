"""``imgsvc admin``: the operators' repair commands (docs/operations.md).

- ``restore`` talks to the API (``POST /images/{id}/restore``, keyed like every write);
- ``redrive`` and ``backfill-gifs`` talk to AWS with the operator's own credentials (boto3's
  usual chain: environment, profile, SSO), in the stack named by ``--stack``. Against the local
  mode, point them at its moto with ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``).

Resource names follow the Terraform (environments/stack, modules/fanout): the table is
``<stack>-images``, an effect's queue ``<stack>-originals-<effect>`` and its dead-letter queue
``<stack>-originals-<effect>-dlq``. The local mode (local/imgsvc_local/resources.py) names effect
queues ``<stack>-effect-<effect>``; both are recognised.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from imgsvc_cli.client import ApiError, Client, Json, NetworkError, WaitTimeout, poll
from imgsvc_cli.output import Output, record_text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient

ENV_STACK = "IMGSVC_STACK"
# The Terraform's and the local mode's names of an effect's queue (see the module docstring).
EFFECT_QUEUE = re.compile(r"^(?P<stack>.+)-(?:originals|effect)-(?P<effect>[a-z0-9-]{1,32})$")
DLQ_SUFFIX = "-dlq"
IMAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# SQS's limits: 10 entries per batch call, 20 s the longest long poll.
BATCH = 10
# The error codes (and messages) of an endpoint without StartMessageMoveTask (moto, older
# emulators): there the documented receive/send/delete fallback moves the messages.
_UNSUPPORTED_CODES = {"InvalidAction", "UnknownOperationException", "NotImplemented", "501"}

Command = Callable[[Client, argparse.Namespace, Output], int]


class AdminError(Exception):
    """A failure an operator can act on: its error code, message and exit code."""

    def __init__(self, exit_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code
        self.message = message


# -- AWS --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Aws:
    """boto3 clients for one stack: its region and endpoint (moto's, for the local mode)."""

    stack: str
    region: str | None
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        try:
            import boto3
        except ImportError:  # the API commands do not need it; these do
            raise AdminError(
                2, "missing_boto3", "The AWS admin commands need boto3: pip install boto3"
            ) from None
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=self.region,
            endpoint_url=self.endpoint_url,
        )

    def sqs(self) -> SQSClient:
        return self.client("sqs")  # type: ignore[no-any-return]

    def dynamodb(self) -> DynamoDBClient:
        return self.client("dynamodb")  # type: ignore[no-any-return]

    def s3(self) -> S3Client:
        return self.client("s3")  # type: ignore[no-any-return]

    @property
    def table(self) -> str:
        return f"{self.stack}-images"


def _aws(args: argparse.Namespace) -> Aws:
    stack = getattr(args, "stack", None) or os.environ.get(ENV_STACK)
    if not stack:
        raise AdminError(
            2,
            "missing_stack",
            f"Name the stack: --stack <name_prefix> (or ${ENV_STACK}), e.g. imgsvc-prod.",
        )
    return Aws(stack, getattr(args, "region", None), getattr(args, "endpoint_url", None))


def aws_command(run: Command) -> Command:
    """Turn botocore's failures into the CLI's: AWS said no (1), no answer (3), no
    credentials (2)."""

    @functools.wraps(run)
    def wrapped(client: Client, args: argparse.Namespace, out: Output) -> int:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            NoRegionError,
        )

        try:
            return run(client, args, out)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise ApiError(status, str(error.get("Code", "aws_error")), str(exc)) from None
        except EndpointConnectionError as exc:
            raise NetworkError(str(exc.kwargs.get("endpoint_url", "AWS")), str(exc)) from None
        except (NoCredentialsError, NoRegionError) as exc:
            raise AdminError(2, "aws_config", f"{exc}: configure AWS credentials/region.") from None
        except NotImplementedError as exc:  # moto in-process, for an action it lacks
            raise AdminError(
                1, "not_implemented", f"Not available at this endpoint: {exc}."
            ) from None

    return wrapped


def _queue_url(sqs: SQSClient, queue: str) -> str:
    """A queue's URL from its URL or name."""
    if queue.startswith(("https://", "http://")):
        return queue
    return sqs.get_queue_url(QueueName=queue)["QueueUrl"]


def _queue_arn(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _visible(sqs: SQSClient, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"].get("ApproximateNumberOfMessages", "0"))


# -- restore ----------------------------------------------------------------------------------


def cmd_restore(client: Client, args: argparse.Namespace, out: Output) -> int:
    record = client.restore(args.id, args.version)
    out.result(record, record_text(record))
    return 0


# -- redrive ----------------------------------------------------------------------------------


def _unsupported(exc: Exception) -> bool:
    """Whether StartMessageMoveTask is missing at this endpoint (not: refused, throttled)."""
    if isinstance(exc, NotImplementedError):  # moto in-process
        return True
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code = str(exc.response.get("Error", {}).get("Code", ""))
    # AWS always names its error (InternalError, ...); botocore falls back to the bare HTTP
    # status when the answer has no error code at all, as moto's server's 500 page for an
    # action it does not implement.
    return code in _UNSUPPORTED_CODES or code.isdigit() or "not been implemented" in str(exc)


@aws_command
def cmd_redrive(client: Client, args: argparse.Namespace, out: Output) -> int:
    aws = _aws(args)
    sqs = aws.sqs()
    dlq_url = _queue_url(sqs, args.queue)
    dlq_arn = _queue_arn(sqs, dlq_url)
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if args.to:
        target_url = _queue_url(sqs, args.to)
    elif len(sources) == 1:
        target_url = sources[0]
    else:
        found = ", ".join(_queue_name(u) for u in sources) or "none"
        raise AdminError(
            2,
            "no_destination",
            f"{_queue_name(dlq_url)} is the dead-letter queue of {len(sources)} queues "
            f"({found}): name the destination with --to.",
        )
    waiting = _visible(sqs, dlq_url)
    result: Json = {
        "queue": _queue_name(dlq_url),
        "to": _queue_name(target_url),
        "waiting": waiting,
    }
    if args.method in ("auto", "task"):
        try:
            result.update(_move_task(sqs, dlq_arn, _queue_arn(sqs, target_url), args))
        except Exception as exc:
            if args.method == "task" or not _unsupported(exc):
                raise
            out.note("StartMessageMoveTask is not available here: moving messages one by one.")
        else:
            text = f"Redrive task {result['task']} moves {waiting} message(s) to {result['to']}"
            if "status" in result:
                text += f": {result['status']}, {result.get('moved', 0)} moved"
            out.result(result, text)
            return 0 if result.get("status", "RUNNING") in ("RUNNING", "COMPLETED") else 1
    moved = move_messages(sqs, dlq_url, target_url, limit=args.max_messages)
    result.update({"method": "copy", "moved": moved})
    out.result(result, f"Moved {moved} message(s) from {result['queue']} to {result['to']}.")
    return 0


def _move_task(sqs: SQSClient, dlq_arn: str, target_arn: str, args: argparse.Namespace) -> Json:
    """StartMessageMoveTask (SQS's own redrive: asynchronous, from the oldest message; only one
    task per queue at a time), optionally waited for with ListMessageMoveTasks."""
    params: dict[str, Any] = {"SourceArn": dlq_arn, "DestinationArn": target_arn}
    if args.rate:
        params["MaxNumberOfMessagesPerSecond"] = args.rate
    handle = sqs.start_message_move_task(**params)["TaskHandle"]
    result: Json = {"method": "task", "task": handle}
    if not args.wait:
        return result

    def latest() -> Json:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get("Results", [])
        return dict(tasks[0]) if tasks else {}

    try:
        task = poll(
            latest,
            lambda t: t.get("Status") in ("COMPLETED", "CANCELLED", "FAILED"),
            timeout=args.timeout,
        )
    except WaitTimeout as exc:
        raise AdminError(4, "timeout", f"Redrive task {handle} still runs: {exc}.") from None
    result.update(
        status=task.get("Status"),
        moved=task.get("ApproximateNumberOfMessagesMoved", 0),
        failure=task.get("FailureReason"),
    )
    return result


def move_messages(sqs: SQSClient, source_url: str, target_url: str, *, limit: int | None) -> int:
    """Move messages from ``source_url`` to ``target_url``: receive, send, then delete (the
    fallback the SQS docs describe where StartMessageMoveTask is not available).

    At least once: a message is deleted only after it was sent, so an interruption can leave
    a copy in both queues, never in neither (the consumers are idempotent). Bodies and message
    attributes are kept; the receive count starts again in the target queue.
    """
    moved = 0
    while limit is None or moved < limit:
        wanted = BATCH if limit is None else min(BATCH, limit - moved)
        received = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=wanted,
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return moved
        entries: list[Any] = []
        for index, message in enumerate(received):
            entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        failed = {item["Id"] for item in sent.get("Failed", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(received)
            if str(i) not in failed
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=source_url, Entries=done)  # type: ignore[arg-type]
        moved += len(done)
        if failed:
            raise AdminError(
                1,
                "send_failed",
                f"{len(failed)} message(s) could not be sent to {_queue_name(target_url)} and "
                f"stay in {_queue_name(source_url)} (moved {moved}): "
                f"{sent['Failed'][0].get('Message', '')}",
            )
    return moved


# -- backfill ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """The parts of an image version's item an originals event names."""

    image_id: str
    version: int
    bucket: str
    key: str
    s3_version_id: str


def effect_queues(sqs: SQSClient, stack: str) -> dict[str, str]:
    """effect -> queue URL of the stack's effect queues (dead-letter queues left out)."""
    found: dict[str, str] = {}
    paginator = sqs.get_paginator("list_queues")
    for page in paginator.paginate(QueueNamePrefix=f"{stack}-"):
        for url in page.get("QueueUrls", []):
            name = _queue_name(url)
            match = EFFECT_QUEUE.match(name)
            if match and match["stack"] == stack and not name.endswith(DLQ_SUFFIX):
                found[match["effect"]] = url
    return found


def _items(ddb: DynamoDBClient, table: str, image_id: str | None) -> Iterator[dict[str, Any]]:
    """Every version item (and tombstone) of one image (a query) or of the table (a scan)."""
    common: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#id, #version, #kind, s3_bucket, s3_key, s3_version_id",
        "ExpressionAttributeNames": {"#id": "id", "#version": "version", "#kind": "kind"},
    }
    if image_id is not None:
        common["KeyConditionExpression"] = "#id = :id AND #version > :zero"
        common["ExpressionAttributeValues"] = {":id": {"S": image_id}, ":zero": {"N": "0"}}
        common["ConsistentRead"] = True
    call = ddb.query if image_id is not None else ddb.scan
    while True:
        page = call(**common)
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        common["ExclusiveStartKey"] = last


def live_versions(
    ddb: DynamoDBClient, table: str, image_id: str | None, *, all_versions: bool
) -> list[StoredVersion]:
    """The latest version of every live image (or every version of them): deleted images and
    upload tickets (version 0) are left out."""
    latest: dict[str, int] = {}
    deleted: set[str] = set()
    stored: dict[str, list[StoredVersion]] = {}
    for item in _items(ddb, table, image_id):
        found_id, version = item["id"]["S"], int(item["version"]["N"])
        if version < 1:
            continue
        kind = item.get("kind", {}).get("S", "image")
        if version > latest.get(found_id, 0):
            latest[found_id] = version
            deleted.discard(found_id)
            if kind == "deleted":
                deleted.add(found_id)
        if kind != "image":
            continue
        stored.setdefault(found_id, []).append(
            StoredVersion(
                found_id,
                version,
                item["s3_bucket"]["S"],
                item["s3_key"]["S"],
                item["s3_version_id"]["S"],
            )
        )
    chosen: list[StoredVersion] = []
    for found_id in sorted(stored):
        if found_id in deleted:
            continue
        versions = sorted(stored[found_id], key=lambda v: v.version)
        chosen.extend(versions if all_versions else versions[-1:])
    return chosen


def originals_event(version: StoredVersion, region: str) -> str:
    """The S3 event notification S3 sends (SNS raw delivery) when ``version`` is stored: the
    message body the effect functions consume (lambda_src/imgsvc/handlers/queue.py)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "imgsvc-admin-backfill"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "imgsvc-admin-backfill",
            "bucket": {"name": version.bucket, "arn": f"arn:aws:s3:::{version.bucket}"},
            # S3 URL-encodes keys in its events (the consumers unquote_plus them).
            "object": {
                "key": quote_plus(version.key, safe="/"),
                "versionId": version.s3_version_id,
            },
        },
    }
    return json.dumps({"Records": [record]}, separators=(",", ":"))


def _send_all(sqs: SQSClient, queue_url: str, bodies: Sequence[str]) -> None:
    for start in range(0, len(bodies), BATCH):
        chunk = bodies[start : start + BATCH]
        entries: list[Any] = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if sent.get("Failed"):
            raise AdminError(
                1,
                "send_failed",
                f"{len(sent['Failed'])} event(s) could not be sent to {_queue_name(queue_url)} "
                f"after {start} were: {sent['Failed'][0].get('Message', '')}. Run it again: "
                "GIFs that exist are skipped.",
            )


def _renditions_bucket(args: argparse.Namespace, versions: Sequence[StoredVersion]) -> str:
    """``--renditions-bucket``, else the originals bucket's sibling (``...-originals`` ->
    ``...-renditions``, the Terraform's and the local mode's naming)."""
    if args.renditions_bucket:
        return str(args.renditions_bucket)
    buckets = {v.bucket for v in versions}
    if len(buckets) == 1:
        (bucket,) = buckets
        if bucket.endswith("-originals"):
            return bucket[: -len("-originals")] + "-renditions"
    raise AdminError(2, "usage", "Name the renditions bucket with --renditions-bucket.")


@aws_command
def cmd_backfill(client: Client, args: argparse.Namespace, out: Output) -> int:
    aws = _aws(args)
    sqs = aws.sqs()
    queues = effect_queues(sqs, aws.stack)
    wanted = args.effect or sorted(queues)
    missing = [e for e in wanted if e not in queues]
    if missing or not wanted:
        known = ", ".join(sorted(queues)) or "none"
        raise AdminError(
            2,
            "unknown_effect",
            f"No queue for effect(s) {', '.join(missing) or '(any)'} in stack {aws.stack} "
            f"(effect queues found: {known}).",
        )
    versions = live_versions(aws.dynamodb(), aws.table, args.image, all_versions=args.all_versions)
    if args.image and not versions:
        raise AdminError(
            1, "image_not_found", f"No live image {args.image} in {aws.table} (deleted?)."
        )
    result: Json = {
        "stack": aws.stack,
        "images": len({v.image_id for v in versions}),
        "versions": len(versions),
        "effects": wanted,
        "queued": 0,
        "removed": 0,
        "dry_run": args.dry_run,
    }
    if args.dry_run:
        out.result(
            result,
            f"Would queue {len(versions)} version(s) of {result['images']} image(s) for "
            f"{', '.join(wanted)}.",
        )
        return 0
    if args.force and versions:
        s3 = aws.s3()
        bucket = _renditions_bucket(args, versions)
        for version in versions:
            for effect in wanted:
                for suffix in (".gif", ".failed"):
                    key = f"gifs/{version.image_id}/{version.version}/{effect}{suffix}"
                    s3.delete_object(Bucket=bucket, Key=key)
                    result["removed"] += 1
    region = sqs.meta.region_name
    bodies = [originals_event(v, region) for v in versions]
    for effect in wanted:
        _send_all(sqs, queues[effect], bodies)
        result["queued"] += len(bodies)
    out.result(
        result,
        f"Queued {len(versions)} version(s) of {result['images']} image(s) for "
        f"{', '.join(wanted)} ({result['queued']} message(s)).",
    )
    return 0


# -- arguments --------------------------------------------------------------------------------


def _image_id(value: str) -> str:
    if not IMAGE_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not an image id (a lowercase UUID): {value!r}")
    return value


def _rate(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 500:
        raise argparse.ArgumentTypeError(f"expected 1-500 messages per second, got {value!r}")
    return int(value)


def register(
    commands: Any,
    common: argparse.ArgumentParser,
    *,
    positive_int: Callable[[str], int],
    seconds: Callable[[str], float],
) -> None:
    """Add ``imgsvc admin ...`` to the CLI's subcommands."""
    aws_options = argparse.ArgumentParser(add_help=False)
    group = aws_options.add_argument_group("AWS (redrive, backfill-gifs)")
    group.add_argument(
        "--stack", default=argparse.SUPPRESS, help=f"the stack's name_prefix (${ENV_STACK})"
    )
    group.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (boto3's default)")
    group.add_argument(
        "--endpoint-url",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="AWS endpoint (the local mode's moto); AWS_ENDPOINT_URL works too",
    )

    admin = commands.add_parser(
        "admin",
        help="operators' repair commands (docs/operations.md)",
        description="Repair commands for operators; see docs/operations.md.",
    )
    sub = admin.add_subparsers(title="admin commands", metavar="COMMAND", required=True)

    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="bring a deleted image (or an older version) back as its next version",
        description="Restore an image from its stored versions through the API "
        "(POST /images/{id}/restore): by default the last version of a deleted image; with "
        "--version any stored version, also of a live image.",
    )
    restore.add_argument("id", metavar="ID")
    restore.add_argument("--version", type=positive_int, metavar="N")
    restore.set_defaults(run=cmd_restore)

    redrive = sub.add_parser(
        "redrive",
        parents=[common, aws_options],
        help="move a dead-letter queue's messages back to their queue",
        description="Move every message of a dead-letter queue back to the queue it came from "
        "(or --to another), with SQS's StartMessageMoveTask; where that is not available (the "
        "local mode's moto) by receive, send and delete.",
    )
    redrive.add_argument("queue", metavar="DLQ", help="the dead-letter queue's name or URL")
    redrive.add_argument("--to", metavar="QUEUE", help="destination (default: its source queue)")
    redrive.add_argument(
        "--method",
        choices=("auto", "task", "copy"),
        default="auto",
        help="task: StartMessageMoveTask; copy: receive/send/delete; auto (default): task "
        "where available",
    )
    redrive.add_argument("--rate", type=_rate, metavar="N", help="task: messages per second")
    redrive.add_argument(
        "--max-messages", type=positive_int, metavar="N", help="copy: move at most N"
    )
    redrive.add_argument("--wait", action="store_true", help="task: wait until it finishes")
    redrive.add_argument(
        "--timeout", type=seconds, default=600.0, metavar="SECONDS", help="with --wait"
    )
    redrive.set_defaults(run=cmd_redrive)

    backfill = sub.add_parser(
        "backfill-gifs",
        parents=[common, aws_options],
        help="(re)make GIF effects: of one image, or of every image after adding an effect",
        description="Queue the originals event of every live image's latest version (or of "
        "one image, or every version) to the effect queues, as S3 would: the effect functions "
        "make each GIF that does not exist yet (--force remakes existing ones).",
    )
    backfill.add_argument("--image", type=_image_id, metavar="ID", help="only this image")
    backfill.add_argument(
        "--effect",
        action="append",
        default=[],
        metavar="NAME",
        help="only this effect (repeatable; default: every effect queue of the stack)",
    )
    backfill.add_argument(
        "--all-versions", action="store_true", help="every version, not only the latest"
    )
    backfill.add_argument(
        "--force",
        action="store_true",
        help="delete the GIFs (and failure markers) first, so they are made again",
    )
    backfill.add_argument(
        "--renditions-bucket", metavar="BUCKET", help="with --force (default: from the originals)"
    )
    backfill.add_argument("--dry-run", action="store_true", help="count, queue nothing")
    backfill.set_defaults(run=cmd_backfill)
