"""Cold start: the wall time of a fresh Python process importing each Lambda handler module,
against one that only imports boto3 (what every Python Lambda that talks to AWS pays), in the
same run. Module imports are the part of a cold start the code controls; the runtime's own
start is the same for every function and is shown by the bare interpreter row.

Target: each handler <= 1.25x ``import boto3``. The second table ranks each handler's direct
imports by ``python -X importtime``: what to make lazy when a handler is over.
``IMGSVC_BENCH_COLDSTART_REPEAT`` sets the runs per module (default 9).

The third table is what tracing would add (modules/function/README.md, "Tracing"): each
handler's import with Powertools' ``Tracer()`` created as a traced function would create it,
against the handler alone. ``LAMBDA_TASK_ROOT`` is set for those runs, or Tracer disables
itself outside Lambda and measures nothing; creating it imports the X-Ray SDK and patches
botocore.

The last weighs the AWS SDK the layer bundles (:func:`sdk_layer`): layer size and cold start,
against the runtime's SDK.
"""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from bench.common import print_table, ratio

REPEAT = int(os.environ.get("IMGSVC_BENCH_COLDSTART_REPEAT", "9"))
HANDLERS = (
    "imgsvc.handlers.api",
    "imgsvc.handlers.resize",
    "imgsvc.handlers.uploads",
    "imgsvc.handlers.effects",
)
BASELINE = "boto3"
TARGET = 1.25
# What the Lambda environment always has; nothing here may trigger network or AWS calls.
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "imgsvc",
    "IMGSVC_EFFECT": "zoom",
}
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _environment() -> dict[str, str]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [os.path.join(here, "lambda_src"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def _import_argv(module: str | None) -> list[str]:
    return [sys.executable, "-c", f"import {module}" if module else "pass"]


TRACED = "; from aws_lambda_powertools import Tracer; Tracer(service='imgsvc')"


def _traced_argv(module: str) -> list[str]:
    """``module``'s import followed by a Tracer, as a traced handler module would create it."""
    return [sys.executable, "-c", f"import {module}{TRACED}"]


def tracer_times(
    modules: Sequence[str], repeat: int, env: Mapping[str, str]
) -> dict[str, tuple[float, float]]:
    """Median wall ms of each handler import without and with ``Tracer()`` after it, in
    Lambda's terms, the two interleaved in one round-robin so that load on the machine weighs
    on both alike."""
    traced_env = {**env, "LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}
    runs = [(module, traced) for module in modules for traced in (False, True)]
    samples: dict[tuple[str, bool], list[float]] = {run: [] for run in runs}
    for _ in range(max(1, repeat) + 1):  # the first round fills the OS file cache; dropped
        for module, traced in runs:
            start = time.perf_counter()
            subprocess.run(
                _traced_argv(module) if traced else _import_argv(module),
                env=traced_env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            samples[(module, traced)].append((time.perf_counter() - start) * 1000.0)
    medians = {run: statistics.median(values[1:]) for run, values in samples.items()}
    return {module: (medians[(module, False)], medians[(module, True)]) for module in modules}


def available(modules: Sequence[str]) -> tuple[list[str], list[str]]:
    """The handler modules that exist in this checkout, and those that do not (yet)."""
    present: list[str] = []
    missing: list[str] = []
    for module in modules:
        (present if importlib.util.find_spec(module) is not None else missing).append(module)
    return present, missing


def import_times(
    modules: Sequence[str | None], repeat: int, env: Mapping[str, str]
) -> dict[str | None, float]:
    """Median wall ms of a fresh ``python -c 'import <module>'`` per module, round-robin."""
    samples: dict[str | None, list[float]] = {module: [] for module in modules}
    for _ in range(max(1, repeat) + 1):  # the first round fills the OS file cache; dropped
        for module in modules:
            start = time.perf_counter()
            subprocess.run(
                _import_argv(module),
                env=dict(env),
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            samples[module].append((time.perf_counter() - start) * 1000.0)
    return {module: statistics.median(values[1:]) for module, values in samples.items()}


def _direct_imports(module: str, env: Mapping[str, str]) -> dict[str, float]:
    """One ``-X importtime`` run: cumulative ms of each direct import of ``module`` and of its
    parent packages. importtime prints a module after its children, indented by depth, so the
    children of a top-level line are the depth-1 lines since the previous top-level line."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
    )
    parts = module.split(".")
    chain = {".".join(parts[: i + 1]) for i in range(len(parts))}
    pending: dict[str, float] = {}
    children: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match is None:
            continue
        depth = (len(match[3]) - 1) // 2
        if depth == 1:
            pending[match[4]] = int(match[2]) / 1000.0
        elif depth == 0:
            if match[4] in chain:
                children.update({k: v for k, v in pending.items() if k not in chain})
            pending = {}
    return children


def heaviest_imports(
    module: str, env: Mapping[str, str], top: int = 6, runs: int = 3
) -> list[tuple[str, float]]:
    """The direct imports of ``module`` with the largest cumulative time (median ms of
    ``runs`` importtime runs; for ranking what to make lazy, not for timing)."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, ms in _direct_imports(module, env).items():
            samples.setdefault(name, []).append(ms)
    medians = [(name, statistics.median(values)) for name, values in samples.items()]
    return sorted(medians, key=lambda entry: entry[1], reverse=True)[:top]


def run() -> None:
    env = _environment()
    present, missing = available(HANDLERS)
    for module in missing:
        print(f"skipped {module}: not in this checkout yet")
    if not present:
        return
    times = import_times([None, BASELINE, *present], REPEAT, env)
    baseline = times[BASELINE]
    rows: list[list[object]] = [
        ["python (bare interpreter)", times[None], ratio(times[None], baseline), ""],
        [f"import {BASELINE}", baseline, "1.00x", ""],
    ]
    for module in present:
        verdict = "ok" if times[module] <= TARGET * baseline else f"over {TARGET}x"
        rows.append([f"import {module}", times[module], ratio(times[module], baseline), verdict])
    print(f"Fresh-process wall time, median of {REPEAT} runs, ms (target <= {TARGET}x boto3)")
    print_table(["process", "ms", f"vs {BASELINE}", ""], rows)

    print("\nHeaviest direct imports (python -X importtime, cumulative ms, median of 3 runs)")
    heavy_rows: list[list[object]] = []
    for module in [BASELINE, *present]:
        heavy = heaviest_imports(module, env)
        heavy_rows.append([module, ", ".join(f"{name} {ms:.0f}" for name, ms in heavy)])
    print_table(["module", "imports"], heavy_rows, left=(0, 1))

    traced = tracer_times(present, REPEAT, env)
    print(f"\nWith Powertools Tracer (X-Ray SDK, botocore patched), median of {REPEAT} runs, ms")
    tracer_rows: list[list[object]] = []
    for module in present:
        plain, with_tracer = traced[module]
        verdict = "ok" if with_tracer <= TARGET * baseline else f"over {TARGET}x"
        tracer_rows.append(
            [
                f"import {module}",
                plain,
                with_tracer,
                f"+{with_tracer - plain:.0f} ({ratio(with_tracer, plain)})",
                ratio(with_tracer, baseline),
                verdict,
            ]
        )
    headers = ["process", "ms", "+ Tracer() ms", "Tracer adds", f"traced vs {BASELINE}", ""]
    print_table(headers, tracer_rows)
    sdk_layer()


# --- The AWS SDK in the layer (docs/deploy.md, "The AWS SDK") ---------------------------------
# What boto3 brings that nothing else in the layer needs (urllib3 is requests' too).
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six")
# A cold start's own work: the handler's imports, then the first S3 client (its model loads).
_FIRST_CLIENT = (
    "import sys; sys.path[:0] = {paths!r}; import imgsvc.handlers.api; "
    "from imgsvc import aws; aws.s3('eu-west-1')"
)


def _is_sdk(entry: str) -> bool:
    top = entry.split("/", 2)[1] if entry.count("/") >= 1 else entry
    name = top.split("-")[0].split(".")[0].lower()
    return name in SDK_PACKAGES or top.lower().startswith("python_dateutil")


def _zip_mb(entries: list[tuple[str, str]], dest: str) -> tuple[float, float]:
    """(zipped, unzipped) MB of a layer zip made of ``entries`` the way build.py makes it."""
    from pathlib import Path

    import build

    build.write_zip(Path(dest), [(name, Path(path)) for name, path in entries])
    unzipped = sum(os.path.getsize(path) for _, path in entries)
    return os.path.getsize(dest) / (1024 * 1024), unzipped / (1024 * 1024)


def sdk_layer(repeat: int = REPEAT) -> None:
    """The layer with the SDK bundled (what build.py ships) against one without it (the
    runtime's SDK): sizes, and the cold start of a fresh ``python -I -S`` process that imports
    the api handler and creates its S3 client from the extracted layer, Lambda's search path."""
    import shutil
    import tempfile
    from pathlib import Path

    import build

    arch, version = build.host_target()
    wheels = build.ROOT / "build" / "wheels" / f"python{version}-{arch}"
    with tempfile.TemporaryDirectory(prefix="imgsvc-bench-sdk-") as tmp:
        root = Path(tmp)
        build.install_layer(arch, root, wheels, build.runtime_requirements(), version)
        build.strip_install_noise(root / "python")
        whole = [(name, str(path)) for name, path in build.walk(root, root / "python")]
        whole_size = _zip_mb(whole, str(root / "whole.zip"))
        build.trim_sdk(root / "python")  # what build.py ships
        entries = [(name, str(path)) for name, path in build.walk(root, root / "python")]
        without = [(n, p) for n, p in entries if not _is_sdk(n)]
        sized = {
            "bundled": _zip_mb(entries, str(root / "with.zip")),
            "runtime's": _zip_mb(without, str(root / "without.zip")),
        }
        # The SDK outside the layer, where the runtime keeps its own (after /opt/python).
        runtime = root / "runtime"
        layer_only = root / "layer-without-sdk" / "python"
        for name, path in entries:
            dest = (runtime if _is_sdk(name) else layer_only.parent) / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        task = str(build.SOURCE_DIR)
        cases = {
            "bundled": [task, str(root / "python")],
            "runtime's": [task, str(layer_only), str(runtime / "python")],
        }
        env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_SERVICE_NAME": "imgsvc"}
        samples: dict[str, list[float]] = {case: [] for case in cases}
        for _ in range(max(1, repeat) + 1):  # the first round fills the file cache; dropped
            for case, paths in cases.items():
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-I", "-S", "-c", _FIRST_CLIENT.format(paths=paths)],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                samples[case].append((time.perf_counter() - start) * 1000.0)
    times = {case: statistics.median(values[1:]) for case, values in samples.items()}
    base = times["runtime's"]
    print(
        f"\nThe AWS SDK in the layer (python{version} {arch} wheels; cold start: handler import +"
        f" first S3 client, median of {repeat} runs)"
    )
    print_table(
        ["SDK", "layer zip MB", "unzipped MB", "cold start ms", "vs runtime's"],
        [
            [case, sized[case][0], sized[case][1], times[case], ratio(times[case], base)]
            for case in ("runtime's", "bundled")
        ]
        + [["bundled, every botocore model", whole_size[0], whole_size[1], "", ""]],
    )
    print(f"(bundled: botocore's models of {', '.join(sorted(build.SDK_SERVICES))} only)")
