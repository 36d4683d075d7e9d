"""`acontext-mcp sessions create|copy|delete|configs`: administer one session.

`acontext-mcp sessions` alone lists them (cli/browse.py); these are its subcommands. The
domain is app/sessions.py (the MCP tool `manage_session` calls the same functions).
"""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from typing import Any

from acontext_mcp.cli.args import session_id
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput


def json_object(value: str) -> dict[str, Any]:
    """An argparse type: a JSON object (`'{"key": "value"}'`)."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc.msg}): {value!r}") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"needs a JSON object, e.g. '{{\"key\": 1}}': {value!r}")
    return parsed


def config_pair(value: str) -> tuple[str, Any]:
    """`--config key=value`: the value as JSON when it parses (true, 3, null, "x"), else the
    text as typed (so `source=claude-code` needs no quotes)."""
    key, sep, raw = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"use key=value (got {value!r})")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import sessions as store
    from acontext_mcp.store.db import open_db

    store.check_user(args.user)
    configs = store.check_configs(args.configs or {})
    with closing(open_db(settings)) as conn:
        sid, created = store.ensure_session(
            conn, args.id, agent="cli", user=args.user, configs=configs
        )
    if not created:
        raise InvalidInput(f"session {sid!r} exists already; omit --id for a new one")
    out = {"session_id": sid, "configs": configs, "user": args.user}
    if args.json:
        emit_json(out)
    else:
        print(sid)
    return 0


def cmd_copy(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.app.sessions import copy_session
    from acontext_mcp.store.db import open_db

    source = session_id(settings, args.session)
    with closing(open_db(settings)) as conn:
        out = copy_session(conn, source)
    if args.json:
        emit_json(out)
        return 0
    print(
        f"copied {source} -> {out['session_id']}: {out['messages']} messages, "
        f"{out['tasks']} tasks, {out['events']} events"
    )
    return 0


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.app.sessions import delete_session
    from acontext_mcp.cli.forget import BUSY, confirmed, describe
    from acontext_mcp.store.db import open_db

    sid = session_id(settings, args.session)
    with closing(open_db(settings)) as conn:
        plan = delete_session(conn, settings, sid, dry_run=True)
        if args.dry_run:
            if args.json:
                emit_json(plan)
            else:
                print("\n".join(describe(plan, done=False)))
            return 0
        if not args.yes and not confirmed(plan, "Delete it"):
            return 1
        result = delete_session(conn, settings, sid)
    if args.json:
        emit_json(result)
        return 0
    print("\n".join(describe(result, done=True)))
    if result["wal_busy"]:
        print(BUSY)
    return 0


def cmd_configs(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import sessions as store
    from acontext_mcp.store.db import open_db

    sid = session_id(settings, args.session)
    with closing(open_db(settings)) as conn:
        if args.replace is not None:
            configs = store.set_configs(conn, sid, args.replace)
        elif args.patch is not None:
            configs = store.set_configs(conn, sid, args.patch, patch=True)
        else:
            configs = store.get_configs(conn, sid)
    emit_json({"session_id": sid, "configs": configs} if args.json else configs)
    return 0


def add_actions(parser: argparse.ArgumentParser) -> None:
    """The subcommands of `acontext-mcp sessions` (none: list them)."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    which = "session id or a unique prefix (see `acontext-mcp sessions`)"

    def action(name: str, handler: Any, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        add_json_option(p)
        return p

    p = action("create", cmd_create, "Start an empty session with configs and a user.")
    p.add_argument("--id", help="its id (default: a new UUID)")
    p.add_argument("--user", help="the user it belongs to (see `acontext-mcp users`)")
    p.add_argument(
        "--configs",
        type=json_object,
        help="JSON object, e.g. '{\"disable_task_tracking\": true}'",
    )

    p = action(
        "copy",
        cmd_copy,
        "Copy a session (messages, tasks, events) into a new, independent session.",
    )
    p.add_argument("session", help=which)

    p = action(
        "delete",
        cmd_delete,
        "Delete a session with everything stored about it, as `forget` does (asks first).",
    )
    p.add_argument("session", help=which)
    p.add_argument("--dry-run", action="store_true", help="show what would go; remove nothing")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask (needed with no terminal)")

    p = action(
        "configs",
        cmd_configs,
        "Show a session's configs (JSON), or replace or patch them (a null value deletes a key).",
    )
    p.add_argument("session", help=which)
    change = p.add_mutually_exclusive_group()
    change.add_argument("--replace", type=json_object, metavar="JSON", help="new configs")
    change.add_argument(
        "--patch", type=json_object, metavar="JSON", help="keys to set; null deletes a key"
    )
