"""`acontext-mcp users list|show|assign|forget`: the data a user identifier carries.

The domain is app/users.py. `forget` shows the counts first and asks (or needs --yes), as
`acontext-mcp forget` does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import closing
from typing import Any

from acontext_mcp.cli.args import session_ids
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.progress import human_bytes


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe(plan: dict[str, Any], *, done: bool) -> list[str]:
    """The user's plan (or outcome) in a few lines a person can check before saying yes."""
    from acontext_mcp.cli.forget import describe as describe_sessions

    lines = [f"user {plan['user']}:"]
    if plan["sessions"]["sessions"]:
        lines += ["  " + line for line in describe_sessions(plan["sessions"], done=done)]
    else:
        lines.append("  no sessions")
    disks = plan["disks"] if isinstance(plan["disks"], list) else []
    head = "deleted" if done else "would delete"
    count = plan["disks"] if isinstance(plan["disks"], int) else len(disks)
    lines.append(
        f"  {head} {_n(count, 'disk')}{' (' + ', '.join(disks) + ')' if disks else ''}: "
        f"{_n(plan['artifacts'], 'file')}"
        + (f" ({human_bytes(plan['artifact_bytes'])})" if "artifact_bytes" in plan else "")
    )
    spaces = plan["spaces"] if isinstance(plan["spaces"], list) else []
    count = plan["spaces"] if isinstance(plan["spaces"], int) else len(spaces)
    lines.append(
        f"  {head} {_n(count, 'learning space')}"
        f"{' (' + ', '.join(spaces) + ')' if spaces else ''} and "
        f"{_n(plan['skill_links'], 'skill association')}"
    )
    if plan["skills_kept"]:
        only = set(plan["skills_only_theirs"])
        named = ", ".join(s + (" (only theirs)" if s in only else "") for s in plan["skills_kept"])
        lines.append(
            f"  kept: skill folders {named} stay in the skills repository; delete a folder and "
            "commit, or `acontext-mcp skills revert COMMIT`, to remove what was learned"
        )
    return lines


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.app import users
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.users import list_users

    if args.action != "list" and not args.user:
        raise InvalidInput(f"`users {args.action}` needs USER (`acontext-mcp users list`)")
    with closing(open_db(settings)) as conn:
        if args.action == "list":
            return _print_list(args, list_users(conn))
        if args.action == "show":
            return _print_show(args, users.show(conn, args.user))
        if args.action == "assign":
            out = users.assign(
                conn,
                settings,
                args.user,
                sessions=session_ids(settings, args.session or []),
                disks=args.disk or [],
                spaces=args.space or [],
                skills=args.skill or [],
                remove=args.remove,
            )
            if args.json:
                emit_json(out)
            else:
                what = out.get("assigned") or out.get("removed") or {}
                n = sum(len(v) for v in what.values())
                verb = "took" if args.remove else "gave"
                print(f"{verb} {_n(n, 'item')} {'from' if args.remove else 'to'} {args.user}")
            return 0
        plan = users.plan(conn, args.user)
        if args.dry_run:
            if args.json:
                emit_json({**plan, "dry_run": True})
            else:
                print("\n".join(describe(plan, done=False)))
            return 0
        from acontext_mcp.cli.forget import confirmed

        lines = describe(plan, done=False)
        if not args.yes and not confirmed(plan, f"Delete {args.user}'s data", lines):
            return 1
        result = users.forget_user(conn, settings, args.user)
    if args.json:
        emit_json(result)
        return 0
    print("\n".join(describe(result, done=True)))
    return 0


def _print_list(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    if args.json:
        emit_json({"users": rows})
        return 0
    if not rows:
        print("no users yet: `acontext-mcp users assign USER --session ID` names one")
        return 0
    for r in rows:
        print(
            f"{r['user']}: {_n(r['sessions'], 'session')}, {_n(r['disks'], 'disk')}, "
            f"{_n(r['spaces'], 'space')}, {_n(r['skills'], 'skill')}"
        )
    return 0


def _print_show(args: argparse.Namespace, data: dict[str, Any]) -> int:
    if args.json:
        emit_json(data)
        return 0
    print(f"user {data['user']}")
    for kind in ("sessions", "disks", "spaces", "skills"):
        print(f"  {kind:<9} {', '.join(data[kind]) or '-'}")
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    about = (
        "Users: list them, show what carries USER, assign sessions, disks, spaces and skills "
        "to USER (--remove: take them away), forget USER's data (asks first; see --dry-run)."
    )
    p = add("users", cmd_users, about)
    p.add_argument(
        "action", choices=("list", "show", "assign", "forget"), nargs="?", default="list"
    )
    p.add_argument("user", nargs="?", help="the user identifier (an email, an id)")
    p.add_argument("--session", action="append", metavar="ID", help="assign: a session")
    p.add_argument("--disk", action="append", metavar="NAME", help="assign: a disk")
    p.add_argument("--space", action="append", metavar="NAME", help="assign: a learning space")
    p.add_argument("--skill", action="append", metavar="NAME", help="assign: a skill")
    p.add_argument("--remove", action="store_true", help="assign: take them away instead")
    p.add_argument("--dry-run", action="store_true", help="forget: show counts; remove nothing")
    p.add_argument("-y", "--yes", action="store_true", help="forget: do not ask")
    add_json_option(p)
