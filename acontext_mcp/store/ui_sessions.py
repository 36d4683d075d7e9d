"""The dashboard's reads for the Sessions and Tasks pages, and the message search index.

Every list is a keyset page (ui/paging.py's contract: `before`/`after` key tuples, `limit`
rows, ascending when `after` is set) walking an index in order, so a page costs the same at
any store size. Sessions are keyed by (updated_at, rowid) on sessions_updated /
sessions_project / sessions_agent; tasks by (updated_at, id) on tasks_updated / tasks_status;
search hits by message id on the full-text index `message_search` (m013).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from acontext_mcp.store.db import atomic, loads
from acontext_mcp.store.migrations import SEARCH_TEXT_SQL
from acontext_mcp.store.ui_queries import keyset_clause

Key = Sequence[Any]

SESSION_COLUMNS = (
    "s.rowid AS rk, s.id, s.seq, s.agent, s.user, s.project_dir, s.parent_id, "
    "s.created_at, s.updated_at"
)
DISTINCT_MAX = 200  # projects or agents offered in a filter's suggestions


def _keyset(
    where: list[str], args: list[Any], cols: str, before: Key | None, after: Key | None
) -> str:
    """Add the cursor's row-value bound to `where` (store.ui_queries.keyset_clause); return the
    ORDER BY for the direction."""
    columns = tuple(c.strip() for c in cols.split(","))
    cond, params, order = keyset_clause(
        columns,
        tuple(before) if before is not None else None,
        tuple(after) if after is not None else None,
    )
    where.append(cond)
    args.extend(params)
    return order


def session_page(
    conn: sqlite3.Connection,
    *,
    project: str | None = None,
    agent: str | None = None,
    since: float | None = None,
    until: float | None = None,
    before: Key | None = None,
    after: Key | None = None,
    limit: int,
) -> list[sqlite3.Row]:
    """Sessions last active in [since, until), newest first, of one project and/or agent.
    One index range (project's or agent's index when filtered, else sessions_updated)."""
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if project is not None:
        where.append("s.project_dir = ?")
        args.append(project)
    if agent is not None:
        where.append("s.agent = ?")
        args.append(agent)
    if since is not None:
        where.append("s.updated_at >= ?")
        args.append(since)
    if until is not None:
        where.append("s.updated_at < ?")
        args.append(until)
    order = _keyset(where, args, "s.updated_at, s.rowid", before, after)
    index = (
        "sessions_project"
        if project is not None
        else "sessions_agent"
        if agent is not None
        else "sessions_updated"
    )
    return conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions s INDEXED BY {index} "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
        [*args, limit],
    ).fetchall()


def session_summaries(conn: sqlite3.Connection, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per session (by seq): its message count (highest position + 1: one index probe) and
    the parts of its first user message (a title)."""
    out: dict[int, dict[str, Any]] = {}
    for seq in seqs:
        last = conn.execute(
            "SELECT MAX(position) FROM messages WHERE session_seq = ?", (seq,)
        ).fetchone()[0]
        first = conn.execute(
            "SELECT parts FROM messages WHERE session_seq = ? AND role = 'user' "
            "ORDER BY position LIMIT 1",
            (seq,),
        ).fetchone()
        out[seq] = {
            "messages": 0 if last is None else last + 1,
            "first_parts": loads(first[0], []) if first else [],
        }
    return out


def distinct_values(conn: sqlite3.Connection, column: str) -> list[str]:
    """The distinct projects or agents, by skip-scanning their index (one probe per value)
    rather than reading every session."""
    if column not in ("project_dir", "agent"):
        raise ValueError(column)
    rows = conn.execute(
        f"""WITH RECURSIVE v(x, n) AS (
            SELECT (SELECT MIN({column}) FROM sessions), 1
            UNION ALL
            SELECT (SELECT MIN({column}) FROM sessions WHERE {column} > v.x), n + 1
            FROM v WHERE v.x IS NOT NULL AND n < ?
        ) SELECT x FROM v WHERE x IS NOT NULL""",
        (DISTINCT_MAX,),
    ).fetchall()
    return [r[0] for r in rows]


def session_by_id(conn: sqlite3.Connection, session_id: str) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
    ).fetchone()


def child_sessions(conn: sqlite3.Connection, session_id: str, limit: int = 200) -> list[Any]:
    """A session's subagent sessions (parent_id = it), oldest first."""
    return conn.execute(
        "SELECT id, agent, created_at, updated_at FROM sessions "
        "WHERE parent_id = ? ORDER BY created_at, id LIMIT ?",
        (session_id, limit),
    ).fetchall()


MESSAGE_COLUMNS = "id, position, role, parts, meta, status, created_at"


