"""The local mode under concurrent clients: requests/s and latency with one execution environment
(one invocation at a time, as the local mode was before it had a pool) against the default pool
(``imgsvc_local.gateway.DEFAULT_CONCURRENCY`` worker processes), in the same run.

Each of ``CLIENTS`` threads repeats a round of an API client's work: create an image, read its
record, upload a new version, list its versions. Both runs start a fresh local mode
(``python -m imgsvc_local``) and warm it with one round per environment first, so cold starts
are left out. ``IMGSVC_BENCH_LOCAL_ROUNDS`` sets the rounds per client (default 4).
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from PIL import Image

from bench.common import print_table, ratio
from imgsvc_local.gateway import DEFAULT_CONCURRENCY

CLIENTS = 16
ROUNDS = int(os.environ.get("IMGSVC_BENCH_LOCAL_ROUNDS", "4"))
REPO = Path(__file__).resolve().parents[1]


def _jpeg(seed: int) -> bytes:
    import io

    image = Image.effect_noise((640, 480), 40 + seed % 50).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _local_mode(concurrency: int) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IMGSVC_"))}
    env.update(PORT=str(port), LOCAL_CONCURRENCY=str(concurrency), PYTHONUNBUFFERED="1")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "imgsvc_local"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(f"{url}/health", timeout=30).status_code == 200:
                        break
                except requests.RequestException:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(log.read().decode(errors="replace")) from None
                    time.sleep(0.3)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)  # SIGINT is ignored in a background job
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _round(
    url: str, data: bytes, update: bytes, session: requests.Session, latencies: list[float]
) -> None:
    def timed(method: str, path: str, **kwargs: object) -> requests.Response:
        started = time.perf_counter()
        response = session.request(method, url + path, timeout=120, **kwargs)  # type: ignore[arg-type]
        latencies.append(time.perf_counter() - started)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response

    jpeg = {"Content-Type": "image/jpeg"}
    image_id = timed("POST", "/images?name=bench.jpg", data=data, headers=jpeg).json()["id"]
    timed("GET", f"/images/{image_id}")
    timed("PUT", f"/images/{image_id}", data=update, headers=jpeg)
    timed("GET", f"/images/{image_id}/versions")


def _load(url: str, concurrency: int) -> tuple[float, float, float, int]:
    """requests/s, median and 95th-percentile latency (ms), requests made."""
    images = [_jpeg(seed) for seed in range(CLIENTS)]
    # Warm every environment: one round per environment, at once.
    warm = [
        threading.Thread(
            target=_round, args=(url, images[i], images[-1 - i], requests.Session(), [])
        )
        for i in range(concurrency)
    ]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    latencies: list[float] = []
    errors: list[BaseException] = []

    def client(index: int) -> None:
        session = requests.Session()
        try:
            for _ in range(ROUNDS):
                _round(url, images[index], images[-1 - index], session, latencies)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed; the first: {errors[0]}")
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p95 * 1000, len(latencies)


def run() -> None:
    results: dict[int, tuple[float, float, float, int]] = {}
    for concurrency in (1, DEFAULT_CONCURRENCY):
        with _local_mode(concurrency) as url:
            results[concurrency] = _load(url, concurrency)
    base_rps = results[1][0]
    print(
        f"{CLIENTS} clients x {ROUNDS} rounds (create, read, new version, list versions) "
        f"on {os.cpu_count()} cores"
    )
    print_table(
        ["environments", "requests", "requests/s", "vs 1", "median ms", "p95 ms"],
        [
            [str(c), n, rps, ratio(rps, base_rps), median, p95]
            for c, (rps, median, p95, n) in results.items()
        ],
    )


if __name__ == "__main__":
    run()
