"""Build the Lambda artifacts into ``dist/``: deterministic zips and the manifest Terraform reads.

    python build.py [--arch arm64|x86_64] [--dist DIR] [--no-layer]
    python build.py --host --dist DIR   # a test variant for this machine's Python and CPU

Artifacts:

- ``dist/<function>.zip`` for every function in :data:`FUNCTIONS`: the ``imgsvc`` package's
  ``.py`` files only (tens of KB). Every function ships the same package; the handler differs.
- ``dist/layer-<arch>.zip``: the runtime dependencies (``[project] dependencies`` of
  pyproject.toml, pinned by constraints.txt) under ``python/``, installed from manylinux wheels
  for the Lambda target. That includes boto3/botocore: the SDK the runtime ships varies by
  region and date, and the code needs S3 conditional writes and checksums
  (:func:`check_sdk`; docs/deploy.md, "The AWS SDK").
- ``dist/openapi-apigateway.json``: the document API Gateway imports, derived from
  ``openapi.yaml`` (the public contract) within API Gateway's documented OpenAPI support
  (:func:`apigateway_openapi`). modules/api adds the integrations to it.
- ``dist/manifest.json``: ``{arch, runtime, functions: {name: {handler, zip, size, sha256_b64}},
  layer: {zip, size, sha256_b64, arch, compatible_runtimes} | null}``. Zip paths are relative to
  the manifest; ``sha256_b64`` equals Terraform's ``filebase64sha256()``.

Deterministic: the same sources give the same bytes on any machine, from any checkout path,
whatever the mtimes or umask (sorted entries, 1980-01-01 timestamps, 0644/0755 permissions,
deflate level 9, relative paths, no ``__pycache__``/``*.pyc``/dotfiles, none of pip's
per-install files). Wheels are cached in ``build/wheels/<target>/`` and the layer is always
installed from there with ``--no-index``; PyPI is asked only for wheels not cached yet.

pip evaluates environment markers against the interpreter running this script, not the target
(pip only knows the target's tags); the dependencies here carry no markers, so this is exact.

``--host`` builds the same artifacts for the interpreter running this script and its CPU
(e.g. cp311 x86_64 wheels) into ``--dist``: what tests/terraform's rehearsal runs the deployed
functions from on this machine. Terraform never deploys it; its manifest names its own runtime.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE = "imgsvc"
SOURCE_DIR = ROOT / "lambda_src"

# The one table of functions and their handlers; Terraform reads it back from the manifest.
FUNCTIONS: dict[str, str] = {
    "api": "imgsvc.handlers.api.handler",
    "resize": "imgsvc.handlers.resize.handler",
    "uploads": "imgsvc.handlers.uploads.handler",
    "effects": "imgsvc.handlers.effects.handler",
}

PYTHON_VERSION = "3.12"
RUNTIME = f"python{PYTHON_VERSION}"
# Lambda's architecture names -> the wheel platform tags its Amazon Linux 2023 runtimes accept
# (glibc 2.34). pip does not widen a PEP 600 tag to older glibc versions, so list them.
PLATFORMS: dict[str, tuple[str, ...]] = {
    arch: (f"manylinux_2_28_{machine}", f"manylinux_2_17_{machine}", f"manylinux2014_{machine}")
    for arch, machine in (("arm64", "aarch64"), ("x86_64", "x86_64"))
}
# What the code needs of the SDK it ships (lambda_src/imgsvc/aws.py checks it again at run
# time): the S3 PutObject parameters of conditional writes and of checksums.
SDK_PUT_OBJECT_MEMBERS = ("IfNoneMatch", "ChecksumSHA256")
# The AWS services the functions make clients for (lambda_src/imgsvc/aws.py; a test keeps the
# two in step). botocore's models of the other ~400 services stay out of the layer: 27 MB of
# its 31 MB (bench/coldstart.py). A client for a service not listed fails with
# UnknownServiceError: add the service here.
SDK_SERVICES = frozenset({"cloudfront", "dynamodb", "s3", "sns", "sqs", "sts"})
# Machine names (platform.machine()) -> Lambda's architecture names, for --host.
HOST_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 9
# Files pip writes per installation (paths, installer, shebangs): not part of the package.
PIP_INSTALL_FILES = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


def sha256_b64(path: Path) -> str:
    """Base64 of the file's SHA-256, the same string as Terraform's ``filebase64sha256()``."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


