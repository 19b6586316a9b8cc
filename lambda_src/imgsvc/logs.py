"""Structured JSON logs: level, message, RFC 3339 UTC time, request id, cold start.

Modules log through ``logging.getLogger(__name__)`` (children of ``imgsvc``); this Powertools
logger owns the ``imgsvc`` logger and formats every record as one JSON line.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="imgsvc", utc=True, use_rfc3339=True)
