"""Just enough HCL to read a module's interface and calls: top-level blocks of formatted files.

``terraform fmt`` puts top-level blocks at column 0 and their attributes at two spaces, so a
block is found by its header and closed by brace matching that knows strings, interpolations,
heredocs and comments. Only literal strings are decoded (descriptions are literals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# ``moved`` blocks have no label: their name is "".
_BLOCK = re.compile(r'^(variable|output|module|moved)(?:\s+"([^"]+)")?\s*\{', re.MULTILINE)
_ATTRIBUTE = re.compile(r"^  ([a-z_]+)\s*=\s*", re.MULTILINE)
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)\n")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Block:
    kind: str
    name: str
    attributes: dict[str, str]  # attribute -> raw expression text

    @property
    def description(self) -> str | None:
        raw = self.attributes.get("description")
        return None if raw is None else string_literal(raw)

    @property
    def has_default(self) -> bool:
        return "default" in self.attributes

    @property
    def default_is_null(self) -> bool:
        return self.attributes.get("default", "").strip() == "null"


def _skip_string(text: str, i: int) -> int:
    """Index just past the string literal starting at ``text[i] == '"'``."""
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            i = _skip_braces(text, i + 1)
            continue
        i += 1
    raise ValueError("unterminated string")


def _skip_braces(text: str, i: int) -> int:
    """Index just past the ``}`` matching the ``{`` at ``text[i]``."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _skip_string(text, i)
            continue
        if char == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        heredoc = _HEREDOC.match(text, i)
        if heredoc:
            end = re.compile(rf"^\s*{heredoc[2]}\s*$", re.MULTILINE).search(text, heredoc.end())
            if end is None:
                raise ValueError(f"unterminated heredoc {heredoc[2]}")
            i = end.end()
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced braces")


def _attributes(body: str) -> dict[str, str]:
    """Top-level ``name = expression`` pairs of a block body (two-space indent after fmt)."""
    found: dict[str, str] = {}
    matches = list(_ATTRIBUTE.finditer(body))
    for match in matches:
        start = match.end()
        i = start
        # The expression ends at the first newline outside brackets, strings and heredocs.
        depth = 0
        while i < len(body):
            char = body[i]
            if char == '"':
                i = _skip_string(body, i)
                continue
            heredoc = _HEREDOC.match(body, i)
            if heredoc:
                end = re.compile(rf"^\s*{heredoc[2]}\s*$", re.MULTILINE).search(body, heredoc.end())
                i = end.end() if end else len(body)
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
            elif char == "\n" and depth == 0:
                break
            i += 1
        found[match[1]] = body[start:i].strip()
    return found


def _top_level(body: str) -> str:
    """The block body with nested blocks (validation, ...) blanked out."""
    out = []
    i = 0
    for match in re.finditer(r"^  [a-z_]+\s*\{", body, re.MULTILINE):
        if match.start() < i:
            continue
        out.append(body[i : match.start()])
        i = _skip_braces(body, match.end() - 1)
    out.append(body[i:])
    return "".join(out)


def blocks(text: str, kind: str) -> list[Block]:
    """Every top-level ``kind`` block (``variable``, ``output``, ``module``, ``moved``) in order."""
    found = []
    for match in _BLOCK.finditer(text):
        if match[1] != kind:
            continue
        end = _skip_braces(text, match.end() - 1)
        body = text[match.end() : end - 1]
        found.append(Block(kind, match[2] or "", _attributes(_top_level(body))))
    return found


def read_blocks(directory: Path, kind: str) -> list[Block]:
    found: list[Block] = []
    for path in sorted(directory.glob("*.tf")):
        found.extend(blocks(path.read_text(), kind))
    return found


def string_literal(raw: str) -> str:
    """Decode a quoted HCL string or heredoc without interpolation (``$${`` becomes ``${``)."""
    raw = raw.strip()
    heredoc = _HEREDOC.match(raw + ("\n" if "\n" not in raw else ""))
    if heredoc:
        lines = raw[heredoc.end() :].splitlines()[:-1]
        if heredoc[1] == "-":
            indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
            lines = [x[indent:] for x in lines]
        return "\n".join(lines)
    if not (raw.startswith('"') and raw.endswith('"')):
        raise ValueError(f"not a string literal: {raw[:40]}")
    out = []
    i = 1
    while i < len(raw) - 1:
        char = raw[i]
        if char == "\\":
            out.append(_ESCAPES.get(raw[i + 1], raw[i + 1]))
            i += 2
            continue
        if raw.startswith("$${", i) or raw.startswith("%%{", i):
            out.append(raw[i + 1 : i + 3])
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)
