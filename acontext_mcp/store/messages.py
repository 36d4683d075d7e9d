"""Messages: normalized turns, stored exactly once per session.

A turn is written in one transaction: blobs rows, message rows and the session's updated_at
commit together or not at all. Exactly-once comes from UNIQUE(session_seq, dedup_key) and
`ON CONFLICT DO NOTHING`, so concurrent writers of the same message need no coordination.
Rows carry the session's integer key (`sessions.seq`, see m010) rather than its id; every
function here still takes and returns session ids.
"""

from __future__ import annotations

import sqlite3
import time

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, NotFound, TooLarge
from acontext_mcp.store.db import atomic, dumps, loads
from acontext_mcp.store.pages import clamp_limit, decode_cursor, encode_cursor
from acontext_mcp.store.sessions import SEQ_OF, touch_session, tracking_off

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:  # nor formats.parts (TypedDicts), blobs or hashlib: the brief reads here
    from typing import Any

    from acontext_mcp.formats.parts import Message

PAGE_MAX = 500  # messages per page


def dedup_key(message: Message, index: int, idempotency_key: str | None) -> str:
    """The identity of a message within its session.

    Trigger: a message is stored. Why: retries and overlapping captures must not duplicate
    turns, yet two identical "yes" replies at different times are two messages.
    Outcome, in order of preference:
      1. a native id the source gave the message (transcript uuid, API message id);
      2. the caller's idempotency key for the whole turn plus the message's index in it;
      3. provider-issued tool-call ids (globally unique) of the calls or results it holds;
      4. otherwise a fresh random key: the message is always stored.
    """
    meta = message.get("meta") or {}
    native = meta.get("id")
    if isinstance(native, str) and native:
        return "id:" + native
    if idempotency_key:
        return f"turn:{idempotency_key}:{index}"
    call_ids: list[str] = []
    for part in message["parts"]:
        if part.get("meta", {}).get("generated_id"):
            continue  # ids we made up (Gemini) are only unique within one conversion
        if part["type"] == "tool-call":
            call_ids.append("c:" + part["id"])  # type: ignore[typeddict-item]
        elif part["type"] == "tool-result":
            call_ids.append("r:" + part["tool_call_id"])  # type: ignore[typeddict-item]
    if call_ids and len(call_ids) == sum(
        1 for p in message["parts"] if p["type"] in ("tool-call", "tool-result")
    ):
        import hashlib

        digest = hashlib.sha256("\n".join(sorted(call_ids)).encode()).hexdigest()[:32]
        return "calls:" + digest
    import uuid  # here: SessionStart's brief imports this module and never needs it

    return "auto:" + uuid.uuid4().hex


def _utf8_size(text: str) -> int:
    """Bytes of `text` in UTF-8; without encoding it when it is ASCII (str.isascii is O(1))."""
    return len(text) if text.isascii() else len(text.encode())


def _check_size(index: int, size: int, cap: int) -> None:
    if size > cap:
        raise TooLarge(
            f"messages[{index}] is {size / 1e6:.1f} MB once images and files are moved out; "
            f"one message may be at most {cap / 1e6:.1f} MB (ACONTEXT_MAX_MESSAGE_BYTES). "
            "Trim long tool output or send it as a disk file; nothing of this turn was stored."
        )


