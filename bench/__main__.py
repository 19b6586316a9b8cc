"""Run every benchmark section, or those named: ``python -m bench [resize] [formats]
[webp_alpha] [gifs] [coldstart] [localmode] [cost] [simulate]``.

``cost`` uses the figures resize and gifs measured earlier in the same run (else
bench/figures.json). ``python -m bench cost --help`` and ``python -m bench simulate --help``
take options of their own.
"""

from __future__ import annotations

import importlib
import sys

SECTIONS = (
    "resize",
    "formats",
    "webp_alpha",
    "gifs",
    "coldstart",
    "localmode",
    "cost",
    "simulate",
)
COMMANDS = ("cost", "simulate")  # sections that take options: python -m bench cost --region ...


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[0] in COMMANDS and argv[1].startswith("-"):
        command: int = importlib.import_module(f"bench.{argv[0]}").main(argv[1:])
        return command
    chosen = argv or list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        print(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}", file=sys.stderr)
        return 2
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== {name}")
        module.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
