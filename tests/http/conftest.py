"""The local mode (`python -m imgsvc_local`, what `make run` starts) as a real process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalMode:
    url: str
    moto_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def s3(self, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
        """A boto3 S3 client on the local mode's moto (to look behind the API)."""
        return boto3.client(
            "s3",
            region_name=region,
            endpoint_url=self.moto_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def start_local_mode(log: Path, **env: str) -> LocalMode:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IMGSVC_"))}
    environment.update({"PORT": str(port), "PYTHONUNBUFFERED": "1", **env})
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "imgsvc_local"],
        cwd=REPO,
        env=environment,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local mode exited early:\n{log.read_text()}")
        try:  # the first request imports the handler: allow for a slow, busy machine
            if requests.get(f"{url}/health", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"local mode did not answer on {url}:\n{log.read_text()}")
    found = re.search(r"moto at (http://127\.0\.0\.1:\d+)", log.read_text())
    assert found, log.read_text()
    return LocalMode(url=url, moto_url=found[1], process=process, log=log)


def stop_local_mode(mode: LocalMode) -> int:
    mode.process.send_signal(signal.SIGINT)
    try:
        return mode.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        mode.process.kill()
        raise


@pytest.fixture(scope="session")
def local_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    mode = start_local_mode(tmp_path_factory.mktemp("local-mode") / "local-mode.log")
    yield mode
    stop_local_mode(mode)


@pytest.fixture
def api(local_mode: LocalMode) -> str:
    return local_mode.url
