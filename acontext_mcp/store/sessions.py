"""Sessions: one row per conversation, created on first sight, ordered by last activity."""

from __future__ import annotations

import re
import sqlite3
import time

from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.store.db import atomic, dumps, loads
from acontext_mcp.store.pages import clamp_limit, decode_cursor, encode_cursor

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

PAGE_MAX = 200  # sessions per page
# A session's integer key (sessions.seq), which messages carry instead of its id (m010).
SEQ_OF = "(SELECT seq FROM sessions WHERE id = ?)"
_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


def new_session_id() -> str:
    import uuid  # here: SessionStart's brief imports this module and never needs it

    return str(uuid.uuid4())


def check_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise InvalidInput(
            f"session_id {session_id!r} is not valid: use 1-128 characters from letters, digits "
            "and . _ : @ - (starting with a letter or digit), or omit it to start a new session"
        )
    return session_id


def row_to_session(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out.pop("seq", None)  # the store's internal key, not part of a session
    out["configs"] = loads(out["configs"], {})
    return out


def ensure_session(
    conn: sqlite3.Connection,
    session_id: str | None = None,
    *,
    agent: str = "mcp",
    user: str | None = None,
    project_dir: str | None = None,
    configs: dict[str, Any] | None = None,
    parent_id: str | None = None,
    at: float | None = None,
) -> tuple[str, bool]:
    """Return (id, created). A new session starts at `at` (default now: an import passes its
    transcript's first stamp); an existing one is left as it is, updated_at included: only
    stored messages move it (`touch_session`), so a call that stores nothing reorders
    nothing."""
    session_id = new_session_id() if session_id is None else check_session_id(session_id)
    start = _at(at)
    with atomic(conn):
        cur = conn.execute(
            "INSERT INTO sessions (id, agent, user, project_dir, configs, parent_id, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
            (session_id, agent, user, project_dir, dumps(configs or {}), parent_id, start, start),
        )
        created = cur.rowcount == 1
    return session_id, created


def _at(at: float | None) -> float:
    """`at`, or now when it is missing or lies in the future (a skewed clock, a bad stamp)."""
    now = time.time()
    return now if at is None or at > now else at


def get_session(conn: sqlite3.Connection, session_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise NotFound(f"no session {session_id!r}: list_sessions shows the known ids")
    return row_to_session(row)


def list_sessions(
    conn: sqlite3.Connection,
    *,
    limit: int | None = None,
    cursor: str | None = None,
    agent: str | None = None,
    project_dir: str | None = None,
    user: str | None = None,
    configs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Newest activity first, with message and task counts. Stable under concurrent inserts.
    `user` and `configs` filter (see `configs_filter`)."""
    limit = clamp_limit(limit, default=20, maximum=PAGE_MAX)
    where, args = ["1 = 1"], []
    if user is not None:
        where.append("s.user = ?")
        args.append(user)
    if configs:
        clauses, values = configs_filter(configs)
        where += clauses
        args += values
    after = decode_cursor(cursor, kind="sessions")
    if after is not None:
        where.append("(s.updated_at < ? OR (s.updated_at = ? AND s.id > ?))")
        args += [after["u"], after["u"], after["i"]]
    if agent:
        where.append("s.agent = ?")
        args.append(agent)
    if project_dir:
        where.append("s.project_dir = ?")
        args.append(project_dir)
    rows = conn.execute(
        "SELECT s.*, "
        "(SELECT COUNT(*) FROM messages m WHERE m.session_seq = s.seq) AS message_count, "
        "(SELECT COUNT(*) FROM tasks t WHERE t.session_id = s.id) AS task_count "
        f"FROM sessions s WHERE {' AND '.join(where)} "
        "ORDER BY s.updated_at DESC, s.id ASC LIMIT ?",
        [*args, limit + 1],
    ).fetchall()
    sessions = [row_to_session(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = sessions[-1]
        next_cursor = encode_cursor({"k": "sessions", "u": last["updated_at"], "i": last["id"]})
    return {"sessions": sessions, "next_cursor": next_cursor}


def touch_session(conn: sqlite3.Connection, session_id: str, at: float | None = None) -> None:
    """Record activity at `at` (default now); updated_at never moves back."""
    conn.execute(
        "UPDATE sessions SET updated_at = MAX(updated_at, ?) WHERE id = ?", (_at(at), session_id)
    )


def recent_project_sessions(
    conn: sqlite3.Connection, project_dir: str | None, *, exclude: str | None, limit: int = 5
) -> list[dict[str, Any]]:
    """Top-level sessions of one project (all projects when None) that hold messages, newest
    activity first, without `exclude` (the session asking)."""
    where, args = ["s.parent_id IS NULL", "s.id != ?"], [exclude or ""]
    if project_dir is not None:
        where.append("s.project_dir = ?")
        args.append(project_dir)
    rows = conn.execute(
        f"SELECT s.* FROM sessions s WHERE {' AND '.join(where)} "
        "AND EXISTS (SELECT 1 FROM messages m WHERE m.session_seq = s.seq) "
        "ORDER BY s.updated_at DESC, s.id ASC LIMIT ?",
        [*args, limit],
    ).fetchall()
    return [row_to_session(r) for r in rows]


def recent_projects(conn: sqlite3.Connection, agent: str, limit: int) -> list[str]:
    """The project directories of `agent`'s most recently active top-level sessions, newest
    first, each once (a walk down the agent's sessions by activity: sessions_agent)."""
    out: list[str] = []
    rows = conn.execute(
        "SELECT project_dir FROM sessions WHERE agent = ? AND parent_id IS NULL "
        "AND project_dir IS NOT NULL ORDER BY updated_at DESC LIMIT ?",
        (agent, max(limit, 0) * 50),
    )
    for (project_dir,) in rows:
        if project_dir not in out:
            out.append(project_dir)
            if len(out) == limit:
                break
    return out


def resolve_session_id(conn: sqlite3.Connection, given: str) -> str:
    """The session `given` names: its whole id, or a prefix that only one id starts with.
    NotFound when no session or several match (the message lists a few)."""
    if session_exists(conn, given):
        return given
    if not given or not _SESSION_ID.match(given):
        raise NotFound(f"no session {given!r}: list_sessions shows the known ids")
    # The id's character set ends below "\x7f": a range scan on the primary key.
    rows = conn.execute(
        "SELECT id FROM sessions WHERE id > ? AND id < ? ORDER BY id LIMIT 4",
        (given, given + "\x7f"),
    ).fetchall()
    if not rows:
        raise NotFound(f"no session {given!r}: list_sessions shows the known ids")
    if len(rows) > 1:
        shown = ", ".join(r[0] for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
        raise NotFound(f"{given!r} starts more than one session id ({shown}): type more of the id")
    return str(rows[0][0])


def session_exists(conn: sqlite3.Connection, session_id: str) -> bool:
    return conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None


def session_created_at(conn: sqlite3.Connection, session_id: str) -> float | None:
    row = conn.execute("SELECT created_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return None if row is None else row[0]


def session_project_dir(conn: sqlite3.Connection, session_id: str) -> str | None:
    """The session's project directory; None when unknown or there is no such session."""
    row = conn.execute("SELECT project_dir FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return row["project_dir"] if row else None


def latest_session_id(conn: sqlite3.Connection, project_dir: str | None = None) -> str | None:
    """The most recently updated session (of `project_dir` when given), or None."""
    where, args = ("WHERE project_dir = ?", (project_dir,)) if project_dir is not None else ("", ())
    row = conn.execute(
        f"SELECT id FROM sessions {where} ORDER BY updated_at DESC LIMIT 1", args
    ).fetchone()
    return None if row is None else str(row[0])


def count_sessions(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])


# --- Configs and user ---

TRACKING_OFF = "disable_task_tracking"  # configs key: true keeps the session out of task tracking
CONFIGS_MAX_BYTES = 16_000


def _config_path(key: str) -> str:
    """A JSON path naming one top-level key, quoted so dots and brackets are plain text."""
    if not isinstance(key, str) or not key or '"' in key or "\\" in key:
        raise InvalidInput(f"config key {key!r} is not valid: use a non-empty name without quotes")
    return f'$."{key}"'


def configs_filter(configs: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """SQL conditions on `s.configs` for sessions whose configs hold every key=value given
    (same JSON type and value: true is not 1); a null value matches a missing key."""
    if not isinstance(configs, dict):
        raise InvalidInput("the configs filter must be an object of key: value")
    clauses: list[str] = []
    args: list[Any] = []
    for key, value in sorted(configs.items()):
        path = _config_path(key)
        if value is None:
            clauses.append("json_type(s.configs, ?) IS NULL")
            args.append(path)
            continue
        clauses.append(
            "json_type(s.configs, ?) = json_type(?) AND json_extract(s.configs, ?) IS "
            "json_extract(?, '$')"
        )
        args += [path, dumps(value), path, dumps(value)]
    return clauses, args


def check_configs(configs: Any) -> dict[str, Any]:
    if not isinstance(configs, dict):
        raise InvalidInput("configs must be a JSON object of key: value")
    for key in configs:
        _config_path(key)
    tracking = configs.get(TRACKING_OFF)
    if TRACKING_OFF in configs and not isinstance(tracking, bool):
        raise InvalidInput(f"config {TRACKING_OFF} must be true or false (got {tracking!r})")
    if len(dumps(configs)) > CONFIGS_MAX_BYTES:
        raise InvalidInput(
            f"configs are over {CONFIGS_MAX_BYTES} bytes as JSON; keep settings there, "
            "not content (a disk file holds content)"
        )
    return configs


def get_configs(conn: sqlite3.Connection, session_id: str) -> dict[str, Any]:
    return dict(get_session(conn, session_id)["configs"])


def set_configs(
    conn: sqlite3.Connection, session_id: str, configs: dict[str, Any], *, patch: bool = False
) -> dict[str, Any]:
    """Replace the session's configs, or with `patch` merge the given keys into them (a null
    value deletes its key, or leaves it out of a replacement; nested objects are values,
    replaced whole). Returns the configs now stored."""
    with atomic(conn):
        current = get_configs(conn, session_id)
        if not isinstance(configs, dict):
            raise InvalidInput("configs must be a JSON object of key: value")
        merged = {**current, **configs} if patch else configs
        result = {k: v for k, v in merged.items() if v is not None}  # null: no such key
        check_configs(result)
        conn.execute("UPDATE sessions SET configs = ? WHERE id = ?", (dumps(result), session_id))
    return result


def tracking_off(configs_json: str | None) -> bool:
    """Whether stored configs (JSON text) switch task tracking off; cheap for the usual '{}'."""
    if not configs_json or TRACKING_OFF not in configs_json:
        return False
    return loads(configs_json, {}).get(TRACKING_OFF) is True


def session_tracking_off(conn: sqlite3.Connection, session_id: str) -> bool:
    row = conn.execute("SELECT configs FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return row is not None and tracking_off(row[0])


def set_user(conn: sqlite3.Connection, session_id: str, user: str | None) -> None:
    """Associate the session (and its subagent sessions) with `user`, or with nobody."""
    from acontext_mcp.store.cleanup import session_tree

    check_user(user)
    with atomic(conn):
        get_session(conn, session_id)
        ids = sorted(session_tree(conn, [session_id]))
        conn.executemany("UPDATE sessions SET user = ? WHERE id = ?", [(user, i) for i in ids])


def check_user(user: str | None) -> str | None:
    if user is not None and (not isinstance(user, str) or not user.strip() or len(user) > 256):
        raise InvalidInput("a user identifier is 1-256 characters (e.g. an email or an id)")
    return user


def claim_user(conn: sqlite3.Connection, session_id: str, user: str) -> None:
    """A turn stored for `user` into an existing session: a session of nobody becomes the
    user's; one of another user is refused (turns never cross users)."""
    row = conn.execute("SELECT user FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None or row[0] == user:
        return
    if row[0] is not None:
        raise InvalidInput(
            f"session {session_id!r} belongs to another user; store this user's turns in a "
            "session of theirs (omit session_id to start one)"
        )
    conn.execute("UPDATE sessions SET user = ? WHERE id = ? AND user IS NULL", (user, session_id))
