"""``imgsvc admin redrive`` and ``backfill-gifs`` in-process against moto (the local mode's
resources, created by tests/conftest.py's ``moto_aws``): the messages they move and send are
consumed by the real effect handler. Against the running local mode: tests/http/test_admin.py."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from imgsvc import aws, service, wiring
from imgsvc.handlers import effects as effects_handler
from imgsvc.handlers.queue import s3_objects
from imgsvc.image_requests import ImageUpload
from imgsvc_cli import admin
from imgsvc_cli.main import EXIT_API, EXIT_OK, EXIT_USAGE, main
from imgsvc_local.resources import Names
from imgsvc_local.workers import sqs_event
from tests.support import events, imagegen

STACK = Names().prefix
REPO = Path(__file__).resolve().parents[2]


def run(*argv: str) -> tuple[int, Any, str]:
    """``imgsvc --json ARGV``; (exit code, parsed stdout or None, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["--json", *argv], stdout=out, stderr=err)
    text = out.getvalue()
    return code, json.loads(text) if text.strip() else None, err.getvalue()


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    return wiring.deps()


def new_image(deps: service.Deps, seed: int = 1) -> str:
    upload = ImageUpload(
        data=imagegen.jpeg(48, 32, seed=seed), name="a.jpg", metadata={}, metadata_given=False
    )
    return service.create_image(deps, upload).id


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue (received, then deleted)."""
    sqs = aws.sqs()
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return found
        found.extend(got)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )


def consume(effect: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Deliver messages to the real effect handler, as Lambda's event source mapping does."""
    queue_arn = f"arn:aws:sqs:us-east-1:123456789012:{Names().effect_queue(effect)}"
    event = sqs_event(messages, queue_arn, "us-east-1")
    return effects_handler.handler_for(effect)(event, events.LambdaContext())


def count(queue_url: str) -> int:
    attributes = aws.sqs().get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# -- redrive ----------------------------------------------------------------------------------


def test_redrive_moves_every_message_back_with_its_body_and_attributes(
    moto_aws: dict[str, str],
) -> None:
    sqs = aws.sqs()
    dlq, source = moto_aws["zoom_dlq_url"], moto_aws["zoom_queue_url"]
    for n in range(13):  # more than one batch of 10
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps({"n": n}),
            MessageAttributes={"origin": {"DataType": "String", "StringValue": f"m{n}"}},
        )
    code, result, err = run(
        "admin", "redrive", Names().effect_queue("zoom") + "-dlq", "--stack", STACK
    )
    assert code == EXIT_OK, err
    # moto has no StartMessageMoveTask: the documented fallback ran.
    assert result["method"] == "copy"
    assert (result["moved"], result["waiting"]) == (13, 13)
    assert result["to"] == Names().effect_queue("zoom")
    assert count(dlq) == 0
    moved = drain(source)
    assert sorted(json.loads(m["Body"])["n"] for m in moved) == list(range(13))
    assert {m["MessageAttributes"]["origin"]["StringValue"] for m in moved} == {
        f"m{n}" for n in range(13)
    }


def test_redrive_max_messages_moves_only_that_many(moto_aws: dict[str, str]) -> None:
    sqs = aws.sqs()
    dlq = moto_aws["spin_dlq_url"]
    for n in range(5):
        sqs.send_message(QueueUrl=dlq, MessageBody=str(n))
    code, result, err = run(
        "admin", "redrive", dlq, "--stack", STACK, "--method", "copy", "--max-messages", "2"
    )
    assert code == EXIT_OK, err
    assert result["moved"] == 2
    assert count(dlq) == 3
    assert count(moto_aws["spin_queue_url"]) == 2


