"""Fixtures shared by the Terraform checks: the CLI (offline mirror) and a throwaway copy."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.terraform.against_moto import Moto, moto_server
from tests.terraform.tf import (
    Terraform,
    cli_config,
    configure_aliases,
    copy_infra,
    environment,
)

if TYPE_CHECKING:
    from tests.terraform.test_dev_apply import Stack


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


# --- environments/dev applied to moto, once per test run ------------------------------------
# test_dev_apply checks the apply itself, test_rehearsal runs the applied functions; both use
# this one apply (minutes). The test marked `destroys_dev_stack` destroys it, so it runs last.

DESTROYS_DEV_STACK = "destroys_dev_stack"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{DESTROYS_DEV_STACK}: destroys the shared dev stack, so runs after its users"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker(DESTROYS_DEV_STACK)]
    if last:
        items[:] = [item for item in items if item not in last] + last


@dataclass
class AppliedDev:
    moto: Moto
    artifacts: Path  # the real build that was applied (arm64 layer)
    stack: Stack


@pytest.fixture(scope="session")
def dev_moto() -> Iterator[Moto]:
    """The moto server environments/dev is applied to (its own process, for the whole run)."""
    with moto_server() as moto:
        yield moto


@pytest.fixture(scope="session")
def applied_dev(
    tmp_path_factory: pytest.TempPathFactory, terraform: Terraform, dev_moto: Moto
) -> Iterator[AppliedDev]:
    from tests.terraform import test_dev_apply as dev

    artifacts = dev.build_artifacts(tmp_path_factory.mktemp("dist"))
    root = tmp_path_factory.mktemp("dev-stack")
    with dev.applied_stack(root, terraform, dev_moto, artifacts) as stack:
        yield AppliedDev(dev_moto, artifacts, stack)
