"""`acontext-mcp install|uninstall|doctor`: register with host agents, remove, check."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput

AGENTS = ("claude-code", "openclaw")


def _emit(args: argparse.Namespace, value: Any, text: str) -> None:
    if args.json:
        emit_json(value)
    else:
        print(text)


def _check_flags(args: argparse.Namespace) -> None:
    """Each agent's own options; naming one for the other agent is a mistake worth saying."""
    if args.agent == "claude-code":
        flags = (("--config", args.config), ("--plugin-dir", getattr(args, "plugin_dir", None)))
    else:
        flags = (("--scope", args.scope), ("--project", args.project))
    wrong = [flag for flag, value in flags if value]
    if wrong:
        raise InvalidInput(f"{', '.join(wrong)} does not apply to {args.agent}")
    if args.agent == "claude-code" and args.project:
        if args.scope == "user":
            raise InvalidInput("--project goes with --scope project")
        args.scope = "project"  # naming a project means its scope


def _capture_gap(args: argparse.Namespace, settings: Settings, *, start: bool) -> None:
    """Trigger: a real uninstall (start) or install. Why: a session that keeps running while
    acontext is uninstalled writes turns no hook sees; the first hook after a reinstall, or an
    import, would read them from the old cursor. Outcome: uninstall opens a capture gap for
    the agent (for the project, with --scope project) and install ends it; capture never
    stores what is stamped inside (capture/gaps.py)."""
    if args.dry_run:
        return
    from acontext_mcp.capture import gaps
    from acontext_mcp.store.db import open_db

    if args.agent == "claude-code" and args.scope == "project":
        scope, value = "project", os.path.abspath(args.project or os.getcwd())
    else:
        scope, value = "agent", args.agent
    conn = open_db(settings)
    try:
        (gaps.open_gap if start else gaps.close_gap)(conn, scope, value)
    finally:
        conn.close()


def cmd_install(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.setup import claude_code, openclaw

    _check_flags(args)
    if args.agent == "claude-code":
        out = claude_code.install(
            settings.home,
            scope=args.scope or "user",
            project=args.project,
            dry_run=args.dry_run,
            command=args.command,
        )
        if out.wrote and not args.dry_run:
            out.notes.append(
                "new Claude Code sessions use it (restart running ones); "
                "check with `acontext-mcp doctor`"
            )
    else:
        out = openclaw.install(
            settings.home,
            config=args.config,
            plugin=args.plugin_dir,
            dry_run=args.dry_run,
            command=args.command,
        )
    out.notes.append(_learning_note(settings, dry_run=args.dry_run))
    _capture_gap(args, settings, start=False)
    _emit(args, out.to_json(), out.render())
    return 0


def _learning_note(settings: Settings, *, dry_run: bool) -> str:
    """Provider `none` written when the user has chosen none yet (learning stays off until
    they do), and how to turn learning on."""
    from acontext_mcp.llm.setting import ensure_default

    try:
        return ensure_default(settings, dry_run=dry_run)
    except OSError as exc:
        return f"learning: could not write {settings.home / 'config.json'} ({exc})"


def cmd_uninstall(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.setup import claude_code, openclaw

    _check_flags(args)
    if args.agent == "claude-code":
        out = claude_code.uninstall(
            settings.home, scope=args.scope or "user", project=args.project, dry_run=args.dry_run
        )
    else:
        out = openclaw.uninstall(settings.home, config=args.config, dry_run=args.dry_run)
    _capture_gap(args, settings, start=True)
    _emit(args, out.to_json(), out.render())
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.setup import doctor

    report = doctor.run(settings, project=args.project, timeout=args.timeout, fix=args.fix)
    _emit(args, report.to_json(), report.render())
    return 0 if report.healthy else 1


def _agent_options(p: argparse.ArgumentParser, *, install: bool) -> None:
    p.add_argument("agent", choices=AGENTS, help="the host agent")
    p.add_argument(
        "--scope",
        choices=["user", "project"],
        help="claude-code: user (~/.claude/settings.json + ~/.claude.json, the default) or "
        "project (<project>/.claude/settings.json + <project>/.mcp.json)",
    )
    p.add_argument(
        "--project",
        metavar="DIR",
        help="claude-code: the project for --scope project (default: the current directory)",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="openclaw: the openclaw.json to edit (default: $OPENCLAW_CONFIG_PATH, else "
        "openclaw.json in $OPENCLAW_STATE_DIR or ~/.openclaw)",
    )
    if install:
        p.add_argument(
            "--plugin-dir",
            metavar="DIR",
            help="openclaw: the plugin folder to load (default: the one shipped with acontext-mcp)",
        )
        p.add_argument(
            "--command",
            metavar="PATH",
            help="the acontext-mcp executable to register (default: the one running now)",
        )
    p.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    add_json_option(p)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "install",
        cmd_install,
        "Register the MCP server and capture hooks with an agent "
        "(merges into its settings, backs them up first; safe to run twice).",
    )
    _agent_options(p, install=True)
    p = add(
        "uninstall",
        cmd_uninstall,
        "Remove exactly what install added to an agent's "
        "settings (restoring anything it replaced).",
    )
    _agent_options(p, install=False)
    p = add(
        "doctor",
        cmd_doctor,
        "Check the installation: run the installed hooks on a "
        "synthetic turn, probe the MCP server, the store and the logs; exit 1 if broken.",
    )
    p.add_argument(
        "--project",
        metavar="DIR",
        help="project whose settings and capture switches to check (default: the current "
        "directory)",
    )
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="seconds one hook run or the MCP probe may take (default 30)",
    )
    p.add_argument(
        "--fix",
        action="store_true",
        help="take group and other permissions off everything in the data home",
    )
    add_json_option(p)