def test_redrive_of_a_queue_with_no_source_needs_to_and_moves_nothing(
    moto_aws: dict[str, str],
) -> None:
    queue = moto_aws["hue_queue_url"]  # a source queue, not anyone's DLQ
    aws.sqs().send_message(QueueUrl=queue, MessageBody="x")
    code, result, err = run("admin", "redrive", queue, "--stack", STACK)
    assert (code, result) == (EXIT_USAGE, None)
    assert json.loads(err)["error"]["code"] == "no_destination"
    assert count(queue) == 1


def test_redrive_of_an_unknown_queue_is_the_aws_error(moto_aws: dict[str, str]) -> None:
    code, _, err = run("admin", "redrive", "no-such-queue-dlq", "--stack", STACK)
    assert code == EXIT_API
    assert "NonExistentQueue" in json.loads(err)["error"]["code"]


def test_redrive_task_where_the_endpoint_lacks_it_is_an_error_not_a_fallback(
    moto_aws: dict[str, str],
) -> None:
    dlq = moto_aws["zoom_dlq_url"]
    aws.sqs().send_message(QueueUrl=dlq, MessageBody="x")
    code, _, err = run("admin", "redrive", dlq, "--stack", STACK, "--method", "task")
    assert code == EXIT_API
    assert json.loads(err)["error"]["code"] == "not_implemented"
    assert count(dlq) == 1


class FakeSqs:
    """Records StartMessageMoveTask/ListMessageMoveTasks calls (moto has neither); every other
    call goes to moto."""

    def __init__(self, real: Any, statuses: list[str]) -> None:
        self.real = real
        self.statuses = statuses
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def start_message_move_task(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("start", params))
        return {"TaskHandle": "handle-1"}

    def list_message_move_tasks(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("list", params))
        status = self.statuses.pop(0)
        return {"Results": [{"Status": status, "ApproximateNumberOfMessagesMoved": 4}]}


