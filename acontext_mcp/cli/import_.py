"""`acontext-mcp import claude-code [DIR]`: backfill past transcripts, with a progress bar;
`acontext-mcp import FILE`: read back an `acontext-mcp export` (see store.restore).

The domain is `capture.importer`; this module parses flags, draws progress on stderr, turns
the first Ctrl-C into "stop after this file" and prints the summary (or JSON on stdout).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from acontext_mcp.capture.importer import DEFAULT_LIVE_WINDOW
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.progress import Progress, clock_text, human_bytes

SOURCES = ("claude-code",)
EXIT_INTERRUPTED = 130


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Stop:
    """What Ctrl-C asked for: `requested` (stop before the next file); once `finished`, more
    presses are ignored so the summary still prints."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.finished = False


@contextmanager
def _first_sigint_stops(notice: Callable[[], None]) -> Iterator[_Stop]:
    """Trigger: Ctrl-C during an import. Why: stopping between files leaves every file either
    captured up to a committed cursor or untouched, and says so. Outcome: the first Ctrl-C asks
    the import to stop before the next file; a second one raises KeyboardInterrupt, which rolls
    back only the open transaction; once the import is over, Ctrl-C waits for the summary."""
    state = _Stop()

    def handler(signum: int, frame: Any) -> None:
        if state.finished:
            return
        if state.requested.is_set():
            raise KeyboardInterrupt
        state.requested.set()
        notice()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (embedded use): keep the default behaviour
        yield state
        return
    try:
        yield state
    finally:
        # Once a stop was asked for, the command is only printing its summary and exiting 130:
        # a late second press must not turn that into a traceback or a signal death.
        signal.signal(signal.SIGINT, signal.SIG_IGN if state.requested.is_set() else previous)


def _root(args: argparse.Namespace) -> Path:
    from acontext_mcp.capture.importer import default_root

    root = Path(args.dir).expanduser() if args.dir else default_root()
    if not root.exists():
        hint = (
            "pass the folder that holds Claude Code's project folders"
            if args.dir
            else ("Claude Code has stored no sessions there yet; pass DIR or set CLAUDE_CONFIG_DIR")
        )
        raise InvalidInput(f"{root} does not exist: {hint}")
    return root


def _export_file(args: argparse.Namespace) -> Path | None:
    """The export file to read back, when that is what was named.

    Trigger: `import FILE`, or `import claude-code FILE`, where FILE's first line is an
    `acontext-mcp export` header. Why: one `import` for both, told apart by content rather
    than by a flag to remember. Outcome: the path, or None for Claude Code transcripts.
    """
    from acontext_mcp.store.restore import is_export

    if args.source in SOURCES:
        path = Path(args.dir).expanduser() if args.dir else None
        return path if path is not None and path.is_file() and is_export(path) else None
    path = Path(args.source).expanduser()
    if args.dir is None and path.is_file() and is_export(path):
        return path
    raise InvalidInput(
        f"cannot import {args.source!r}: use `import claude-code [DIR]` or `import FILE` with a "
        "file written by `acontext-mcp export`"
    )


