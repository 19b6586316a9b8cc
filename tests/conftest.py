"""Fixtures shared by every test: AWS in moto (in-process), real image bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from imgsvc import wiring
from imgsvc_local import resources


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in this process, with the local mode's resources and the service's environment.

    Yields the resource ARNs/URLs from :func:`imgsvc_local.resources.create_resources`.
    """
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in resources.environment(None, resources.Names()).items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        wiring.reset()
        yield resources.create_resources(resources.Names())
    wiring.reset()
