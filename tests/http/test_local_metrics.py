"""The local mode shows the service's metrics: over HTTP, a miss on the CDN becomes a rendition
metric in the local mode's log, as one readable line; a hit does not."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.http.conftest import LocalMode
from tests.http.support import create
from tests.support import imagegen

http = pytest.mark.http

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
RENDITION = re.compile(
    r"^metric resize RenditionsMade=1 RenditionMs=[0-9.]+ms RenditionBytes=(\d+)B "
    r"\[Format=webp\]$",
    re.M,
)
CREATED = re.compile(r"^metric api Requests=1 \[Route=/images StatusClass=2xx\]$", re.M)


def log_matches(mode: LocalMode, pattern: re.Pattern[str], at_least: int) -> list[str]:
    """Lines of the log matching ``pattern``, once there are ``at_least`` (waits a little: the
    log is written by the local mode's process)."""
    deadline = time.monotonic() + 10
    while True:
        found = pattern.findall(mode.log.read_text(errors="replace"))
        if len(found) >= at_least or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.1)


@http
def test_a_miss_becomes_a_rendition_metric_in_the_log(local_mode: LocalMode) -> None:
    api = local_mode.url
    created_before = len(log_matches(local_mode, CREATED, 0))
    record = create(api, imagegen.jpeg(640, 480, seed=41))
    assert len(log_matches(local_mode, CREATED, created_before + 1)) == created_before + 1

    before = log_matches(local_mode, RENDITION, 0)
    url = f"{api}/cdn/r/{record['id']}/1/200x"
    miss = requests.get(url, headers={"Accept": CHROME}, timeout=60)
    assert miss.status_code == 200, miss.text
    after = log_matches(local_mode, RENDITION, len(before) + 1)
    assert len(after) == len(before) + 1, local_mode.log.read_text()[-3000:]
    assert int(after[-1]) == len(miss.content)  # the bytes the metric counts are the rendition's

    hit = requests.get(url, headers={"Accept": CHROME}, timeout=60)
    assert hit.status_code == 200
    assert hit.content == miss.content
    time.sleep(0.5)
    assert len(log_matches(local_mode, RENDITION, len(after))) == len(after)
    # Never an image id in a metric line.
    metric_lines = re.findall(r"^metric .*$", local_mode.log.read_text(errors="replace"), re.M)
    assert metric_lines
    assert not any(record["id"] in line for line in metric_lines)