def _import_export(args: argparse.Namespace, settings: Settings, path: Path) -> int:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.restore import check_file, restore

    if args.dry_run:
        counts = check_file(path)
        if args.json:
            emit_json({"file": str(path), "valid": True, **counts})
        else:
            print(f"{path} is a valid export: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        return 0
    with closing(open_db(settings)) as conn:
        stats = restore(conn, settings, path).to_json()
    if args.json:
        emit_json({"file": str(path), **stats})
    if not args.quiet:
        _err(
            f"imported {stats['sessions']} sessions ({stats['sessions_existing']} already there), "
            f"{stats['messages']} messages ({stats['messages_existing']} already there), "
            f"{stats['tasks']} tasks, {stats['events']} events, {stats['learnings']} learnings "
            f"from {path}"
        )
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.capture import importer

    export = _export_file(args)
    if export is not None:
        return _import_export(args, settings, export)
    if args.live_window < 0:
        raise InvalidInput("--live-window must be 0 or more seconds")
    found = importer.discover(_root(args))
    if args.dry_run:
        return _dry_run(args, settings, found)
    if not found.transcripts and not found.errors:
        if args.json:
            emit_json({"root": str(found.root), "files": 0, "stored": 0, "failed": 0})
        elif not args.quiet:
            _err(f"no Claude Code transcripts under {found.root}")
        return 0
    from acontext_mcp.store.db import open_db

    bar = None if args.quiet else Progress(found.total_bytes, every=100)

    def on_progress(stats: importer.ImportStats, _t: Any) -> None:
        if bar:
            detail = f"{stats.files_done}/{stats.files_total} files  {stats.stored:,} msgs"
            if stats.failed:
                detail += f"  {stats.failed} failed"
            bar.update(stats.bytes_done, count=stats.files_done, detail=detail)

    def notice() -> None:
        message = "stopping after the current file (Ctrl-C again to stop at once)"
        if bar:
            bar.note(message)
        else:
            _err(message)

    with closing(open_db(settings)) as conn, _first_sigint_stops(notice) as stop:
        if bar and not bar.tty:
            _err(
                f"importing {len(found.transcripts)} transcripts "
                f"({human_bytes(found.total_bytes)}) from {found.root}"
            )
        try:
            stats = importer.import_transcripts(
                conn,
                settings,
                found,
                live_window=args.live_window,
                progress=on_progress,
                should_stop=stop.requested.is_set,
            )
        finally:
            stop.finished = True
        if bar:
            bar.close()
        for error in stats.errors:
            _err(f"acontext-mcp: {error['path']}: {error['error']}")
        if not args.quiet:
            _summary(stats)
        if args.json:
            emit_json(stats.to_json())
    if stats.interrupted:
        return EXIT_INTERRUPTED
    return 1 if stats.failed else 0


def _summary(stats: Any) -> None:
    out = stats.to_json()
    head = "interrupted" if stats.interrupted else "imported"
    if stats.bytes_read:
        read = (
            f"{human_bytes(stats.bytes_read)} read in {_duration(out['seconds'])} "
            f"({out['mb_per_s']:.1f} MB/s)"
        )
    else:  # a throughput of nothing read says nothing
        read = "nothing new since the last import"
    _err(
        f"{head}: {stats.files_done}/{stats.files_total} transcripts "
        f"({stats.sessions} sessions, {stats.subagents} subagents), "
        f"{stats.stored:,} messages stored, {stats.duplicates:,} already there, {read}"
    )
    if stats.off:
        reasons = "; ".join(f"{n}x {why}" for why, n in stats.off_reasons.most_common(3))
        _err(f"  {stats.off} skipped because capture is off: {reasons}")
    if stats.waiting:
        _err(
            f"  {stats.waiting} recently written transcripts may still be growing: their last "
            "message waits for the session's hooks or the next import"
        )
    if stats.invalid_lines:
        _err(f"  {stats.invalid_lines} lines were not valid JSON and were skipped")
    if stats.failed:
        _err(f"  {stats.failed} failed (listed above); the rest was imported")
    if stats.interrupted:
        _err("  what was committed is kept; run the same command again to resume")


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else clock_text(seconds)


def _dry_run(args: argparse.Namespace, settings: Settings, found: Any) -> int:
    from acontext_mcp.capture import importer

    conn = None
    if settings.db_path.exists():  # cursors say what is new; never create a store to ask
        from acontext_mcp.store.db import open_db

        conn = open_db(settings)
    try:
        rows = importer.plan(conn, settings, found, live_window=args.live_window)
    finally:
        if conn is not None:
            conn.close()
    errors = [{"path": p, "action": "error", "reason": r} for p, r in found.errors]
    new = sum(r["new_bytes"] for r in rows)
    if args.json:
        emit_json(
            {
                "root": str(found.root),
                "files": rows + errors,
                "bytes": found.total_bytes,
                "new_bytes": new,
            }
        )
        return 0
    print(f"{'NEW':>9}  {'SIZE':>9}  FILE  ACTION")
    for row in rows + errors:
        rel = _relative(row["path"], found.root)
        note = row["action"] if row["action"] == "import" else f"{row['action']}: {row['reason']}"
        size = human_bytes(row.get("size", 0))
        print(f"{human_bytes(row.get('new_bytes', 0)):>9}  {size:>9}  {rel}  {note}")
    counts = Counter(r["action"] for r in rows + errors)
    notes = ", ".join(f"{n} {a}" for a, n in sorted(counts.items()) if a != "import")
    print(
        f"would read {human_bytes(new)} not yet captured, of {human_bytes(found.total_bytes)} "
        f"in {len(rows)} transcripts under {found.root}" + (f" ({notes})" if notes else "")
    )
    return 0


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root)) or path
    except ValueError:
        return path


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "import",
        cmd_import,
        "Backfill past agent transcripts, or read back an `acontext-mcp export` file "
        "(re-runs store nothing twice).",
    )
    p.add_argument(
        "source",
        metavar="claude-code|FILE",
        help="`claude-code` for its transcripts, or a file written by `acontext-mcp export`",
    )
    p.add_argument(
        "dir",
        nargs="?",
        help="Claude Code projects folder, one project's folder, or one .jsonl "
        "(default: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects)",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be imported, with sizes")
    add_json_option(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    p.add_argument(
        "--live-window",
        type=float,
        default=DEFAULT_LIVE_WINDOW,
        metavar="SECONDS",
        help="a transcript modified this recently may belong to a running session: its last "
        "message is left for that session's hooks or the next import (default %(default)s)",
    )