def transcript_rows(
    conn: sqlite3.Connection,
    seq: int,
    *,
    start: int | None = None,
    before: int | None = None,
    limit: int,
) -> list[sqlite3.Row]:
    """Messages of a session in position order: from position `start` on, or the `limit`
    positions just below `before` (still returned in ascending order)."""
    if before is not None:
        rows = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_seq = ? AND position < ? "
            "ORDER BY position DESC LIMIT ?",
            (seq, before, limit),
        ).fetchall()
        return list(reversed(rows))
    return conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_seq = ? AND position >= ? "
        "ORDER BY position LIMIT ?",
        (seq, start or 0, limit),
    ).fetchall()


def has_before(conn: sqlite3.Connection, seq: int, position: int) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM messages WHERE session_seq = ? AND position < ? LIMIT 1",
            (seq, position),
        ).fetchone()
        is not None
    )


def message_place(conn: sqlite3.Connection, message_id: int) -> sqlite3.Row | None:
    """A message's session id and position (for a link into its transcript)."""
    return conn.execute(
        "SELECT s.id AS session_id, m.position FROM messages m "
        "JOIN sessions s ON s.seq = m.session_seq WHERE m.id = ?",
        (message_id,),
    ).fetchone()


def message_parts(conn: sqlite3.Connection, session_id: str, message_id: int) -> Any:
    """The stored parts of one message of a session, or None."""
    row = conn.execute(
        "SELECT m.parts FROM messages m JOIN sessions s ON s.seq = m.session_seq "
        "WHERE m.id = ? AND s.id = ?",
        (message_id, session_id),
    ).fetchone()
    return None if row is None else loads(row[0], [])


def events_between(
    conn: sqlite3.Connection, session_id: str, since: float | None, until: float | None
) -> list[dict[str, Any]]:
    """The session's events in [since, until) (None: open end), oldest first."""
    where: list[str] = ["session_id = ?"]
    args: list[Any] = [session_id]
    if since is not None:
        where.append("created_at >= ?")
        args.append(since)
    if until is not None:
        where.append("created_at < ?")
        args.append(until)
    rows = conn.execute(
        f"SELECT id, type, data, created_at FROM session_events WHERE {' AND '.join(where)} "
        "ORDER BY created_at, id LIMIT 500",
        args,
    ).fetchall()
    return [{**dict(r), "data": loads(r["data"], {})} for r in rows]


def tasks_of_messages(conn: sqlite3.Connection, message_ids: Sequence[int]) -> dict[int, list[Any]]:
    """message id -> the tasks linked to it (id, order, status), by task_messages_message."""
    out: dict[int, list[Any]] = {}
    if not message_ids:
        return out
    marks = ",".join("?" * len(message_ids))
    rows = conn.execute(
        'SELECT tm.message_id, t.id, t."order", t.status, t.outcome FROM task_messages tm '
        f'JOIN tasks t ON t.id = tm.task_id WHERE tm.message_id IN ({marks}) ORDER BY t."order"',
        list(message_ids),
    ).fetchall()
    for r in rows:
        out.setdefault(r[0], []).append(r)
    return out


def session_task_rows(conn: sqlite3.Connection, session_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        'SELECT id, "order", description, status, outcome FROM tasks WHERE session_id = ? '
        'ORDER BY "order" LIMIT 500',
        (session_id,),
    ).fetchall()


# --- search ---------------------------------------------------------------------------


SEARCH_SCAN = 10_000  # index hits one search page looks through for its filters


def search_page(
    conn: sqlite3.Connection,
    match: str,
    *,
    project: str | None = None,
    agent: str | None = None,
    since: float | None = None,
    until: float | None = None,
    before: Key | None = None,
    after: Key | None = None,
    limit: int,
    scan: int = SEARCH_SCAN,
) -> tuple[list[sqlite3.Row], int | None]:
    """Messages whose text matches the FTS5 query `match`, newest (highest id) first, with
    their session; and where the scan stopped. The index yields ids in order and only the
    next `scan` hits are checked against the filters (a common word in a project that never
    says it would otherwise read every hit): when fewer than `limit` pass and the window was
    full, the second value is the last id looked at (continue from there), else None."""
    scan = max(scan, limit)
    inner: list[str] = ["message_search MATCH ?"]
    inner_args: list[Any] = [match]
    order = _keyset(inner, inner_args, "rowid", before, after)
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    for column, value in (("s.project_dir", project), ("s.agent", agent)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if since is not None:
        where.append("m.created_at >= ?")
        args.append(since)
    if until is not None:
        where.append("m.created_at < ?")
        args.append(until)
    window = f"SELECT rowid FROM message_search WHERE {' AND '.join(inner)} ORDER BY {order}"
    rows = conn.execute(
        f"WITH hits(rk) AS ({window} LIMIT ?) "
        "SELECT h.rk, m.id, m.position, m.role, m.parts, m.created_at, "
        "s.id AS session_id, s.agent, s.project_dir "
        "FROM hits h JOIN messages m ON m.id = h.rk JOIN sessions s ON s.seq = m.session_seq "
        f"WHERE {' AND '.join(where)} ORDER BY h.rk {order.split()[-1]} LIMIT ?",
        [*inner_args, scan, *args, limit],
    ).fetchall()
    edge = None
    if len(rows) < limit:
        last = conn.execute(f"{window} LIMIT 1 OFFSET ?", [*inner_args, scan - 1]).fetchone()
        edge = None if last is None else int(last[0])
    return rows, edge


def search_backlog(conn: sqlite3.Connection, cap: int = 100_000) -> int:
    """How many stored messages the search index has not taken in yet (counted up to `cap`:
    an index range from the mark, cheap when caught up)."""
    indexed = conn.execute("SELECT indexed_to FROM message_search_state WHERE id = 1").fetchone()
    mark = indexed[0] if indexed else 0
    return int(
        conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE id > ? LIMIT ?)", (mark, cap)
        ).fetchone()[0]
    )


