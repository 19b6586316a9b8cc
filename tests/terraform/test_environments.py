"""The stage roots stay one design: same files, stage differences only in <stage>.tfvars."""

from __future__ import annotations

import re

from imgsvc import effects
from tests.terraform import hcl
from tests.terraform.tf import ENVIRONMENTS, environment_dirs

STAGES = [p.name for p in environment_dirs()]


def _shared_files(stage: str) -> dict[str, str]:
    directory = ENVIRONMENTS / stage
    names = [
        *directory.glob("*.tf"),
        directory / ".terraform.lock.hcl",
        directory / "backend.hcl.example",
    ]
    return {p.name: p.read_text() for p in sorted(names) if p.is_file()}


def test_there_are_dev_and_prod() -> None:
    assert {"dev", "prod"} <= set(STAGES)


def test_every_stage_has_the_same_terraform_files() -> None:
    reference = _shared_files("dev")
    for stage in STAGES:
        files = _shared_files(stage)
        assert sorted(files) == sorted(reference), stage
        for name, text in files.items():
            assert text == reference[name], f"environments/{stage}/{name} differs from dev's"


def test_every_stage_has_its_tfvars_and_no_real_backend_config_is_committed() -> None:
    for stage in STAGES:
        directory = ENVIRONMENTS / stage
        tfvars = directory / f"{stage}.tfvars"
        assert tfvars.is_file(), f"{stage} has no {stage}.tfvars"
        assert re.search(rf'^name_prefix\s*=\s*"imgsvc-{stage}"', tfvars.read_text(), re.M)
        example = (directory / "backend.hcl.example").read_text()
        assert "use_lockfile" in example


def test_gif_effects_are_the_ones_the_lambda_code_registers() -> None:
    variables = {v.name: v for v in hcl.read_blocks(ENVIRONMENTS / "dev", "variable")}
    default = re.findall(r'"([a-z0-9-]+)"', variables["gif_effects"].attributes["default"])
    assert tuple(default) == effects.DEFAULT_EFFECTS
    text = (ENVIRONMENTS / "dev" / "variables.tf").read_text()
    allowed = re.search(r"contains\(\[([^\]]*)\], e\)", text)
    assert allowed, "gif_effects validation lists the allowed effects"
    assert set(re.findall(r'"([a-z0-9-]+)"', allowed[1])) == set(effects.EFFECTS)


def test_lock_file_pins_the_provider_with_checksums_for_every_platform() -> None:
    lock = (ENVIRONMENTS / "dev" / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert re.search(r'version\s+=\s+"5\.\d+\.\d+"', lock)
    assert len(re.findall(r'"h1:[A-Za-z0-9+/]{43}="', lock)) >= 1
    # zh: hashes are the registry's checksums of each platform's zip: any OS can init.
    assert len(re.findall(r'"zh:[0-9a-f]{64}"', lock)) >= 10


def test_every_environment_variable_set_is_one_the_code_reads() -> None:
    from imgsvc import config

    known = {
        value for name, value in vars(config).items() if name.isupper() and isinstance(value, str)
    }
    text = "\n".join(p.read_text() for p in (ENVIRONMENTS / "dev").glob("*.tf"))
    names = set(re.findall(r"^\s*((?:IMGSVC|POWERTOOLS)_[A-Z_]+)\s*=", text, re.M))
    assert names, "the environment sets the functions' variables"
    assert names <= known, f"not in lambda_src/imgsvc/config.py: {sorted(names - known)}"
