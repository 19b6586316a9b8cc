"""Concurrent updates against moto's server, with a forced race: every writer reads the same
latest version before any of them commits, so all but one lose the conditional write at first.
No version may be handed out twice, and every committed version keeps its own bytes."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import pytest

from imgsvc import service, wiring
from imgsvc.image_requests import ImageUpload
from imgsvc.repository import Repository, VersionTaken
from imgsvc_local import resources
from imgsvc_local.moto_server import MotoServer
from tests.support import imagegen

WRITERS = 8


@pytest.fixture
def deps(monkeypatch: pytest.MonkeyPatch) -> Iterator[service.Deps]:
    server = MotoServer().start()
    names = resources.Names(prefix="imgsvc-race")
    for name, value in resources.environment(server.url, names).items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    resources.create_resources(names)
    yield wiring.deps()
    wiring.reset()
    server.stop()


@dataclass
class RacingRepository:
    """Delegates to the real repository; each thread's first ``latest`` waits for all writers."""

    inner: Repository
    barrier: threading.Barrier
    conflicts: int = 0

    def __post_init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()

    def latest(self, image_id: str) -> Any:
        found = self.inner.latest(image_id)
        if not getattr(self.local, "waited", False):
            self.local.waited = True
            self.barrier.wait(timeout=60)
        return found

    def put_version(self, record: Any) -> None:
        try:
            self.inner.put_version(record)
        except VersionTaken:
            with self.lock:
                self.conflicts += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_racing_updates_get_distinct_versions_with_their_own_bytes(deps: service.Deps) -> None:
    first = service.create_image(
        deps, ImageUpload(data=imagegen.jpeg(64, 64, seed=1), name="race.jpg")
    )
    racing = RacingRepository(deps.repository, threading.Barrier(WRITERS))
    racing_deps = replace(deps, repository=racing)  # type: ignore[arg-type]
    bodies = [imagegen.jpeg(64, 64, seed=10 + i) for i in range(WRITERS)]

    def update(data: bytes) -> Any:
        return service.update_image(racing_deps, first.id, ImageUpload(data=data))

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        records = list(pool.map(update, bodies))

    assert racing.conflicts >= WRITERS - 1  # the race really happened
    assert sorted(r.version for r in records) == list(range(2, WRITERS + 2))
    stored = {r.version: r for r in service.list_versions(deps, first.id)}
    assert sorted(stored) == list(range(1, WRITERS + 2))
    for record in records:
        assert stored[record.version] == record
        data = service.read_original(deps, record)
        assert hashlib.sha256(data).hexdigest() == record.sha256
    assert {r.sha256 for r in records} == {hashlib.sha256(b).hexdigest() for b in bodies}
    # The losers' uploads were not left behind: one S3 version per committed image version.
    listed = deps.originals.client.list_object_versions(
        Bucket=deps.originals.bucket, Prefix=first.key
    )
    assert len(listed["Versions"]) == WRITERS + 1
