"""Reading an `acontext-mcp export` file back into the store (`acontext-mcp import FILE`).

Two passes over the file. The first checks every line (JSON, known record types, required
fields, each record after its session's record, positions unique, the `end` line's counts) and
writes nothing, so a damaged or cut-short file is refused whole. The second stores one session
per transaction. Importing is idempotent: a session, a message (same dedup key), a task (same
order), an event, a learning or a skill use (same content and time) already there is left as
it is, so
importing twice adds nothing. Rows get new ids; records name each other by natural keys.

Messages keep their positions when their session holds no messages yet; otherwise the new
ones are appended after what is there (the session was captured again meanwhile).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import IO, Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.store.blobs import externalize
from acontext_mcp.store.db import atomic, dumps
from acontext_mcp.store.export import FORMAT, KINDS, VERSION
from acontext_mcp.store.learning import check_space_name, ensure_space
from acontext_mcp.store.messages import count_stored
from acontext_mcp.store.sessions import SEQ_OF, check_session_id
from acontext_mcp.store.skill_uses import KINDS as USE_KINDS

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ROLES = ("user", "assistant")
_FORMATS = ("openai", "anthropic", "gemini", "acontext")
_MESSAGE_STATUS = ("pending", "processing", "processed", "failed", "disabled")
_TASK_STATUS = ("pending", "running", "success", "failed")
_LEARNING_KIND = ("skip", "success", "factual", "failure", "preferences")
_LEARNING_STATUS = ("distilled", "skipped", "running", "learned", "failed")
_MEDIA = ("image", "audio", "file")


def is_export(path: Path) -> bool:
    """Whether the file's first line is an export header (how `import` tells it apart)."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(64 * 1024)
    except OSError:
        return False
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("type") == FORMAT


# --- Checking ---


class _Bad(Exception):
    pass


