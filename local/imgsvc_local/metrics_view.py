"""The local mode's view of the service's metrics: each EMF blob a handler emits
(:mod:`imgsvc.metrics`) becomes one readable line in the local mode's log, so a newcomer sees,
for example, a rendition made on a miss::

    metric resize RenditionsMade=1 RenditionMs=35.2ms RenditionBytes=1234B [Format=webp]

In AWS the same blob is a JSON line in the function's log, which CloudWatch turns into metrics
(the namespace, the Stage and Function dimensions are in the line's ``_aws`` part).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, TextIO

from imgsvc import config, metrics

# The Stage dimension of the local mode's metrics (deployed stages use their name prefix).
LOCAL_STAGE = "local"
_UNITS = {"Milliseconds": "ms", "Bytes": "B", "Count": ""}
_lock = threading.Lock()


def readable(blob: dict[str, Any]) -> str:
    """One EMF blob as ``metric <function> <name>=<value><unit> ... [<dimension>=<value> ...]``."""
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    values = []
    for definition in directive["Metrics"]:
        found = blob[definition["Name"]]
        numbers = found if isinstance(found, list) else [found]
        text = ",".join(f"{number:g}" for number in numbers)
        values.append(f"{definition['Name']}={text}{_UNITS.get(definition['Unit'], '')}")
    dimensions = [
        f"{name}={blob[name]}"
        for dimension_set in directive["Dimensions"]
        for name in dimension_set
        if name not in ("Stage", "Function")
    ]
    extra = f" [{' '.join(dimensions)}]" if dimensions else ""
    return f"metric {blob.get('Function', '?')} {' '.join(values)}{extra}"


def install(stream: TextIO | None = None) -> None:
    """Print every metric the handlers emit as a readable line on ``stream`` (stdout)."""
    os.environ.setdefault(config.STAGE, LOCAL_STAGE)

    def sink(blob: dict[str, Any]) -> None:
        line = readable(blob)
        with _lock:
            out = stream or sys.stdout
            out.write(line + "\n")
            out.flush()

    metrics.set_sink(sink)
