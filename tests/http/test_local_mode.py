"""`make run`'s process: what it prints, and a clean stop on Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.http.conftest import start_local_mode, stop_local_mode

pytestmark = pytest.mark.http


def test_prints_the_url_and_an_example_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    mode = start_local_mode(tmp_path / "run.log")
    try:
        banner = mode.log.read_text()
        assert f"running at {mode.url}" in banner
        assert f"curl -sS -X POST '{mode.url}/images?name=photo.jpg'" in banner
        requests.get(f"{mode.url}/health", timeout=10)
    finally:
        code = stop_local_mode(mode)
    assert code == 0
    log = mode.log.read_text()
    assert '"GET /health" 200' in log  # each request is logged
    assert log.rstrip().endswith("Stopped.")