def _need(record: dict[str, Any], key: str, kind: type | tuple[type, ...], *, null: bool = False):
    value = record.get(key)
    if value is None and null:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Bad(f"`{key}` is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _one_of(record: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = record.get(key)
    if value not in allowed:
        raise _Bad(f"`{key}` must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _check_sources(parts: list[Any]) -> None:
    """Parts are typed objects; a blob ref must be a sha256 (never a path)."""
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise _Bad("`parts` must be a list of objects with a `type`")
        source = part.get("source")
        is_ref = (
            part["type"] in _MEDIA and isinstance(source, dict) and source.get("kind") == "blob"
        )
        if is_ref and not _SHA256.match(str(source.get("blob"))):  # type: ignore[union-attr]
            raise _Bad("a blob reference must be a lowercase hex sha256")
        if part["type"] == "tool-result" and isinstance(part.get("content"), list):
            _check_sources(part["content"])


def _check(record: Any, state: dict[str, Any]) -> None:
    if not isinstance(record, dict):
        raise _Bad("not a JSON object")
    kind = record.get("type")
    if kind == "session":
        check_session_id(record.get("id"))  # type: ignore[arg-type]
        if record["id"] in state["sessions"]:
            raise _Bad(f"session {record['id']!r} appears twice")
        _need(record, "agent", str)
        _need(record, "user", str, null=True)
        _need(record, "project_dir", str, null=True)
        _need(record, "parent_id", str, null=True)
        _need(record, "configs", dict)
        _need(record, "created_at", (int, float))
        _need(record, "updated_at", (int, float))
        if record.get("space") is not None:
            check_space_name(record["space"])
        state["sessions"].add(record["id"])
        state["current"], state["positions"] = record["id"], set()
    elif kind in ("message", "task", "event", "learning", "skill_use"):
        if record.get("session_id") != state["current"] or state["current"] is None:
            raise _Bad("a record must follow its own session's `session` record")
        _need(record, "created_at", (int, float))
        if kind == "message":
            _one_of(record, "role", _ROLES)
            _one_of(record, "format", _FORMATS)
            _one_of(record, "status", _MESSAGE_STATUS)
            _need(record, "dedup_key", str)
            _need(record, "meta", dict)
            _need(record, "token_count", int)
            position = _need(record, "position", int)
            if position < 0 or position in state["positions"]:
                raise _Bad(f"position {position} is negative or repeated")
            state["positions"].add(position)
            _check_sources(_need(record, "parts", list))
        elif kind == "task":
            _need(record, "order", int)
            if not _need(record, "description", str).strip():
                raise _Bad("`description` is empty")
            _one_of(record, "status", _TASK_STATUS)
            for key in ("progresses", "user_preferences", "messages"):
                if not all(isinstance(x, str) for x in _need(record, key, list)):
                    raise _Bad(f"`{key}` must be a list of strings")
            _need(record, "updated_at", (int, float))
        elif kind == "event":
            _need(record, "event", str)
            _need(record, "data", dict)
        elif kind == "skill_use":
            _one_of(record, "kind", USE_KINDS)
            if not _need(record, "skill", str).strip():
                raise _Bad("`skill` is empty")
            for key in ("path", "entry", "project_dir"):
                _need(record, key, str, null=True)
        else:
            _one_of(record, "kind", _LEARNING_KIND)
            _one_of(record, "status", _LEARNING_STATUS)
            _need(record, "space", str)
            _need(record, "text", str)
            _need(record, "task_order", int, null=True)
            _need(record, "attempts", int)
            _need(record, "commit_sha", str, null=True)
            _need(record, "error", str, null=True)
            _need(record, "updated_at", (int, float))
    elif kind == "end":
        state["end"] = record.get("counts")
    else:
        raise _Bad(f"unknown record type {kind!r}")
    if kind != "end":
        state["counts"][kind + "s"] += 1


def _records(fh: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    fh.seek(0)
    for number, text in enumerate(fh, 1):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"{name}:{number}: not valid JSON ({exc})") from exc


def _checked(fh: IO[str], name: str) -> Iterator[dict[str, Any]]:
    """Every record after the header, each checked; raises InvalidInput at the first bad one
    and, once all are read, when the `end` line is missing or its counts disagree."""
    state: dict[str, Any] = {
        "sessions": set(),
        "current": None,
        "positions": set(),
        "end": None,
        "counts": dict.fromkeys(KINDS, 0),
    }
    records = _records(fh, name)
    first = next(records, None)
    if first is None or not isinstance(first[1], dict) or first[1].get("type") != FORMAT:
        raise InvalidInput(f"{name} is not an acontext-mcp export (no header line)")
    if first[1].get("version") != VERSION:
        raise InvalidInput(
            f"{name} is export format version {first[1].get('version')!r}; this acontext-mcp "
            f"reads version {VERSION}. Upgrade acontext-mcp to import it."
        )
    for number, record in records:
        if state["end"] is not None:
            raise InvalidInput(f"{name}:{number}: records after the `end` line")
        try:
            _check(record, state)
        except (_Bad, InvalidInput) as exc:
            raise InvalidInput(f"{name}:{number}: {exc}; nothing was imported") from exc
        if record["type"] != "end":
            yield record
    if state["end"] is None:
        raise InvalidInput(
            f"{name} has no `end` line: the export was cut short; nothing was imported. "
            "Export again."
        )
    end = state["end"]
    if isinstance(end, dict):  # a file from before a kind existed holds none of it
        end = {**dict.fromkeys(KINDS, 0), **end}
    if end != state["counts"]:
        raise InvalidInput(
            f"{name}: the `end` line counts {state['end']} but the file holds "
            f"{state['counts']}; nothing was imported"
        )


def check_file(path: Path) -> dict[str, int]:
    """Validate the whole export without writing; returns its counts per kind."""
    counts = dict.fromkeys(KINDS, 0)
    with open(path, encoding="utf-8") as fh:
        for record in _checked(fh, str(path)):
            counts[record["type"] + "s"] += 1
    return counts


# --- Storing ---


@dataclass
class RestoreStats:
    sessions: int = 0
    sessions_existing: int = 0
    messages: int = 0
    messages_existing: int = 0
    tasks: int = 0
    events: int = 0
    learnings: int = 0
    skill_uses: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS[2:], 0))

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "skipped": dict(self.skipped)}


