"""Real-shaped Lambda event fixtures (tests/fixtures/events/*.json), loaded by one helper."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "events"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def event(name: str, **overrides: Any) -> dict[str, Any]:
    """A fresh copy of fixture ``name`` with top-level keys replaced by ``overrides``."""
    data = copy.deepcopy(_load(name))
    data.update(overrides)
    return data


class LambdaContext:
    """The attributes Powertools reads from the Lambda context."""

    function_name = "imgsvc-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:imgsvc-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/imgsvc-test"
    log_stream_name = "2026/11/22/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
