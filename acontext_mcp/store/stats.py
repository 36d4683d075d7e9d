"""Counts and sizes for `status` and the `stats` tool: cheap aggregate queries only.

Message and task counts come from `message_totals` and `task_totals`, kept in each writing
transaction (migrations.m008_scale): a COUNT or SUM over the messages table reads all of it
(0.5-2.5 s at a million messages).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.store.migrations import schema_version


def _file_size(path: Any) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def store_stats(conn: sqlite3.Connection, settings: Settings) -> dict[str, Any]:
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    tasks_by_status = {
        row[0]: row[1]
        for row in conn.execute("SELECT status, tasks FROM task_totals WHERE tasks > 0")
    }
    learnings_by_status = {
        row[0]: row[1]
        for row in conn.execute("SELECT status, COUNT(*) FROM learnings GROUP BY status")
    }
    messages, message_tokens = conn.execute(
        "SELECT messages, tokens FROM message_totals WHERE id = 1"
    ).fetchone()
    db_bytes = sum(
        _file_size(settings.db_path.with_name(settings.db_path.name + suffix))
        for suffix in ("", "-wal", "-shm")
    )
    return {
        "schema_version": schema_version(conn),
        "sessions": one("SELECT COUNT(*) FROM sessions"),
        "messages": messages,
        "message_tokens": message_tokens,
        "tasks": sum(tasks_by_status.values()),
        "tasks_by_status": tasks_by_status,
        "learnings_by_status": learnings_by_status,
        "learning_spaces": one("SELECT COUNT(*) FROM learning_spaces"),
        "session_events": one("SELECT COUNT(*) FROM session_events"),
        "disks": one("SELECT COUNT(*) FROM disks"),
        "artifacts": one("SELECT COUNT(*) FROM artifacts"),
        "blobs": one("SELECT COUNT(*) FROM blobs"),
        "blob_bytes": one("SELECT COALESCE(SUM(size), 0) FROM blobs"),
        "jobs_queued": one("SELECT COUNT(*) FROM jobs WHERE status = 'queued'"),
        "db_bytes": db_bytes,
    }