class _Session:
    """Storing one session's records inside its transaction."""

    def __init__(self, conn: sqlite3.Connection, settings: Settings, stats: RestoreStats):
        self.conn, self.settings, self.stats = conn, settings, stats
        self.append_at: int | None = None  # next free position when the session had messages
        self.stored = [0, 0]  # messages inserted and their tokens, for message_totals

    def count(self) -> None:
        """Add what this session's transaction inserted to the store's message totals."""
        if self.stored[0]:
            count_stored(self.conn, *self.stored)

    def session(self, r: dict[str, Any]) -> None:
        conn = self.conn
        parent = r.get("parent_id")
        if parent and not conn.execute("SELECT 1 FROM sessions WHERE id = ?", (parent,)).fetchone():
            parent = None  # the parent was not exported with it
        cur = conn.execute(
            "INSERT INTO sessions (id, agent, user, project_dir, configs, parent_id, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
            (
                r["id"],
                r["agent"],
                r.get("user"),
                r.get("project_dir"),
                dumps(r["configs"]),
                parent,
                r["created_at"],
                r["updated_at"],
            ),
        )
        if cur.rowcount:
            self.stats.sessions += 1
        else:
            self.stats.sessions_existing += 1
            conn.execute(
                "UPDATE sessions SET updated_at = MAX(updated_at, ?) WHERE id = ?",
                (r["updated_at"], r["id"]),
            )
        last = conn.execute(
            f"SELECT MAX(position) FROM messages WHERE session_seq = {SEQ_OF}", (r["id"],)
        ).fetchone()[0]
        self.append_at = None if last is None else last + 1
        if r.get("space"):
            ensure_space(conn, r["space"])
            conn.execute(
                "INSERT INTO space_sessions (session_id, space, attached_at) VALUES (?, ?, ?) "
                "ON CONFLICT(session_id) DO NOTHING",
                (r["id"], r["space"], r["created_at"]),
            )

    def message(self, r: dict[str, Any]) -> None:
        parts, _moved = externalize(self.conn, self.settings, r["parts"])
        parts_json, meta_json = dumps(parts), dumps(r["meta"])
        if len(parts_json.encode()) + len(meta_json.encode()) > self.settings.max_message_bytes:
            raise InvalidInput(
                f"a message of session {r['session_id']!r} is over ACONTEXT_MAX_MESSAGE_BYTES "
                f"({self.settings.max_message_bytes}); raise it to import this file"
            )
        position = r["position"] if self.append_at is None else self.append_at
        status = "pending" if r["status"] == "processing" else r["status"]  # no worker holds it
        row = self.conn.execute(
            "INSERT INTO messages (session_seq, position, role, parts, format, meta, "
            f"token_count, dedup_key, status, created_at) VALUES ({SEQ_OF}, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?) ON CONFLICT(session_seq, dedup_key) DO NOTHING RETURNING id",
            (
                r["session_id"],
                position,
                r["role"],
                parts_json,
                r["format"],
                meta_json,
                r["token_count"],
                r["dedup_key"],
                status,
                r["created_at"],
            ),
        ).fetchone()
        if row is None:
            self.stats.messages_existing += 1
            return
        self.stats.messages += 1
        self.stored[0] += 1
        self.stored[1] += r["token_count"]
        if self.append_at is not None:
            self.append_at += 1

    def task(self, r: dict[str, Any]) -> None:
        row = self.conn.execute(
            'INSERT INTO tasks (session_id, "order", description, status, progresses, '
            "user_preferences, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            'ON CONFLICT(session_id, "order") DO NOTHING RETURNING id',
            (
                r["session_id"],
                r["order"],
                r["description"],
                r["status"],
                dumps(r["progresses"]),
                dumps(r["user_preferences"]),
                r["created_at"],
                r["updated_at"],
            ),
        ).fetchone()
        if row is None:
            self.stats.skipped["tasks"] += 1
            return
        self.stats.tasks += 1
        for key in r["messages"]:
            self.conn.execute(
                "INSERT OR IGNORE INTO task_messages (task_id, message_id) "
                f"SELECT ?, id FROM messages WHERE session_seq = {SEQ_OF} AND dedup_key = ?",
                (row[0], r["session_id"], key),
            )

    def event(self, r: dict[str, Any]) -> None:
        data = dumps(r["data"])
        if self.conn.execute(
            "SELECT 1 FROM session_events WHERE session_id = ? AND type = ? AND data = ? "
            "AND created_at = ?",
            (r["session_id"], r["event"], data, r["created_at"]),
        ).fetchone():
            self.stats.skipped["events"] += 1
            return
        self.conn.execute(
            "INSERT INTO session_events (session_id, type, data, created_at) VALUES (?, ?, ?, ?)",
            (r["session_id"], r["event"], data, r["created_at"]),
        )
        self.stats.events += 1

    def learning(self, r: dict[str, Any]) -> None:
        conn, sid = self.conn, r["session_id"]
        if conn.execute(
            "SELECT 1 FROM learnings WHERE session_id = ? AND kind = ? AND text = ? "
            "AND created_at = ?",
            (sid, r["kind"], r["text"], r["created_at"]),
        ).fetchone():
            self.stats.skipped["learnings"] += 1
            return
        task = None
        if r.get("task_order") is not None:
            found = conn.execute(
                'SELECT id FROM tasks WHERE session_id = ? AND "order" = ?', (sid, r["task_order"])
            ).fetchone()
            task = found[0] if found else None
        cur = conn.execute(
            "INSERT INTO learnings (session_id, task_id, space, kind, status, text, attempts, "
            "commit_sha, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (
                sid,
                task,
                r["space"],
                r["kind"],
                r["status"],
                r["text"],
                r["attempts"],
                r.get("commit_sha"),
                r.get("error"),
                r["created_at"],
                r["updated_at"],
            ),
        )
        if cur.rowcount:
            self.stats.learnings += 1
        else:
            self.stats.skipped["learnings"] += 1

    def skill_use(self, r: dict[str, Any]) -> None:
        key = (r["session_id"], r["skill"], r["kind"], r.get("path"), r.get("entry"))
        if self.conn.execute(
            "SELECT 1 FROM skill_uses WHERE session_id = ? AND skill = ? AND kind = ? "
            "AND path IS ? AND entry IS ? AND created_at = ?",
            (*key, r["created_at"]),
        ).fetchone():
            self.stats.skipped["skill_uses"] += 1
            return
        self.conn.execute(
            "INSERT INTO skill_uses (session_id, skill, kind, path, entry, project_dir, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*key, r.get("project_dir"), r["created_at"]),
        )
        self.stats.skill_uses += 1


def restore(conn: sqlite3.Connection, settings: Settings, path: Path) -> RestoreStats:
    """Import an export file: checked whole first, then one transaction per session.

    The second pass reads the same open file and checks each record again, so a file
    changed between the passes cannot slip an unchecked record in.
    """
    stats = RestoreStats()
    with open(path, encoding="utf-8") as fh:
        for _record in _checked(fh, str(path)):
            pass
        records = _checked(fh, str(path))
        for _sid, group in groupby(records, key=lambda r: r.get("session_id", r.get("id"))):
            with atomic(conn):
                writer = _Session(conn, settings, stats)
                for record in group:
                    _STORE[record["type"]](writer, record)
                writer.count()
    return stats


_STORE = {
    "session": _Session.session,
    "message": _Session.message,
    "task": _Session.task,
    "event": _Session.event,
    "learning": _Session.learning,
    "skill_use": _Session.skill_use,
}