def _skipped(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith((".pyc", ".pyo"))


def walk(base: Path, top: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, file)`` under ``top`` in sorted order, skipping caches and dotfiles.

    Relative paths are taken from ``base`` so the archive never holds an absolute path.
    """
    for current, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in sorted(files):
            if not _skipped(name):
                path = Path(current, name)
                yield path.relative_to(base).as_posix(), path


def write_zip(dest: Path, entries: Iterable[tuple[str, Path]]) -> None:
    """Write a reproducible zip of ``entries`` to ``dest`` atomically (temp file + os.replace)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for arcname, path in sorted(entries):
                info = zipfile.ZipInfo(arcname, date_time=ZIP_TIME)
                info.create_system = 3  # Unix, so the permission bits below are honoured
                executable = path.stat().st_mode & 0o100
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                archive.writestr(
                    info,
                    path.read_bytes(),
                    compress_type=zipfile.ZIP_DEFLATED,
                    compresslevel=ZIP_LEVEL,
                )
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def function_entries() -> list[tuple[str, Path]]:
    """The Lambda package's Python sources, as ``imgsvc/...`` archive paths."""
    package = SOURCE_DIR / PACKAGE
    if not (package / "__init__.py").is_file():
        raise SystemExit(f"build.py: {package} is not a Python package")
    return [(name, path) for name, path in walk(SOURCE_DIR, package) if name.endswith(".py")]


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """``[project] dependencies``: everything the layer ships, the AWS SDK included."""
    with pyproject.open("rb") as stream:
        declared: list[str] = tomllib.load(stream)["project"]["dependencies"]
    kept = []
    for requirement in declared:
        if re.match(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*", requirement) is None:
            raise SystemExit(f"build.py: cannot read the requirement {requirement!r}")
        kept.append(requirement.strip())
    return kept


def check_sdk(site: Path) -> str:
    """The botocore version installed in ``site``; SystemExit when it is missing, or when its S3
    model lacks a PutObject parameter the code sends (:data:`SDK_PUT_OBJECT_MEMBERS`)."""
    import gzip

    versions = sorted(site.glob("botocore-*.dist-info"))
    model_dir = site / "botocore" / "data" / "s3" / "2006-03-01"
    models = [model_dir / "service-2.json.gz", model_dir / "service-2.json"]
    model_file = next((path for path in models if path.is_file()), None)
    if not versions or model_file is None:
        raise SystemExit(
            "build.py: the layer has no botocore: list boto3 in pyproject.toml's [project] "
            "dependencies (the functions must not depend on the runtime's SDK)"
        )
    version = versions[0].name.removeprefix("botocore-").removesuffix(".dist-info")
    raw = model_file.read_bytes()
    model = json.loads(gzip.decompress(raw) if model_file.suffix == ".gz" else raw)
    shape = model["operations"]["PutObject"]["input"]["shape"]
    missing = [m for m in SDK_PUT_OBJECT_MEMBERS if m not in model["shapes"][shape]["members"]]
    if missing:
        raise SystemExit(
            f"build.py: botocore {version} cannot send S3 PutObject {', '.join(missing)} "
            "(conditional writes, checksums): raise the boto3/botocore pins in constraints.txt"
        )
    return version


def _pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def install_layer(
    arch: str,
    target: Path,
    wheel_dir: Path,
    requirements: Sequence[str],
    python_version: str = PYTHON_VERSION,
) -> None:
    """pip-install ``requirements`` for the Lambda target into ``target/python``.

    Installs only from ``wheel_dir`` (``--no-index``); downloads into it first when a wheel is
    missing, so a rebuild with a warm cache never touches the network.
    """
    target_args = ["--only-binary=:all:", "--python-version", python_version]
    target_args += ["--implementation", "cp"]
    for tag in PLATFORMS[arch]:
        target_args += ["--platform", tag]
    constraints = ROOT / "constraints.txt"
    pins = ["-c", str(constraints)] if constraints.is_file() else []
    offline = ["--no-index", "--find-links", str(wheel_dir)]
    install = ["install", "--quiet", "--no-compile", "--target", str(target / "python")]
    install += target_args + pins + offline + list(requirements)

    wheel_dir.mkdir(parents=True, exist_ok=True)
    result = _pip(install)
    if result.returncode != 0:
        print(f"downloading wheels for {arch} into {_shown(wheel_dir)}", flush=True)
        download = ["download", "--quiet", "--dest", str(wheel_dir), *target_args, *pins]
        fetched = _pip(download + list(requirements))
        if fetched.returncode != 0:
            raise SystemExit(f"build.py: pip download failed:\n{fetched.stderr.strip()}")
        shutil.rmtree(target / "python", ignore_errors=True)
        result = _pip(install)
        if result.returncode != 0:
            raise SystemExit(f"build.py: pip install failed:\n{result.stderr.strip()}")


def strip_install_noise(site: Path) -> None:
    """Remove what differs between two installs of the same wheels, and what Lambda never runs.

    RECORD lists the console scripts' hashes, and those scripts carry the build interpreter's
    absolute path in their shebang; INSTALLER/REQUESTED/direct_url.json describe the install,
    not the package. ``bin/`` holds those scripts.
    """
    shutil.rmtree(site / "bin", ignore_errors=True)
    for dist_info in site.glob("*.dist-info"):
        for name in PIP_INSTALL_FILES:
            (dist_info / name).unlink(missing_ok=True)
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)


def trim_sdk(site: Path) -> None:
    """Keep botocore's models of :data:`SDK_SERVICES` only (its shared files all stay)."""
    data = site / "botocore" / "data"
    if not data.is_dir():
        return
    for entry in sorted(data.iterdir()):
        if entry.is_dir() and entry.name not in SDK_SERVICES:
            shutil.rmtree(entry)


def build_layer(
    arch: str, dist: Path, wheel_dir: Path, python_version: str = PYTHON_VERSION
) -> Path:
    requirements = runtime_requirements()
    dest = dist / f"layer-{arch}.zip"
    with tempfile.TemporaryDirectory(prefix="imgsvc-layer-") as tmp:
        target = Path(tmp)
        install_layer(arch, target, wheel_dir, requirements, python_version)
        site = target / "python"
        strip_install_noise(site)
        trim_sdk(site)
        print(f"  bundling botocore {check_sdk(site)} with {', '.join(sorted(SDK_SERVICES))}")
        write_zip(dest, walk(target, site))
    return dest


def host_target() -> tuple[str, str]:
    """``(arch, python_version)`` of this machine and interpreter, for ``--host``."""
    machine = platform.machine().lower()
    if machine not in HOST_ARCHES:
        raise SystemExit(f"build.py: --host does not know the machine {machine!r}")
    return HOST_ARCHES[machine], f"{sys.version_info.major}.{sys.version_info.minor}"


def _artifact(path: Path, dist: Path) -> dict[str, object]:
    return {
        "zip": path.relative_to(dist).as_posix(),
        "size": path.stat().st_size,
        "sha256_b64": sha256_b64(path),
    }


def write_manifest(dist: Path, arch: str, runtime: str = RUNTIME) -> Path:
    """Describe what is in ``dist`` (the layer entry is null when no layer was built for arch)."""
    functions = {
        name: {"handler": handler, **_artifact(dist / f"{name}.zip", dist)}
        for name, handler in FUNCTIONS.items()
    }
    layer_zip = dist / f"layer-{arch}.zip"
    layer = (
        {**_artifact(layer_zip, dist), "arch": arch, "compatible_runtimes": [runtime]}
        if layer_zip.is_file()
        else None
    )
    manifest = {"arch": arch, "runtime": runtime, "functions": functions, "layer": layer}
    dest = dist / "manifest.json"
    fd, tmp_name = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=dist)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2, sort_keys=True)
        stream.write("\n")
    Path(tmp_name).chmod(0o644)
    os.replace(tmp_name, dest)
    return dest