def index_pending(conn: sqlite3.Connection, batch: int) -> int:
    """Index up to `batch` messages the search index has not taken in yet, in one write
    transaction; return how many. Rows below the mark are kept by m013's triggers. Nothing
    to do costs one read, not the write lock the hooks need."""
    if not search_backlog(conn, cap=1):
        return 0
    with atomic(conn):
        mark = conn.execute("SELECT indexed_to FROM message_search_state WHERE id = 1").fetchone()[
            0
        ]
        top = conn.execute(
            "SELECT MAX(id), COUNT(*) FROM "
            "(SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)",
            (mark, batch),
        ).fetchone()
        if not top[1]:
            return 0
        conn.execute(
            "INSERT INTO message_search (rowid, body) "
            f"SELECT id, {SEARCH_TEXT_SQL.format(col='parts')} FROM messages "
            "WHERE id > ? AND id <= ? ORDER BY id",
            (mark, top[0]),
        )
        conn.execute("UPDATE message_search_state SET indexed_to = ? WHERE id = 1", (top[0],))
        return int(top[1])


# --- tasks ------------------------------------------------------------------------------

TASK_COLUMNS = (
    't.id, t.session_id, t."order", t.description, t.status, t.outcome, t.progresses, '
    "t.user_preferences, t.created_at, t.updated_at"
)


def task_page(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    outcome: str | None = None,
    before: Key | None = None,
    after: Key | None = None,
    limit: int,
) -> list[sqlite3.Row]:
    """Tasks across sessions, newest-updated first, of one status and/or outcome (an index
    range: tasks_status, tasks_outcome or tasks_updated)."""
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if status is not None:
        where.append("t.status = ?")
        args.append(status)
    if outcome is not None:
        where.append("t.outcome IS ?" if outcome == "none" else "t.outcome = ?")
        args.append(None if outcome == "none" else outcome)
    order = _keyset(where, args, "t.updated_at, t.id", before, after)
    index = (
        "tasks_status"
        if status is not None
        else "tasks_outcome"
        if outcome is not None
        else "tasks_updated"
    )
    return conn.execute(
        f"SELECT {TASK_COLUMNS}, s.project_dir, s.agent FROM tasks t INDEXED BY {index} "
        "JOIN sessions s ON s.id = t.session_id "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
        [*args, limit],
    ).fetchall()


def task_by_id(conn: sqlite3.Connection, task_id: int) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {TASK_COLUMNS}, s.project_dir, s.agent FROM tasks t "
        "JOIN sessions s ON s.id = t.session_id WHERE t.id = ?",
        (task_id,),
    ).fetchone()


def task_evidence_rows(conn: sqlite3.Connection, task_id: int) -> list[sqlite3.Row]:
    """A task's evidence, oldest first, with the session and position of its message."""
    return conn.execute(
        "SELECT e.id, e.kind, e.result, e.command, e.detail, e.message_id, e.created_at, "
        "m.position FROM task_evidence e LEFT JOIN messages m ON m.id = e.message_id "
        "WHERE e.task_id = ? ORDER BY e.id LIMIT 500",
        (task_id,),
    ).fetchall()


def task_message_refs(conn: sqlite3.Connection, task_id: int, limit: int) -> list[sqlite3.Row]:
    """The messages a task came from (id, position, role, parts), in order, at most `limit`."""
    return conn.execute(
        "SELECT m.id, m.position, m.role, m.parts, m.created_at FROM task_messages tm "
        "JOIN messages m ON m.id = tm.message_id WHERE tm.task_id = ? "
        "ORDER BY m.id LIMIT ?",
        (task_id, limit),
    ).fetchall()


def task_learnings(conn: sqlite3.Connection, task_id: int) -> list[sqlite3.Row]:
    """The learnings distilled from a task (any status), oldest first."""
    return conn.execute(
        "SELECT id, space, kind, status, text, commit_sha, proposal, review, error, outcome, "
        "lesson, created_at, updated_at FROM learnings WHERE task_id = ? ORDER BY id",
        (task_id,),
    ).fetchall()
