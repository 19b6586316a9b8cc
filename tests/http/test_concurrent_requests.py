"""Concurrent requests to the local mode run in separate execution environments (worker
processes, as Lambda runs concurrent invocations) and each gets its own answer. Correctness
only: speed is `python -m bench localmode`'s, never a timed test."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.http.conftest import LocalMode, start_local_mode
from tests.http.support import create
from tests.support import imagegen

pytestmark = pytest.mark.http

CLIENTS = 12


def environment_processes(pid: int) -> set[int]:
    """The worker processes (spawned Lambda environments) of the local mode's process."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            found.add(int(stat.parent.name))
    return found


def test_concurrent_creates_each_get_their_own_record(api: str, local_mode: LocalMode) -> None:
    # Powertools keeps the current event on the resolver: in-process threads would read each
    # other's headers and bodies. Each record must be its own request's.
    images = [imagegen.jpeg(20 + i, 20 + 2 * i, seed=i) for i in range(CLIENTS)]

    def one(i: int) -> dict[str, Any]:
        return create(api, images[i], name=f"client-{i}.jpg", **{"x-meta-client": str(i)})

    with ThreadPoolExecutor(CLIENTS) as pool:
        records = list(pool.map(one, range(CLIENTS)))
    for i, record in enumerate(records):
        assert record["name"] == f"client-{i}.jpg"
        assert record["metadata"] == {"client": str(i)}
        assert (record["width"], record["height"]) == (20 + i, 20 + 2 * i)
        assert record["sha256"] == hashlib.sha256(images[i]).hexdigest()
    assert len({r["id"] for r in records}) == CLIENTS
    # More than one environment served them (each started on demand, up to the pool's size).
    assert len(environment_processes(local_mode.process.pid)) > 1


def test_concurrent_versions_of_one_image_are_consecutive(api: str) -> None:
    image_id = create(api, imagegen.jpeg(24, 24, seed=100))["id"]
    images = [imagegen.jpeg(24, 24, seed=200 + i) for i in range(CLIENTS)]

    def put(i: int) -> int:
        for _ in range(5):  # a 409 that says a retry can succeed is retried, as a client would
            response = requests.put(
                f"{api}/images/{image_id}",
                data=images[i],
                headers={"Content-Type": "image/jpeg"},
                timeout=60,
            )
            if response.status_code != 409:
                break
        assert response.status_code == 200, response.text
        return int(response.json()["version"])

    with ThreadPoolExecutor(CLIENTS) as pool:
        versions = sorted(pool.map(put, range(CLIENTS)))
    assert versions == list(range(2, CLIENTS + 2))
    listed = requests.get(f"{api}/images/{image_id}/versions", timeout=30).json()["versions"]
    assert sorted(v["sha256"] for v in listed if v["version"] > 1) == sorted(
        hashlib.sha256(data).hexdigest() for data in images
    )


def test_the_environments_end_with_a_killed_local_mode(tmp_path: Path) -> None:
    mode = start_local_mode(tmp_path / "killed.log")  # its /health started an environment
    workers = environment_processes(mode.process.pid)
    assert workers
    mode.process.kill()
    mode.process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if alive(pid)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