def store_messages(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    messages: list[Message],
    *,
    fmt: str,
    meta: dict[str, Any] | None = None,
    keys: list[str | None] | None = None,
    status: str = "pending",
    at: float | None = None,
) -> list[dict[str, Any]]:
    """Store a turn. Returns one {id, position, stored} per input message, in order;
    stored=False means the message was already there (same dedup key). When one is stored,
    the session's updated_at moves to `at` (when the turn happened; default now)."""
    if keys is not None and len(keys) != len(messages):
        raise InvalidInput("keys must have one entry per message")
    meta = dict(meta or {})
    idempotency_key = meta.pop("idempotency_key", None)
    if idempotency_key is not None and not isinstance(idempotency_key, str):
        raise InvalidInput("meta.idempotency_key must be a string")
    from acontext_mcp.formats.parts import estimate_tokens
    from acontext_mcp.store.blobs import externalize

    now = time.time()
    results: list[dict[str, Any]] = []
    tokens_stored = 0
    with atomic(conn):
        found = conn.execute(
            "SELECT seq, configs FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if found is None:
            raise NotFound(f"no session {session_id!r}")
        seq = found[0]
        if status == "pending" and tracking_off(found[1]):
            status = "disabled"  # configs switch task tracking off: never claimed or tracked
        next_pos = conn.execute(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM messages WHERE session_seq = ?",
            (seq,),
        ).fetchone()[0]
        for index, message in enumerate(messages):
            given = keys[index] if keys is not None else None
            key = given or dedup_key(message, index, idempotency_key)
            parts, _moved = externalize(conn, settings, list(message["parts"]))
            parts_json = dumps(parts)
            message_meta = {**meta, **(message.get("meta") or {})}
            meta_json = dumps(message_meta)
            size = _utf8_size(parts_json) + _utf8_size(meta_json)
            _check_size(index, size, settings.max_message_bytes)
            tokens = estimate_tokens(message)
            cur = conn.execute(
                "INSERT INTO messages (session_seq, position, role, parts, format, meta, "
                "token_count, dedup_key, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(session_seq, dedup_key) DO NOTHING",  # RETURNING costs twice as much
                (
                    seq,
                    next_pos,
                    message["role"],
                    parts_json,
                    fmt,
                    meta_json,
                    tokens,
                    key,
                    status,
                    now,
                ),
            )
            if cur.rowcount == 1:  # inserted (0: a duplicate, DO NOTHING)
                results.append({"id": cur.lastrowid, "position": next_pos, "stored": True})
                next_pos += 1
                tokens_stored += tokens
            else:
                row = conn.execute(
                    "SELECT id, position FROM messages WHERE session_seq = ? AND dedup_key = ?",
                    (seq, key),
                ).fetchone()
                results.append({"id": row[0], "position": row[1], "stored": False})
        stored = sum(1 for r in results if r["stored"])
        if stored:
            count_stored(conn, stored, tokens_stored)
            touch_session(conn, session_id, at)
    return results


def count_stored(conn: sqlite3.Connection, messages: int, tokens: int) -> None:
    """Add newly inserted messages to `message_totals` (what `stats` reads). Every writer that
    inserts into messages calls it in the same transaction, once per batch: deletes and token
    changes are counted by triggers, but a trigger on every insert would cost a statement
    journal per row (about 10 us a message, as much as the insert itself)."""
    conn.execute(
        "UPDATE message_totals SET messages = messages + ?, tokens = tokens + ? WHERE id = 1",
        (messages, tokens),
    )


def row_to_message(settings: Settings, row: sqlite3.Row, *, inline: bool) -> dict[str, Any]:
    """A stored row as {id, position, created_at, format, token_count, message}."""
    from acontext_mcp.store.blobs import internalize

    message: dict[str, Any] = {
        "role": row["role"],
        "parts": internalize(settings, loads(row["parts"], []), inline=inline),
    }
    meta = loads(row["meta"], {})
    if meta:
        message["meta"] = meta
    return {
        "id": row["id"],
        "position": row["position"],
        "created_at": row["created_at"],
        "format": row["format"],
        "token_count": row["token_count"],
        "status": row["status"],
        "message": message,
    }


def list_messages(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
    inline: bool = True,
) -> dict[str, Any]:
    """Oldest first, paged by position."""
    limit = clamp_limit(limit, default=50, maximum=PAGE_MAX)
    found = conn.execute("SELECT seq FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if found is None:
        raise NotFound(f"no session {session_id!r}: list_sessions shows the known ids")
    after = decode_cursor(cursor, kind="messages")
    start = -1
    if after is not None:
        if after.get("s") != session_id:
            raise InvalidInput("cursor belongs to another session's messages")
        start = int(after["p"])
    rows = conn.execute(
        "SELECT * FROM messages WHERE session_seq = ? AND position > ? ORDER BY position LIMIT ?",
        (found[0], start, limit + 1),
    ).fetchall()
    items = [row_to_message(settings, r, inline=inline) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor({"k": "messages", "s": session_id, "p": items[-1]["position"]})
    return {"items": items, "next_cursor": next_cursor}


def message_position(conn: sqlite3.Connection, session_id: str, message_id: int) -> int:
    """Where one message of a session sits (a pin for edits on read); NotFound otherwise."""
    row = conn.execute(
        f"SELECT position FROM messages WHERE id = ? AND session_seq = {SEQ_OF}",
        (message_id, session_id),
    ).fetchone()
    if row is None:
        raise NotFound(
            f"message {message_id} is not in session {session_id!r}: pin one of the "
            "message_ids get_messages returns"
        )
    return int(row[0])


def tool_call_context(
    conn: sqlite3.Connection, session_id: str, before_position: int, *, scan: int = 200
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Tool-call names and still-open calls from the messages before a position.

    Gemini needs names for results and FIFO matching for calls that arrive without ids,
    often across separate store calls.
    """
    rows = conn.execute(
        f"SELECT parts FROM messages WHERE session_seq = {SEQ_OF} AND position < ? "
        "AND parts LIKE '%tool-%' ORDER BY position DESC LIMIT ?",
        (session_id, before_position, scan),
    ).fetchall()
    names: dict[str, str] = {}
    calls: list[tuple[str, str]] = []
    answered: set[str] = set()
    for row in reversed(rows):
        for part in loads(row[0], []):
            if part.get("type") == "tool-call":
                names[part["id"]] = part["name"]
                calls.append((part["id"], part["name"]))
            elif part.get("type") == "tool-result":
                answered.add(part["tool_call_id"])
    open_calls = [c for c in calls if c[0] not in answered]
    return names, open_calls


def next_position(conn: sqlite3.Connection, session_id: str) -> int:
    return conn.execute(
        f"SELECT COALESCE(MAX(position), -1) + 1 FROM messages WHERE session_seq = {SEQ_OF}",
        (session_id,),
    ).fetchone()[0]


def user_requests(conn: sqlite3.Connection, session_id: str, *, limit: int = 5) -> list[str]:
    """The texts the user typed in a session, oldest first: user messages that are prompts
    (meta.kind "prompt" or "command" from Claude Code capture; any text-only user message
    from other sources), not tool results or injected notices."""
    rows = conn.execute(
        f"SELECT parts, meta FROM messages WHERE session_seq = {SEQ_OF} AND role = 'user' "
        "AND COALESCE(json_extract(meta, '$.kind'), 'prompt') IN ('prompt', 'command') "
        "ORDER BY position LIMIT ?",
        (session_id, limit * 4),
    ).fetchall()
    requests: list[str] = []
    for row in rows:
        parts = loads(row[0])
        if any(p.get("type") == "tool-result" for p in parts):
            continue
        text = " ".join(p["text"] for p in parts if p.get("type") == "text" and p.get("text"))
        if text.strip():
            requests.append(text.strip())
        if len(requests) == limit:
            break
    return requests


def extend_message(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    key: str,
    parts: list[Any],
    *,
    added: list[Any] | None = None,
) -> int:
    """Append the parts a stored message lacks; returns how many were added (and puts them
    in `added` when given: capture reads the new tool calls in them).

    Trigger: an assistant message was stored before all of its content blocks reached the
    transcript (a final capture at Stop while the file lagged, an import of a live file).
    Why: its dedup key would otherwise turn the late blocks away for good. Outcome: the same
    row gains them, in order, and goes back to `pending` so later stages read it again.
    Call inside the caller's transaction. A merge over the size cap is left undone.
    """
    row = conn.execute(
        f"SELECT id, parts FROM messages WHERE session_seq = {SEQ_OF} AND dedup_key = ?",
        (session_id, key),
    ).fetchone()
    if row is None:
        return 0
    from acontext_mcp.formats.parts import estimate_tokens
    from acontext_mcp.store.blobs import externalize

    stored = loads(row[1])
    incoming, _moved = externalize(conn, settings, list(parts))
    seen = {dumps(p) for p in stored}
    extra = [p for p in incoming if dumps(p) not in seen]
    if not extra:
        return 0
    merged = stored + extra
    merged_json = dumps(merged)
    if len(merged_json.encode()) > settings.max_message_bytes:
        return 0
    tokens = estimate_tokens({"role": "assistant", "parts": merged})  # type: ignore[typeddict-item]
    conn.execute(
        "UPDATE messages SET parts = ?, token_count = ?, status = CASE status "
        "WHEN 'disabled' THEN 'disabled' ELSE 'pending' END WHERE id = ?",
        (merged_json, tokens, row[0]),
    )
    if added is not None:
        added.extend(extra)
    return len(extra)


def recent_assistant_parts(conn: sqlite3.Connection, session_id: str, limit: int) -> list[str]:
    """The stored `parts` JSON of the session's last `limit` assistant messages, newest first."""
    rows = conn.execute(
        f"SELECT parts FROM messages WHERE session_seq = {SEQ_OF} AND role = 'assistant' "
        "ORDER BY position DESC LIMIT ?",
        (session_id, limit),
    ).fetchall()
    return [row[0] for row in rows]


def delete_message(conn: sqlite3.Connection, message_id: int) -> None:
    conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))


def existing_dedup_keys(conn: sqlite3.Connection, session_id: str, keys: list[str]) -> set[str]:
    """Which of `keys` the session's messages already carry (keep `keys` to a few hundred)."""
    marks = ",".join("?" * len(keys))
    rows = conn.execute(
        f"SELECT dedup_key FROM messages WHERE session_seq = {SEQ_OF} AND dedup_key IN ({marks})",
        [session_id, *keys],
    )
    return {r[0] for r in rows}


def count_messages(conn: sqlite3.Connection, session_id: str) -> int:
    return int(
        conn.execute(
            f"SELECT COUNT(*) FROM messages WHERE session_seq = {SEQ_OF}", (session_id,)
        ).fetchone()[0]
    )


def messages_from(
    conn: sqlite3.Connection, session_id: str, position: int, limit: int
) -> list[sqlite3.Row]:
    """id, position, role, parts, meta and status of the session's messages from `position`
    on."""
    return conn.execute(
        "SELECT id, position, role, parts, meta, status FROM messages "
        f"WHERE session_seq = {SEQ_OF} AND position >= ? ORDER BY position LIMIT ?",
        (session_id, position, limit),
    ).fetchall()


# Message meta keys that capture and format conversion write and read back (native ids for
# dedup, original roles, provider extras, transcript envelopes): a patch may not touch them.
RESERVED_META_KEYS = frozenset(
    {
        "anthropic_extra",
        "cwd",
        "finished",
        "gemini_extra",
        "id",
        "idempotency_key",
        "kind",
        "name",
        "openai_extra",
        "original_role",
        "provisional",
        "source",
        "uuid",
        "uuids",
    }
)


def patch_meta(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    message_id: int,
    patch: dict[str, Any],
) -> dict[str, Any]:
    """Merge `patch` into a message's meta (a null value deletes the key); returns the new
    meta. Call inside the caller's transaction; `patch` is already redacted."""
    reserved = sorted(k for k in patch if k in RESERVED_META_KEYS)
    if reserved:
        raise InvalidInput(
            f"meta key(s) {', '.join(map(repr, reserved))} are reserved (capture and format "
            "conversion set them); patch other keys"
        )
    row = conn.execute(
        "SELECT m.meta, m.parts FROM messages m JOIN sessions s ON s.seq = m.session_seq "
        "WHERE m.id = ? AND s.id = ?",
        (message_id, session_id),
    ).fetchone()
    if row is None:
        raise NotFound(
            f"session {session_id!r} has no message {message_id}: get_messages lists its "
            "message_ids"
        )
    meta = loads(row[0], {})
    for key, value in patch.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    meta_json = dumps(meta)
    size = _utf8_size(meta_json) + _utf8_size(row[1])
    if size > settings.max_message_bytes:
        raise TooLarge(
            f"message {message_id} would be {size / 1e6:.1f} MB with this meta; one message may "
            f"be at most {settings.max_message_bytes / 1e6:.1f} MB (ACONTEXT_MAX_MESSAGE_BYTES). "
            "Send smaller values; nothing was changed"
        )
    conn.execute("UPDATE messages SET meta = ? WHERE id = ?", (meta_json, message_id))
    return dict(meta)


def created_at_before(conn: sqlite3.Connection, session_id: str, position: int) -> float | None:
    """created_at of the session's message just before `position`; None at the start."""
    row = conn.execute(
        f"SELECT created_at FROM messages WHERE session_seq = {SEQ_OF} AND position < ? "
        "ORDER BY position DESC LIMIT 1",
        (session_id, position),
    ).fetchone()
    return None if row is None else float(row[0])
