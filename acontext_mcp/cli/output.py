"""What every `--json` command prints: one JSON document on stdout, for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

JSON_HELP = "print JSON for scripts"


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """The one declaration of `--json`, so every command spells, documents and parses it alike."""
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def emit_json(value: Any) -> None:
    """Indented, UTF-8 as is, anything unusual (paths, datetimes) as its string."""
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def emit(args: argparse.Namespace, value: Any, render: Callable[[Any], str]) -> int:
    """`value` as JSON under `--json`, else as `render` writes it for a person; exit code 0."""
    if args.json:
        emit_json(value)
    else:
        print(render(value))
    return 0
