"""Skill uses: when a skill reached an agent, per session (see migrations.m011_skill_uses).

Written from hooks (the host's Skill tool, reads of synced skill files, brief and prompt
injections) and from the MCP tools; read by `skills stats`, retirement proposals and the
prompt hook's once-per-entry rule. Standard library only: hooks write here.
"""

from __future__ import annotations

import time
from collections import namedtuple
from collections.abc import Iterable, Sequence

from acontext_mcp.csqlite import sqlite3

TYPE_CHECKING = False  # typing and dataclasses stay unimported: the prompt hook imports this
if TYPE_CHECKING:
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


# --- what retirement reads (learn/retire.py) ---------------------------------------------------

# A brief delivers a project's runbook to every session of it: that is reach, not use. Every
# other kind is an agent (or a prompt match) reaching for the skill.
ACTIVE_KINDS = tuple(k for k in KINDS if k != "brief")
_ACTIVE = ", ".join(f"'{k}'" for k in ACTIVE_KINDS)
_VERIFIED = "('verified_success', 'verified_failure')"


def tracking_started(conn: sqlite3.Connection) -> float | None:
    """When uses began to be recorded (the m011 migration ran); sessions before it say
    nothing about whether a skill was used."""
    row = conn.execute(
        "SELECT applied_at FROM schema_migrations WHERE name = 'm011_skill_uses'"
    ).fetchone()
    return None if row is None else float(row[0])


def _in_projects(column: str, project_dirs: Sequence[str] | None) -> tuple[str, list[str]]:
    if project_dirs is None:
        return "", []
    if not project_dirs:
        return " AND 0", []
    return f" AND {column} IN ({', '.join('?' for _ in project_dirs)})", list(project_dirs)


def last_used_at(conn: sqlite3.Connection, skill: str) -> float | None:
    """The latest active use of `skill` (any session, any project), or None."""
    row = conn.execute(
        f"SELECT MAX(created_at) FROM skill_uses WHERE skill = ? AND kind IN ({_ACTIVE})",
        (skill,),
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def sessions_since_last_use(
    conn: sqlite3.Connection,
    skill: str,
    *,
    project_dirs: Sequence[str] | None,
    not_before: float,
) -> tuple[int, float | None]:
    """(top-level sessions of `project_dirs` (None: of every project) started after the
    skill's last active use and after `not_before`, that last use or None)."""
    last = last_used_at(conn, skill)
    since = max(last or 0.0, not_before)
    where, args = _in_projects("project_dir", project_dirs)
    row = conn.execute(
        f"SELECT COUNT(*) FROM sessions WHERE parent_id IS NULL AND created_at > ?{where}",
        [since, *args],
    ).fetchone()
    return int(row[0]), last


def skill_project_dirs(
    conn: sqlite3.Connection, skill: str, session_ids: Iterable[str] = ()
) -> list[str]:
    """The projects a skill belongs to: where it was used, and where the sessions that
    taught it (`session_ids`, from its commits' provenance) ran."""
    ids = list(dict.fromkeys(session_ids))
    found = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT project_dir FROM skill_uses WHERE skill = ? AND project_dir IS NOT "
            "NULL",
            (skill,),
        )
    }
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found |= {
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT project_dir FROM sessions WHERE id IN "
                f"({', '.join('?' for _ in chunk)}) AND project_dir IS NOT NULL",
                chunk,
            )
        }
    return sorted(found)


class OutcomeRates(
    namedtuple("OutcomeRates", "with_sessions with_failed without_sessions without_failed")
):
    """Sessions with a verified ending, split by whether they used the skill: how many, and
    how many of them ended in a verified failure (their last verified task failed)."""

    __slots__ = ()

    @property
    def rate_with(self) -> float | None:
        return self.with_failed / self.with_sessions if self.with_sessions else None

    @property
    def rate_without(self) -> float | None:
        return self.without_failed / self.without_sessions if self.without_sessions else None


def outcome_rates(
    conn: sqlite3.Connection,
    skill: str,
    *,
    project_dirs: Sequence[str] | None,
    since: float,
) -> OutcomeRates:
    """How often top-level sessions of `project_dirs` (None: every project) started after
    `since` ended in a verified failure, with the skill (an active use in the session or one
    of its subagents) and without it."""
    where, args = _in_projects("s.project_dir", project_dirs)
    rows = conn.execute(
        f"""
        WITH scope AS (
            SELECT s.id FROM sessions s
            WHERE s.parent_id IS NULL AND s.created_at > ?{where}
        ), ended AS (
            SELECT t.session_id, t.outcome FROM tasks t JOIN scope ON scope.id = t.session_id
            WHERE t.outcome IN {_VERIFIED}
              AND t."order" = (SELECT MAX(t2."order") FROM tasks t2
                               WHERE t2.session_id = t.session_id
                                 AND t2.outcome IN {_VERIFIED})
        ), used AS (
            SELECT DISTINCT COALESCE(s.parent_id, s.id) AS id
            FROM skill_uses u JOIN sessions s ON s.id = u.session_id
            WHERE u.skill = ? AND u.kind IN ({_ACTIVE})
        )
        SELECT e.session_id IN (SELECT id FROM used) AS with_it, COUNT(*),
               SUM(e.outcome = 'verified_failure')
        FROM ended e GROUP BY with_it
        """,
        [since, *args, skill],
    ).fetchall()
    counts = {bool(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}
    w, wf = counts.get(True, (0, 0))
    n, nf = counts.get(False, (0, 0))
    return OutcomeRates(w, wf, n, nf)


def known_project_dirs(conn: sqlite3.Connection) -> list[str]:
    """Every project directory a captured session ran in (to find a runbook's project)."""
    rows = conn.execute(
        "SELECT DISTINCT project_dir FROM sessions WHERE project_dir IS NOT NULL "
        "ORDER BY project_dir"
    )
    return [r[0] for r in rows]


def use_count(conn: sqlite3.Connection, skill: str) -> int:
    """How many active uses of `skill` were ever recorded."""
    row = conn.execute(
        f"SELECT COUNT(*) FROM skill_uses WHERE skill = ? AND kind IN ({_ACTIVE})", (skill,)
    ).fetchone()
    return int(row[0])


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
