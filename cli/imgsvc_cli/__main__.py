"""``python -m imgsvc_cli``: the same as the ``imgsvc`` command."""

from __future__ import annotations

from imgsvc_cli.main import main

raise SystemExit(main())