# --- The OpenAPI document API Gateway imports ---------------------------------------------------
#
# openapi.yaml is the public contract (the local mode, the tests and clients read it). API Gateway
# imports only part of OpenAPI: "Amazon API Gateway important notes for REST APIs"
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
# #api-gateway-known-issues-rest-apis) lists what it does not support. The import document is
# derived from the contract at build time, within that list, so modules/api can import it with
# fail_on_warnings: a definition API Gateway would drop fails the apply instead of silently
# changing the API.

APIGATEWAY_OPENAPI = "openapi-apigateway.json"
# Schema keywords the notes list as unsupported: additionalProperties, anyOf (in models),
# allOf (in models, in earlier versions of the notes), discriminator (in any schema), example,
# exclusiveMinimum, oneOf, pattern, readOnly; and "The deprecated field is not supported".
APIGATEWAY_UNSUPPORTED_KEYWORDS = frozenset(
    {
        "additionalProperties",
        "allOf",
        "anyOf",
        "deprecated",
        "discriminator",
        "example",
        "examples",
        "exclusiveMinimum",
        "oneOf",
        "pattern",
        "readOnly",
    }
)
# "Numbers of the Int32 or Int64 type are not supported"; "Decimal number format type is not
# supported in a schema definition".
APIGATEWAY_UNSUPPORTED_FORMATS = frozenset({"int32", "int64", "decimal"})
# "For input parameters, only the following attributes are supported: name, in, required, type,
# description" (in OpenAPI 3 the type is the parameter's schema's).
APIGATEWAY_PARAMETER_FIELDS = ("name", "in", "required", "description")
# Components the notes say to inline ("Response definitions of the "500": {"$ref": ...} form are
# not supported ... replace the reference by the inline schema"); parameters, request bodies,
# headers, links and examples are inlined too (the parameters are reduced above). Schemas stay:
# they become models.
APIGATEWAY_INLINED = ("responses", "parameters", "requestBodies", "headers", "links", "examples")


