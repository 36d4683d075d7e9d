"""Skill uses: when a skill reached an agent, per session (see migrations.m011_skill_uses).

Written from hooks (the host's Skill tool, reads of synced skill files, brief and prompt
injections) and from the MCP tools; read by `skills stats`, retirement proposals and the
prompt hook's once-per-entry rule. Standard library only: hooks write here.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

KINDS = ("skill_tool", "read", "mcp_get", "mcp_file", "mcp_search", "brief", "prompt")


def record_use(
    conn: sqlite3.Connection,
    skill: str,
    kind: str,
    *,
    session_id: str | None = None,
    path: str | None = None,
    entry: str | None = None,
    project_dir: str | None = None,
    at: float | None = None,
) -> None:
    """One use. A session the store does not know (not captured, or forgotten) is recorded
    without it rather than refused: the use still counts for the skill."""
    record_uses(
        conn,
        [(skill, path, entry)],
        kind,
        session_id=session_id,
        project_dir=project_dir,
        at=at,
    )


def record_uses(
    conn: sqlite3.Connection,
    uses: Iterable[tuple[str, str | None, str | None]],
    kind: str,
    *,
    session_id: str | None = None,
    project_dir: str | None = None,
    at: float | None = None,
) -> int:
    """Several uses of one kind at once, as (skill, path, entry); returns how many."""
    if kind not in KINDS:
        raise ValueError(f"unknown skill use kind {kind!r}")
    rows = list(uses)
    if not rows:
        return 0
    if session_id is not None:
        known = conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if known is None:
            session_id = None
    now = time.time() if at is None else at
    conn.executemany(
        "INSERT INTO skill_uses (skill, session_id, kind, path, entry, project_dir, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(skill, session_id, kind, path, entry, project_dir, now) for skill, path, entry in rows],
    )
    return len(rows)


def injected_entries(conn: sqlite3.Connection, session_id: str) -> set[tuple[str, str]]:
    """(skill, entry) pairs the prompt hook already injected into this session."""
    rows = conn.execute(
        "SELECT skill, entry FROM skill_uses WHERE session_id = ? AND kind = 'prompt' "
        "AND entry IS NOT NULL",
        (session_id,),
    )
    return {(row[0], row[1]) for row in rows}


def injected_entries_at(db_path: str, session_id: str) -> set[tuple[str, str]]:
    """(skill, entry) pairs this session has already been given, by the prompt hook or the
    brief (when the brief records the entries it shows): the prompt hook says each once.
    Read through a read-only connection of its own: the prompt hook checks before it
    answers, and opening the store for writing (migration check, WAL switch) would keep the
    prompt waiting. Empty when the store or its table is not there yet."""
    from acontext_mcp.store.peek import connect_readonly

    conn = connect_readonly(db_path)
    if conn is None:
        return set()
    try:
        rows = conn.execute(
            "SELECT skill, entry FROM skill_uses WHERE session_id = ? "
            "AND kind IN ('prompt', 'brief') AND entry IS NOT NULL",
            (session_id,),
        )
        return {(row[0], row[1]) for row in rows}
    except sqlite3.Error:
        return set()
    finally:
        conn.close()
