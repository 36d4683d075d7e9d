"""`acontext-mcp disk ...`: the disk tools from a shell, for scripts and debugging."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from acontext_mcp.cli.args import int_range
from acontext_mcp.cli.output import add_json_option, emit
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput


def _open(settings: Settings) -> Any:
    from acontext_mcp.store.db import open_db

    return open_db(settings)


def cmd_disk(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.disk import files, search

    action = args.action
    if action != "ls" and not args.target:
        what = "pattern" if action in ("glob", "grep") else "path"
        raise InvalidInput(f"`acontext-mcp disk {action}` needs a {what}")
    if action == "glob":
        found = search.glob(settings, args.disk, args.target, limit=args.limit)
        return emit(args, found, lambda v: "\n".join(v["matches"]) or "no matches")
    if action == "grep":
        found = search.grep(
            settings,
            args.disk,
            args.target,
            glob=args.glob,
            ignore_case=args.ignore_case,
            max_results=args.limit,
        )
        return emit(
            args,
            found,
            lambda v: (
                "\n".join(f"{m['path']}:{m['line']}:{m['text']}" for m in v["matches"])
                or "no matches"
            ),
        )
    conn = _open(settings)
    try:
        if action == "ls":
            listing = files.list_dir(conn, settings, args.disk, args.target or "/")
            return emit(
                args,
                listing,
                lambda v: "\n".join([*v["dirs"], *(f["name"] for f in v["files"])]) or "(empty)",
            )
        if action == "read":
            got = files.read_file(conn, settings, args.disk, args.target, limit=None)
            return emit(args, got, lambda v: v["content"].rstrip("\n"))
        if action == "write":
            data = sys.stdin.buffer.read()
            written = files.write_file(conn, settings, args.disk, args.target, data)
            return emit(args, written, lambda v: f"wrote {v['path']} ({v['size']} bytes)")
        if action == "rm":
            files.delete(conn, settings, args.disk, args.target)
            return emit(args, {"deleted": args.target}, lambda v: f"deleted {v['deleted']}")
    finally:
        conn.close()
    raise AssertionError(action)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    from acontext_mcp.disk.search import MAX_LIMIT

    p = add("disk", cmd_disk, "Read, write and search files on a named disk.")
    p.add_argument("action", choices=["ls", "read", "write", "rm", "glob", "grep"])
    p.add_argument(
        "target", nargs="?", default=None, help="path (ls/read/write/rm) or pattern (glob/grep)"
    )
    p.add_argument("--disk", default="default", help="disk name (default: default)")
    p.add_argument("--glob", help="grep: only files matching this glob")
    p.add_argument("-i", "--ignore-case", action="store_true", help="grep: ignore case")
    p.add_argument(
        "--limit",
        type=int_range(1, MAX_LIMIT),
        default=100,
        help=f"most results (glob/grep; at most {MAX_LIMIT})",
    )
    add_json_option(p)
