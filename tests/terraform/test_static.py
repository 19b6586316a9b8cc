"""Offline Terraform checks over every module and environment: fmt, validate, test, checkov."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform.tf import ROOT, Terraform, copy_infra, copy_module, module_dirs, stage_dirs

pytestmark = pytest.mark.terraform

# environments/stack is validated as part of every stage root that calls it.
ROOTS = [p.relative_to(ROOT).as_posix() for p in [*module_dirs(), *stage_dirs()]]
MODULES = [p.relative_to(ROOT).as_posix() for p in module_dirs()]


def test_terraform_files_are_formatted(terraform: Terraform) -> None:
    targets = [p for p in ("modules", "environments") if (ROOT / p).is_dir()]
    assert targets, "no modules/ or environments/ to check"
    result = terraform.run(
        ROOT, "fmt", "-check", "-recursive", "-diff", "-no-color", *targets, check=False
    )
    assert result.returncode == 0, f"run `make fmt`; unformatted:\n{result.stdout}{result.stderr}"


def test_every_module_has_terraform_tests() -> None:
    untested = [p.name for p in module_dirs() if not list(p.glob("tests/*.tftest.hcl"))]
    assert not untested, f"modules without tests/*.tftest.hcl: {untested}"


def _diagnostic(d: dict[str, Any]) -> str:
    where = d.get("range", {})
    line = where.get("start", {}).get("line", "?")
    return f"{d['severity']}: {d['summary']} {d.get('detail', '')} ({where.get('filename')}:{line})"


@pytest.mark.parametrize("root", ROOTS)
def test_validate(root: str, terraform: Terraform, initialized: Callable[[str, str], Path]) -> None:
    # Modules validate alone (with their aliased providers declared); environments in a copy
    # without those declarations, which would be proxy provider blocks there.
    purpose = "validate-modules" if root.startswith("modules/") else "validate-environments"
    directory = initialized(root, purpose)
    result = terraform.run(directory, "validate", "-no-color", "-json", check=False)
    report = json.loads(result.stdout)
    problems = [_diagnostic(d) for d in report["diagnostics"]]
    assert report["valid"], "\n".join(problems)
    # Deprecations and other warnings are bugs waiting for the next provider release.
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_module_tests_pass_in_a_copy_of_the_module_alone(
    module: str, terraform: Terraform, tmp_path: Path
) -> None:
    # A module is reused by copying its folder (or from a registry): its tests, like its code,
    # may read nothing outside it. Each runs in a copy of that folder alone, providers from the
    # same mirror config as every other check.
    directory = copy_module(ROOT / module, tmp_path / Path(module).name)
    terraform.init(directory)
    result = terraform.run(directory, "test", "-no-color", check=False, timeout=1200)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " 0 passed" not in result.stdout, result.stdout


def test_api_module_fixture_is_a_slice_of_the_service_openapi() -> None:
    # modules/api's tests use their own copy of part of the document API Gateway imports (what
    # build.py derives from openapi.yaml); what they check about it (which function serves a
    # route, which routes need the key, where path parameters live) must still hold for the
    # document the stack deploys.
    import build

    fixture = yaml.safe_load((ROOT / "modules/api/tests/fixtures/openapi.yaml").read_text())
    service = build.apigateway_openapi(yaml.safe_load((ROOT / "openapi.yaml").read_text()))
    paths: dict[str, Any] = service["paths"]  # type: ignore[assignment]
    components: dict[str, Any] = service["components"]  # type: ignore[assignment]
    assert fixture["openapi"] == service["openapi"]
    assert fixture["servers"] == service["servers"]
    functions = set()
    for path, item in fixture["paths"].items():
        assert path in paths, f"{path} is not a route of openapi.yaml"
        real = paths[path]
        assert item.get("parameters") == real.get("parameters"), path
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert method in real, f"{method.upper()} {path} is not in openapi.yaml"
            for key in ("operationId", "x-imgsvc-function", "security", "parameters"):
                assert operation.get(key) == real[method].get(key), f"{method} {path}: {key}"
            functions.add(operation["x-imgsvc-function"])
    assert functions == {"api", "resize"}, "the slice has routes of both functions"
    for kind, entries in fixture.get("components", {}).items():
        for name, entry in entries.items():
            assert entry == components[kind][name], f"components.{kind}.{name}"


def _checkov() -> Path:
    configured = os.environ.get("CHECKOV")
    path = Path(configured) if configured else ROOT / ".venv-checkov" / "bin" / "checkov"
    if not path.is_file():
        pytest.fail(f"checkov not found at {path}: run `make checkov-deps`")
    return path


def _reports(stdout: str) -> list[dict[str, Any]]:
    """checkov prints one JSON document per scanned directory (a list or a dict each)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    i = 0
    while i < len(stdout):
        if stdout[i].isspace():
            i += 1
            continue
        document, i = decoder.raw_decode(stdout, i)
        found.extend(document if isinstance(document, list) else [document])
    return found


def _failed_checks(reports: list[dict[str, Any]]) -> list[str]:
    failed = []
    for entry in reports:
        for check in entry.get("results", {}).get("failed_checks", []):
            failed.append(
                f"{check['check_id']} {check['check_name']}: {check['resource']} "
                f"({check['file_path']}:{check['file_line_range'][0]})"
            )
    return failed


def test_checkov_finds_no_failed_checks(tmp_path: Path) -> None:
    copy = copy_infra(tmp_path / "infra")
    dirs = [str(copy / p) for p in ("modules", "environments") if (copy / p).is_dir()]
    command = [
        str(_checkov()),
        "--skip-download",
        "--framework",
        "terraform",
        "--quiet",
        "-o",
        "json",
        # Module examples (modules/*/examples) stand in for a caller with the fewest resources
        # that let a module run; the modules they call are scanned as modules.
        "--skip-path",
        "/examples/",
    ]
    for directory in dirs:
        command += ["-d", directory]
    env = os.environ | {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=copy, timeout=1200
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-3000:]}"
    reports = _reports(result.stdout)
    assert len(reports) == len(dirs), result.stdout[-3000:]
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports), result.stdout[-3000:]
    failed = _failed_checks(reports)
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert result.returncode == 0, result.stderr[-3000:]
