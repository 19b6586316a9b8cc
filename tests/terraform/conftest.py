"""Fixtures shared by the Terraform checks: the CLI (offline mirror) and a throwaway copy."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.terraform.tf import (
    Terraform,
    cli_config,
    configure_aliases,
    copy_infra,
    environment,
)


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.fail("terraform is not on PATH: install Terraform >= 1.11 to run these checks")
    config = cli_config(tmp_path_factory.mktemp("terraform-cli"))
    return Terraform(binary, environment(config))


@pytest.fixture(scope="session")
def initialized(
    terraform: Terraform, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, str], Path]:
    """``initialized("modules/bucket", purpose)``: that directory, ``terraform init``-ed once,
    in a throwaway copy of the infrastructure (one copy per purpose: "validate-modules",
    "validate-environments").
    """
    copies: dict[str, Path] = {}
    done: dict[tuple[str, str], Path] = {}
    lock = threading.Lock()

    def init(relative: str, purpose: str) -> Path:
        with lock:
            if purpose not in copies:
                copies[purpose] = copy_infra(tmp_path_factory.mktemp(f"infra-{purpose}"))
            if (relative, purpose) not in done:
                directory = copies[purpose] / relative
                if purpose == "validate-modules":
                    configure_aliases(directory)
                # Environments commit their lock file: it must already list the provider.
                readonly = ("-lockfile=readonly",) if relative.startswith("environments/") else ()
                terraform.init(directory, *readonly)
                done[(relative, purpose)] = directory
            return done[(relative, purpose)]

    return init
