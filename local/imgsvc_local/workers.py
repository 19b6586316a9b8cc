"""Event delivery on one machine: poll an SQS queue in moto and call a handler with the exact
SQS event shape Lambda's event source mapping sends, honouring partial batch failures.

A message the handler reports as failed (or every message, if it raises) is left to become
visible again, so moto's redrive policy moves it to the dead-letter queue after
``maxReceiveCount`` receives, as SQS does in AWS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("localmode.workers")

Handler = Callable[[dict[str, Any], Any], Any]


def sqs_event(messages: list[Any], queue_arn: str, region: str) -> dict[str, Any]:
    """The Lambda SQS event for received messages (as from ReceiveMessage with all attributes)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


class QueueWorker(threading.Thread):
    """One event source mapping: a queue, a handler, a batch size."""

    def __init__(
        self,
        *,
        name: str,
        queue_url: str,
        handler: Handler,
        context_factory: Callable[[], Any],
        batch_size: int = 5,
        visibility_timeout: int = 2,
        wait_seconds: int = 1,
    ) -> None:
        super().__init__(name=f"worker-{name}", daemon=True)
        from imgsvc import aws

        self.sqs = aws.sqs()
        self.queue_url = queue_url
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.handler = handler
        self.context_factory = context_factory
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout
        self.wait_seconds = wait_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("worker %s failed to poll", self.name)
                self.stopping.wait(1)

    def poll_once(self) -> int:
        """Receive one batch and deliver it; returns how many messages were received."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(messages, self.queue_arn, self.sqs.meta.region_name)
        try:
            result = self.handler(event, self.context_factory())
        except Exception:
            logger.exception("handler of %s raised: the batch will be retried", self.name)
            return len(messages)
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(messages)

    def stop(self) -> None:
        self.stopping.set()