def _resolve(node: object, components: dict[str, dict[str, object]]) -> object:
    """``node`` with every ``$ref`` to an inlined kind of component replaced by (a copy of) it."""
    if isinstance(node, list):
        return [_resolve(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        for kind in APIGATEWAY_INLINED:
            prefix = f"#/components/{kind}/"
            if ref.startswith(prefix):
                return _resolve(components[kind][ref.removeprefix(prefix)], components)
    return {key: _resolve(value, components) for key, value in node.items()}


def _schema(schema: object) -> object:
    """A schema object within API Gateway's support (JSON schema draft 4 models)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, object] = {}
    for key, value in schema.items():
        if key in APIGATEWAY_UNSUPPORTED_KEYWORDS:
            continue
        if key == "format" and value in APIGATEWAY_UNSUPPORTED_FORMATS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _schema(sub) for name, sub in value.items()}
        elif key in ("items", "not"):
            out[key] = _schema(value)
        else:
            out[key] = value
    return out


def _parameter(parameter: dict[str, object], schemas: dict[str, object]) -> dict[str, object]:
    """The parameter with the attributes API Gateway supports, its schema reduced to its type.

    A schema given by reference (``#/components/schemas/ImageId``) is looked up for its type;
    without one a path or query parameter is a string. API Gateway refuses a parameter with no
    schema at all ("is not valid under any of the schemas listed in the 'oneOf' keyword").
    """
    out = {key: parameter[key] for key in APIGATEWAY_PARAMETER_FIELDS if key in parameter}
    schema = parameter.get("schema")
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.removeprefix("#/components/schemas/"))
    kind = schema.get("type") if isinstance(schema, dict) else None
    out["schema"] = {"type": kind if isinstance(kind, str) else "string"}
    return out


def _content(content: dict[str, object]) -> dict[str, object]:
    """Media types with their schemas, when those are objects (or models).

    The notes: "In method responses, schema definition must be of an object type and cannot be
    of primitive types". A primitive schema (an image's bytes) goes, in requests too, where a
    model of a non-JSON body would validate nothing; the media type stays.
    """
    out: dict[str, object] = {}
    for media_type, entry in content.items():
        kept = {
            key: value
            for key, value in (entry if isinstance(entry, dict) else {}).items()
            if key not in APIGATEWAY_UNSUPPORTED_KEYWORDS and key != "schema"
        }
        schema = entry.get("schema") if isinstance(entry, dict) else None
        if isinstance(schema, dict) and ("$ref" in schema or schema.get("type") == "object"):
            kept["schema"] = _schema(schema)
        out[media_type] = kept
    return out


def _operation(operation: dict[str, object], schemas: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in operation.items():
        if key in APIGATEWAY_UNSUPPORTED_KEYWORDS:
            continue
        if key == "parameters" and isinstance(value, list):
            out[key] = [_parameter(p, schemas) for p in value]
        elif key == "requestBody" and isinstance(value, dict):
            body = dict(value)
            if isinstance(body.get("content"), dict):
                body["content"] = _content(body["content"])
            out[key] = body
        elif key == "responses" and isinstance(value, dict):
            out[key] = {code: _response(r) for code, r in value.items()}
        else:
            out[key] = value
    return out


def _response(response: object) -> object:
    if not isinstance(response, dict):
        return response
    out = dict(response)
    if isinstance(out.get("content"), dict):
        out["content"] = _content(out["content"])
    if isinstance(out.get("headers"), dict):
        out["headers"] = {
            name: {k: v for k, v in header.items() if k not in APIGATEWAY_UNSUPPORTED_KEYWORDS}
            for name, header in out["headers"].items()
            if isinstance(header, dict)
        }
    return out


def apigateway_openapi(spec: dict[str, object]) -> dict[str, object]:
    """The OpenAPI document for API Gateway's import, from the service's ``openapi.yaml``.

    Same paths, operations, operation ids, security, parameters (names, places, whether
    required), status codes and media types; references to responses, parameters and request
    bodies inlined; schema keywords, formats and parameter attributes API Gateway does not
    support dropped; schemas stay components (API Gateway's models).
    """
    raw_components = spec.get("components")
    components: dict[str, dict[str, object]] = (
        {k: v for k, v in raw_components.items() if isinstance(v, dict)}
        if isinstance(raw_components, dict)
        else {}
    )
    resolved = _resolve({k: v for k, v in spec.items() if k != "components"}, components)
    assert isinstance(resolved, dict)
    schemas = components.get("schemas", {})
    paths: dict[str, object] = {}
    for path, item in (resolved.get("paths") or {}).items():
        paths[path] = {
            key: (
                [_parameter(p, schemas) for p in value]
                if key == "parameters"
                else _operation(value, schemas)
                if isinstance(value, dict) and not key.startswith("x-")
                else value
            )
            for key, value in item.items()
        }
    kept = {
        kind: (
            {name: _schema(schema) for name, schema in entries.items()}
            if kind == "schemas"
            else entries
        )
        for kind, entries in components.items()
        if kind not in APIGATEWAY_INLINED
    }
    return {**resolved, "paths": paths, **({"components": kept} if kept else {})}


def write_apigateway_openapi(dist: Path, source: Path = ROOT / "openapi.yaml") -> Path:
    """Write ``dist/openapi-apigateway.json`` from ``source`` (sorted keys: same bytes always)."""
    import yaml  # the build's only YAML: imported here, not for every build step

    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    document = json.dumps(apigateway_openapi(spec), indent=2, sort_keys=True) + "\n"
    dest = dist / APIGATEWAY_OPENAPI
    fd, tmp_name = tempfile.mkstemp(prefix=".openapi.", suffix=".tmp", dir=dist)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(document)
    Path(tmp_name).chmod(0o644)
    os.replace(tmp_name, dest)
    return dest


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _report(path: Path) -> None:
    print(f"  {_shown(path):<28} {path.stat().st_size:>11,} bytes  sha256 {sha256_b64(path)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        default=None,
        help="wheel cache (default: build/wheels/<runtime>-<arch>)",
    )
    parser.add_argument(
        "--no-layer", action="store_true", help="only the function zips (keeps an existing layer)"
    )
    parser.add_argument(
        "--host",
        action="store_true",
        help="for this interpreter and CPU instead of Lambda's (a test variant; not deployable)",
    )
    args = parser.parse_args(argv)
    dist: Path = args.dist
    arch, python_version = host_target() if args.host else (args.arch, PYTHON_VERSION)
    runtime = f"python{python_version}"
    wheel_dir: Path = args.wheel_dir or ROOT / "build" / "wheels" / f"{runtime}-{arch}"

    entries = function_entries()
    for name in FUNCTIONS:
        path = dist / f"{name}.zip"
        write_zip(path, entries)
        _report(path)
    if not args.no_layer:
        _report(build_layer(arch, dist, wheel_dir, python_version))
    _report(write_apigateway_openapi(dist))
    _report(write_manifest(dist, arch, runtime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
