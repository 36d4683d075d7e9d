"""Session administration the CLI and the MCP server share: copy, delete, configs.

Copying spans the store (rows) and the todo tracker (its cursor), so it is composed here, in
one transaction; deleting is forget's path for one session (store/forget.py), learner check
included.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.observe.todos import seed_copy
from acontext_mcp.store import forget
from acontext_mcp.store import sessions as session_store
from acontext_mcp.store.db import atomic
from acontext_mcp.store.session_copy import copy_session as copy_rows


def copy_session(conn: sqlite3.Connection, session_id: str) -> dict[str, Any]:
    """A new, independent session with the messages, tasks and events of `session_id`
    (see store/session_copy.py for what is and is not copied)."""
    with atomic(conn):
        out = copy_rows(conn, session_id)
        seed_copy(conn, session_id, out["session_id"], out.pop("event_ids"))
    return out


def delete_session(
    conn: sqlite3.Connection, settings: Settings, session_id: str, *, dry_run: bool = False
) -> dict[str, Any]:
    """Forget one session and its subagent sessions with everything stored about them
    (forget's counts); with `dry_run`, the counts of what would go, removing nothing. Refuses
    while a learner run works on it (forget.LearnerBusy), dry run included."""
    session_store.get_session(conn, session_id)
    ids = forget.select_sessions(conn, session_ids=[session_id])
    forget.refuse_if_learning(conn, ids)
    if dry_run:
        return {**forget.plan(conn, ids), "dry_run": True}
    return forget.forget(conn, settings, ids)
