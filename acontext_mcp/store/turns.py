"""Turns in and out in any supported format: convert, then store or read.

The seam every writer (MCP tool, CLI, hooks) and reader shares, so conversion rules and
dedup rules cannot differ between them.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import convert
from acontext_mcp.formats.parts import FORMATS
from acontext_mcp.privacy.redact import redact_message, redact_value
from acontext_mcp.privacy.switches import capture_allowed
from acontext_mcp.store import messages as message_store
from acontext_mcp.store.db import atomic
from acontext_mcp.store.events import add_event
from acontext_mcp.store.sessions import (
    check_session_id,
    check_user,
    claim_user,
    ensure_session,
    new_session_id,
)

MAX_MESSAGES_PER_TURN = 500
_META_PROJECT_KEYS = ("project_dir", "cwd")  # where a caller may name the turn's project


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


def _project_dirs(
    conn: sqlite3.Connection,
    session_id: str | None,
    meta: dict[str, Any] | None,
    project_dir: str | None,
    workdir: str | None,
) -> list[str | None]:
    """Every directory a project switch may name for this turn: the caller's, the turn's meta,
    the session's stored project and the server's working directory (the agent's project)."""
    found: list[str | None] = [project_dir]
    given = meta or {}
    found += [given[k] for k in _META_PROJECT_KEYS if isinstance(given.get(k), str)]
    if session_id is not None:
        row = conn.execute("SELECT project_dir FROM sessions WHERE id = ?", (session_id,))
        found += [r[0] for r in row.fetchall()]
    found.append(workdir)
    dirs: list[str | None] = list(dict.fromkeys(d for d in found if d))
    return dirs or [None]  # no project known: the global and session switches still apply


def capture_off_reason(
    conn: sqlite3.Connection,
    settings: Settings,
    *,
    session_id: str | None,
    meta: dict[str, Any] | None = None,
    project_dir: str | None = None,
    workdir: str | None = None,
) -> str:
    """Why a turn sent through the store must not be kept (a capture switch is off), or "".

    Trigger: store_turn is called. Why: the tool is another way in for what the hooks keep
    out, so it obeys the same switches. Outcome: the first switch found off, as the hooks
    would report it.
    """
    for directory in _project_dirs(conn, session_id, meta, project_dir, workdir):
        allowed, why = capture_allowed(settings, project_dir=directory, session_id=session_id)
        if not allowed:
            return why
    return ""


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
    workdir: str | None = None,
) -> dict[str, Any]:
    """Normalize, redact and store one or more messages; create the session when unknown.

    Secrets and `<private>` spans are redacted as the hooks redact them (counts become a
    `redaction` session event). While a capture switch covers the turn (everywhere, its
    session, or a project named by `project_dir`, meta, the session or `workdir`) nothing is
    stored and the answer's `capture_off` says why: not an error, so clients do not retry.
    """
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
    if session_id is not None:
        check_session_id(session_id)
    off = capture_off_reason(
        conn,
        settings,
        session_id=session_id,
        meta=meta,
        project_dir=project_dir,
        workdir=workdir,
    )
    if off:
        return {
            "session_id": session_id,
            "session_created": False,
            "message_ids": [],
            "stored": 0,
            "duplicates": 0,
            "capture_off": f"nothing stored: {off}",
        }
    if session_id is None:
        session_id = new_session_id()
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
    redacted = [redact_message(m) for m in internal]
    clean_meta, meta_counts = redact_value(meta) if meta is not None else (None, Counter())
    with atomic(conn):  # the session and its first turn appear together or not at all
        session_id, created = ensure_session(
            conn, session_id, agent=agent, project_dir=project_dir, user=check_user(user)
        )
        if user is not None and not created:
            claim_user(conn, session_id, user)
        results = message_store.store_messages(
            conn, settings, session_id, [m for m, _ in redacted], fmt=fmt, meta=clean_meta
        )
        counts: Counter[str] = Counter()
        for result, (_, counted) in zip(results, redacted, strict=True):
            if result["stored"]:
                counts.update(counted)
        if any(r["stored"] for r in results):
            counts.update(meta_counts)
        if counts:
            add_event(conn, session_id, "redaction", {"counts": dict(counts), "source": agent})
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
    edits: list[Any] | None = None,
    pin: int | None = None,
) -> dict[str, Any]:
    """A page of messages converted to `fmt`, with the store id of each output message.

    One stored message can become several output messages (OpenAI splits tool results into
    one `tool` message each), so `message_ids` runs parallel to `messages`, repeating ids.
    `edits` (context/edit.py strategies) edit a copy of the page before conversion, up to the
    `pin` message when one is given; the answer's `edited` tells what they did.
    """
    check_format(fmt)
    strategies = _strategies(edits) if edits is not None or pin is not None else None
    page = message_store.list_messages(
        conn, settings, session_id, limit=limit, cursor=cursor, inline=inline_binary
    )
    items = page["items"]
    edited = None
    if strategies is not None:
        items, edited = _edit_page(conn, session_id, items, strategies, pin)
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
        **({"edited": edited} if edited is not None else {}),
    }


def _strategies(edits: list[Any] | None) -> list[Any]:
    from acontext_mcp.context.edit import parse_strategies  # reads without edits skip it

    return parse_strategies([] if edits is None else edits)


def _edit_page(
    conn: sqlite3.Connection,
    session_id: str,
    items: list[dict[str, Any]],
    strategies: list[Any],
    pin: int | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The page's items after the edits, and the answer's `edited` report (ids are message
    ids). A pin edits the page's messages up to it: all of them if it comes after the page,
    none if before."""
    from acontext_mcp.context.edit import apply_edits

    editable = None
    if pin is not None:
        at = message_store.message_position(conn, session_id, pin)
        editable = sum(1 for item in items if item["position"] <= at)
    result = apply_edits(
        [item["message"] for item in items],
        [item["id"] for item in items],
        strategies,
        editable=editable,
    )
    by_id = {item["id"]: item for item in items}
    kept = [{**by_id[i], "message": m} for i, m in zip(result.ids, result.messages, strict=True)]
    report = {
        "at_message_id": pin if pin is not None else (items[-1]["id"] if items else None),
        "counter": result.counter,
        "tokens_before": result.tokens_before,
        "tokens_after": result.tokens_after,
        "applied": result.applied,
    }
    return kept, report


def session_tokens(conn: sqlite3.Connection, settings: Settings, session_id: str) -> dict[str, Any]:
    """The token count of every message of a session, oldest first, and their total, with the
    counter that made them (context/tokens.py)."""
    from acontext_mcp.context.tokens import counter, message_tokens

    count = counter()
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = message_store.list_messages(
            conn, settings, session_id, limit=message_store.PAGE_MAX, cursor=cursor, inline=False
        )
        for item in page["items"]:
            message = item["message"]
            role = message.get("meta", {}).get("original_role", message["role"])
            rows.append(
                {"id": item["id"], "role": role, "tokens": message_tokens(message, count.count)}
            )
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return {
        "session_id": session_id,
        "counter": count.name,
        "total": sum(r["tokens"] for r in rows),
        "messages": rows,
    }
