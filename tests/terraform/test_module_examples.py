"""Every module's examples (``modules/<name>/examples/<example>``, terraform-aws-modules style):
each is a root with ``source = "../../"`` and its own versions.tf, and, in a copy of its module's
folder alone (as someone vendoring one module has it), it inits and validates, then applies and
destroys against moto.

Modules are found by listing modules/, so a new module is held to the same rules. All the
examples apply against one moto server, a few at a time (their names differ).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.terraform.against_moto import Moto, moto_server, provider_block
from tests.terraform.test_dev_apply import _leftovers
from tests.terraform.tf import Terraform, copy_module, module_dirs

pytestmark = pytest.mark.terraform

EXAMPLES = [
    example
    for module in module_dirs()
    for example in sorted((module / "examples").glob("*"))
    if example.is_dir()
]
# Most of an apply against moto is the provider waiting (an S3 lifecycle configuration is read
# back until it is steady: about a minute per bucket, as on AWS); a few at once overlap those
# waits. Each apply is a terraform and a provider process (a few hundred MB).
PARALLEL = 5
# moto 5.2.1 leaves a distribution "InProgress" until it is read again: waiting for "Deployed" is
# an AWS matter, tested nowhere here (the dev apply test does the same).
EXAMPLE_OVERRIDES = {
    "cdn": 'module "cdn" {\n  wait_for_deployment = false\n}\n',
}


def _id(example: Path) -> str:
    return f"{example.parent.parent.name}/{example.name}"


def _read(example: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(example.glob("*.tf")))


def _provider_aliases(text: str) -> list[str | None]:
    """The aws provider configurations a root declares: None for the default, else the alias."""
    aliases: list[str | None] = []
    for block in re.findall(r'^provider\s+"aws"\s*\{(.*?)^\}', text, re.MULTILINE | re.DOTALL):
        alias = re.search(r'^\s*alias\s*=\s*"([^"]+)"', block, re.MULTILINE)
        aliases.append(alias[1] if alias else None)
    return aliases


def test_every_module_has_a_runnable_example() -> None:
    missing = [m.name for m in module_dirs() if not any(e.parent.parent == m for e in EXAMPLES)]
    assert not missing, f"modules without examples/<name>/: {missing}"
    for example in EXAMPLES:
        text = _read(example)
        assert re.search(r'^\s*source\s*=\s*"\.\./\.\./"\s*$', text, re.MULTILINE), (
            f'{_id(example)} calls its module with source = "../../"'
        )
        assert (example / "versions.tf").is_file(), f"{_id(example)} has its own versions.tf"
        assert (example / "main.tf").is_file(), f"{_id(example)} has a main.tf"
        assert None in _provider_aliases(text), f"{_id(example)} configures its aws provider"


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example_validates_in_a_copy_of_the_module_alone(
    example: Path, terraform: Terraform, tmp_path: Path
) -> None:
    module = copy_module(example.parent.parent, tmp_path / example.parent.parent.name)
    directory = module / "examples" / example.name
    terraform.init(directory)
    result = terraform.run(directory, "validate", "-no-color", "-json", check=False)
    report = json.loads(result.stdout)
    problems = [
        f"{d['severity']}: {d['summary']} {d.get('detail', '')}" for d in report["diagnostics"]
    ]
    assert report["valid"], "\n".join(problems)
    assert not problems, "\n".join(problems)


@dataclass
class Run:
    """What happened to one example against moto: each step's command and output."""

    steps: list[tuple[str, subprocess.CompletedProcess[str]]] = field(default_factory=list)
    outputs: dict[str, object] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def failed(self) -> str | None:
        for name, result in self.steps:
            if result.returncode != 0:
                return f"terraform {name} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return None


