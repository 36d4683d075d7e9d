"""Copying a session: an independent session with the same messages, tasks and events.

What is copied: the session row (agent, user, project, configs plus `copied_from`), its
messages (same positions, parts, meta, token counts, dedup keys and status), its tasks with
their message links and evidence, and its events, in one transaction. Blobs are shared by
reference: they are content-addressed, and forget frees one only when no message of any
session refers to it. The copy gets a `copied_from` config key and a `copied_from` event.

What is not: subagent sessions, the learning space attachment and learnings (the copy has not
been learned; `learn` on it learns its finished tasks anew), skill uses (they counted the
original's reads), and the cursors keyed by the session (a transcript is read into the
original, not the copy; the todo tracker's cursor is seeded by `observe.todos.seed_copy`).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from acontext_mcp.store.db import atomic, dumps
from acontext_mcp.store.events import add_event
from acontext_mcp.store.messages import count_stored
from acontext_mcp.store.sessions import get_session, new_session_id

COPIED_FROM = "copied_from"  # configs key and event type: the session a copy was made from


def _columns(conn: sqlite3.Connection, table: str, *skip: str) -> list[str]:
    """The table's columns but `skip`: a column added by a later migration is copied too."""
    rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    return [f'"{r[1]}"' for r in rows if r[1] not in skip]


def copy_session(conn: sqlite3.Connection, source_id: str) -> dict[str, Any]:
    """Copy `source_id` into a new session; returns {session_id, copied_from, messages,
    tasks, task_links, evidence, events, event_ids: {old: new}} (event_ids for the tracker)."""
    with atomic(conn):
        source = get_session(conn, source_id)
        new_id = new_session_id()
        now = time.time()
        configs = {**source["configs"], COPIED_FROM: source_id}
        conn.execute(
            "INSERT INTO sessions (id, agent, user, project_dir, configs, parent_id, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
            (new_id, source["agent"], source["user"], source["project_dir"], dumps(configs),
             now, now),
        )  # fmt: skip
        old_seq, new_seq = (
            conn.execute("SELECT seq FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
            for sid in (source_id, new_id)
        )
        counts = {
            "messages": _copy_messages(conn, old_seq, new_seq),
            **_copy_tasks(conn, source_id, new_id, old_seq, new_seq),
        }
        event_ids = _copy_events(conn, source_id, new_id)
        add_event(conn, new_id, COPIED_FROM, {"session_id": source_id})
    return {
        "session_id": new_id,
        COPIED_FROM: source_id,
        **counts,
        "events": len(event_ids),
        "event_ids": event_ids,
    }


def _copy_messages(conn: sqlite3.Connection, old_seq: int, new_seq: int) -> int:
    cols = _columns(conn, "messages", "id", "session_seq")
    listed = ", ".join(cols)
    cur = conn.execute(
        f"INSERT INTO messages (session_seq, {listed}) "
        f"SELECT ?, {listed} FROM messages WHERE session_seq = ? ORDER BY position",
        (new_seq, old_seq),
    )
    copied = cur.rowcount
    # A batch the task agent holds in the original is the original's: pending in the copy.
    conn.execute(
        "UPDATE messages SET status = 'pending' WHERE session_seq = ? AND status = 'processing'",
        (new_seq,),
    )
    tokens = conn.execute(
        "SELECT COALESCE(SUM(token_count), 0) FROM messages WHERE session_seq = ?", (new_seq,)
    ).fetchone()[0]
    if copied:
        count_stored(conn, copied, tokens)  # message_totals: inserts are counted by writers
    return int(copied)


# Old message id -> new, through the position both copies share.
_MESSAGE_MAP = (
    "SELECT o.id AS old_id, n.id AS new_id FROM messages o JOIN messages n "
    "ON n.session_seq = ? AND n.position = o.position WHERE o.session_seq = ?"
)
# Old task id -> new, through the order both copies share.
_TASK_MAP = (
    "SELECT o.id AS old_id, n.id AS new_id FROM tasks o JOIN tasks n ON n.session_id = ? "
    'AND n."order" = o."order" WHERE o.session_id = ?'
)


def _copy_tasks(
    conn: sqlite3.Connection, old_id: str, new_id: str, old_seq: int, new_seq: int
) -> dict[str, int]:
    cols = _columns(conn, "tasks", "id", "session_id")
    listed = ", ".join(cols)
    tasks = conn.execute(
        f"INSERT INTO tasks (session_id, {listed}) "
        f"SELECT ?, {listed} FROM tasks WHERE session_id = ? ORDER BY id",
        (new_id, old_id),
    ).rowcount
    if not tasks:
        return {"tasks": 0, "task_links": 0, "evidence": 0}
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS copy_message_map (old_id PRIMARY KEY, new_id)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS copy_task_map (old_id PRIMARY KEY, new_id)")
    conn.execute("DELETE FROM temp.copy_message_map")
    conn.execute("DELETE FROM temp.copy_task_map")
    conn.execute(f"INSERT INTO temp.copy_message_map {_MESSAGE_MAP}", (new_seq, old_seq))
    conn.execute(f"INSERT INTO temp.copy_task_map {_TASK_MAP}", (new_id, old_id))
    links = conn.execute(
        "INSERT INTO task_messages (task_id, message_id) "
        "SELECT t.new_id, m.new_id FROM task_messages tm "
        "JOIN temp.copy_task_map t ON t.old_id = tm.task_id "
        "JOIN temp.copy_message_map m ON m.old_id = tm.message_id"
    ).rowcount
    ev_cols = _columns(conn, "task_evidence", "id", "task_id", "message_id")
    ev_listed = ", ".join(ev_cols)
    evidence = conn.execute(
        f"INSERT INTO task_evidence (task_id, message_id, {ev_listed}) "
        f"SELECT t.new_id, m.new_id, {', '.join('e.' + c for c in ev_cols)} FROM task_evidence e "
        "JOIN temp.copy_task_map t ON t.old_id = e.task_id "
        "LEFT JOIN temp.copy_message_map m ON m.old_id = e.message_id ORDER BY e.id"
    ).rowcount
    conn.execute("DELETE FROM temp.copy_message_map")
    conn.execute("DELETE FROM temp.copy_task_map")
    return {"tasks": int(tasks), "task_links": int(links), "evidence": int(evidence)}


def _copy_events(conn: sqlite3.Connection, old_id: str, new_id: str) -> dict[int, int]:
    """Copy the events in order; returns {old event id: new event id}."""
    cols = _columns(conn, "session_events", "id", "session_id")
    listed = ", ".join(cols)
    mapping: dict[int, int] = {}
    rows = conn.execute(
        f"SELECT id, {listed} FROM session_events WHERE session_id = ? ORDER BY id", (old_id,)
    ).fetchall()
    for row in rows:
        cur = conn.execute(
            f"INSERT INTO session_events (session_id, {listed}) "
            f"VALUES (?, {', '.join('?' * len(cols))})",
            (new_id, *tuple(row)[1:]),
        )
        mapping[int(row[0])] = int(cur.lastrowid or 0)
    return mapping
