"""Session events: typed, chronological facts about a session that are not messages."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from acontext_mcp.store.db import atomic, dumps, loads


def add_event(
    conn: sqlite3.Connection, session_id: str, type_: str, data: dict[str, Any] | None = None
) -> int:
    with atomic(conn):
        cur = conn.execute(
            "INSERT INTO session_events (session_id, type, data, created_at) VALUES (?, ?, ?, ?)",
            (session_id, type_, dumps(data or {}), time.time()),
        )
    return int(cur.lastrowid or 0)


def list_events(
    conn: sqlite3.Connection,
    session_id: str,
    *,
    type_: str | None = None,
    after: int = 0,
    limit: int = -1,
) -> list[dict[str, Any]]:
    """The session's events (of one type), oldest first; with `after`, those with a larger id;
    at most `limit` (-1: all)."""
    sql = "SELECT * FROM session_events WHERE session_id = ? AND id > ?"
    args: list[Any] = [session_id, after]
    if type_:
        sql += " AND type = ?"
        args.append(type_)
    rows = conn.execute(sql + " ORDER BY id LIMIT ?", [*args, limit]).fetchall()
    return [{**dict(r), "data": loads(r["data"], {})} for r in rows]


def event_keys(conn: sqlite3.Connection, session_id: str, type_: str) -> set[str]:
    """The `key`s carried by the session's events of `type_`: one read for a whole batch,
    where `has_keyed_event` per event would read them all again each time."""
    rows = conn.execute(
        "SELECT json_extract(data, '$.key') FROM session_events WHERE session_id = ? AND type = ?",
        (session_id, type_),
    )
    return {r[0] for r in rows if isinstance(r[0], str)}


def has_keyed_event(conn: sqlite3.Connection, session_id: str, type_: str, key: str) -> bool:
    """Whether the session has an event of `type_` whose data carries this `key`."""
    return (
        conn.execute(
            "SELECT 1 FROM session_events WHERE session_id = ? AND type = ? "
            "AND json_extract(data, '$.key') = ?",
            (session_id, type_, key),
        ).fetchone()
        is not None
    )


# Types capture, the hooks and the learner write, some read back as outcome evidence
# (observe/todos.py): a client adding one could fake a finished task, so clients may not.
SYSTEM_TYPES = frozenset(
    {
        "compact_summary",
        "compaction",
        "redaction",
        "reset",
        "run_failed",
        "secret_refused",
        "session_end",
        "task_completed",
    }
)
NOTE = "note"  # a free-text note: data {"text": ...}


def events_between(
    conn: sqlite3.Connection,
    session_id: str,
    after: float | None,
    upto: float | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """The session's events with after < created_at <= upto (open ends when None), oldest
    first, at most `limit`; and how many more there were."""
    sql = "FROM session_events WHERE session_id = ?"
    args: list[Any] = [session_id]
    if after is not None:
        sql += " AND created_at > ?"
        args.append(after)
    if upto is not None:
        sql += " AND created_at <= ?"
        args.append(upto)
    rows = conn.execute(f"SELECT * {sql} ORDER BY created_at, id LIMIT ?", [*args, limit])
    events = [
        {
            "id": r["id"],
            "type": r["type"],
            "data": loads(r["data"], {}),
            "created_at": r["created_at"],
        }
        for r in rows
    ]
    more = 0
    if len(events) == limit:
        more = int(conn.execute(f"SELECT COUNT(*) {sql}", args).fetchone()[0]) - limit
    return events, more