def test_redrive_task_starts_sqs_own_move_to_the_source_and_waits(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSqs(aws.sqs(), ["RUNNING", "COMPLETED"])
    monkeypatch.setattr(admin.Aws, "sqs", lambda self: fake)
    monkeypatch.setattr(admin, "poll", _fast_poll)
    code, result, err = run(
        "admin", "redrive", moto_aws["zoom_dlq_url"], "--stack", STACK, "--rate", "50", "--wait"
    )
    assert code == EXIT_OK, err
    arn = "arn:aws:sqs:us-east-1:123456789012:" + Names().effect_queue("zoom")
    assert fake.calls[0] == (
        "start",
        {"SourceArn": f"{arn}-dlq", "DestinationArn": arn, "MaxNumberOfMessagesPerSecond": 50},
    )
    assert [c[0] for c in fake.calls] == ["start", "list", "list"]
    assert (result["method"], result["task"], result["status"]) == ("task", "handle-1", "COMPLETED")


def _fast_poll(fetch: Any, done: Any, *, timeout: float) -> Any:
    while True:
        state = fetch()
        if done(state):
            return state


def test_redrive_rate_is_checked_before_any_call(moto_aws: dict[str, str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run("admin", "redrive", moto_aws["zoom_dlq_url"], "--stack", STACK, "--rate", "501")
    assert caught.value.code == EXIT_USAGE


def test_admin_aws_commands_need_a_stack(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(admin.ENV_STACK, raising=False)
    code, _, err = run("admin", "backfill-gifs")
    assert code == EXIT_USAGE
    assert json.loads(err)["error"]["code"] == "missing_stack"


# -- backfill ---------------------------------------------------------------------------------


def test_backfill_events_have_the_shape_of_s3s_and_parse_as_the_consumers_do(
    deps: service.Deps,
) -> None:
    image_id = new_image(deps)
    record = service.latest(deps, image_id)
    version = admin.StoredVersion(
        image_id, record.version, record.bucket, record.key, record.s3_version_id
    )
    body = admin.originals_event(version, "us-east-1")
    real = events.event("s3_original_created")["Records"][0]
    made = json.loads(body)["Records"][0]

    def subset(mine: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
        for key, value in mine.items():
            assert key in theirs, f"{where}{key} is not in S3's event"
            if isinstance(value, dict):
                subset(value, theirs[key], f"{where}{key}.")

    subset(made, real, "")
    (obj,) = s3_objects(body)
    assert (obj.created, obj.bucket, obj.key, obj.version_id) == (
        True,
        record.bucket,
        record.key,
        record.s3_version_id,
    )


def test_backfill_queues_the_latest_live_versions_and_the_effect_makes_them(
    deps: service.Deps, moto_aws: dict[str, str]
) -> None:
    live = new_image(deps, seed=1)
    updated = new_image(deps, seed=2)
    second = service.update_image(
        deps,
        updated,
        ImageUpload(data=imagegen.png(40, 30), name=None, metadata={}, metadata_given=False),
    )
    deleted = new_image(deps, seed=3)
    service.delete_image(deps, deleted)
    for effect in ("zoom", "spin", "hue"):
        drain(moto_aws[f"{effect}_queue_url"])  # the S3 events of the writes above

    code, result, err = run("admin", "backfill-gifs", "--stack", STACK, "--effect", "zoom")
    assert code == EXIT_OK, err
    assert (result["images"], result["versions"], result["queued"]) == (2, 2, 2)
    assert result["effects"] == ["zoom"]
    assert count(moto_aws["spin_queue_url"]) == count(moto_aws["hue_queue_url"]) == 0
    messages = drain(moto_aws["zoom_queue_url"])
    named = {(o.key, o.version_id) for m in messages for o in s3_objects(m["Body"])}
    assert named == {
        (f"originals/{live}", service.latest(deps, live).s3_version_id),
        (f"originals/{updated}", second.s3_version_id),
    }
    response = consume("zoom", messages)
    assert response == {"batchItemFailures": []}
    assert deps.gifs.found(live, 1) == {"zoom": True}
    assert deps.gifs.found(updated, 2) == {"zoom": True}
    assert deps.gifs.found(updated, 1) == {}


def test_backfill_of_one_image_every_version_and_dry_run(
    deps: service.Deps, moto_aws: dict[str, str]
) -> None:
    image_id = new_image(deps)
    service.update_image(
        deps,
        image_id,
        ImageUpload(data=imagegen.png(40, 30), name=None, metadata={}, metadata_given=False),
    )
    other = new_image(deps, seed=5)
    for effect in ("zoom", "spin", "hue"):
        drain(moto_aws[f"{effect}_queue_url"])

    code, result, _ = run(
        "admin", "backfill-gifs", "--stack", STACK, "--image", image_id, "--dry-run"
    )
    assert (code, result["versions"], result["queued"]) == (EXIT_OK, 1, 0)
    assert count(moto_aws["zoom_queue_url"]) == 0

    code, result, err = run(
        "admin", "backfill-gifs", "--stack", STACK, "--image", image_id, "--all-versions"
    )
    assert code == EXIT_OK, err
    assert result["effects"] == ["hue", "spin", "zoom"]  # every effect queue of the stack
    assert (result["versions"], result["queued"]) == (2, 6)
    for effect in ("zoom", "spin", "hue"):
        messages = drain(moto_aws[f"{effect}_queue_url"])
        keys = {o.key for m in messages for o in s3_objects(m["Body"])}
        assert keys == {f"originals/{image_id}"}
        assert len(messages) == 2
    assert other != image_id


def test_backfill_force_removes_existing_gifs_so_they_are_made_again(
    deps: service.Deps, moto_aws: dict[str, str]
) -> None:
    image_id = new_image(deps)
    store = deps.gifs
    aws.s3().put_object(
        Bucket=store.bucket, Key=f"gifs/{image_id}/1/zoom.gif", Body=b"old gif bytes"
    )
    drain(moto_aws["zoom_queue_url"])
    code, _, err = run(
        "admin", "backfill-gifs", "--stack", STACK, "--effect", "zoom", "--image", image_id
    )
    assert code == EXIT_OK, err
    consume("zoom", drain(moto_aws["zoom_queue_url"]))
    kept = aws.s3().get_object(Bucket=store.bucket, Key=f"gifs/{image_id}/1/zoom.gif")
    assert kept["Body"].read() == b"old gif bytes"  # without --force an existing GIF is kept

    code, result, err = run(
        "admin",
        "backfill-gifs",
        "--stack",
        STACK,
        "--effect",
        "zoom",
        "--image",
        image_id,
        "--force",
    )
    assert code == EXIT_OK, err
    assert result["removed"] == 2
    consume("zoom", drain(moto_aws["zoom_queue_url"]))
    made = aws.s3().get_object(Bucket=store.bucket, Key=f"gifs/{image_id}/1/zoom.gif")
    assert made["Body"].read().startswith(b"GIF89a")


@pytest.mark.parametrize(
    ("argv", "exit_code", "code"),
    [
        (["--effect", "sparkle"], EXIT_USAGE, "unknown_effect"),
        (["--image", "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"], EXIT_API, "image_not_found"),
    ],
)
def test_backfill_refuses_unknown_effects_and_images_and_sends_nothing(
    deps: service.Deps, moto_aws: dict[str, str], argv: list[str], exit_code: int, code: str
) -> None:
    new_image(deps)
    drain(moto_aws["zoom_queue_url"])
    status, _, err = run("admin", "backfill-gifs", "--stack", STACK, *argv)
    assert status == exit_code
    assert json.loads(err)["error"]["code"] == code
    assert count(moto_aws["zoom_queue_url"]) == 0


def test_backfill_image_must_be_an_id(moto_aws: dict[str, str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run("admin", "backfill-gifs", "--stack", STACK, "--image", "../etc")
    assert caught.value.code == EXIT_USAGE


def test_effect_queue_names_are_the_terraform_and_local_mode_ones() -> None:
    local = Names("imgsvc-local").effect_queue("zoom")
    match = admin.EFFECT_QUEUE.match(local)
    assert match
    assert (match["stack"], match["effect"]) == ("imgsvc-local", "zoom")
    # environments/stack: module "effects_fanout" name = "<prefix>-originals", and
    # modules/fanout names each consumer's queue "<name>-<consumer>" (consumer = the effect).
    stack = (REPO / "environments/stack/main.tf").read_text()
    assert re.search(
        r'module "effects_fanout" \{[^}]*name\s+= "\$\{var\.name_prefix\}-originals"', stack
    )
    queues = (REPO / "modules/fanout/queues.tf").read_text()
    assert 'name                       = "${var.name}-${each.key}"' in queues
    assert 'name                      = "${var.name}-${each.key}-dlq"' in queues
    match = admin.EFFECT_QUEUE.match("imgsvc-prod-originals-hue")
    assert match
    assert (match["stack"], match["effect"]) == ("imgsvc-prod", "hue")
    assert admin.Aws("imgsvc-prod", None, None).table == "imgsvc-prod-images"
    assert Names("imgsvc-prod").table == "imgsvc-prod-images"


def test_only_a_missing_move_task_falls_back_never_a_refusal() -> None:
    from botocore.exceptions import ClientError

    def error(code: str, status: int) -> ClientError:
        response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "StartMessageMoveTask")

    assert admin._unsupported(NotImplementedError("moto in-process"))
    assert admin._unsupported(error("500", 500))  # moto's server: a bare error page
    assert admin._unsupported(error("InvalidAction", 400))
    for refusal, status in (
        ("AccessDenied", 403),
        ("InternalError", 500),
        ("RequestThrottled", 400),
        ("AWS.SimpleQueueService.NonExistentQueue", 400),
        ("UnsupportedOperation", 400),  # e.g. a FIFO queue: SQS itself refuses
    ):
        assert not admin._unsupported(error(refusal, status)), refusal
