"""`acontext-mcp learn` and `acontext-mcp spaces`: learn skills now, see where they go.

`learn SESSION` observes the session, distills its finished tasks and runs the skill learner
in the foreground, printing each step; without SESSION it shows the learning status of recent
sessions. `spaces` lists, creates and inspects learning spaces and attaches sessions to them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from acontext_mcp.cli.args import int_range, session_id
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings


def _cost(item: dict[str, Any]) -> str:
    """What one learning cost in LLM calls and tokens (its distillation and its share of a
    learner run)."""
    calls, tokens = item.get("llm_calls") or 0, item.get("tokens") or 0
    if not calls and not tokens:
        return " (no LLM call)"
    return f" ({calls} LLM call{'s' if calls != 1 else ''}, {tokens:,} tokens)"


def _status_lines(status: dict[str, Any]) -> list[str]:
    head = f"{status['session_id']}: {status['status']}"
    if status.get("space"):
        head += f" (space {status['space']})"
    lines = [head]
    for item in status["learnings"]:
        what = item.get("task") or item["kind"]
        extra = f" -> {item['commit'][:10]}" if item.get("commit") else ""
        if item.get("proposal") and item.get("review") != "accepted":
            extra = f" -> proposal {item['proposal']} ({item['review']})"
        lines.append(f"  [{item['status']}] {item['kind']}: {what[:70]}{extra}{_cost(item)}")
        if item.get("error"):
            lines.append(f"      {item['error'][:200]}")
    queued = status["jobs"].get("queued", 0)
    if queued:
        lines.append(f"  {queued} task(s) waiting to be distilled")
    if not status["learnings"] and not queued:
        lines.append(f"  nothing learned yet ({status['finished_tasks']} finished task(s))")
    if status.get("unfinished_tasks"):
        lines.append(
            f"  {status['unfinished_tasks']} task(s) not finished yet: learned once "
            "they succeed or fail (--finish-running marks running ones done)"
        )
    return lines


def cmd_learn(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import learning
    from acontext_mcp.store.db import open_db

    if not args.session:
        conn = open_db(settings)
        try:
            statuses = learning.recent_statuses(conn, limit=args.limit)
        finally:
            conn.close()
        if args.json:
            emit_json({"sessions": statuses})
        elif not statuses:
            print(
                "no learning yet: finished tasks are learned automatically, or run "
                "`acontext-mcp learn SESSION`"
            )
        else:
            for status in statuses:
                print("\n".join(_status_lines(status)))
        return 0
    from acontext_mcp.app.learning import learn_session
    from acontext_mcp.logsetup import setup_logging

    setup_logging(settings, name="worker")

    def progress(message: str) -> None:
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    out = learn_session(
        settings,
        session_id(settings, args.session),
        space=args.space,
        observe_first=not args.no_observe,
        timeout_s=args.timeout,
        progress=progress,
        finish_running=args.finish_running,
    )
    status = out["status"]
    if args.json:
        emit_json(out)
        return 0 if status["status"] in ("completed", "idle") else 1
    if out.get("observe", {}).get("reason"):
        print(f"observe: {out['observe']['status']}: {out['observe']['reason']}")
    for step in out["steps"]:
        if step["status"] != "done":
            print(f"{step['job']}: {step['status']}: {step.get('reason') or ''}".rstrip())
    print("\n".join(_status_lines(status)))
    if status["commits"]:
        print("review with `acontext-mcp skills log`; undo with `acontext-mcp skills revert SHA`")
    if any(item.get("review") == "pending" for item in status["learnings"]):
        print("proposals wait for review: `acontext-mcp skills proposals`")
    return 0 if status["status"] in ("completed", "idle") else 1


def cmd_spaces(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import learning
    from acontext_mcp.store.db import atomic, open_db

    conn = open_db(settings)
    try:
        if args.action == "list":
            value: Any = learning.list_spaces(conn)
            text = "\n".join(
                f"{s['name']}: {len(s['skills'])} own skill(s), {s['sessions']} session(s)"
                + (f" - {s['description']}" if s["description"] else "")
                for s in value
            )
        elif args.action == "create":
            with atomic(conn):
                value = learning.ensure_space(conn, _need(args.name, "a space name"), args.describe)
            text = f"space {value['name']} ready"
        elif args.action == "show":
            value = learning.get_space(conn, _need(args.name, "a space name"))
            owned = ", ".join(value["skills"]) or "(none yet; shared skills only)"
            text = f"{value['name']}: {value['sessions']} session(s); own skills: {owned}"
        elif args.action == "attach":
            args.target = session_id(settings, _need(args.target, "a session id"))
            space = learning.attach_session(
                conn,
                _need(args.target, "a session id"),
                _need(args.name, "a space name"),
                explicit=True,
            )
            value = {"session_id": args.target, "space": space}
            text = f"session {args.target} learns into space {space}"
        elif args.action == "include":
            value = _include(
                conn, settings, _need(args.name, "a space name"), _need(args.target, "a skill name")
            )
            text = f"skill {value['skill']} now belongs to space {value['space']}"
        else:  # exclude
            skill = _need(args.name, "a skill name")
            with atomic(conn):
                was_owned = learning.unlink_skill(conn, skill)
            value = {"skill": skill, "shared": True, "was_owned": was_owned}
            text = f"skill {skill} is shared by every space" + ("" if was_owned else " (it was)")
    finally:
        conn.close()
    if args.json:
        emit_json(value)
    else:
        print(text)
    return 0


def _include(conn: Any, settings: Settings, space: str, skill: str) -> dict[str, Any]:
    """Give an existing skill to a space: its learner keeps seeing it, others stop."""
    from acontext_mcp.errors import NotFound
    from acontext_mcp.skills import catalog
    from acontext_mcp.skills.defaults import ensure_ready
    from acontext_mcp.store import learning
    from acontext_mcp.store.db import atomic

    ensure_ready(settings)
    names = {s["name"] for s in catalog.list_skills(settings.skills_dir)}
    if skill not in names:
        raise NotFound(f"no skill {skill!r} in {settings.skills_dir} (`acontext-mcp skills list`)")
    with atomic(conn):
        learning.get_space(conn, space)
        learning.link_skill(conn, space, skill)
    return {"skill": skill, "space": space}


def _need(value: str | None, what: str) -> str:
    from acontext_mcp.errors import InvalidInput

    if not value:
        raise InvalidInput(f"this command needs {what}")
    return value


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    about = "Learn skills from a session's finished tasks now (no SESSION: show status)."
    p = add("learn", cmd_learn, about)
    p.add_argument(
        "session", nargs="?", help="session id or a unique prefix (see `acontext-mcp sessions`)"
    )
    p.add_argument("--space", help="learning space to attach the session to (default: config)")
    p.add_argument(
        "--no-observe",
        action="store_true",
        help="skip task tracking first; learn only tasks already finished",
    )
    done = "count tasks still running as succeeded (you say they are done)"
    p.add_argument("--finish-running", action="store_true", help=done)
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds in all (default ACONTEXT_LEARN_TIMEOUT_S, 300)",
    )
    p.add_argument("--limit", type=int_range(1), default=10, help="sessions shown without SESSION")
    add_json_option(p)

    about = (
        "Learning spaces: list, create, show; attach SPACE SESSION; include SPACE SKILL "
        "(the skill belongs to SPACE); exclude SKILL (shared by all again)."
    )
    p = add("spaces", cmd_spaces, about)
    p.add_argument(
        "action",
        choices=("list", "create", "show", "attach", "include", "exclude"),
        nargs="?",
        default="list",
    )
    p.add_argument("name", nargs="?", help="space name (exclude: the skill name)")
    p.add_argument("target", nargs="?", help="attach: the session id; include: the skill name")
    p.add_argument("--describe", default="", help="with create: what the space is for")
    add_json_option(p)
