"""The local mode's readable metric lines, from the EMF blobs the service emits."""

from __future__ import annotations

import io

import pytest

from imgsvc import config, metrics
from imgsvc_local import metrics_view


def test_an_emf_blob_reads_as_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.STAGE, "local")
    config.load.cache_clear()
    out = io.StringIO()
    metrics_view.install(out)
    try:
        with metrics.function_scope("resize"):
            metrics.rendition_made("webp", 12.34, 2048)
            metrics.replica_read()
    finally:
        metrics.set_sink(None)
        config.load.cache_clear()
    assert out.getvalue().splitlines() == [
        "metric resize RenditionsMade=1 RenditionMs=12.3ms RenditionBytes=2048B [Format=webp]",
        "metric resize ReplicaReads=1",
    ]
