"""Which learning space a session learns into.

A captured session goes to the space named by `projects.<project dir>.learning_space` in
`<home>/config.json`, else to `default`. The first learning attaches the session, and it stays
in that space: later config changes apply to new sessions only.
"""

from __future__ import annotations

import sqlite3

from acontext_mcp.config import Settings
from acontext_mcp.store import learning
from acontext_mcp.store.sessions import session_project_dir
from acontext_mcp.user_config import project_setting


def configured_space(settings: Settings, project_dir: str | None) -> str:
    name = project_setting(settings, project_dir, "learning_space")
    if isinstance(name, str) and name.strip():
        return learning.check_space_name(name.strip())
    return learning.DEFAULT_SPACE


def space_for_session(
    conn: sqlite3.Connection, settings: Settings, session_id: str, explicit: str | None = None
) -> str:
    """The session's space, attaching it (to `explicit`, or the configured one) if needed."""
    if explicit is not None:
        return learning.attach_session(conn, session_id, explicit, explicit=True)
    current = learning.session_space(conn, session_id)
    if current is not None:
        return current
    space = configured_space(settings, session_project_dir(conn, session_id))
    return learning.attach_session(conn, session_id, space)
