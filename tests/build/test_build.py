"""build.py: reproducible function zips and layer, and a manifest that matches the files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import build

ROOT = Path(__file__).resolve().parents[2]
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# What a checkout needs for a function-only build.
CHECKOUT_FILES = ("build.py", "pyproject.toml", "constraints.txt", "openapi.yaml")


def _copy_tree(src: Path, dest: Path, mtime: float) -> None:
    """Copy like a fresh checkout would: new files (modes from the umask), given mtimes."""
    for current, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = Path(current).relative_to(src)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            if name.endswith(".pyc"):
                continue
            target = dest / rel / name
            target.write_bytes(Path(current, name).read_bytes())
            os.utime(target, (mtime, mtime))


def _checkout(dest: Path, mtime: float, umask: int) -> Path:
    old = os.umask(umask)
    try:
        for name in CHECKOUT_FILES:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes((ROOT / name).read_bytes())
        _copy_tree(ROOT / "lambda_src", dest / "lambda_src", mtime)
    finally:
        os.umask(old)
    return dest


def _run_build(checkout: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(checkout / "build.py"), *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(umask),
    )


@pytest.fixture(scope="module")
def function_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A function-only build from a copy of the repo; returns its dist directory."""
    checkout = _checkout(tmp_path_factory.mktemp("checkout"), mtime=1_600_000_000, umask=0o022)
    result = _run_build(checkout, "--no-layer")
    assert result.returncode == 0, result.stderr
    return checkout / "dist"


