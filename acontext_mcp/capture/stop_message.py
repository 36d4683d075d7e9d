"""Stop's `last_assistant_message`: cover a transcript that lags behind the hook.

Claude Code may run the Stop hook before the final assistant line reaches the transcript.
The hook payload carries that final text, so after capturing we check the store has it. If
not, we re-read the transcript for a short while; if it still lags, the text is stored as a
provisional assistant message (meta.provisional) so the turn is complete even if the
transcript never catches up (a crash, a killed session). When the real message arrives in a
later capture, the provisional one is deleted in the same transaction: exactly once.

Provisional messages are tracked in one cursor row per session, so ordinary captures pay one
indexed lookup, not a scan of the session's messages.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.formats.parts import Message
from acontext_mcp.privacy.redact import redact_text
from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.db import atomic
from acontext_mcp.store.messages import delete_message, recent_assistant_parts, store_messages

TAIL = 8  # assistant messages looked at when checking whether the text is already stored


def provisional_key(session_id: str) -> str:
    return f"provisional:{session_id}"


def text_hash(text: str) -> str:
    """Whitespace-insensitive digest of an assistant text, compared after redaction."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:32]


def message_hashes(parts: list[dict[str, Any]]) -> set[str]:
    """Digests a stored assistant message can match: each text part and all of them joined."""
    texts = [p["text"] for p in parts if p.get("type") == "text" and isinstance(p.get("text"), str)]
    hashes = {text_hash(t) for t in texts if t.strip()}
    if len(texts) > 1:
        hashes.add(text_hash("\n".join(texts)))
    return hashes


def is_stored(conn: sqlite3.Connection, session_id: str, digest: str) -> bool:
    """Whether one of the session's last assistant messages carries this text."""
    parts = recent_assistant_parts(conn, session_id, TAIL)
    return any(digest in message_hashes(json.loads(p)) for p in parts)


def store_provisional(
    conn: sqlite3.Connection, settings: Settings, session_id: str, text: str
) -> bool:
    """Store `text` as a provisional assistant message unless the session has it already.
    Returns whether a message was stored. The session must exist."""
    clean, _counts = redact_text(text)
    digest = text_hash(clean)
    with atomic(conn):
        if is_stored(conn, session_id, digest):
            return False
        message: Message = {
            "role": "assistant",
            "parts": [{"type": "text", "text": clean}],
            "meta": {"provisional": True, "source": "stop_hook"},
        }
        (result,) = store_messages(
            conn, settings, session_id, [message], fmt="anthropic", keys=[f"stop:{digest}"]
        )
        if result["stored"]:
            pending = get_cursor(conn, provisional_key(session_id)) or {}
            pending[digest] = result["id"]
            set_cursor(conn, provisional_key(session_id), pending)
        return bool(result["stored"])


def settle(conn: sqlite3.Connection, session_id: str, stored_parts: list[list[dict]]) -> int:
    """Delete provisional messages that newly stored assistant messages now cover. Call in
    the transaction that stored them. Returns how many were deleted."""
    pending = get_cursor(conn, provisional_key(session_id))
    if not pending:
        return 0
    covered = set().union(*(message_hashes(parts) for parts in stored_parts))
    gone = [digest for digest in pending if digest in covered]
    for digest in gone:
        delete_message(conn, pending.pop(digest))
    if gone:
        set_cursor(conn, provisional_key(session_id), pending)
    return len(gone)
