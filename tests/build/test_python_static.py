"""ruff and mypy over the whole tree, so that `make test` (what CI runs) fails on what
`make lint` would report. Terraform's fmt and checkov are in tests/terraform/test_static.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        # The functions run on Lambda's python3.12, the tests on this machine's 3.11: typeshed
        # knows what 3.12 removed or changed (docs/deploy.md, "Python 3.11 and 3.12").
        ["mypy", "--python-version", "3.12"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "mypy-py312"],
)
def test_python_is_clean(command: list[str]) -> None:
    tool = BIN / command[0]
    assert tool.exists(), f"{command[0]} is not installed next to {sys.executable}"
    result = subprocess.run(
        [str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