def _entries(path: Path) -> Iterator[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        yield from archive.infolist()


def test_function_zips_are_byte_identical_across_checkouts_mtimes_and_umasks(
    tmp_path: Path,
) -> None:
    first = _checkout(tmp_path / "one", mtime=1_000_000_000, umask=0o022)
    second = _checkout(tmp_path / "two" / "deeper path", mtime=1_700_000_000, umask=0o077)
    # Litter that must not reach the artifact: caches, bytecode and dotfiles.
    junk = second / "lambda_src" / "imgsvc" / "__pycache__"
    junk.mkdir()
    (junk / "config.cpython-312.pyc").write_bytes(b"\x00junk")
    (second / "lambda_src" / "imgsvc" / ".editor-swap.py").write_text("junk\n")
    (second / "lambda_src" / "imgsvc" / "stray.pyc").write_bytes(b"\x00junk")

    assert _run_build(first, "--no-layer").returncode == 0
    assert _run_build(second, "--no-layer", umask=0o077).returncode == 0

    for name in [*build.FUNCTIONS, "manifest"]:
        suffix = ".json" if name == "manifest" else ".zip"
        one = (first / "dist" / f"{name}{suffix}").read_bytes()
        two = (second / "dist" / f"{name}{suffix}").read_bytes()
        assert one == two, f"{name}{suffix} differs between the two checkouts"


def test_rebuilding_gives_the_same_bytes(function_build: Path) -> None:
    checkout = function_build.parent
    before = {p.name: p.read_bytes() for p in function_build.iterdir()}
    assert _run_build(checkout, "--no-layer").returncode == 0
    after = {p.name: p.read_bytes() for p in function_build.iterdir()}
    assert before == after


def test_function_zip_holds_only_the_package_sources_with_fixed_metadata(
    function_build: Path,
) -> None:
    expected = sorted(
        p.relative_to(ROOT / "lambda_src").as_posix()
        for p in (ROOT / "lambda_src" / "imgsvc").rglob("*.py")
        if "__pycache__" not in p.parts and not p.name.startswith(".")
    )
    for name in build.FUNCTIONS:
        infos = list(_entries(function_build / f"{name}.zip"))
        names = [info.filename for info in infos]
        assert names == expected, "sorted imgsvc/**.py and nothing else"
        assert "imgsvc/__init__.py" in names
        for info in infos:
            assert not info.filename.startswith("/")
            assert ".." not in info.filename.split("/")
            assert info.date_time == FIXED_TIME
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_function_zip_is_importable_as_the_lambda_runtime_would(function_build: Path) -> None:
    # Lambda puts the unzipped function on sys.path; zipimport gives the same view.
    probe = "import imgsvc.config, imgsvc.keys; print(imgsvc.config.__file__)"
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, sys.argv[1]); {probe}",
            str(function_build / "api.zip"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "api.zip" in result.stdout


def test_every_handler_in_the_table_imports_from_the_zip(function_build: Path) -> None:
    # Import each handler from the zip (not from the checkout) with the dev dependencies.
    probe = (
        "import importlib, json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "found = {}\n"
        "for name, handler in json.loads(sys.argv[2]).items():\n"
        "    module, _, attribute = handler.rpartition('.')\n"
        "    loaded = importlib.import_module(module)\n"
        "    found[name] = [loaded.__file__, callable(getattr(loaded, attribute, None))]\n"
        "print(json.dumps(found))\n"
    )
    zip_path = str(function_build / "api.zip")
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe, zip_path, json.dumps(build.FUNCTIONS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for name in build.FUNCTIONS:
        origin, is_callable = found[name]
        assert origin.startswith(zip_path), f"{name} was not imported from the zip"
        assert is_callable, f"{build.FUNCTIONS[name]} is not a callable"


def test_manifest_matches_the_files(function_build: Path) -> None:
    manifest = json.loads((function_build / "manifest.json").read_text())
    assert manifest["runtime"] == build.RUNTIME
    assert manifest["arch"] == "arm64"
    assert manifest["layer"] is None  # --no-layer and no layer built before
    assert set(manifest["functions"]) == set(build.FUNCTIONS)
    for name, entry in manifest["functions"].items():
        artifact = function_build / entry["zip"]
        assert entry["zip"] == f"{name}.zip"
        assert entry["handler"] == build.FUNCTIONS[name]
        assert entry["size"] == artifact.stat().st_size
        assert entry["sha256_b64"] == build.sha256_b64(artifact)


def test_sha256_b64_is_terraforms_filebase64sha256(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    sample.write_bytes(b"hello")
    # base64(sha256("hello")), as `terraform console` prints filebase64sha256 for it.
    assert build.sha256_b64(sample) == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="


def test_unknown_arch_is_refused_with_the_allowed_values(function_build: Path) -> None:
    result = _run_build(function_build.parent, "--arch", "sparc")
    assert result.returncode == 2
    assert "invalid choice: 'sparc'" in result.stderr
    assert "arm64" in result.stderr
    assert "x86_64" in result.stderr


def test_missing_package_fails_with_a_message_and_keeps_existing_artifacts(
    tmp_path: Path,
) -> None:
    checkout = _checkout(tmp_path / "co", mtime=1_600_000_000, umask=0o022)
    assert _run_build(checkout, "--no-layer").returncode == 0
    before = (checkout / "dist" / "api.zip").read_bytes()
    (checkout / "lambda_src" / "imgsvc" / "__init__.py").unlink()
    result = _run_build(checkout, "--no-layer")
    assert result.returncode != 0
    assert "is not a Python package" in result.stderr
    assert (checkout / "dist" / "api.zip").read_bytes() == before


def test_a_failed_write_leaves_the_previous_zip_and_no_temp_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.zip"
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    build.write_zip(dest, [("a.py", source)])
    before = dest.read_bytes()
    with pytest.raises(FileNotFoundError):
        build.write_zip(dest, [("a.py", source), ("b.py", tmp_path / "missing.py")])
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "out.zip"]


def test_runtime_requirements_come_from_pyproject_sdk_included(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["pillow==13.0.0", "boto3==1.0", '
        "\"requests[socks]==2.0 ; python_version >= '3.8'\"]\n"
    )
    assert build.runtime_requirements(pyproject) == [
        "pillow==13.0.0",
        "boto3==1.0",
        "requests[socks]==2.0 ; python_version >= '3.8'",
    ]
    assert build.runtime_requirements() == _declared()
    assert any(r.startswith("boto3==") for r in _declared())


def _fake_botocore(site: Path, members: list[str], *, gz: bool = True) -> None:
    import gzip

    (site / "botocore-1.2.3.dist-info").mkdir(parents=True)
    model_dir = site / "botocore" / "data" / "s3" / "2006-03-01"
    model_dir.mkdir(parents=True)
    model = {
        "operations": {"PutObject": {"input": {"shape": "PutObjectRequest"}}},
        "shapes": {"PutObjectRequest": {"members": {m: {"shape": "S"} for m in members}}},
    }
    raw = json.dumps(model).encode()
    if gz:
        (model_dir / "service-2.json.gz").write_bytes(gzip.compress(raw))
    else:
        (model_dir / "service-2.json").write_bytes(raw)


def test_check_sdk_reads_the_bundled_s3_model(tmp_path: Path) -> None:
    _fake_botocore(tmp_path / "a", ["Bucket", "IfNoneMatch", "ChecksumSHA256"])
    assert build.check_sdk(tmp_path / "a") == "1.2.3"
    _fake_botocore(tmp_path / "b", ["Bucket", "IfNoneMatch", "ChecksumSHA256"], gz=False)
    assert build.check_sdk(tmp_path / "b") == "1.2.3"


def test_check_sdk_refuses_a_botocore_without_conditional_writes(tmp_path: Path) -> None:
    _fake_botocore(tmp_path, ["Bucket", "ChecksumSHA256"])
    with pytest.raises(SystemExit, match=r"botocore 1\.2\.3 cannot send S3 PutObject IfNoneMatch"):
        build.check_sdk(tmp_path)


def test_check_sdk_refuses_a_layer_without_botocore(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="the layer has no botocore"):
        build.check_sdk(tmp_path)


def _declared() -> list[str]:
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as stream:
        return list(tomllib.load(stream)["project"]["dependencies"])


@pytest.mark.slow
def test_arm64_layer_has_aarch64_pillow_the_sdk_and_is_reproducible(tmp_path: Path) -> None:
    # Wheels are cached in the repo's build/wheels, so reruns are offline.
    builds = []
    for attempt in ("first", "second"):
        dist = tmp_path / attempt
        result = _run_build(ROOT, "--arch", "arm64", "--dist", str(dist))
        assert result.returncode == 0, result.stderr
        builds.append(dist)
    layer = builds[0] / "layer-arm64.zip"
    assert layer.read_bytes() == (builds[1] / "layer-arm64.zip").read_bytes()

    with zipfile.ZipFile(layer) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        imaging = [n for n in names if n.startswith("python/PIL/_imaging.cpython-312-aarch64")]
        assert imaging, "Pillow's C extension for aarch64/cp312 is missing"
        elf = archive.read(imaging[0])[:20]
        assert elf[:4] == b"\x7fELF"
        assert int.from_bytes(elf[18:20], "little") == 183, "e_machine is not EM_AARCH64"
    assert names == sorted(names)
    assert all(n.startswith("python/") for n in names)
    tops = {n.split("/")[1].split("-")[0].lower() for n in names}
    assert {"pil", "aws_lambda_powertools", "requests", "requests_toolbelt"} <= tops
    # The SDK the code needs (S3 conditional writes, checksums), not the runtime's.
    assert {"boto3", "botocore", "s3transfer"} <= tops
    assert "bin" not in tops
    assert not [
        n for n in names if n.endswith((".pyc", "/RECORD", "/INSTALLER", "direct_url.json"))
    ]
    assert not [n for n in names if "__pycache__" in n]
    assert {info.date_time for info in infos} == {FIXED_TIME}
    assert {info.external_attr >> 16 for info in infos} <= {0o100644, 0o100755}

    manifest = json.loads((builds[0] / "manifest.json").read_text())
    assert manifest["layer"] == {
        "zip": "layer-arm64.zip",
        "arch": "arm64",
        "compatible_runtimes": [build.RUNTIME],
        "size": layer.stat().st_size,
        "sha256_b64": build.sha256_b64(layer),
    }


def test_the_layer_keeps_the_model_of_every_service_the_code_calls() -> None:
    # Every client the package makes goes through imgsvc.aws.client("<service>", ...).
    import re

    sources = "\n".join(p.read_text() for p in sorted((ROOT / "lambda_src").rglob("*.py")))
    assert "boto3.resource(" not in sources
    assert sources.count("boto3.client(") == 1, "clients are made in imgsvc/aws.py only"
    called = set(re.findall(r"\bclient\(\s*\"([a-z0-9-]+)\"", sources))
    assert called, "no service found: the pattern no longer matches imgsvc/aws.py"
    assert called <= build.SDK_SERVICES, called - build.SDK_SERVICES


def test_trim_sdk_keeps_the_listed_services_and_the_shared_files(tmp_path: Path) -> None:
    data = tmp_path / "botocore" / "data"
    for service in ("s3", "dynamodb", "ec2", "sagemaker"):
        (data / service / "2020-01-01").mkdir(parents=True)
        (data / service / "2020-01-01" / "service-2.json.gz").write_bytes(b"x")
    (data / "endpoints.json").write_text("{}")
    (data / "partitions.json").write_text("{}")
    build.trim_sdk(tmp_path)
    assert sorted(p.name for p in data.iterdir()) == [
        "dynamodb",
        "endpoints.json",
        "partitions.json",
        "s3",
    ]
