"""S3 cross-region replication, emulated: moto stores a replication configuration but copies
nothing. This consumer of the originals' event topic copies each new version to the replica
bucket with its metadata, so the read path's replica fallback works locally as in AWS.

(AWS keeps the version id in the replica; moto cannot, which is why the read path also finds a
replica copy by its ``sha256`` metadata.)
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote_plus

from imgsvc import aws, config

logger = logging.getLogger("localmode.replication")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    cfg = config.load()
    source = aws.s3()
    replica = aws.s3(cfg.replica_region)
    for record in event["Records"]:
        for s3_event in json.loads(record["body"]).get("Records", []):
            if not s3_event.get("eventName", "").startswith("ObjectCreated"):
                continue
            key = unquote_plus(s3_event["s3"]["object"]["key"])
            version_id = s3_event["s3"]["object"].get("versionId")
            kwargs: dict[str, Any] = {"Bucket": s3_event["s3"]["bucket"]["name"], "Key": key}
            if version_id:
                kwargs["VersionId"] = version_id
            try:
                obj = source.get_object(**kwargs)
            except source.exceptions.NoSuchKey:
                continue  # removed again before replication (an undone write)
            except Exception as exc:  # NoSuchVersion arrives as a generic ClientError
                if "NoSuchVersion" in str(exc) or "404" in str(exc):
                    continue
                raise
            replica.put_object(
                Bucket=cfg.replica_bucket,
                Key=key,
                Body=obj["Body"].read(),
                ContentType=obj.get("ContentType", "application/octet-stream"),
                Metadata=obj.get("Metadata", {}),
                StorageClass="ONEZONE_IA",
            )
            logger.debug("replicated %s (%s)", key, version_id)
    return {"batchItemFailures": []}
