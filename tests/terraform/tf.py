"""Running Terraform from tests: offline provider mirror, throwaway copies, no real AWS.

Every command runs in a copy of the infrastructure (modules/, environments/, openapi.yaml,
web/, optionally dist/) under a temporary directory, so the tests never write .terraform,
lock files or state into the checkout and can run while people work in it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "modules"
ENVIRONMENTS = ROOT / "environments"
# The service's composition, which every stage root calls (not a root itself).
STACK = ENVIRONMENTS / "stack"
MIRROR = Path(os.environ.get("TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
INFRA = ("modules", "environments", "openapi.yaml", "web")
# Never copied: Terraform's working data, state, plans and the real backend settings.
IGNORED = shutil.ignore_patterns(
    ".terraform",
    "*.tfstate",
    "*.tfstate.*",
    ".terraform.tfstate.lock.info",
    "tfplan",
    "backend.hcl",
    "__pycache__",
)


def copy_module(module: Path, dest: Path) -> Path:
    """Copy one module's folder, and nothing else, to ``dest`` (as someone vendoring it would).

    Lock files are left behind too: modules do not commit them, and the copy resolves its
    providers afresh.
    """
    ignored = shutil.ignore_patterns(".terraform.lock.hcl")

    def ignore(directory: str, names: list[str]) -> set[str]:
        return set(IGNORED(directory, names)) | set(ignored(directory, names))

    shutil.copytree(module, dest, ignore=ignore)
    return dest


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES.iterdir() if p.is_dir()) if MODULES.is_dir() else []


def environment_dirs() -> list[Path]:
    return sorted(p for p in ENVIRONMENTS.iterdir() if p.is_dir()) if ENVIRONMENTS.is_dir() else []


def stage_dirs() -> list[Path]:
    """The stage roots (``environments/dev``, ...): every environment folder but the stack."""
    return [p for p in environment_dirs() if p != STACK]


def copy_infra(dest: Path, extra: Sequence[str] = ()) -> Path:
    """Copy what Terraform reads (plus ``extra`` top-level paths such as ``dist``) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*INFRA, *extra):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=IGNORED, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest


def configure_aliases(module: Path) -> None:
    """Let a module that expects aliased providers (``configuration_aliases``) validate alone.

    ``terraform validate`` of such a module fails with "Provider configuration not present"
    (hashicorp/terraform#28490); the root that calls it passes them. In a throwaway copy, an
    extra file declares them, as such a root would.
    """
    aliases = sorted(
        set(re.findall(r"\b(\w+)\.(\w+)\b", " ".join(_ALIASES.findall(_read_tf(module)))))
    )
    if aliases:
        blocks = "".join(f'provider "{p}" {{\n  alias = "{a}"\n}}\n\n' for p, a in aliases)
        (module / "zz_test_provider_aliases.tf").write_text(blocks)


_ALIASES = re.compile(r"configuration_aliases\s*=\s*\[([^\]]*)\]")


def _read_tf(module: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(module.glob("*.tf")))


def cli_config(directory: Path) -> Path | None:
    """A CLI config that installs hashicorp/* from the filesystem mirror, when there is one."""
    if not MIRROR.is_dir():
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "terraform.rc"
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{MIRROR}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )
    return path


def environment(config: Path | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for Terraform: offline, non-interactive, never real AWS."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TF_", "AWS_")) or key == "TF_LOG"
    }
    env |= {
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        # Fake credentials and no profile files: nothing here can reach a real account.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(config)
    else:
        # A networked machine downloads each provider once for all the copies.
        cache = ROOT / "build" / "terraform-plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    if extra:
        env |= extra
    return env


class Terraform:
    """``terraform`` with a fixed environment; every call records its output for the report."""

    def __init__(self, binary: str, env: Mapping[str, str]) -> None:
        self.binary = binary
        self.env = dict(env)

    def run(
        self,
        directory: Path,
        *args: str,
        check: bool = True,
        timeout: float = 900,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, f"-chdir={directory}", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=self.env | dict(env or {}),
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} in {directory} failed ({result.returncode}):\n"
                f"{_tail(result.stdout)}\n{_tail(result.stderr)}"
            )
        return result

    def init(self, directory: Path, *args: str) -> None:
        self.run(directory, "init", "-backend=false", "-input=false", "-no-color", *args)


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
