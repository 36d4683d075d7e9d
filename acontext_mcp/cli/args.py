"""What a user types, turned into what the domain takes: one place for the argument rules
every command shares (a relative `--project`, a session id prefix, a page size's bounds).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

from acontext_mcp.config import Settings


def project_dir(value: str) -> str:
    """`--project DIR`: stored sessions name absolute directories, so `.` and `~/x` are
    resolved against the current directory and HOME before any comparison."""
    if not value.strip():
        raise argparse.ArgumentTypeError("needs a directory (`.` is the current one)")
    return os.path.abspath(os.path.expanduser(value))


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type for an integer in [low, high]; out of range says the bounds."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < low:
            raise argparse.ArgumentTypeError(f"must be at least {low} (got {number})")
        if high is not None and number > high:
            raise argparse.ArgumentTypeError(
                f"at most {high} per page (got {number}); page on with --cursor"
            )
        return number

    return parse


def session_ids(settings: Settings, given: Sequence[str]) -> list[str]:
    """Each session id as typed (a whole id or a prefix only one id starts with) made whole;
    an unknown or ambiguous one is a NotFound (exit 2)."""
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.sessions import resolve_session_id

    if not given:
        return []
    with closing(open_db(settings)) as conn:
        return [resolve_session_id(conn, text) for text in given]


def session_id(settings: Settings, given: str) -> str:
    (whole,) = session_ids(settings, [given])
    return whole


def json_or_file(option: str) -> Callable[[str], object]:
    """An argparse type for JSON given inline or as `@path` (a file holding it)."""

    def parse(value: str) -> object:
        import json

        text, where = value, "the value"
        if value.startswith("@"):
            where = value[1:]
            try:
                text = Path(os.path.expanduser(where)).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise argparse.ArgumentTypeError(f"cannot read {where}: {exc}") from None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                f"{where} is not JSON ({exc}); give {option} JSON or @FILE"
            ) from None

    return parse
