"""`acontext-mcp forget` and `acontext-mcp export`: remove captured sessions, or write them out.

The domain is `store.forget` and `store.export`; this module picks the sessions from the
flags, shows what forget would remove and asks before removing it (refusing when nobody can
answer), and prints the outcome (or JSON on stdout).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from acontext_mcp.cli.args import session_ids
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.progress import human_bytes

_KINDS = ("messages", "tasks", "events", "learnings", "jobs", "cursors")


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _project(value: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(value)) if value else None


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe(counts: dict[str, Any], *, done: bool) -> list[str]:
    """The plan (or the outcome) in a few lines a person can check before saying yes."""
    head = "forgot" if done else "would forget"
    items = ", ".join(_n(counts[k], k.removesuffix("s")) for k in _KINDS)
    lines = [
        f"{head} {_n(counts['sessions'], 'session')}: {items}, "
        f"{_n(counts['blobs'], 'blob file')} ({human_bytes(counts['blob_bytes'])})"
    ]
    kept = []
    if counts["transcript_cursors_kept"]:
        kept.append(
            f"{_n(counts['transcript_cursors_kept'], 'transcript cursor')} (hooks and `import` "
            "go on after the forgotten part instead of storing it again)"
        )
    if counts["message_keys_kept"]:
        kept.append(
            f"the ids (digests, no text) of {_n(counts['message_keys_kept'], 'OpenClaw message')}"
            ", so its next run, which resends the history, does not store them again"
        )
    if counts["llm_calls_unlinked"]:
        kept.append(
            f"{_n(counts['llm_calls_unlinked'], 'LLM usage row')}, no longer linked to a session"
        )
    if kept:
        lines.append("kept: " + "; ".join(kept))
    if counts["skill_commits"]:
        shas = " ".join(c[:12] for c in counts["skill_commits"])
        lines.append(
            f"skills learned from these sessions stay in the skills repository (commits {shas}); "
            "`acontext-mcp skills revert COMMIT` undoes one"
        )
    return lines


def confirmed(
    counts: dict[str, Any], question: str = "Forget them", lines: list[str] | None = None
) -> bool:
    """Ask on the terminal. Trigger: no --yes. Why: forgetting cannot be undone, and a script
    with no one at stdin must not remove data by default. Outcome: only a typed y/yes goes on.
    `lines` describe the plan (default: `describe(counts)`)."""
    for text in describe(counts, done=False) if lines is None else lines:
        _err(text)
    if not sys.stdin or not sys.stdin.isatty():
        _err("acontext-mcp: nothing removed: stdin is not a terminal; pass --yes to go on")
        return False
    sys.stderr.write(f"{question}? This cannot be undone. [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        _err("nothing removed")
        return False
    return True


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import forget
    from acontext_mcp.store.db import open_db

    before = forget.parse_before(args.before) if args.before else None
    args.sessions = session_ids(settings, args.sessions)
    chosen = args.sessions or args.project or args.before or args.all
    with closing(open_db(settings)) as conn:
        if (
            args.vacuum and not chosen and not args.dry_run
        ):  # only shrink (and empty the WAL a reader held)
            return _print_vacuum(args, forget.vacuum(conn, settings))
        ids = forget.select_sessions(
            conn,
            session_ids=args.sessions,
            project_dir=_project(args.project),
            before=before,
            everything=args.all,
        )
        plan = forget.plan(conn, ids)
        if args.dry_run or not ids:
            if args.json:
                emit_json({**plan, "dry_run": args.dry_run})
            elif not ids:
                print("nothing to forget: no session matches")
            else:
                print("\n".join(describe(plan, done=False)))
            return 0
        if not args.yes and not confirmed(plan):
            return 1
        result = forget.forget(conn, settings, ids)
        if args.vacuum:
            try:
                result["vacuum"] = forget.vacuum(conn, settings)
            except sqlite3.OperationalError as exc:  # forgotten already; only shrinking failed
                _err(
                    f"acontext-mcp: forgotten, but VACUUM failed ({exc}): run "
                    "`acontext-mcp forget --vacuum` when agents are idle"
                )
    if args.json:
        emit_json(result)
        return 0
    print("\n".join(describe(result, done=True)))
    if "vacuum" in result:
        return _print_vacuum(args, result["vacuum"])
    if result["wal_busy"]:
        print(BUSY)
    return 0


BUSY = (
    "another process was reading the database, so its WAL file may keep forgotten text for a "
    "while: run `acontext-mcp forget --vacuum` when agents are idle"
)


def _print_vacuum(args: argparse.Namespace, v: dict[str, Any]) -> int:
    if args.json:  # only `forget --vacuum` gets here with --json
        emit_json({"vacuum": v})
        return 0
    print(f"database {human_bytes(v['bytes_before'])} -> {human_bytes(v['bytes_after'])}")
    if v["wal_busy"]:
        print(BUSY)
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.export import write_export

    if args.sessions and args.project:
        raise InvalidInput("name sessions or use --project, not both")
    if not settings.db_path.exists():
        raise InvalidInput(f"nothing to export: no store at {settings.db_path}")
    args.sessions = session_ids(settings, args.sessions)
    target = Path(args.output).expanduser() if args.output and args.output != "-" else None
    with closing(open_db(settings)) as conn:
        if target is None:
            counts = write_export(
                conn,
                settings,
                sys.stdout,
                session_ids=args.sessions,
                project_dir=_project(args.project),
            )
        else:
            counts = _export_to_file(conn, settings, target, args)
    where = str(target) if target else "stdout"
    _err(
        f"exported {counts['sessions']} sessions, {counts['messages']} messages, "
        f"{counts['tasks']} tasks, {counts['events']} events, {counts['learnings']} learnings "
        f"to {where}"
    )
    if counts["missing_blobs"]:
        _err(
            f"  {counts['missing_blobs']} binary parts were missing from the blobs folder and "
            "are exported as references only"
        )
    return 0


def _export_to_file(
    conn: Any, settings: Settings, target: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Write beside the target and rename, so a failed export never leaves half a file
    under the name (an import would refuse it anyway: no `end` line)."""
    import tempfile

    from acontext_mcp.store.export import write_export

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, prefix=".export-", delete=False
    ) as fh:
        tmp = Path(fh.name)
        try:
            counts = write_export(
                conn, settings, fh, session_ids=args.sessions, project_dir=_project(args.project)
            )
            fh.flush()
            os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    os.replace(tmp, target)
    return counts


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "forget",
        cmd_forget,
        "Remove sessions and everything stored about them (asks first; see --dry-run).",
    )
    p.add_argument("sessions", nargs="*", metavar="SESSION", help="session ids (with subagents)")
    p.add_argument("--project", metavar="DIR", help="every session of this project directory")
    p.add_argument(
        "--before",
        metavar="DATE",
        help="sessions last active before this ISO date or date-time (local time)",
    )
    p.add_argument("--all", action="store_true", help="every session")
    p.add_argument("--dry-run", action="store_true", help="show what would go; remove nothing")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask (needed with no terminal)")
    p.add_argument("--vacuum", action="store_true", help="then shrink the database and its WAL")
    add_json_option(p)

    p = add(
        "export",
        cmd_export,
        "Write sessions with their messages, tasks, events and learnings as JSONL "
        "(docs/export-format.md); `acontext-mcp import FILE` reads it back.",
    )
    p.add_argument("sessions", nargs="*", metavar="SESSION", help="session ids (default: all)")
    p.add_argument("--project", metavar="DIR", help="only sessions of this project directory")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
