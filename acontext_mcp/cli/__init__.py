"""The `acontext-mcp` command line: argparse subcommands over domain functions.

Errors from the domain print one line to stderr and exit 1; `--json` prints machine-readable
output on stdout for scripts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from acontext_mcp import __version__
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, storage_error
from acontext_mcp.scrub import scrub_paths

Handler = Callable[[argparse.Namespace, Settings], int]


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def _table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


# --- Commands ---


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.logsetup import setup_logging
    from acontext_mcp.server import serve

    setup_logging(settings, name="server")
    serve(settings)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.llm.select import choose, describe
    from acontext_mcp.skills.catalog import list_skills
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.stats import store_stats

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
    print(f"  database    {info['database']} (schema v{stats['schema_version']}, "
          f"{stats['db_bytes'] / 1e6:.1f} MB)")  # fmt: skip
    print(f"  skills      {info['skills_dir']} ({info['skills']} skills)")
    print(f"  logs        {info['logs']}")
    print(f"  llm         {info['llm']}")
    print(f"  sessions    {stats['sessions']}")
    print(f"  messages    {stats['messages']} (~{stats['message_tokens']} tokens)")
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(stats["tasks_by_status"].items()))
    print(f"  tasks       {stats['tasks']}{' (' + by_status + ')' if by_status else ''}")
    learned = ", ".join(f"{k} {v}" for k, v in sorted(stats["learnings_by_status"].items()))
    print(f"  learning    {learned or 'nothing yet'} ({stats['learning_spaces']} space(s); "
          "`acontext-mcp learn` for details)")  # fmt: skip
    print(f"  disks       {stats['disks']} ({stats['artifacts']} artifacts)")
    print(f"  blobs       {stats['blobs']} ({stats['blob_bytes'] / 1e6:.1f} MB)")
    return 0


def cmd_sessions(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.sessions import list_sessions

    with closing(open_db(settings)) as conn:
        page = list_sessions(
            conn, limit=args.limit, cursor=args.cursor, agent=args.agent, project_dir=args.project
        )
    if args.json:
        emit_json(page)
        return 0
    if not page["sessions"]:
        print("no sessions yet")
        return 0
    rows = [
        [s["id"], s["agent"], str(s["message_count"]), str(s["task_count"]),
         _when(s["updated_at"]), s["project_dir"] or "-"]
        for s in page["sessions"]
    ]  # fmt: skip
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


def cmd_messages(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store import turns
    from acontext_mcp.store.db import open_db

    with closing(open_db(settings)) as conn:
        page = turns.read_messages(
            conn, settings, args.session, fmt=args.format, limit=args.limit, cursor=args.cursor,
            inline_binary=args.include_binary,
        )  # fmt: skip
        if not args.json and args.format == "acontext":
            for mid, message in zip(page["message_ids"], page["messages"], strict=True):
                role = message.get("meta", {}).get("original_role", message["role"])
                print(f"#{mid} {role}: {_message_text(message)}")
    if args.json or args.format != "acontext":
        emit_json(page)
    elif page["next_cursor"]:
        print(f"\nmore: acontext-mcp messages {args.session} --cursor {page['next_cursor']}")
    return 0


def cmd_tasks(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.tasks import list_tasks

    with closing(open_db(settings)) as conn:
        page = list_tasks(
            conn, session_id=args.session, status=args.status or None, limit=args.limit,
            cursor=args.cursor,
        )  # fmt: skip
    if args.json:
        emit_json(page)
        return 0
    if not page["tasks"]:
        print("no tasks yet")
        return 0
    for t in page["tasks"]:
        print(f"[{t['status']}] {t['session_id']} #{t['order']}: {t['description']}")
        for p in t["progresses"]:
            print(f"    - {p}")
        for p in t["user_preferences"]:
            print(f"    * prefers: {p}")
    if page["next_cursor"]:
        print(f"\nmore: --cursor {page['next_cursor']}")
    return 0


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from acontext_mcp.capture.brief import build_brief
    from acontext_mcp.store.db import open_db

    project = os.path.abspath(args.project) if args.project else None
    with closing(open_db(settings)) as conn:
        text = build_brief(conn, settings, project_dir=project, budget=args.budget)
    if args.json:
        emit_json({"project_dir": project, "brief": text, "chars": len(text)})
    else:
        print(text or "(nothing to say yet: no tasks or skills for this project)")
    return 0


# --- Parser ---


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acontext-mcp",
        description="Local-first skill memory for coding agents (MCP server and tools).",
        epilog="Data lives in $ACONTEXT_HOME (default ~/.acontext-mcp).",
    )
    parser.add_argument("--version", action="version", version=f"acontext-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    def paging(p: argparse.ArgumentParser, default: int) -> None:
        p.add_argument("--limit", type=int, default=default, help=f"page size (default {default})")
        p.add_argument("--cursor", help="next_cursor printed by the previous page")
        add_json_option(p)

    add("serve", cmd_serve, "Run the MCP server over stdio (what agents launch).")

    p = add("status", cmd_status, "Show paths, schema version, counts and the LLM provider.")
    add_json_option(p)

    p = add("sessions", cmd_sessions, "List captured sessions, most recent first.")
    p.add_argument("--agent", help="only sessions from this agent (claude-code, openclaw, mcp)")
    p.add_argument("--project", help="only sessions of this project directory")
    paging(p, 20)

    p = add("messages", cmd_messages, "Show a session's messages, oldest first.")
    p.add_argument("session", help="session id (see `acontext-mcp sessions`)")
    p.add_argument(
        "--format",
        choices=["acontext", "openai", "anthropic", "gemini"],
        default="acontext",
        help="acontext prints a readable transcript; other formats print JSON",
    )
    p.add_argument("--include-binary", action="store_true", help="inline image/file bytes")
    paging(p, 50)

    p = add("tasks", cmd_tasks, "List tracked tasks, of one session or across sessions.")
    p.add_argument("--session", help="only this session's tasks, in order")
    p.add_argument(
        "--status",
        action="append",
        choices=["pending", "running", "success", "failed"],
        help="filter by status (repeatable)",
    )
    paging(p, 50)

    p = add("brief", cmd_brief, "Show the brief a new session in a project starts with.")
    p.add_argument("--project", help="project directory (default: all projects)")
    p.add_argument("--budget", type=int, help="character budget (default ACONTEXT_BRIEF_CHARS)")
    add_json_option(p)

    from acontext_mcp.cli import (
        capture,
        config,
        disk,
        forget,
        import_,
        learn,
        setup,
        skills,
        usage,
        worker,
    )

    # this order is the order `acontext-mcp --help` lists the commands in
    for group in (disk, capture, setup, import_, forget, skills, learn, worker, usage, config):
        group.register(add)
    return parser


def _read_only_home(settings: Settings | None, exc: Exception) -> AcontextError | None:
    """A failure in a data home that cannot be written is reported as that (the command line
    opens the database for writing; SQLite and git say only `unable to open`)."""
    from acontext_mcp.errors import READ_ONLY, StorageReadOnly
    from acontext_mcp.store.readonly import home_is_read_only

    if settings is None or not home_is_read_only(settings):
        return None
    return StorageReadOnly(
        f"{READ_ONLY}. The command line needs to write ({type(exc).__name__}); the MCP "
        "server's read-only tools still answer"
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    settings: Settings | None = None
    try:
        settings = Settings.from_env()
        return args.handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        problem = storage_error(exc) or _read_only_home(settings, exc)
        if problem is None and not isinstance(exc, AcontextError | ValueError):
            raise
        message = str(problem or exc)
        print(
            f"acontext-mcp: {scrub_paths(message, settings) if settings else message}",
            file=sys.stderr,
        )
        return 1
