"""`acontext-mcp status|sessions|messages|tasks|brief`: read what the store holds."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from acontext_mcp import __version__
from acontext_mcp.cli.args import int_range, json_or_file, project_dir, session_id
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.cli.sessions import add_actions, config_pair
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def _table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.llm.select import choose, describe
    from acontext_mcp.skills.catalog import list_skills
    from acontext_mcp.skills.defaults import ensure_ready
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.stats import store_stats

    ensure_ready(settings)  # the skills repository and its defaults exist from first use
    with closing(open_db(settings)) as conn:
        stats = store_stats(conn, settings)
    choice = choose(settings)  # what the worker will use, not just this shell's env
    info = {
        "version": __version__,
        "home": str(settings.home),
        "database": str(settings.db_path),
        "skills_dir": str(settings.skills_dir),
        "skills": len(list_skills(settings.skills_dir)),
        "logs": str(settings.logs_dir),
        "llm_provider": choice.name,
        "llm_model": choice.model,
        "llm_reason": choice.reason,
        "llm": describe(settings),
        **stats,
    }
    if args.json:
        emit_json(info)
        return 0
    print(f"acontext-mcp {__version__}")
    print(f"  home        {info['home']}")
    print(
        f"  database    {info['database']} (schema v{stats['schema_version']}, "
        f"{stats['db_bytes'] / 1e6:.1f} MB)"
    )
    print(f"  skills      {info['skills_dir']} ({info['skills']} skills)")
    print(f"  logs        {info['logs']}")
    print(f"  llm         {info['llm']}")
    print(f"  sessions    {stats['sessions']}")
    print(f"  messages    {stats['messages']} (~{stats['message_tokens']} tokens)")
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(stats["tasks_by_status"].items()))
    print(f"  tasks       {stats['tasks']}{' (' + by_status + ')' if by_status else ''}")
    learned = ", ".join(f"{k} {v}" for k, v in sorted(stats["learnings_by_status"].items()))
    print(
        f"  learning    {learned or 'nothing yet'} ({stats['learning_spaces']} space(s); "
        "`acontext-mcp learn` for details)"
    )
    print(f"  disks       {stats['disks']} ({stats['artifacts']} artifacts)")
    print(f"  blobs       {stats['blobs']} ({stats['blob_bytes'] / 1e6:.1f} MB)")
    return 0


def cmd_sessions(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.sessions import list_sessions

    with closing(open_db(settings)) as conn:
        page = list_sessions(
            conn,
            limit=args.limit,
            cursor=args.cursor,
            agent=args.agent,
            project_dir=args.project,
            user=args.user,
            configs=dict(args.config or []),
        )
    if args.json:
        emit_json(page)
        return 0
    if not page["sessions"]:
        given = [("agent", args.agent), ("project", args.project), ("user", args.user)]
        given += [("config", f"{k}={json.dumps(v)}") for k, v in args.config or []]
        filters = [f"{k} {v}" for k, v in given if v]
        print(f"no sessions of {', '.join(filters)}" if filters else "no sessions yet")
        return 0
    rows = [
        [
            s["id"],
            s["agent"],
            str(s["message_count"]),
            str(s["task_count"]),
            _when(s["updated_at"]),
            s["project_dir"] or "-",
        ]
        for s in page["sessions"]
    ]
    _table(rows, ["SESSION", "AGENT", "MSGS", "TASKS", "UPDATED", "PROJECT"])
    if page["next_cursor"]:
        print(f"\nmore: acontext-mcp sessions --cursor {page['next_cursor']}")
    return 0


def _message_text(message: dict[str, Any]) -> str:
    from acontext_mcp.formats.parts import text_of

    text = text_of(message)  # type: ignore[arg-type]
    other: list[str] = []
    for part in message["parts"]:
        if part["type"] in ("image", "audio", "file"):
            other.append(part["type"])
        elif part["type"] == "opaque":
            value = part.get("value")
            kind = value.get("type") if isinstance(value, dict) else None
            other.append(f"opaque {kind or part.get('source_format', '')}".strip())
        elif part["type"] == "tool-result":
            for inner in part["content"]:
                kind = inner.get("type") if isinstance(inner, dict) else None
                if kind in ("image", "audio", "file"):
                    other.append(kind)
                elif kind not in ("text", None):
                    value = inner.get("value")
                    inner_kind = value.get("type") if isinstance(value, dict) else kind
                    other.append(f"opaque {inner_kind}")
    if other:
        text += f" [{', '.join(other)}]"
    return text


def _message_extras(args: argparse.Namespace, settings: Settings) -> int | None:
    """`messages SESSION --patch-meta MSG JSON` or `--observing-status`: one answer instead of
    the transcript; None when neither was asked for."""
    from acontext_mcp.cli.events import json_object
    from acontext_mcp.store import annotate, batches
    from acontext_mcp.store.db import open_db

    if args.patch_meta is None and not args.observing_status:
        return None
    if args.patch_meta is not None and args.observing_status:
        raise InvalidInput("--patch-meta and --observing-status are separate commands")
    with closing(open_db(settings)) as conn:
        if args.observing_status:
            out: dict[str, Any] = {
                "session_id": args.session,
                **batches.observing_status(conn, args.session),
            }
            text = ", ".join(f"{k} {v}" for k, v in out.items() if k != "session_id")
        else:
            message, patch = args.patch_meta
            if not message.lstrip("#").isdigit():
                raise InvalidInput(f"--patch-meta takes a message id (a number), not {message!r}")
            out = annotate.patch_message_meta(
                conn,
                settings,
                args.session,
                int(message.lstrip("#")),
                json_object(patch, "--patch-meta JSON"),
                source="cli",
            )
            text = f"#{out['message_id']} meta: {json.dumps(out['meta'], ensure_ascii=False)}"
    if args.json:
        emit_json(out)
    else:
        print(text)
    return 0


def cmd_messages(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.cli.events import event_line
    from acontext_mcp.store import annotate, turns
    from acontext_mcp.store.db import open_db

    args.session = session_id(settings, args.session)
    done = _message_extras(args, settings)
    if done is not None:
        return done
    if args.tokens:
        if args.edit is not None or args.pin is not None or args.cursor:
            raise InvalidInput(
                "--tokens counts the whole session: leave out --edit, --pin and --cursor "
                "(a read with --edit reports its tokens before and after)"
            )
        return _session_tokens(args, settings)
    edits = [args.edit] if isinstance(args.edit, dict) else args.edit
    with closing(open_db(settings)) as conn:
        page = turns.read_messages(
            conn,
            settings,
            args.session,
            fmt=args.format,
            limit=args.limit,
            cursor=args.cursor,
            inline_binary=args.include_binary,
            edits=edits,
            pin=args.pin,
        )
        page = annotate.add_events(conn, page, args.events)
        if not args.json and args.format == "acontext":
            for mid, message in zip(page["message_ids"], page["messages"], strict=True):
                if mid is None:
                    print(event_line(message["event"]))
                    continue
                role = message.get("meta", {}).get("original_role", message["role"])
                print(f"#{mid} {role}: {_message_text(message)}")
            for event in page.get("events", []):
                print(event_line(event))
            if page.get("events_omitted"):
                print(f"({page['events_omitted']} more events: acontext-mcp events list)")
    if args.json or args.format != "acontext":
        emit_json(page)
        return 0
    if page.get("edited"):
        print(f"\n{_edited_text(page['edited'])}")
    if page["next_cursor"]:
        print(f"\nmore: acontext-mcp messages {args.session} --cursor {page['next_cursor']}")
    return 0


def _edited_text(edited: dict[str, Any]) -> str:
    """What the edits did, for a person: tokens before and after, then one line a strategy."""
    lines = [
        f"edited up to #{edited['at_message_id']}: {edited['tokens_before']} -> "
        f"{edited['tokens_after']} tokens ({edited['counter']})"
    ]
    for step in edited["applied"]:
        ids = ", ".join(f"#{i}" for i in step["message_ids"]) or "nothing"
        did = f"cleared {step['parts']} parts in" if "parts" in step else "dropped"
        lines.append(f"  {step['type']}: {did} {ids} (-{step['tokens_saved']} tokens)")
    return "\n".join(lines)


def _session_tokens(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import turns
    from acontext_mcp.store.db import open_db

    with closing(open_db(settings)) as conn:
        counts = turns.session_tokens(conn, settings, args.session)
    if args.json:
        emit_json(counts)
        return 0
    _table(
        [[f"#{m['id']}", m["role"], str(m["tokens"])] for m in counts["messages"]],
        ["message", "role", "tokens"],
    )
    print(f"total {counts['total']} tokens in {len(counts['messages'])} messages")
    print(f"counter: {counts['counter']}")
    return 0


def cmd_tasks(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.tasks import list_tasks

    if args.session:
        args.session = session_id(settings, args.session)
    with closing(open_db(settings)) as conn:
        page = list_tasks(
            conn,
            session_id=args.session,
            status=args.status or None,
            limit=args.limit,
            cursor=args.cursor,
        )
    if args.json:
        emit_json(page)
        return 0
    if not page["tasks"]:
        print("no tasks yet")
        return 0
    for t in page["tasks"]:
        outcome = f", {t['outcome']}" if t.get("outcome") else ""
        print(f"[{t['status']}{outcome}] {t['session_id']} #{t['order']}: {t['description']}")
        for e in t.get("evidence", []):
            ran = f" `{e['command']}`" if e.get("command") else ""
            said = f" ({e['detail']})" if e.get("detail") and e["result"] != "passed" else ""
            print(f"    = {e['kind']} {e['result']}{ran}{said}")
        for p in t["progresses"]:
            print(f"    - {p}")
        for p in t["user_preferences"]:
            print(f"    * prefers: {p}")
    if page["next_cursor"]:
        print(f"\nmore: --cursor {page['next_cursor']}")
    return 0


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.capture.brief import build_brief
    from acontext_mcp.store.db import open_db

    project = args.project
    with closing(open_db(settings)) as conn:
        text = build_brief(conn, settings, project_dir=project, budget=args.budget)
    if args.json:
        emit_json({"project_dir": project, "brief": text, "chars": len(text)})
    else:
        print(text or "(nothing to say yet: no tasks or skills for this project)")
    return 0


def _paging(p: argparse.ArgumentParser, default: int, maximum: int) -> None:
    p.add_argument(
        "--limit",
        type=int_range(1, maximum),
        default=default,
        help=f"page size (default {default}, at most {maximum})",
    )
    p.add_argument("--cursor", help="next_cursor printed by the previous page")
    add_json_option(p)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    from acontext_mcp.store.messages import PAGE_MAX as MESSAGES_MAX
    from acontext_mcp.store.sessions import PAGE_MAX as SESSIONS_MAX
    from acontext_mcp.store.tasks import PAGE_MAX as TASKS_MAX

    p = add("status", cmd_status, "Show paths, schema version, counts and the LLM provider.")
    add_json_option(p)

    p = add(
        "sessions",
        cmd_sessions,
        "List captured sessions, most recent first; or create, copy, delete one or show and "
        "change its configs (ACTION --help).",
    )
    p.add_argument("--agent", help="only sessions from this agent (claude-code, openclaw, mcp)")
    p.add_argument("--project", type=project_dir, help="only sessions of this project directory")
    p.add_argument("--user", help="only sessions of this user (see `acontext-mcp users`)")
    p.add_argument(
        "--config",
        action="append",
        type=config_pair,
        metavar="KEY=VALUE",
        help="only sessions whose configs hold this value (JSON or text; repeatable)",
    )
    _paging(p, 20, SESSIONS_MAX)
    add_actions(p)

    p = add("messages", cmd_messages, "Show a session's messages, oldest first.")
    p.add_argument("session", help="session id or a unique prefix (see `acontext-mcp sessions`)")
    p.add_argument(
        "--format",
        choices=["acontext", "openai", "anthropic", "gemini"],
        default="acontext",
        help="acontext prints a readable transcript; other formats print JSON",
    )
    p.add_argument("--include-binary", action="store_true", help="inline image/file bytes")
    p.add_argument(
        "--events",
        choices=["none", "beside", "interleave"],
        default="none",
        help="the session's events too: listed after the messages, or among them by time",
    )
    p.add_argument(
        "--patch-meta",
        nargs=2,
        metavar=("MSG", "JSON"),
        help="merge a JSON object into message MSG's meta (null deletes a key); prints it",
    )
    p.add_argument(
        "--observing-status",
        action="store_true",
        help="count the messages task extraction observed, is processing, has pending",
    )
    p.add_argument(
        "--edit",
        type=json_or_file("--edit"),
        metavar="JSON|@FILE",
        help="edit strategies for this read (stored messages never change), e.g. "
        '\'[{"type": "token_limit", "params": {"limit_tokens": 8000}}]\'',
    )
    p.add_argument(
        "--pin",
        type=int_range(1),
        metavar="MSG",
        help="apply --edit only up to this message id; later messages stay as stored",
    )
    p.add_argument(
        "--tokens",
        action="store_true",
        help="print the token count of every message of the session and the total instead",
    )
    _paging(p, 50, MESSAGES_MAX)

    p = add("tasks", cmd_tasks, "List tracked tasks, of one session or across sessions.")
    p.add_argument("--session", help="only this session's tasks, in order (id or unique prefix)")
    p.add_argument(
        "--status",
        action="append",
        choices=["pending", "running", "success", "failed"],
        help="filter by status (repeatable)",
    )
    _paging(p, 50, TASKS_MAX)

    p = add("brief", cmd_brief, "Show the brief a new session in a project starts with.")
    p.add_argument("--project", type=project_dir, help="project directory (default: all projects)")
    p.add_argument("--budget", type=int, help="character budget (default ACONTEXT_BRIEF_CHARS)")
    add_json_option(p)
