"""The effect functions: one Lambda per GIF effect, each consuming its own queue of
originals-bucket create events (S3 -> SNS -> SQS, raw delivery).

In AWS every function runs :func:`handler` and knows its effect from ``IMGSVC_EFFECT``. The local
mode runs all effects in one process, so it takes one handler per effect from
:func:`handler_for`; both run the same code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from imgsvc import config, effects, gifs, metrics
from imgsvc.handlers.queue import final_attempt, s3_objects
from imgsvc.logs import logger
from imgsvc.wiring import deps

_records_logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]


def _record(record: SQSRecord, *, effect: str) -> None:
    found = deps()
    last = final_attempt(record, found.config.max_receive_count)
    for obj in s3_objects(record.body):
        if not obj.created:
            continue  # deletes (delete markers, undone writes) need no GIF
        started = time.perf_counter()
        try:
            outcome = gifs.handle_original(
                found, effect, obj.key, obj.version_id, final_attempt=last
            )
        except Exception:
            if last:  # the failure marker is written: the GIF is failed for good
                metrics.gif("failed", effect, (time.perf_counter() - started) * 1000)
            raise
        metrics.gif(outcome, effect, (time.perf_counter() - started) * 1000)
        logger.info("original event", extra={"effect": effect, "key": obj.key, "outcome": outcome})


def process(event: dict[str, Any], context: Any, effect: str) -> PartialItemFailureResponse:
    """One SQS batch for ``effect``: ``{"batchItemFailures": [...]}`` names the retries."""
    effects.get_effect(effect)  # a misconfigured function fails loudly, every message retried
    processor = BatchProcessor(
        event_type=EventType.SQS,
        logger=_records_logger,  # each failed record: a warning with its traceback
        raise_on_entire_batch_failure=False,  # every failure is a batch item failure
    )
    return process_partial_response(
        event=event,
        record_handler=partial(_record, effect=effect),
        processor=processor,
        context=context,
    )


def handler_for(effect: str) -> Handler:
    """A handler for one effect (the local mode's workers); ValueError for an unknown one."""
    effects.get_effect(effect)

    @logger.inject_lambda_context
    @metrics.function("effects")
    def handle(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        return process(event, context, effect)

    return handle


@logger.inject_lambda_context
@metrics.function("effects")
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    effect = config.load().effect
    if not effect:
        raise ValueError(f"{config.EFFECT} is not set: name this function's effect")
    return process(event, context, effect)
