"""Turns in and out in any supported format: convert, then store or read.

The seam every writer (MCP tool, CLI, hooks) and reader shares, so conversion rules and
dedup rules cannot differ between them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import convert
from acontext_mcp.formats.parts import FORMATS
from acontext_mcp.store import messages as message_store
from acontext_mcp.store.db import atomic
from acontext_mcp.store.sessions import check_session_id, ensure_session, new_session_id

MAX_MESSAGES_PER_TURN = 500


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt


def _has_idless_results(raw_messages: list[Any], fmt: str) -> bool:
    """Whether a turn holds tool results that name no call id (so must be paired by name)."""
    for raw in raw_messages:
        if not isinstance(raw, dict):
            continue
        if fmt == "openai" and raw.get("role") == "function":
            return True
        if fmt == "gemini":
            for part in raw.get("parts") or []:
                if not isinstance(part, dict):
                    continue
                response = part.get("functionResponse") or part.get("function_response")
                if isinstance(response, dict) and not response.get("id"):
                    return True
    return False


def store_turn(
    conn: sqlite3.Connection,
    settings: Settings,
    raw_messages: Any,
    *,
    fmt: str = "openai",
    session_id: str | None = None,
    meta: dict[str, Any] | None = None,
    agent: str = "mcp",
    project_dir: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Normalize and store one or more messages; create the session when unknown."""
    check_format(fmt)
    if not isinstance(raw_messages, list) or not raw_messages:
        raise InvalidInput("messages must be a non-empty list of message objects")
    if len(raw_messages) > MAX_MESSAGES_PER_TURN:
        raise InvalidInput(
            f"{len(raw_messages)} messages in one call; send at most {MAX_MESSAGES_PER_TURN} "
            "per call (split the list, keeping order)"
        )
    if meta is not None and not isinstance(meta, dict):
        raise InvalidInput("meta must be an object (or omitted)")
    if session_id is None:
        session_id = new_session_id()
    check_session_id(session_id)
    kwargs: dict[str, Any] = {}
    if fmt in ("gemini", "openai"):
        # Generated ids (Gemini calls, OpenAI legacy functions) are salted with where this
        # turn lands in the session; id-less results pair FIFO with calls stored earlier,
        # which costs a look back, so only turns holding such results pay for it.
        position = message_store.next_position(conn, session_id)
        kwargs["id_salt"] = f"{session_id}:{position}"
        if _has_idless_results(raw_messages, fmt):
            _, kwargs["open_calls"] = message_store.tool_call_context(conn, session_id, position)
    # Convert before touching the store: a bad message must not create an empty session.
    internal = convert.to_internal(raw_messages, fmt, **kwargs)
    with atomic(conn):  # the session and its first turn appear together or not at all
        session_id, created = ensure_session(
            conn, session_id, agent=agent, project_dir=project_dir, user=user
        )
        results = message_store.store_messages(
            conn, settings, session_id, internal, fmt=fmt, meta=meta
        )
    stored = sum(1 for r in results if r["stored"])
    return {
        "session_id": session_id,
        "session_created": created,
        "message_ids": [r["id"] for r in results],
        "stored": stored,
        "duplicates": len(results) - stored,
    }


def read_messages(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    *,
    fmt: str = "openai",
    limit: int | None = None,
    cursor: str | None = None,
    inline_binary: bool = True,
) -> dict[str, Any]:
    """A page of messages converted to `fmt`, with the store id of each output message.

    One stored message can become several output messages (OpenAI splits tool results into
    one `tool` message each), so `message_ids` runs parallel to `messages`, repeating ids.
    """
    check_format(fmt)
    page = message_store.list_messages(
        conn, settings, session_id, limit=limit, cursor=cursor, inline=inline_binary
    )
    items = page["items"]
    kwargs: dict[str, Any] = {}
    if fmt == "gemini" and items:
        names, _ = message_store.tool_call_context(conn, session_id, items[0]["position"])
        kwargs["call_names"] = names
    out: list[Any] = []
    ids: list[int] = []
    for item in items:
        converted = (
            [item["message"]]
            if fmt == "acontext"
            else convert.from_internal([item["message"]], fmt, **kwargs)
        )
        if fmt == "gemini":
            for part in item["message"]["parts"]:
                if part.get("type") == "tool-call":
                    kwargs.setdefault("call_names", {})[part["id"]] = part["name"]
        out.extend(converted)
        ids.extend([item["id"]] * len(converted))
    return {
        "session_id": session_id,
        "format": fmt,
        "messages": out,
        "message_ids": ids,
        "next_cursor": page["next_cursor"],
    }