def _apply_and_destroy(example: Path, root: Path, terraform: Terraform, moto: Moto) -> Run:
    module = copy_module(example.parent.parent, root / example.parent.parent.name)
    directory = module / "examples" / example.name
    text = _read(directory)
    override = "\n".join(provider_block(moto.endpoint, alias) for alias in _provider_aliases(text))
    override += EXAMPLE_OVERRIDES.get(example.parent.parent.name, "")
    (directory / "zz_moto_override.tf").write_text(override)
    run = Run()
    for name, args in (
        ("init", ("init", "-backend=false", "-input=false", "-no-color")),
        ("apply", ("apply", "-auto-approve", "-input=false", "-no-color")),
        ("output", ("output", "-json")),
        ("destroy", ("destroy", "-auto-approve", "-input=false", "-no-color")),
    ):
        started = time.monotonic()
        result = terraform.run(directory, *args, check=False, timeout=1200)
        run.seconds[name] = round(time.monotonic() - started, 1)
        run.steps.append((name, result))
        if name == "output" and result.returncode == 0:
            run.outputs = {k: v["value"] for k, v in json.loads(result.stdout).items()}
        if result.returncode != 0 and name != "destroy":
            # Still try to clean up what an apply left.
            if name == "apply":
                terraform.run(directory, "destroy", "-auto-approve", "-no-color", check=False)
            break
    return run


@dataclass
class Applied:
    runs: dict[str, Run]
    leftovers: dict[str, list[str]]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, terraform: Terraform) -> Iterator[Applied]:
    with moto_server() as moto:
        root = tmp_path_factory.mktemp("examples")

        def one(example: Path) -> Run:
            return _apply_and_destroy(
                example, root / _id(example).replace("/", "-"), terraform, moto
            )

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            runs = dict(zip(map(_id, EXAMPLES), pool.map(one, EXAMPLES), strict=True))
        yield Applied(runs, _leftovers(moto))


@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example_applies_and_destroys_against_moto(applied: Applied, example: Path) -> None:
    run = applied.runs[_id(example)]
    print(f"{_id(example)}: seconds per step {run.seconds}")
    assert run.failed() is None, run.failed()
    assert [name for name, _ in run.steps] == ["init", "apply", "output", "destroy"]
    assert run.outputs, f"{_id(example)} has outputs to show what it made"


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_examples_leave_nothing_behind(applied: Applied) -> None:
    assert applied.leftovers == {}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_function_roles_renamed_with_their_region_are_replaced_before_destroyed(
    tmp_path: Path, terraform: Terraform
) -> None:
    # Roles used to be named after the function alone. A state applied then moves to the new
    # <function>-<region> name through a replacement: the new role and its policy exist, and the
    # function uses them, before the old ones go (create_before_destroy), with no failed apply.
    example = next(e for e in EXAMPLES if e.parent.parent.name == "function")
    module = copy_module(example.parent.parent, tmp_path / "function")
    directory = module / "examples" / example.name
    main = module / "main.tf"
    current = main.read_text()
    assert "name                 = local.role_name" in current
    main.write_text(
        current.replace("name                 = local.role_name", "name = var.function_name")
    )
    with moto_server() as moto:
        (directory / "zz_moto_override.tf").write_text(provider_block(moto.endpoint))
        terraform.run(directory, "init", "-backend=false", "-input=false", "-no-color")
        terraform.run(directory, "apply", "-auto-approve", "-input=false", "-no-color")
        iam, lam = moto.client("iam"), moto.client("lambda")
        assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["imgsvc-example-resize"]
        main.write_text(current)
        applied = terraform.run(directory, "apply", "-auto-approve", "-input=false", "-no-color")
        log = applied.stdout
        switched = log.index("aws_lambda_function.this: Modifications complete")
        assert log.index("aws_iam_role_policy.this: Creation complete") < switched
        assert switched < log.index("aws_iam_role_policy.this (deposed object")
        assert switched < log.index("aws_iam_role.this (deposed object")
        roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
        assert roles == ["imgsvc-example-resize-eu-west-1"]
        role = lam.get_function_configuration(FunctionName="imgsvc-example-resize")["Role"]
        assert role.endswith(":role/imgsvc-example-resize-eu-west-1")
        terraform.run(directory, "destroy", "-auto-approve", "-input=false", "-no-color")
