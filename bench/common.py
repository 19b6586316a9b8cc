"""Helpers every benchmark section shares: timing, peak memory in a fresh process, tables.

Speed is only ever reported as a ratio against a baseline measured in the same run on the same
inputs, so the numbers mean something on any machine (and are never asserted in tests).

Peak memory is measured as the growth of the resident set size (RSS) of a *fresh* child
process while it runs the operation once: ``tracemalloc`` only sees Python's allocator, not
the C buffers where Pillow and libvips keep pixels, and a process reused across cases would
hand freed pages from one case to the next. The child resets the kernel's high-water mark
(``/proc/self/clear_refs``) after its imports and inputs are in place, so the figure is what
the operation itself needed; where that file is not writable it falls back to ``ru_maxrss``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

MB = 1024 * 1024

# Figures a section measured, for a later section of the same run (``python -m bench`` runs
# resize and gifs before cost): ``MEASURED[kind][case] = value``.
MEASURED: dict[str, dict[str, float]] = {}


def record(kind: str, case: str, value: float) -> None:
    MEASURED.setdefault(kind, {})[case] = float(value)


def median_ms(fn: Callable[[], object], repeat: int = 7, *, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


def process_ms(
    argv: Sequence[str], repeat: int = 7, *, env: Mapping[str, str] | None = None
) -> float:
    """Median wall time in milliseconds of running ``argv`` as a fresh process (cold starts)."""
    full_env = {**os.environ, **(env or {})}
    samples = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        subprocess.run(argv, env=full_env, check=True, stdout=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        return False
    return True


def _measure_child(
    conn: Any,
    fn: Callable[..., object],
    args: tuple[Any, ...],
    warmup: Callable[[], object] | None,
) -> None:
    try:
        if warmup is not None:
            warmup()
        if _reset_peak() and (before := _status_kb("VmRSS")) is not None:
            fn(*args)
            peak = _status_kb("VmHWM") or 0
            conn.send(("ok", (peak - before) * 1024))
        else:
            before_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            fn(*args)
            after_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            conn.send(("ok", (after_max - before_max) * 1024))
    except BaseException as exc:  # report the failure to the parent instead of hanging it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def peak_memory(
    fn: Callable[..., object],
    *args: Any,
    warmup: Callable[[], object] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Peak RSS growth in bytes while ``fn(*args)`` runs once in a fresh (spawned) process.

    ``fn``, ``args`` and ``warmup`` must be picklable (module-level functions, bytes, numbers).
    ``warmup`` runs first, outside the measurement: use it to load lazily imported codecs with a
    tiny input. ``env`` is the child's extra environment (e.g. ``VIPS_CONCURRENCY``), in place
    before the child imports anything.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    with _environment(env):
        child = context.Process(target=_measure_child, args=(sender, fn, args, warmup))
        child.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", "the child process died"
    child.join()
    if status != "ok":
        raise RuntimeError(f"peak_memory({getattr(fn, '__name__', fn)}): {value}")
    return int(value)


def ratio(value: float, baseline: float) -> str:
    """``value / baseline`` as ``0.42x`` (``n/a`` when the baseline is missing or zero)."""
    if not baseline or math.isnan(baseline) or math.isnan(value):
        return "n/a"
    return f"{value / baseline:.2f}x"


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if math.isnan(value):
            return "n/a"
        return f"{value:.1f}"
    return str(value)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: Collection[int] = (0,)
) -> None:
    """Print rows as an aligned plain-text table: the ``left`` columns (by index) aligned left,
    the others (numbers) right. Floats get one decimal; inf and nan print as such."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.ljust(width) if i in left else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    print(line(list(headers)))
    print(line(["-" * width for width in widths]))
    for row in cells:
        print(line(row))
    sys.stdout.flush()
