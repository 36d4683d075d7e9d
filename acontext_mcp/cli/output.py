"""What every `--json` command prints: one JSON document on stdout, for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(value: Any) -> None:
    """Indented, UTF-8 as is, anything unusual (paths, datetimes) as its string."""
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
