"""What a client adds to a session besides turns: events, notes, message metadata; and the
events read back beside (or between) a page of messages.

Everything a client sends here is untrusted text, like a turn: it is redacted as turns are
(privacy/redact.py; counts become a `redaction` event) and obeys the same capture switches
(store/turns.capture_off_reason). Events are kept in `session_events` with the ones capture
writes; the types capture relies on (events.SYSTEM_TYPES) are not a client's to add.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, TooLarge
from acontext_mcp.privacy.redact import redact_text, redact_value
from acontext_mcp.store import events as event_store
from acontext_mcp.store import messages as message_store
from acontext_mcp.store.db import atomic, dumps
from acontext_mcp.store.sessions import get_session, touch_session
from acontext_mcp.store.turns import capture_off_reason

EVENT_MAX_BYTES = 64 * 1024  # one event's data as JSON
EVENTS_PER_PAGE = 200  # events returned beside one page of messages
EVENT_MODES = ("none", "beside", "interleave")
_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _check_type(type_: str) -> str:
    if not isinstance(type_, str) or not _TYPE.match(type_):
        raise InvalidInput(
            f"event type {type_!r} is not valid: use 1-64 letters, digits and _ . : - "
            "(starting with a letter or digit), e.g. deploy_started"
        )
    if redact_text(type_)[1]:  # a type is stored as given: it may not carry a secret
        raise InvalidInput(
            "event type looks like a secret (a key or token); name the kind of event and put "
            "values in data, where secrets are redacted"
        )
    if type_ in event_store.SYSTEM_TYPES:
        raise InvalidInput(
            f"event type {type_!r} is reserved for what capture records "
            f"({', '.join(sorted(event_store.SYSTEM_TYPES))}); pick another type name"
        )
    return type_


def _event_payload(type_: str | None, data: Any, note: str | None) -> tuple[str, dict[str, Any]]:
    """(type, data) of a note or of a typed event; exactly one of them."""
    if note is not None:
        if type_ is not None or data is not None:
            raise InvalidInput("send either a note or an event type with data, not both")
        if not isinstance(note, str) or not note.strip():
            raise InvalidInput("note must be non-empty text")
        return event_store.NOTE, {"text": note}
    if type_ is None:
        raise InvalidInput("name an event type (with optional JSON data), or send a note")
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("event data must be a JSON object (or omitted)")
    return _check_type(type_), dict(data or {})


def add_session_event(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    *,
    type_: str | None = None,
    data: dict[str, Any] | None = None,
    note: str | None = None,
    source: str = "mcp",
    workdir: str | None = None,
) -> dict[str, Any]:
    """Add a typed event or a free-text note (type "note", data {"text"}) to an existing
    session, redacted. Returns {session_id, event} or, while a capture switch covers the
    session, {session_id, event: None, capture_off} with nothing stored."""
    type_, payload = _event_payload(type_, data, note)
    size = len(dumps(payload).encode())
    if size > EVENT_MAX_BYTES:
        raise TooLarge(
            f"event data is {size} bytes as JSON; at most {EVENT_MAX_BYTES} per event "
            "(put large content on a disk and reference its path); nothing was stored"
        )
    get_session(conn, session_id)  # NotFound: events do not create sessions
    off = capture_off_reason(conn, settings, session_id=session_id, workdir=workdir)
    if off:
        return {"session_id": session_id, "event": None, "capture_off": f"nothing stored: {off}"}
    clean, counts = redact_value(payload)
    with atomic(conn):
        event_id = event_store.add_event(conn, session_id, type_, clean)
        _note_redaction(conn, session_id, counts, source)
        touch_session(conn, session_id)
    return {"session_id": session_id, "event": {"id": event_id, "type": type_, "data": clean}}


def patch_message_meta(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    message_id: int,
    patch: Any,
    *,
    source: str = "mcp",
) -> dict[str, Any]:
    """Merge `patch` into one message's meta: a null value deletes the key; reserved keys
    (messages.RESERVED_META_KEYS) are refused. Returns {session_id, message_id, meta}."""
    if not isinstance(patch, dict) or not patch:
        raise InvalidInput('meta patch must be a non-empty JSON object, e.g. {"rating": 5}')
    clean, counts = redact_value(patch)
    with atomic(conn):
        meta = message_store.patch_meta(conn, settings, session_id, message_id, clean)
        _note_redaction(conn, session_id, counts, source)
    return {"session_id": session_id, "message_id": message_id, "meta": meta}


def _note_redaction(
    conn: sqlite3.Connection, session_id: str, counts: Counter[str], source: str
) -> None:
    if counts:
        event_store.add_event(
            conn, session_id, "redaction", {"counts": dict(counts), "source": source}
        )


def _message_times(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[int, float]]:
    """id -> (position, created_at) of the page's messages."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT id, position, created_at FROM messages WHERE id IN ({marks})", ids
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def add_events(conn: sqlite3.Connection, page: dict[str, Any], mode: str) -> dict[str, Any]:
    """`page` (turns.read_messages) with the session's events of the same stretch of time:
    after the previous page's last message, up to this page's last one (to the end on the
    last page), so paging through shows every event once.

    mode "beside": a list `events` next to `messages`. "interleave": each event as
    {"event": {...}} inside `messages`, in time order (an event lands after the messages
    stored at or before it), with None in `message_ids` at its place. At most
    EVENTS_PER_PAGE events; `events_omitted` counts the rest (`acontext-mcp events list`).
    """
    if mode not in EVENT_MODES:
        raise InvalidInput(f"include_events must be one of {', '.join(EVENT_MODES)}; got {mode!r}")
    if mode == "none":
        return page
    session_id = page["session_id"]
    ids = [i for i in page["message_ids"] if i is not None]
    times = _message_times(conn, sorted(set(ids)))
    after = upto = None
    if times:
        first = min(p for p, _ in times.values())
        after = message_store.created_at_before(conn, session_id, first)
        if page.get("next_cursor"):
            upto = max(times.values())[1]  # the last message's, by position
    events, more = event_store.events_between(conn, session_id, after, upto, EVENTS_PER_PAGE)
    out = dict(page)
    if more:
        out["events_omitted"] = more
    if mode == "beside":
        out["events"] = events
        return out
    messages: list[Any] = []
    message_ids: list[int | None] = []
    queue = list(events)
    for message, mid in zip(page["messages"], page["message_ids"], strict=True):
        at = times[mid][1] if mid in times else None
        while queue and at is not None and queue[0]["created_at"] < at:
            messages.append({"event": queue.pop(0)})
            message_ids.append(None)
        messages.append(message)
        message_ids.append(mid)
    for event in queue:
        messages.append({"event": event})
        message_ids.append(None)
    out["messages"], out["message_ids"] = messages, message_ids
    return out
