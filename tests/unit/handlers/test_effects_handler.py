"""The effect functions over moto's own fan-out (S3 -> SNS -> one SQS queue per effect):
GIFs made once, a failure retried, a poison message in the DLQ without blocking the rest."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from imgsvc import aws, config, gifs, keys, service, wiring
from imgsvc.handlers import effects as handler_module
from imgsvc.handlers import queue
from imgsvc.image_requests import ImageUpload
from imgsvc.records import ImageVersion
from imgsvc_local import resources
from imgsvc_local.workers import QueueWorker
from tests.support import imagegen
from tests.support.events import LambdaContext
from tests.unit.handlers.test_uploads_handler import failed_ids, s3_body, sqs_event


def worker_for(resources: dict[str, str], effect: str) -> QueueWorker:
    """The effect's event source mapping, retrying at once (visibility 0) to keep tests fast."""
    return QueueWorker(
        name=effect,
        queue_url=resources[f"{effect}_queue_url"],
        handler=handler_module.handler_for(effect),
        context_factory=LambdaContext,
        visibility_timeout=0,
        wait_seconds=0,
    )


def create(data: bytes | None = None) -> ImageVersion:
    upload = ImageUpload(data if data is not None else imagegen.jpeg(120, 90), name="a.jpg")
    return service.create_image(wiring.deps(), upload)


def gif_bytes(record: ImageVersion, effect: str) -> bytes | None:
    cfg = wiring.deps().config
    try:
        found = aws.s3().get_object(
            Bucket=cfg.renditions_bucket, Key=keys.gif_key(record.id, record.version, effect)
        )
    except aws.s3().exceptions.NoSuchKey:
        return None
    return found["Body"].read()


def queue_bodies(queue_url: str) -> list[str]:
    received = aws.sqs().receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [message["Body"] for message in received.get("Messages", [])]


class _FlakyGifWrites:
    """The S3 client, except that the first ``failures`` GIF writes fail (an S3 hiccup)."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real = real
        self.failures = failures

    def put_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"].endswith(".gif") and self.failures > 0:
            self.failures -= 1
            raise ConnectionError("renditions bucket unreachable")
        return self.real.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_every_effect_queue_gets_every_new_version(moto_aws: dict[str, str]) -> None:
    record = create(imagegen.jpeg(160, 120))
    for effect in gifs.configured_effects(wiring.deps().config):
        assert worker_for(moto_aws, effect).poll_once() == 1
        data = gif_bytes(record, effect)
        assert data is not None
        with Image.open(io.BytesIO(data)) as gif:
            assert gif.is_animated
    assert set(gifs.status(wiring.deps(), record.id).states.values()) == {"ready"}


def test_the_event_carries_the_version_id_and_a_duplicate_is_skipped(
    moto_aws: dict[str, str],
) -> None:
    record = create()
    (body,) = queue_bodies(moto_aws["hue_queue_url"])
    (found,) = queue.s3_objects(body)
    assert (found.key, found.version_id) == (record.key, record.s3_version_id)
    worker = worker_for(moto_aws, "hue")
    assert worker.poll_once() == 1
    first = gif_bytes(record, "hue")
    aws.sqs().send_message(QueueUrl=moto_aws["hue_queue_url"], MessageBody=body)  # redelivery
    assert worker.poll_once() == 1
    assert gif_bytes(record, "hue") == first
    assert worker.poll_once() == 0


def test_a_consumer_that_fails_once_succeeds_on_the_retry(moto_aws: dict[str, str]) -> None:
    record = create()
    aws.set_client("s3", _FlakyGifWrites(aws.s3(), failures=1))
    wiring.deps.cache_clear()  # the stores take the flaky client
    worker = worker_for(moto_aws, "zoom")
    assert worker.poll_once() == 1  # failed: reported in batchItemFailures, left on the queue
    assert gif_bytes(record, "zoom") is None
    assert worker.poll_once() == 1  # the retry
    assert gif_bytes(record, "zoom") is not None
    assert worker.poll_once() == 0
    assert queue_bodies(moto_aws["zoom_dlq_url"]) == []


def test_a_poison_message_ends_in_the_dlq_without_blocking_the_others(
    moto_aws: dict[str, str],
) -> None:
    aws.sqs().send_message(QueueUrl=moto_aws["spin_queue_url"], MessageBody="poison")
    record = create()
    worker = worker_for(moto_aws, "spin")
    assert worker.poll_once() == 2
    assert gif_bytes(record, "spin") is not None  # the good message was not held up
    for _ in range(resources.MAX_RECEIVE_COUNT - 1):
        assert worker.poll_once() == 1  # the poison, again
    assert worker.poll_once() == 0  # moto's redrive policy moved it
    assert queue_bodies(moto_aws["spin_dlq_url"]) == ["poison"]


def test_a_version_that_keeps_failing_is_marked_failed_when_it_reaches_the_dlq(
    moto_aws: dict[str, str],
) -> None:
    record = create()
    aws.set_client("s3", _FlakyGifWrites(aws.s3(), failures=1000))
    wiring.deps.cache_clear()  # the stores take the flaky client
    worker = worker_for(moto_aws, "zoom")
    for attempt in range(1, resources.MAX_RECEIVE_COUNT + 1):
        assert worker.poll_once() == 1
        expected = "failed" if attempt == resources.MAX_RECEIVE_COUNT else "pending"
        assert gifs.status(wiring.deps(), record.id).states["zoom"] == expected
    assert worker.poll_once() == 0
    (body,) = queue_bodies(moto_aws["zoom_dlq_url"])
    assert json.loads(body)["Records"][0]["s3"]["object"]["versionId"] == record.s3_version_id


def test_the_lambda_entry_point_takes_its_effect_from_the_environment(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    record = create()
    monkeypatch.setenv(config.EFFECT, "hue")
    config.load.cache_clear()
    wiring.deps.cache_clear()
    response = handler_module.handler(
        sqs_event(
            s3_body("s3_original_created", record.key, record.s3_version_id),
            "not an event",
        ),
        LambdaContext(),
    )
    assert failed_ids(response) == ["message-1"]
    assert gif_bytes(record, "hue") is not None
    assert gif_bytes(record, "zoom") is None


def test_an_sns_envelope_is_read_like_a_raw_message(moto_aws: dict[str, str]) -> None:
    record = create()
    wrapped = json.dumps(
        {
            "Type": "Notification",
            "Message": s3_body("s3_original_created", record.key, record.s3_version_id),
        }
    )
    response = handler_module.handler_for("spin")(sqs_event(wrapped), LambdaContext())
    assert failed_ids(response) == []
    assert gif_bytes(record, "spin") is not None


def test_a_function_without_a_valid_effect_fails_loudly(
    moto_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="sparkle"):
        handler_module.handler_for("sparkle")
    monkeypatch.delenv(config.EFFECT, raising=False)
    config.load.cache_clear()
    body = s3_body("s3_original_created", f"originals/{'0' * 8}")
    with pytest.raises(ValueError, match=config.EFFECT):
        handler_module.handler(sqs_event(body), LambdaContext())
    monkeypatch.setenv(config.EFFECT, "sparkle")
    config.load.cache_clear()
    with pytest.raises(ValueError, match="sparkle"):
        handler_module.handler(sqs_event(body), LambdaContext())
