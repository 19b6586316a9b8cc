"""Run every benchmark section, or those named:
``python -m bench [resize] [webp_alpha] [gifs] [coldstart]``.
"""

from __future__ import annotations

import importlib
import sys

SECTIONS = ("resize", "webp_alpha", "gifs", "coldstart")


def main(argv: list[str]) -> int:
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
