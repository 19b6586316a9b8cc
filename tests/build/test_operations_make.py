"""The make targets of docs/operations.md: `rollback` builds a git release's own artifacts and
deploys them through `make apply`; `rotate-api-key` replaces the stage's API key through it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.terraform.hcl import read_blocks

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile in a scratch directory with the stages' backend.hcl (make checks it)."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    for stage in STAGES:
        directory = tmp_path / "environments" / stage
        directory.mkdir(parents=True)
        shutil.copy(ROOT / f"environments/{stage}/backend.hcl.example", directory / "backend.hcl")
    return tmp_path


def dry_run(cwd: Path, *args: str) -> list[str]:
    result = make(cwd, "-n", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def terraform_line(lines: list[str], command: str) -> str:
    (line,) = [x for x in lines if re.search(rf"terraform -chdir=\S+ {command} ", x)]
    return line


def test_rotate_api_key_replaces_the_stage_key_in_the_plan_make_apply_applies(
    checkout: Path,
) -> None:
    for stage in STAGES:
        lines = dry_run(checkout, "rotate-api-key", f"ENV={stage}")
        plan = terraform_line(lines, "plan")
        assert f"-chdir=environments/{stage} " in plan
        assert "'-replace=module.stack.module.api.aws_api_gateway_api_key.this[0]'" in plan
        assert terraform_line(lines, "apply").endswith(" apply -input=false tfplan")


def test_the_replaced_address_is_the_stage_api_key() -> None:
    # stage root: module "stack" -> environments/stack: module "api" -> modules/api's key.
    for stage in STAGES:
        stack = {b.name: b for b in read_blocks(ROOT / f"environments/{stage}", "module")}
        assert "stack" in stack
    api = {b.name for b in read_blocks(ROOT / "environments/stack", "module")}
    assert "api" in api
    text = (ROOT / "modules/api/main.tf").read_text()
    block = re.search(r'resource "aws_api_gateway_api_key" "this" \{(.*?)\n\}', text, re.S)
    assert block, "modules/api has no aws_api_gateway_api_key.this"
    assert re.search(r"count\s+=", block[1]), "the key has a count: its address ends in [0]"
    outputs = (ROOT / f"environments/{STAGES[0]}/outputs.tf").read_text()
    assert 'output "api_key"' in outputs, "the new key is read with terraform output api_key"


def test_plan_args_reach_only_the_plan(checkout: Path) -> None:
    lines = dry_run(checkout, "plan", "ENV=dev")
    # Nothing extra by default (no tfvars here either): the plan make always made.
    assert terraform_line(lines, "plan").split()[-3:] == ["plan", "-input=false", "-out=tfplan"]


def test_rollback_deploys_refs_artifacts_through_make_apply(checkout: Path) -> None:
    lines = dry_run(checkout, "rollback", "ENV=prod", "REF=HEAD")
    target = checkout / "build/rollback/prod"
    assert any(f'git archive --format=tar "HEAD" | tar -x -C "{target}/src"' in x for x in lines)
    assert any(f'"{target}/src/build.py"' in x and f'--dist "{target}/dist"' in x for x in lines)
    plan = terraform_line(lines, "plan")
    assert f"'-var=artifacts_dir={target}/dist'" in plan
    assert terraform_line(lines, "apply").endswith(" apply -input=false tfplan")


def test_rollback_needs_a_ref_that_is_a_commit(checkout: Path) -> None:
    result = make(ROOT, "rollback-build", "REF=")
    assert result.returncode != 0
    assert "REF=<tag or commit>" in result.stderr
    result = make(ROOT, "rollback-build", "REF=no-such-release-anywhere")
    assert result.returncode != 0
    assert "is not a commit" in result.stderr


def test_rollback_build_makes_the_artifacts_of_ref_not_of_the_working_tree(
    tmp_path: Path,
) -> None:
    # The commit before the last change to the Lambda package: its sources differ from the
    # working tree's, so a build of the working tree would not pass.
    last_change = _git("log", "-1", "--format=%H", "--", "lambda_src").strip()
    ref = f"{last_change}~1"
    result = make(
        ROOT,
        "rollback-build",
        f"REF={ref}",
        f"ROLLBACK_DIR={tmp_path}",
        "ROLLBACK_BUILD_ARGS=--no-layer",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dist = tmp_path / "dist"
    commit = _git("rev-parse", f"{ref}^{{commit}}").strip()
    assert (dist / "REF").read_text().strip() == commit
    manifest = json.loads((dist / "manifest.json").read_text())
    expected = {
        path.removeprefix("lambda_src/"): _git_bytes("show", f"{commit}:{path}")
        for path in _git("ls-tree", "-r", "--name-only", commit, "lambda_src/imgsvc").split()
        if path.endswith(".py")
    }
    working_tree = {
        path.relative_to(ROOT / "lambda_src").as_posix(): path.read_bytes()
        for path in (ROOT / "lambda_src/imgsvc").rglob("*.py")
    }
    assert expected != working_tree
    for function in manifest["functions"].values():
        with zipfile.ZipFile(dist / function["zip"]) as archive:
            packaged = {name: archive.read(name) for name in archive.namelist()}
        assert packaged == expected
    # Deterministic: a second build of the same release is the same bytes.
    again = tmp_path / "again"
    result = make(
        ROOT,
        "rollback-build",
        f"REF={ref}",
        f"ROLLBACK_DIR={again}",
        "ROLLBACK_BUILD_ARGS=--no-layer",
    )
    assert result.returncode == 0, result.stderr
    for function in manifest["functions"].values():
        first = hashlib.sha256((dist / function["zip"]).read_bytes()).hexdigest()
        second = hashlib.sha256((again / "dist" / function["zip"]).read_bytes()).hexdigest()
        assert first == second


def _git(*args: str) -> str:
    return _git_bytes(*args).decode()


def _git_bytes(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout
