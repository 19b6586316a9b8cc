"""Fixtures shared by the Terraform checks: the CLI (offline mirror) and a throwaway copy."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.terraform.tf import Terraform, cli_config, copy_infra, environment


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.fail("terraform is not on PATH: install Terraform >= 1.11 to run these checks")
    config = cli_config(tmp_path_factory.mktemp("terraform-cli"))
    return Terraform(binary, environment(config))


@pytest.fixture(scope="session")
def infra_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """modules/, environments/, openapi.yaml and web/ copied once for validate and test."""
    return copy_infra(tmp_path_factory.mktemp("infra"))


@pytest.fixture(scope="session")
def initialized(terraform: Terraform, infra_copy: Path) -> Callable[[str], Path]:
    """``initialized("modules/bucket")``: that directory of the copy, ``terraform init``-ed once."""
    done: dict[str, Path] = {}
    lock = threading.Lock()

    def init(relative: str) -> Path:
        with lock:
            if relative not in done:
                directory = infra_copy / relative
                # Environments commit their lock file: it must already list the provider.
                readonly = ("-lockfile=readonly",) if relative.startswith("environments/") else ()
                terraform.init(directory, *readonly)
                done[relative] = directory
            return done[relative]

    return init
