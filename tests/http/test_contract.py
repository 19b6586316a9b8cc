"""The API contract, checked by a machine: schemathesis (pinned) runs every check it has, its
coverage, fuzzing and stateful phases (the OpenAPI links: create, then read, update, delete)
against the local mode over openapi.yaml, and must find nothing.

Bounded for CI: a fixed seed, ``MAX_EXAMPLES`` cases per operation and a request timeout.

Two things differ from a run over the file as it is, each for a stated reason:

- the document is the one the local mode serves: modules/api with ``api_key_required = false``
  drops ``security`` (the local mode has no API keys), so the authentication checks test
  what a keyless stage does;
- the check ``unsupported_method`` is left out: it wants a 405 for a method a path lacks, and
  API Gateway has no 405 (it answers its missing-route 404, which the local mode does too,
  tests/http/test_images_api.py). Every other check runs.

OpenAPI 3.0 (what API Gateway imports) cannot state a metadata key's grammar: its schemas have
no ``propertyNames``. openapi.yaml writes it in words, and the generator gets it here, from the
code's own pattern, in the document made OpenAPI 3.1 for the purpose.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from imgsvc import renditions
from imgsvc.config import DEFAULT_RENDITION_SIDES
from imgsvc.errors import BadRequest
from imgsvc.image_requests import _META_KEY
from tests.http.conftest import REPO, LocalMode

pytestmark = [pytest.mark.http, pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("IMGSVC_CONTRACT_MAX_EXAMPLES", "15"))
SEED = 20261205
# The key grammar of the code, as the generator needs it (keys are lowercased first).
KEY_NAMES = {"pattern": _META_KEY.pattern.replace("a-z", "A-Za-z")}


def served_document() -> dict[str, Any]:
    """openapi.yaml as the local mode serves it (see the module's docstring)."""
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    spec.pop("security", None)
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    spec["components"].pop("securitySchemes", None)
    # propertyNames needs OpenAPI 3.1's JSON Schema; 3.1 writes `nullable` as a type.
    spec["openapi"] = "3.1.0"
    spec["components"]["schemas"]["Metadata"]["propertyNames"] = KEY_NAMES
    form = spec["components"]["requestBodies"]["Image"]["content"]["multipart/form-data"]
    form["schema"]["propertyNames"] = KEY_NAMES
    # A form field is text on the wire: a number or a boolean there is its text, a valid value.
    form["schema"]["additionalProperties"] = {
        "anyOf": [form["schema"]["additionalProperties"], {"type": ["number", "boolean"]}]
    }
    upload_metadata = spec["components"]["schemas"]["UploadRequest"]["properties"]["metadata"]
    assert upload_metadata.pop("nullable") is True
    upload_metadata["anyOf"] = [*upload_metadata.pop("allOf"), {"type": "null"}]
    return spec  # type: ignore[no-any-return]


def test_the_documented_key_grammar_is_the_codes() -> None:
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    assert f"`{_META_KEY.pattern}`" in spec["components"]["schemas"]["Metadata"]["description"]


def test_schemathesis_finds_no_failure(local_mode: LocalMode, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(served_document()), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(document),
            "--url",
            local_mode.url,
            "--checks",
            "all",
            "--exclude-checks",
            "unsupported_method",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--generation-database",
            "none",
            "--request-timeout",
            "60",
            "--workers",
            "2",
            "--no-color",
        ],
        cwd=tmp_path,  # whatever schemathesis writes stays out of the repository
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.http.contract_hooks",
            "PYTHONPATH": str(REPO),
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "Stateful" in output, output[-5000:]


def test_the_documented_size_pattern_is_the_codes_rule_for_the_default_sides() -> None:
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    size = next(p for p in spec["paths"]["/resize/{size}/{id}"]["parameters"] if "name" in p)
    pattern = re.compile(size["schema"]["pattern"])
    sides = [str(s) for s in DEFAULT_RENDITION_SIDES]
    candidates = [
        f"{w}{x}{h}{fit}"
        for w in ["", "0", "65", "0064", "00064", *sides[:3], "2048", "02048"]
        for x in ("x", "X", "*")
        for h in ["", "1", "100", "0100", "4096"]
        for fit in ("", "-cover", "-COVER", "-inside", "-fill", "-")
    ]
    for text in candidates:
        try:
            renditions.parse_size(text, DEFAULT_RENDITION_SIDES)
            taken = True
        except BadRequest:
            taken = False
        assert taken == bool(pattern.fullmatch(text)), text
