"""Skill uses: when a skill reached an agent, per session (see migrations.m011_skill_uses).

Written from hooks (the host's Skill tool, reads of synced skill files, brief and prompt
injections) and from the MCP tools; read by `skills stats`, retirement proposals and the
prompt hook's once-per-entry rule. Standard library only: hooks write here.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

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


# --- Reading, for `skills stats` and retirement (learn/usage.py) ---
#
# A "session" below is a top-level session: a subagent's uses and tasks count for the session
# that started it (sessions.parent_id), as it acted for that session's request.
_UNIT = "COALESCE(s.parent_id, s.id)"


def uses_in_window(
    conn: sqlite3.Connection, *, since: float | None = None, skill: str | None = None
) -> list[tuple[str, str, str | None, str | None, float]]:
    """(skill, kind, session, project, when) for each use since `since`, optionally of one
    skill. The session is the top-level one (None for a use without one: the MCP tools);
    the project is that session's, else the one the use names."""
    where, args = _window("u", since, skill)
    rows = conn.execute(
        f"SELECT u.skill, u.kind, {_UNIT}, "
        "COALESCE(p.project_dir, s.project_dir, u.project_dir), u.created_at "
        "FROM skill_uses u LEFT JOIN sessions s ON s.id = u.session_id "
        f"LEFT JOIN sessions p ON p.id = s.parent_id {where}",
        args,
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def settled_sessions(
    conn: sqlite3.Connection, *, since: float | None = None
) -> list[tuple[str, str | None, float, int, int]]:
    """(session, project, last active, verified successes, verified failures) for each
    top-level session active since `since` with at least one settled task (its subagents'
    tasks included)."""
    rows = conn.execute(
        f"SELECT {_UNIT} AS unit, "
        "SUM(t.outcome = 'verified_success'), SUM(t.outcome = 'verified_failure') "
        "FROM tasks t JOIN sessions s ON s.id = t.session_id "
        "WHERE t.outcome IN ('verified_success', 'verified_failure') GROUP BY unit"
    ).fetchall()
    counts = {r[0]: (r[1], r[2]) for r in rows}
    out: list[tuple[str, str | None, float, int, int]] = []
    for sid, project, updated in conn.execute(
        "SELECT id, project_dir, updated_at FROM sessions WHERE parent_id IS NULL "
        "AND updated_at >= ?",
        (since or 0.0,),
    ):
        if sid in counts:
            out.append((sid, project, updated, *counts[sid]))
    return out


def _window(alias: str, since: float | None, skill: str | None) -> tuple[str, list[Any]]:
    clauses = [f"{alias}.created_at >= ?"]
    args: list[Any] = [since or 0.0]
    if skill is not None:
        clauses.append(f"{alias}.skill = ?")
        args.append(skill)
    return "WHERE " + " AND ".join(clauses), args
