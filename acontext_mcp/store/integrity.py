"""Is the database file damaged, and does everyone who writes know it?

`check` runs SQLite's own consistency check: the full `integrity_check` (every index entry
against its row) up to QUICK_CHECK_ABOVE, `quick_check` (page structure and record format,
no index cross-check; 1.8x faster, 2.3 s instead of 4.1 s at 1 GB, bench/bench_integrity.py)
above it, so doctor stays quick on a big store.
Whoever finds damage (doctor, or the MCP server when it opens the store) leaves a marker,
`acontext.db.damaged`, naming the file's inode: every later connection to that same file is
read-only (`store.db.connect`), so hooks, workers and tools stop writing into a file whose
broken pages could swallow or spread what they write, while reads still try. Moving the
damaged file away (the recovery doctor prints) makes a new file with a new inode, and the
marker no longer applies; a check that passes removes it.

Standard library only: hooks import the store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing, suppress
from pathlib import Path

from acontext_mcp.errors import AcontextError

TYPE_CHECKING = False  # logging, shlex, threading: imported where used, not by every hook
if TYPE_CHECKING:  # opening the store (SessionStart waits for it); type checkers read True
    import logging


def _log() -> logging.Logger:
    """This module's logger, made when there is something to say."""
    import logging

    return logging.getLogger(__name__)


QUICK_CHECK_ABOVE = 256 * 1024 * 1024  # bytes; see the module doc
MAX_PROBLEMS = 20  # SQLite lists each broken page and index entry: enough to show
_DAMAGE_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def marker_path(db: Path) -> Path:
    return db.with_name(db.name + ".damaged")


def check(db: Path, *, quick: bool | None = None) -> tuple[str, list[str]]:
    """(the check that ran, its problems); no problems means the file is consistent.

    `quick=None` picks quick_check for files over QUICK_CHECK_ABOVE bytes. The file is only
    read: a damaged store must not be written (or migrated) to find out. Raises
    sqlite3.Error when the file cannot be checked at all (missing, locked, unreadable):
    that is not damage.
    """
    if quick is None:
        quick = _size(db) > QUICK_CHECK_ABOVE
    pragma = "quick_check" if quick else "integrity_check"
    uri = Path(db).absolute().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
            rows = conn.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _DAMAGE_CODES:
            raise
        return pragma, [str(exc)]  # the header or schema pages are unreadable
    # One row per problem, though SQLite may pack several lines into one row.
    lines = [line for row in rows for line in str(row[0]).splitlines() if line.strip()]
    problems = [line for line in lines if not line.startswith("*** in database")]
    return pragma, [] if problems == ["ok"] else problems


def _size(db: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with suppress(OSError):
            total += os.stat(f"{db}{suffix}").st_size
    return total


def mark_damaged(db: Path, pragma: str, problems: list[str]) -> None:
    """Leave the marker every connection honours (best effort: the home may be read-only)."""
    with suppress(OSError):
        record = {
            "inode": os.stat(db).st_ino,
            "check": pragma,
            "problems": problems[:5],
            "found_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        # Atomic (temp file, then rename): a reader must never see the marker empty or half
        # written, or it would take the store for sound and write into it.
        from acontext_mcp.fsio import replace_file  # damage only: keep tempfile off hooks

        replace_file(marker_path(db), (json.dumps(record) + "\n").encode("utf-8"))


def clear_damaged(db: Path) -> None:
    with suppress(FileNotFoundError):
        marker_path(db).unlink()


def known_damage(db: Path) -> str | None:
    """Why `db` must not be written, when a marker for this very file exists; else None.
    One failed stat() when there is no marker: cheap enough for every hook."""
    try:
        record = json.loads(marker_path(db).read_text(encoding="utf-8"))
        if record["inode"] != os.stat(db).st_ino:
            return None  # the damaged file was moved away; this is a new one
    except (OSError, ValueError, KeyError, TypeError):
        return None
    first = "; ".join(str(p) for p in record.get("problems", [])[:2])[:300]
    return (
        f"the database {db} is damaged ({record.get('check', 'check')} found: {first}); it is "
        "read-only until it is recovered: run `acontext-mcp doctor` for the steps"
    )


def recovery_steps(db: Path) -> str:
    """What to do, as shell a user can paste: keep the damaged file, recover into a new one."""
    import shlex

    damaged = db.with_name(f"{db.stem}-damaged{db.suffix}")
    return (
        "stop the agents using it; keep the damaged copy: "
        f"cd {shlex.quote(str(db.parent))} && for f in {db.name} {db.name}-wal {db.name}-shm; "
        f'do [ ! -e "$f" ] || mv "$f" "{damaged.stem}${{f#{db.stem}}}"; done; then recover '
        f"what is readable into a new file: (umask 077 && sqlite3 {damaged.name} .recover | "
        f"sqlite3 {db.name}) (a sqlite3 shell with .recover, 3.29 or later), or restore "
        f"{db.name} from a backup, or start empty (acontext-mcp creates a new {db.name}; "
        "learned skills are files in the skills directory, not in the database); then run "
        "acontext-mcp doctor again"
    )


class StoreDamaged(AcontextError):
    """A write into a database known to be damaged (see `known_damage`)."""


def check_at_start(db: Path) -> None:
    """The MCP server's look before it writes: a quick_check. Up to QUICK_CHECK_ABOVE it runs
    now (0.3 s at 256 MB, bench/bench_integrity.py), so nothing is written before it is done;
    a bigger store is checked in a background thread (2.3 s at 1 GB: too long to hold up the
    first tool call), and writes made meanwhile are the window this leaves."""
    if _size(db) <= QUICK_CHECK_ABOVE:
        _quick_check(db)
    else:
        import threading

        threading.Thread(target=_quick_check, args=(db,), name="store-check", daemon=True).start()


def _quick_check(db: Path) -> None:
    """Damage leaves the marker, so this server and every hook and worker stop writing; a
    pass clears a marker an earlier quick_check left (not one from doctor's full check)."""
    try:
        if os.stat(db).st_size == 0:
            return
        pragma, problems = check(db, quick=True)
    except (OSError, sqlite3.Error) as exc:
        _log().warning("could not check %s for damage: %s", db, exc)
        return
    if problems:
        _log().error("%s is damaged (%s): %s", db, pragma, "; ".join(problems[:3]))
        mark_damaged(db, pragma, problems)
        return
    with suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(marker_path(db).read_text(encoding="utf-8"))["check"] == pragma:
            clear_damaged(db)
