"""Cold start: importing a handler module loads only what every invocation of it needs.

Each check runs in a fresh interpreter (this test process has imported everything already) with
the environment the functions get, and lists which of the named modules ``import`` loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imgsvc_local import resources

LAMBDA_SRC = Path(__file__).resolve().parents[3] / "lambda_src"
# Never at import: boto3 (clients are made on first use), Pillow and zlib-ng (decoding happens
# per request), and never the X-Ray SDK (untraced: modules/function/README.md, Tracing).
ALWAYS_DEFERRED = ("boto3", "PIL", "zlib_ng", "aws_xray_sdk")


def loaded_by_import(module: str, watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` are in ``sys.modules`` after ``import module`` in a new process."""
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([name for name in {list(watched)!r} if name in sys.modules]))\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IMGSVC_", "AWS_", "PYTHON"))
    }
    env.update(resources.environment(None, resources.Names(), IMGSVC_EFFECT="zoom"))
    env["PYTHONPATH"] = str(LAMBDA_SRC)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout))


# The direct-upload flow: the API's side and the uploads function's side.
UPLOADS = ("imgsvc.upload_tickets", "imgsvc.upload_processing")


@pytest.mark.parametrize(
    ("module", "deferred"),
    [
        # /images and /health need neither the GIF status nor the direct-upload flow.
        ("imgsvc.handlers.api", ("imgsvc.gifs", "imgsvc.effects", *UPLOADS)),
        # The effect functions read S3 events from SQS; the direct-upload flow is not theirs.
        ("imgsvc.handlers.effects", (*UPLOADS, "imgsvc.handlers.uploads")),
        ("imgsvc.handlers.uploads", ("imgsvc.gifs", "imgsvc.effects")),
        ("imgsvc.handlers.resize", ("imgsvc.gifs", "imgsvc.effects", *UPLOADS)),
    ],
)
def test_handler_import_leaves_unneeded_modules_unloaded(
    module: str, deferred: tuple[str, ...]
) -> None:
    assert loaded_by_import(module, ALWAYS_DEFERRED + deferred) == []


def test_the_check_sees_what_a_handler_does_load() -> None:
    """Without this, a check that never saw any module would pass the test above."""
    assert loaded_by_import("imgsvc.handlers.effects", ("imgsvc.gifs", "imgsvc.effects")) == [
        "imgsvc.gifs",
        "imgsvc.effects",
    ]
