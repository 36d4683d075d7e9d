"""`acontext-mcp export`: sessions and what hangs off them as self-contained JSONL.

The format is documented in docs/export-format.md: a header line, then per session its
`session` record followed by its messages, tasks, events, learnings and skill uses, then an
`end` line with the counts (a file without it was cut short). Binary parts are inline
base64, so a file restores on another machine. Row ids are not exported: records refer to each
other by natural keys (session id, message dedup key, task order), which `store.restore` maps
to new ids.
The whole export reads one snapshot, so a concurrent capture cannot tear it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import IO, Any

from acontext_mcp import __version__
from acontext_mcp.config import Settings
from acontext_mcp.errors import NotFound
from acontext_mcp.store.blobs import internalize
from acontext_mcp.store.cleanup import session_tree
from acontext_mcp.store.db import loads
from acontext_mcp.store.sessions import SEQ_OF

FORMAT = "acontext-export"
VERSION = 1
KINDS = ("sessions", "messages", "tasks", "events", "learnings", "skill_uses")
_LEARNING_FIELDS = (
    "space", "kind", "status", "text", "attempts", "commit_sha", "error", "created_at", "updated_at"
)  # fmt: skip
_USE_FIELDS = ("skill", "kind", "path", "entry", "project_dir", "created_at")


def line(record: dict[str, Any]) -> str:
    """One record as one JSONL line (UTF-8 as is, keys sorted so equal data diffs clean)."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def header() -> dict[str, Any]:
    return {
        "type": FORMAT,
        "version": VERSION,
        "exported_at": time.time(),
        "acontext_mcp": __version__,
        "blobs": "inline-base64",
    }


def choose(
    conn: sqlite3.Connection, session_ids: list[str] | None, project_dir: str | None
) -> list[str]:
    """Sessions to export, parents before their subagents (default: all)."""
    if session_ids:
        for sid in session_ids:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
                raise NotFound(f"no session {sid!r}: `acontext-mcp sessions` lists them")
        wanted = session_tree(conn, session_ids)
    elif project_dir is not None:
        found = conn.execute("SELECT id FROM sessions WHERE project_dir = ?", (project_dir,))
        wanted = session_tree(conn, [r[0] for r in found])
    else:
        wanted = {r[0] for r in conn.execute("SELECT id FROM sessions")}
    rows = conn.execute("SELECT id, parent_id, created_at FROM sessions").fetchall()
    children: dict[str | None, list[tuple[float, str]]] = {}
    for sid, parent, created in rows:
        if sid in wanted:
            key = parent if parent in wanted else None  # an orphan starts its own tree
            children.setdefault(key, []).append((created, sid))
    ordered: list[str] = []
    stack = sorted(children.get(None, []), reverse=True)
    while stack:  # depth first: each session followed by its subagents
        _created, sid = stack.pop()
        ordered.append(sid)
        stack.extend(sorted(children.get(sid, []), reverse=True))
    return ordered


def _session(conn: sqlite3.Connection, sid: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (sid,)).fetchone()
    space = conn.execute("SELECT space FROM space_sessions WHERE session_id = ?", (sid,)).fetchone()
    return {
        "type": "session",
        "id": row["id"],
        "agent": row["agent"],
        "user": row["user"],
        "project_dir": row["project_dir"],
        "configs": loads(row["configs"], {}),
        "parent_id": row["parent_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "space": space[0] if space else None,
    }


def _parts(settings: Settings, parts: list[Any]) -> tuple[list[Any], int]:
    """Parts with blob refs swapped for base64; a missing blob file stays a ref (counted)."""
    try:
        return internalize(settings, parts, inline=True), 0
    except NotFound:
        missing = 0
        out = []
        for part in parts:
            try:
                out.append(internalize(settings, [part], inline=True)[0])
            except NotFound:
                out.append(part)
                missing += 1
        return out, missing


def session_records(
    conn: sqlite3.Connection, settings: Settings, sid: str, missing: list[int]
) -> Iterator[dict[str, Any]]:
    """One session's records: the session, its messages, tasks, events, learnings and skill
    uses."""
    yield _session(conn, sid)
    rows = conn.execute(
        f"SELECT * FROM messages WHERE session_seq = {SEQ_OF} ORDER BY position", (sid,)
    )
    for row in rows:
        parts, lost = _parts(settings, loads(row["parts"], []))
        missing[0] += lost
        yield {
            "type": "message",
            "session_id": sid,
            "position": row["position"],
            "role": row["role"],
            "parts": parts,
            "format": row["format"],
            "meta": loads(row["meta"], {}),
            "token_count": row["token_count"],
            "dedup_key": row["dedup_key"],
            "status": row["status"],
            "created_at": row["created_at"],
        }
    orders: dict[int, int] = {}
    for row in conn.execute('SELECT * FROM tasks WHERE session_id = ? ORDER BY "order"', (sid,)):
        orders[row["id"]] = row["order"]
        linked = conn.execute(
            "SELECT m.dedup_key FROM task_messages tm JOIN messages m ON m.id = tm.message_id "
            "WHERE tm.task_id = ? ORDER BY m.position",
            (row["id"],),
        )
        yield {
            "type": "task",
            "session_id": sid,
            "order": row["order"],
            "description": row["description"],
            "status": row["status"],
            "progresses": loads(row["progresses"], []),
            "user_preferences": loads(row["user_preferences"], []),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "messages": [r[0] for r in linked],
        }
    rows = conn.execute("SELECT * FROM session_events WHERE session_id = ? ORDER BY id", (sid,))
    for row in rows:
        yield {
            "type": "event",
            "session_id": sid,
            "event": row["type"],
            "data": loads(row["data"], {}),
            "created_at": row["created_at"],
        }
    for row in conn.execute("SELECT * FROM learnings WHERE session_id = ? ORDER BY id", (sid,)):
        yield {
            "type": "learning",
            "session_id": sid,
            "task_order": orders.get(row["task_id"]),
            **{k: row[k] for k in _LEARNING_FIELDS},
        }
    rows = conn.execute(
        f"SELECT {', '.join(_USE_FIELDS)} FROM skill_uses WHERE session_id = ? "
        "ORDER BY created_at, id",
        (sid,),
    )
    for row in rows:
        yield {"type": "skill_use", "session_id": sid, **dict(zip(_USE_FIELDS, row, strict=True))}


def write_export(
    conn: sqlite3.Connection,
    settings: Settings,
    out: IO[str],
    *,
    session_ids: list[str] | None = None,
    project_dir: str | None = None,
) -> dict[str, Any]:
    """Write the export to `out`; returns the counts per kind and `missing_blobs`."""
    counts = dict.fromkeys(KINDS, 0)
    missing = [0]
    conn.execute("BEGIN")  # one snapshot for the whole file
    try:
        ids = choose(conn, session_ids, project_dir)
        out.write(line(header()))
        for sid in ids:
            for record in session_records(conn, settings, sid, missing):
                counts[record["type"] + "s"] += 1
                out.write(line(record))
    finally:
        conn.execute("ROLLBACK")
    out.write(line({"type": "end", "counts": counts}))
    return {**counts, "missing_blobs": missing[0]}
