"""What the CLI prints: results on stdout (plain text, or JSON with ``--json``), errors and
progress on stderr. A progress bar (tqdm) only when stderr is a terminal and output is plain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from imgsvc_cli.client import Json, Progress


class Output:
    def __init__(self, *, json_mode: bool, stdout: TextIO, stderr: TextIO) -> None:
        self.json_mode = json_mode
        self.stdout = stdout
        self.stderr = stderr
        self.interactive = not json_mode and stderr.isatty()

    def result(self, value: Any, text: str) -> None:
        """A command's result: ``value`` as JSON with --json, else ``text``."""
        print(
            json.dumps(value, indent=2, ensure_ascii=False) if self.json_mode else text,
            file=self.stdout,
            flush=True,
        )

    def note(self, message: str) -> None:
        """A status line for people watching: stderr, on a terminal only (scripts get results
        and errors, nothing else)."""
        if self.interactive:
            print(message, file=self.stderr, flush=True)

    def error(self, code: str, message: str, status: int | None = None) -> None:
        """An error on stderr; with --json as ``{"error": {code, message[, status]}}``."""
        if self.json_mode:
            detail: Json = {"code": code, "message": message}
            if status is not None:
                detail["status"] = status
            print(json.dumps({"error": detail}, ensure_ascii=False), file=self.stderr, flush=True)
            return
        where = f" (HTTP {status})" if status is not None else ""
        print(f"imgsvc: {code}{where}: {message}", file=self.stderr, flush=True)

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Progress | None]:
        """A byte progress bar on a terminal (a callback taking bytes done), else None."""
        if not self.interactive:
            yield None
            return
        try:
            from tqdm import tqdm
        except ImportError:  # the bar is a nicety: tqdm is optional
            yield None
            return
        with tqdm(
            total=total,
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=self.stderr,
            dynamic_ncols=True,
        ) as bar:

            def update(done: int) -> None:
                bar.update(min(done, total) - bar.n)

            yield update


def record_text(record: Json) -> str:
    metadata = ", ".join(f"{k}={v}" for k, v in sorted(record.get("metadata", {}).items()))
    rows = [
        ("id", record["id"]),
        ("version", record["version"]),
        ("name", record["name"]),
        ("type", f"{record['content_type']}, {record['width']}x{record['height']}"),
        ("size", f"{record['size']:,} bytes"),
        ("sha256", record["sha256"]),
        ("created", record["created_at"]),
        ("metadata", metadata or "-"),
        ("url", record["url"]),
    ]
    return "\n".join(f"{key:<9} {value}" for key, value in rows)


def versions_text(listing: Json) -> str:
    lines = [f"{'VERSION':>7}  {'CREATED':<24}  {'TYPE':<10}  {'PIXELS':>11}  {'BYTES':>12}  NAME"]
    for record in listing["versions"]:
        pixels = f"{record['width']}x{record['height']}"
        lines.append(
            f"{record['version']:>7}  {record['created_at']:<24}  "
            f"{record['content_type']:<10}  {pixels:>11}  {record['size']:>12,}  {record['name']}"
        )
    return "\n".join(lines)


def gifs_text(gifs: Json) -> str:
    effects: dict[str, Json] = gifs.get("effects", {})
    if not effects:
        return f"No effects for version {gifs.get('version')} of {gifs.get('id')}."
    width = max(len(name) for name in effects)
    return "\n".join(
        f"{name:<{width}}  {state.get('status', '?'):<7}  {state.get('url', '')}".rstrip()
        for name, state in sorted(effects.items())
    )
