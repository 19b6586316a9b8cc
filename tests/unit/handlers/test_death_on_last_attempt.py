"""A queue consumer killed on a message's last receive (Lambda ends a timed-out or out-of-memory
invocation like SIGKILL: no ``except``, no ``finally``) settles nothing, and yet every status
converges: pending until the queue's whole retry window has passed, then ``failed`` (a GIF) or
``rejected`` with ``processing_failed`` (an upload). A later success still wins.

Each test runs the real Lambda handler in a subprocess against moto's server, on the real
queue's last receive, and kills it with SIGKILL in the middle of decoding.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from imgsvc import aws, gifs, keys, service, upload_processing, upload_tickets, wiring
from imgsvc.handlers import bodies
from imgsvc.image_requests import ImageUpload
from imgsvc.records import parse_rfc3339, rfc3339
from imgsvc_local import resources
from imgsvc_local.moto_server import MotoServer
from imgsvc_local.workers import sqs_event
from tests.support import imagegen

ROOT = Path(__file__).resolve().parents[3]

# Runs one handler on the SQS event from stdin; the decode it reaches writes a file and hangs,
# so the test knows the consumer is mid-work when it kills it.
CONSUMER = r"""
import json, pathlib, sys, time

from tests.support.events import LambdaContext

kind, started = sys.argv[1], pathlib.Path(sys.argv[2])

def hang(*args, **kwargs):
    started.write_text("decoding")
    time.sleep(300)

if kind == "effect":
    from imgsvc import effects
    effects.make_gif = hang
    from imgsvc.handlers.effects import handler
else:
    from imgsvc import imaging
    imaging.inspect = hang
    from imgsvc.handlers.uploads import handler
handler(json.loads(sys.stdin.read()), LambdaContext())
started.write_text("finished")
"""


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's server on 127.0.0.1 (a free port) with the local mode's resources; this process
    and the consumers' subprocesses reach it through ``AWS_ENDPOINT_URL``."""
    server = MotoServer().start()
    reset = f"{server.url}/moto-api/reset"  # moto's state is per process: start from nothing
    requests.post(reset, timeout=30).raise_for_status()
    for name, value in resources.environment(server.url, resources.Names()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    wiring.reset()
    try:
        yield resources.create_resources(resources.Names())
    finally:
        requests.post(reset, timeout=30).raise_for_status()
        wiring.reset()
        server.stop()


def last_receive(queue_url: str, about: str) -> dict[str, Any]:
    """Receive the queue's message that mentions ``about`` until its last receive (the redrive
    policy's maxReceiveCount), leaving it in flight; returns the SQS event of that receive.
    Others (S3's test event) are deleted."""
    sqs = aws.sqs()
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=1,
            VisibilityTimeout=1,
            AttributeNames=["All"],
        ).get("Messages", [])
        if received and about not in received[0]["Body"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])
        elif received:
            count = int(received[0]["Attributes"]["ApproximateReceiveCount"])
            if count == resources.MAX_RECEIVE_COUNT:
                return sqs_event(received, arn["Attributes"]["QueueArn"], sqs.meta.region_name)
            time.sleep(1.1)  # visible again after the timeout: the next receive counts
    raise AssertionError(f"no last receive on {queue_url}")


def kill_mid_work(kind: str, event: dict[str, Any], tmp_path: Path) -> None:
    """Run the ``kind`` consumer on ``event`` in a subprocess and SIGKILL it while it decodes."""
    started = tmp_path / f"{kind}-started"
    env = {**os.environ, "IMGSVC_EFFECT": "zoom"}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("lambda_src", "local", "."))
    process = subprocess.Popen(
        [sys.executable, "-c", CONSUMER, kind, str(started)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(event))
    process.stdin.close()
    deadline = time.monotonic() + 60
    while not started.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the consumer never reached its decode:\n{stderr}")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert started.read_text() == "decoding"  # it never got further


def dead_lettered(queue_url: str, dlq_url: str) -> list[str]:
    """The bodies moved to the DLQ once the in-flight message is visible again."""
    time.sleep(1.5)  # the last receive's visibility timeout (1 s) runs out
    sqs = aws.sqs()
    again = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
    assert again == []  # moto, as SQS, moves a message past maxReceiveCount to the DLQ
    moved = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [message["Body"] for message in moved.get("Messages", [])]


def at(deps: service.Deps, moment: Any) -> service.Deps:
    return replace(deps, clock=lambda: rfc3339(moment))


def test_a_gif_whose_consumer_died_on_the_last_receive_ends_failed(
    moto_server: dict[str, str], tmp_path: Path
) -> None:
    deps = wiring.deps()
    record = service.create_image(deps, ImageUpload(imagegen.jpeg(64, 48), name="a.jpg"))
    kill_mid_work(
        "effect", last_receive(moto_server["zoom_queue_url"], record.s3_version_id), tmp_path
    )
    (body,) = dead_lettered(moto_server["zoom_queue_url"], moto_server["zoom_dlq_url"])
    assert record.s3_version_id in body
    assert deps.gifs.found(record.id, 1) == {}  # no marker: the except never ran

    committed = parse_rfc3339(record.created_at)
    window = timedelta(seconds=deps.config.gif_retry_window)
    still = bodies.gifs_body(
        gifs.status(at(deps, committed + window - timedelta(seconds=1)), record.id), ""
    )
    assert still["effects"]["zoom"] == {"status": "pending"}  # a retry may still come
    after = gifs.status(at(deps, committed + window + timedelta(seconds=1)), record.id)
    assert after.states["zoom"] == "failed"

    # A redrive that succeeds later still wins.
    assert gifs.make_effect(deps, record, "zoom") == "made"
    assert gifs.status(at(deps, committed + 2 * window), record.id).states["zoom"] == "ready"


def test_an_upload_whose_consumer_died_on_the_last_receive_ends_rejected(
    moto_server: dict[str, str], tmp_path: Path
) -> None:
    deps = wiring.deps()
    request = upload_tickets.UploadRequest("slow.jpg", "image/jpeg", {})
    ticket, _ = upload_tickets.create_upload(deps, request)
    key = keys.upload_key(ticket.id)
    aws.s3().put_object(Bucket=deps.inbox.bucket, Key=key, Body=imagegen.jpeg(64, 48))
    kill_mid_work("upload", last_receive(moto_server["uploads_queue_url"], ticket.id), tmp_path)
    (body,) = dead_lettered(moto_server["uploads_queue_url"], moto_server["uploads_dlq_url"])
    assert ticket.id in body

    arrived = deps.inbox.arrived_at(key)
    assert arrived is not None
    window = timedelta(seconds=deps.config.upload_retry_window)
    early = upload_tickets.upload_status(
        at(deps, arrived + window - timedelta(seconds=1)), ticket.id
    )
    assert early.status == "pending"
    late = upload_tickets.upload_status(
        at(deps, arrived + window + timedelta(seconds=1)), ticket.id
    )
    assert bodies.upload_status_body(late) == {
        "id": ticket.id,
        "status": "rejected",
        "error": {
            "code": "processing_failed",
            "message": "The upload could not be processed; try again later with a new upload.",
        },
    }
    assert deps.inbox.has(key)  # kept for investigation and a redrive

    # The redriven message succeeds: the give-up was not final.
    assert upload_processing.process_upload(deps, ticket.id) == "processed"
    assert upload_tickets.upload_status(deps, ticket.id).status == "processed"
    assert service.latest(deps, ticket.id).version == 1
