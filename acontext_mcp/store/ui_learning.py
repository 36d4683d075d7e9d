"""The dashboard's Learning page reads: sessions with learning activity, a keyset page at a
time, and the failed learning jobs of a session with their reasons.

A session's learning activity is its newest learning or `learn_task` job (as
store/learning.recent_statuses orders them); the page key is (last activity, session id).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.job_kinds import LEARN_TASK

_ACTIVITY = (
    "WITH activity(session_id, at) AS ("
    " SELECT session_id, MAX(updated_at) FROM learnings GROUP BY session_id"
    " UNION ALL"
    " SELECT json_extract(payload, '$.session_id'), MAX(updated_at) FROM jobs"
    " WHERE kind = :kind GROUP BY json_extract(payload, '$.session_id')"
    "), latest AS ("
    " SELECT session_id, MAX(at) AS at FROM activity"
    " WHERE session_id IN (SELECT id FROM sessions) GROUP BY session_id"
    ") "
)
_FAILED = (
    " AND session_id IN (SELECT session_id FROM learnings WHERE status = 'failed'"
    " UNION SELECT json_extract(payload, '$.session_id') FROM jobs"
    " WHERE kind = :kind AND status = 'failed')"
)


def learning_sessions(
    conn: sqlite3.Connection,
    *,
    before: tuple[Any, ...] | None = None,
    after: tuple[Any, ...] | None = None,
    limit: int = 21,
    failed_only: bool = False,
) -> list[tuple[float, str]]:
    """(last activity, session id) of sessions with learning activity, per the keyset
    contract of ui/paging.py: newest first, or nearest first (ascending) after `after`."""
    params: dict[str, Any] = {"kind": LEARN_TASK, "limit": limit}
    where, order = "WHERE 1", "DESC"
    if before is not None:
        where += " AND (at, session_id) < (:at, :sid)"
        params["at"], params["sid"] = before[0], before[1]
    elif after is not None:
        where += " AND (at, session_id) > (:at, :sid)"
        params["at"], params["sid"] = after[0], after[1]
        order = "ASC"
    if failed_only:
        where += _FAILED
    sql = (
        f"{_ACTIVITY}SELECT at, session_id FROM latest {where} "
        f"ORDER BY at {order}, session_id {order} LIMIT :limit"
    )
    return [(float(r[0] or 0), str(r[1])) for r in conn.execute(sql, params)]


def failed_jobs(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """The session's failed `learn_task` jobs: which task, how many attempts, and why."""
    rows = conn.execute(
        "SELECT id, json_extract(payload, '$.task_id') AS task_id, attempts, error, updated_at "
        "FROM jobs WHERE kind = ? AND status = 'failed' "
        "AND json_extract(payload, '$.session_id') = ? ORDER BY id",
        (LEARN_TASK, session_id),
    )
    return [dict(r) for r in rows]
