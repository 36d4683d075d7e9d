"""The dashboard's shared reads: a short read snapshot, and the overview's and disks' queries.

The dashboard reads the data home while hooks and the worker write it. Each page opens its
own connection and reads inside one short transaction (`read_snapshot`): WAL readers never
block writers, the page sees one consistent moment, and no lock outlives the request.
Page-specific readers live beside this file as `store/ui_<page>.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from acontext_mcp.config import Settings


@contextmanager
def read_snapshot(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A query-only connection inside one read transaction, closed on exit."""
    from acontext_mcp.store.db import connect
    from acontext_mcp.store.readonly import home_is_read_only, open_read_only

    if home_is_read_only(settings):
        conn = open_read_only(settings)
    else:
        conn = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
        conn.execute("PRAGMA query_only = ON")
    try:
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")  # nothing was written: end the snapshot
    finally:
        conn.close()


def keyset_clause(
    columns: tuple[str, ...], before: tuple[Any, ...] | None, after: tuple[Any, ...] | None
) -> tuple[str, list[Any], str]:
    """(condition, params, ORDER BY) for one page of a newest-first keyset list over
    `columns` (trusted column names, e.g. ("updated_at", "id"): the last one unique), as
    ui/paging.py's contract asks: descending from `before` (or the top), ascending from
    `after`. Row values keep ties on the first column in order."""
    cols = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    if after is not None:
        return f"({cols}) > ({marks})", list(after), ", ".join(f"{c} ASC" for c in columns)
    order = ", ".join(f"{c} DESC" for c in columns)
    if before is not None:
        return f"({cols}) < ({marks})", list(before), order
    return "1", [], order


# --- Overview: activity per local day (SQLite's 'localtime' is the process's time zone) ---

_DAY = "date({col}, 'unixepoch', 'localtime')"


def sessions_per_day(conn: sqlite3.Connection, since: float) -> dict[str, int]:
    """Sessions started per day since `since` (a session started then was updated since)."""
    rows = conn.execute(
        f"SELECT {_DAY.format(col='created_at')} AS d, COUNT(*) FROM sessions "
        "WHERE updated_at >= ? AND created_at >= ? GROUP BY d",
        (since, since),
    )
    return {row[0]: row[1] for row in rows}


def message_watermark(conn: sqlite3.Connection) -> tuple[int, int]:
    """(highest message id, messages stored): what a per-day count has seen so far."""
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
    total = conn.execute("SELECT messages FROM message_totals WHERE id = 1").fetchone()
    return int(top), int(total[0] if total else 0)


def messages_per_day(conn: sqlite3.Connection, after_id: int, upto_id: int) -> dict[str, int]:
    """Messages per day among ids in (after_id, upto_id]: the whole table once (0.5 s at a
    million messages, no index has created_at), then only what arrived since."""
    rows = conn.execute(
        f"SELECT {_DAY.format(col='created_at')} AS d, COUNT(*) FROM messages "
        "WHERE id > ? AND id <= ? GROUP BY d",
        (after_id, upto_id),
    )
    return {row[0]: row[1] for row in rows}


def tasks_per_day(conn: sqlite3.Connection, since: float) -> list[tuple[str, str | None, str, int]]:
    """(day, outcome, status, count) of tasks last updated (settled) on each day since."""
    rows = conn.execute(
        f"SELECT {_DAY.format(col='updated_at')} AS d, outcome, status, COUNT(*) FROM tasks "
        "WHERE updated_at >= ? GROUP BY d, outcome, status",
        (since,),
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def learnings_per_day(conn: sqlite3.Connection, since: float) -> list[tuple[str, str, int]]:
    """(day, status, count) of learnings distilled on each day since."""
    rows = conn.execute(
        f"SELECT {_DAY.format(col='created_at')} AS d, status, COUNT(*) FROM learnings "
        "WHERE created_at >= ? GROUP BY d, status",
        (since,),
    )
    return [(row[0], row[1], row[2]) for row in rows]


def tokens_per_day(conn: sqlite3.Connection, first_day: str) -> dict[str, tuple[int, int]]:
    """day -> (input tokens, output tokens) of LLM calls since `first_day` (YYYY-MM-DD)."""
    rows = conn.execute(
        "SELECT day, SUM(input_tokens), SUM(output_tokens) FROM llm_calls WHERE day >= ? "
        "GROUP BY day",
        (first_day,),
    )
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


def recent_sessions(conn: sqlite3.Connection, limit: int = 8) -> list[dict[str, object]]:
    """The sessions updated last, newest first (the overview's shortcut list)."""
    rows = conn.execute(
        "SELECT id, agent, project_dir, parent_id, created_at, updated_at FROM sessions "
        "ORDER BY updated_at DESC LIMIT ?",
        (limit,),
    )
    return [dict(row) for row in rows]
