"""Named cursors: how far an incremental reader got, committed with what it stored.

A cursor is written in the same transaction as the rows read up to it, so a reader killed
halfway leaves both unchanged and the next one resumes from the last commit.
"""

from __future__ import annotations

import sqlite3
import time

from acontext_mcp.store.db import dumps, loads

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

# + session id: keys of the messages OpenClaw handed over while capture was off. Written by
# hooks/openclaw.py; kept by `forget`, so a resent history cannot bring those messages back.
OPENCLAW_SKIPPED_PREFIX = "openclaw-skipped:"


def get_cursor(conn: sqlite3.Connection, key: str) -> Any:
    """The stored value for `key`, or None."""
    row = conn.execute("SELECT value FROM cursors WHERE key = ?", (key,)).fetchone()
    return None if row is None else loads(row[0])


def set_cursor(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Insert or replace; call inside the transaction that stored what the cursor covers."""
    conn.execute(
        "INSERT INTO cursors (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, dumps(value), time.time()),
    )


def delete_cursor(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM cursors WHERE key = ?", (key,))
