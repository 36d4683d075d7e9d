"""`acontext-mcp events add|list SESSION`: notes and typed events a person or a script adds to
a session, and every event of it (capture's own included), oldest first."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from acontext_mcp.cli.args import int_range, session_id
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput


def json_object(value: str, what: str) -> dict[str, Any]:
    """A JSON object typed on the command line; anything else says how to write one."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON ({exc.msg}); e.g. '{{\"key\": 1}}'") from None
    if not isinstance(parsed, dict):
        raise InvalidInput(f"{what} must be a JSON object, e.g. '{{\"key\": 1}}'")
    return parsed


def event_line(event: dict[str, Any]) -> str:
    """One event as a person reads it: `~ #id HH:MM type: text or data`."""
    data = event.get("data") or {}
    if event["type"] == "note" and isinstance(data.get("text"), str):
        shown = data["text"]
    else:
        shown = json.dumps(data, ensure_ascii=False, sort_keys=True)
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event["created_at"]))
    return f"~ event #{event['id']} {at} {event['type']}: {shown}"


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import annotate
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.events import list_events

    sid = session_id(settings, args.session)
    with closing(open_db(settings)) as conn:
        if args.action == "add":
            if args.data is not None and args.type is None:
                raise InvalidInput("--data goes with --type (a note is --note TEXT)")
            data = json_object(args.data, "--data") if args.data is not None else None
            out = annotate.add_session_event(
                conn, settings, sid, type_=args.type, data=data, note=args.note, source="cli"
            )
            if args.json:
                emit_json(out)
            elif out.get("capture_off"):
                print(out["capture_off"])
            else:
                print(f"added event #{out['event']['id']} ({out['event']['type']}) to {sid}")
            return 0
        if args.note is not None or args.data is not None:
            raise InvalidInput("--note and --data are for `events add`")
        found = list_events(conn, sid, type_=args.type, after=args.after, limit=args.limit + 1)
    page, more = found[: args.limit], len(found) > args.limit
    if args.json:
        emit_json({"session_id": sid, "events": page, "more": more})
        return 0
    if not page:
        print("no events" + (f" of type {args.type}" if args.type else ""))
    for event in page:
        print(event_line(event))
    if more:
        print(f"\nmore: acontext-mcp events list {sid} --after {page[-1]['id']}")
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("events", cmd_events, "Add a note or an event to a session, or list its events.")
    p.add_argument("action", choices=["add", "list"])
    p.add_argument("session", help="session id or a unique prefix (see `acontext-mcp sessions`)")
    p.add_argument("--note", help="add: free text kept as a `note` event")
    p.add_argument("--type", help="add: the event's type (e.g. deploy); list: only this type")
    p.add_argument("--data", help="add: the event's data, a JSON object")
    p.add_argument("--after", type=int_range(0), default=0, help="list: events after this id")
    p.add_argument(
        "--limit", type=int_range(1, 1000), default=100, help="list: at most this many (100)"
    )
    add_json_option(p)
