"""Deleting one session and everything that hangs off it (doctor's synthetic turn, for one).

Messages, tasks and session events go by `ON DELETE CASCADE`; subagent sessions only get
`parent_id` set NULL by the schema, so they are deleted explicitly; cursors are keyed by
text (`transcript:<session>:<path>`, `provisional:<session>`), not by foreign key; queued
jobs name their session in the payload. Blob files are content-addressed and may be shared,
so they stay.
"""

from __future__ import annotations

import sqlite3

from acontext_mcp.store import jobs as job_table
from acontext_mcp.store.db import atomic


def names_session(key: str, session_ids: set[str]) -> bool:
    """A cursor key with one of these sessions as a whole `:`-separated segment."""
    return any(
        key.endswith(":" + sid) or f":{sid}:" in key or key.startswith(sid + ":")
        for sid in session_ids
    )


def session_tree(conn: sqlite3.Connection, session_ids: list[str]) -> set[str]:
    """These sessions and their subagent sessions, and theirs (a subagent goes with its parent)."""
    ids = set(session_ids)
    frontier = sorted(ids)
    while frontier:
        found: list[str] = []
        for start in range(0, len(frontier), 500):  # stay under SQLite's variable limit
            chunk = frontier[start : start + 500]
            rows = conn.execute(
                f"SELECT id FROM sessions WHERE parent_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            found += [r[0] for r in rows if r[0] not in ids]
        ids.update(found)
        frontier = found
    return ids


def delete_session(conn: sqlite3.Connection, session_id: str) -> dict[str, int]:
    """Delete a session, its subagent sessions and all their rows; returns counts per kind.

    Deleting a session that does not exist is not an error (all counts are 0).
    """
    with atomic(conn):
        ids = session_tree(conn, [session_id])
        marks = ",".join("?" * len(ids))
        args = sorted(ids)
        mine = f"session_id IN ({marks})"
        counts = {
            kind: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]
            for kind, table, where in (
                (
                    "messages",
                    "messages",
                    f"session_seq IN (SELECT seq FROM sessions WHERE id IN ({marks}))",
                ),
                ("tasks", "tasks", mine),
                ("events", "session_events", mine),
            )
        }
        keys = [
            r[0]
            for r in conn.execute(
                "SELECT key FROM cursors WHERE " + " OR ".join(["instr(key, ?) > 0"] * len(ids)),
                args,
            ).fetchall()
            if names_session(r[0], ids)
        ]
        conn.executemany("DELETE FROM cursors WHERE key = ?", [(k,) for k in keys])
        jobs = job_table.delete_for_sessions(conn, args)
        sessions = conn.execute(f"DELETE FROM sessions WHERE id IN ({marks})", args).rowcount
    return {**counts, "sessions": sessions, "cursors": len(keys), "jobs": jobs}
