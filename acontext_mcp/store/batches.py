"""Message status for task extraction: pending -> processing -> processed.

Captured messages start `pending`. The task agent claims a batch (`processing`), and marks it
`processed` when done, or puts it back to `pending` (interrupted, failed, or a worker died
holding it). A message extended with late content while its batch ran went back to pending
(store/messages.extend_message) and stays pending, so the next batch reads it whole.
"""

from __future__ import annotations

import sqlite3

from acontext_mcp.store.db import atomic
from acontext_mcp.store.sessions import SEQ_OF


def claim_pending(conn: sqlite3.Connection, session_id: str, batch: int) -> list[sqlite3.Row]:
    """The oldest pending messages of the session, marked processing in one transaction."""
    with atomic(conn):
        rows = conn.execute(
            f"SELECT id, role, parts, meta FROM messages WHERE session_seq = {SEQ_OF} AND status = "
            "'pending' ORDER BY position LIMIT ?",
            (session_id, batch),
        ).fetchall()
        if rows:
            set_status(conn, [r["id"] for r in rows], "processing", only="pending")
    return rows


def set_status(
    conn: sqlite3.Connection, ids: list[int], status: str, *, only: str = "processing"
) -> None:
    """Move the batch's messages that are still `only` to `status` (see the module docstring:
    a message that went back to pending meanwhile stays pending)."""
    conn.execute(
        f"UPDATE messages SET status = ? WHERE status = ? AND id IN ({','.join('?' * len(ids))})",
        [status, only, *ids],
    )


def release_processing(conn: sqlite3.Connection, session_id: str) -> int:
    """Put a session's `processing` messages back to pending; returns how many."""
    with atomic(conn):
        cur = conn.execute(
            f"UPDATE messages SET status = 'pending' WHERE session_seq = {SEQ_OF} "
            "AND status = 'processing'",
            (session_id,),
        )
    return cur.rowcount


def pending(conn: sqlite3.Connection, session_id: str) -> tuple[int, float | None]:
    """(pending message count, created_at of the oldest pending message) of a session."""
    row = conn.execute(
        "SELECT COUNT(*), MIN(created_at) FROM messages WHERE status = 'pending' "
        f"AND session_seq = {SEQ_OF}",
        (session_id,),
    ).fetchone()
    return int(row[0]), row[1]


def sessions_with_pending(conn: sqlite3.Connection) -> list[str]:
    """Sessions holding pending messages, the one waiting longest first (imported history is
    then tracked in the order it happened)."""
    rows = conn.execute(
        "SELECT s.id FROM sessions s JOIN (SELECT session_seq, MIN(created_at) AS oldest "
        "FROM messages WHERE status = 'pending' GROUP BY session_seq) p ON p.session_seq = s.seq "
        "ORDER BY p.oldest, s.id"
    ).fetchall()
    return [r[0] for r in rows]


def observing_status(conn: sqlite3.Connection, session_id: str) -> dict[str, int]:
    """How far task extraction got in a session, by message: `observed` (processed),
    `in_process` (claimed by a batch), `pending` (waiting), and, unlike the reference, which
    counts them nowhere, `failed` (given up after repeated failures) and `disabled` (stored
    while capture was off; never observed)."""
    rows = conn.execute(
        f"SELECT status, COUNT(*) FROM messages WHERE session_seq = {SEQ_OF} GROUP BY status",
        (session_id,),
    ).fetchall()
    found = {r[0]: int(r[1]) for r in rows}
    return {
        "observed": found.get("processed", 0),
        "in_process": found.get("processing", 0),
        "pending": found.get("pending", 0),
        "failed": found.get("failed", 0),
        "disabled": found.get("disabled", 0),
    }
