"""The uploads function: create events of the uploads bucket (S3 -> SQS), one file each."""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from imgsvc import keys, metrics, upload_processing
from imgsvc.handlers.queue import final_attempt, s3_objects
from imgsvc.logs import logger
from imgsvc.wiring import deps

_records_logger = logging.getLogger(__name__)


def _record(record: SQSRecord) -> None:
    found = deps()
    last = final_attempt(record, found.config.max_receive_count)
    for obj in s3_objects(record.body):
        image_id = keys.id_from_key(obj.key, keys.UPLOADS_PREFIX)
        if not obj.created or image_id is None:
            logger.debug("event ignored", extra={"event": obj.event_name, "key": obj.key[:200]})
            continue
        outcome = upload_processing.process_upload(found, image_id, final_attempt=last)
        if outcome == "processed":  # rejections are counted with their reason (upload_processing)
            metrics.upload_processed()
        logger.info("upload event", extra={"image_id": image_id, "outcome": outcome})


@logger.inject_lambda_context
@metrics.function("uploads")
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    processor = BatchProcessor(
        event_type=EventType.SQS,
        logger=_records_logger,  # each failed record: a warning with its traceback
        raise_on_entire_batch_failure=False,  # every failure is a batch item failure
    )
    return process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
