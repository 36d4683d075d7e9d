"""Capture gaps: spans of time whose turns are never stored, even when read later.

Trigger: capture was off while no hook ran to consume what was written: acontext was
uninstalled from an agent, or a switch was flipped with `acontext-mcp capture off` / `on`
between two hooks. Why: the next hook or an import after capture is back reads from the old
cursor (or the whole history OpenClaw resends) and would store those turns. Outcome: a list
of spans `{scope, value, from, to}` kept in the store (cursors table, key `capture-gaps`);
capture drops every record whose own timestamp falls in a span that covers it. A span stays
open (`to` null) until its switch is turned back on: by the command that opened it, or by the
first hook that finds capture on again for what the span covers (see `resume`).
Scopes: `all`, `agent` (claude-code, openclaw), `session` (an id), `project` (a directory
and below). Stdlib only: hooks read this.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.db import atomic
from acontext_mcp.store.sessions import session_created_at

GAPS_KEY = "capture-gaps"
SCOPES = frozenset({"all", "agent", "session", "project"})


class Subject:
    """What a record belongs to, as the spans name it."""

    __slots__ = ("agent", "project_dir", "session_ids")

    def __init__(self, agent: str, session_ids: tuple[str | None, ...], project_dir: str | None):
        self.agent, self.project_dir = agent, _norm(project_dir) if project_dir else None
        self.session_ids = {s for s in session_ids if s}


def load(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The recorded spans (well-formed ones only)."""
    value = get_cursor(conn, GAPS_KEY)
    if not isinstance(value, list):
        return []
    return [
        g
        for g in value
        if isinstance(g, dict)
        and g.get("scope") in SCOPES
        and isinstance(g.get("from"), (int, float))
    ]


def open_gap(
    conn: sqlite3.Connection, scope: str, value: str | None = None, *, at: float | None = None
) -> None:
    """Start a span now (or `at`), unless one of the same scope and value is already open."""
    value = _norm(value) if scope == "project" and value else value
    with atomic(conn):
        gaps = load(conn)
        if any(_same(g, scope, value) and g.get("to") is None for g in gaps):
            return
        gaps.append({"scope": scope, "value": value, "from": at or time.time(), "to": None})
        set_cursor(conn, GAPS_KEY, gaps)


def close_gap(conn: sqlite3.Connection, scope: str, value: str | None = None) -> None:
    """End the open span of this scope and value now (a no-op when none is open)."""
    value = _norm(value) if scope == "project" and value else value
    _close(conn, lambda g: _same(g, scope, value))


def resume(conn: sqlite3.Connection, subject: Subject, session_id: str) -> bool:
    """Trigger: a hook finds every switch on for `subject`. Returns whether it may capture.

    Why: a span still open means its switch went another way (a marker deleted by hand,
    acontext reinstalled through the plugin), so the spans covering `subject` end now; what
    was written before stays out. Except: an agent span (uninstall) is not ended by a session
    that already existed when it began: a running agent keeps the hooks it loaded at start, so
    such a hook says nothing about a reinstall, and capture stays off for it (False) until
    `install`. Costs one read when no span is open, so hooks call it every time.
    """
    spans = [g for g in load(conn) if g.get("to") is None and _covers_subject(g, subject)]
    if not spans:
        return True
    created = session_created_at(conn, session_id)
    if created is not None and any(g["scope"] == "agent" and created < g["from"] for g in spans):
        return False
    _close(conn, lambda g: _covers_subject(g, subject))
    return True


def in_gap(gaps: list[dict[str, Any]], subject: Subject, stamp: Any) -> bool:
    """Whether a record stamped `stamp` (ISO 8601 text or epoch milliseconds) falls in a span
    covering `subject`. A record without a readable stamp is never in a gap."""
    if not gaps:
        return False
    when = epoch(stamp)
    if when is None:
        return False
    for gap in gaps:
        end = gap.get("to")
        if gap["from"] <= when and (end is None or when <= end) and _covers_subject(gap, subject):
            return True
    return False


def _close(conn: sqlite3.Connection, match: Any) -> None:
    with atomic(conn):
        gaps = load(conn)
        changed = False
        for gap in gaps:
            if gap.get("to") is None and match(gap):
                gap["to"] = time.time()
                changed = True
        if changed:
            set_cursor(conn, GAPS_KEY, gaps)


def _same(gap: dict[str, Any], scope: str, value: str | None) -> bool:
    return gap["scope"] == scope and gap.get("value") == value


def _covers_subject(gap: dict[str, Any], subject: Subject) -> bool:
    scope, value = gap["scope"], gap.get("value")
    if scope == "all":
        return True
    if scope == "agent":
        return value == subject.agent
    if scope == "session":
        return value in subject.session_ids
    if not (isinstance(value, str) and subject.project_dir):
        return False
    return subject.project_dir == value or subject.project_dir.startswith(value.rstrip("/") + "/")


def _norm(path: str) -> str:
    return os.path.normpath(os.path.abspath(os.path.expanduser(path)))


def epoch(stamp: Any) -> float | None:
    """Seconds since the epoch of a record's stamp (ISO 8601 text, epoch seconds or OpenClaw's
    milliseconds); None when there is none or it cannot be read."""
    if isinstance(stamp, bool):
        return None
    if isinstance(stamp, (int, float)):
        return stamp / 1000 if stamp > 1e11 else float(stamp)  # milliseconds (OpenClaw)
    if not isinstance(stamp, str) or not stamp:
        return None
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
