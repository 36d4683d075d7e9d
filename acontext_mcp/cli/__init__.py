"""The `acontext-mcp` command line: argparse subcommands over domain functions.

This module assembles the parser and runs a command; each command group lives in its own
module of this package (`register(add)` adds its subcommands), `output` holds the shared
`--json` option.

Errors from the domain print one line to stderr and exit 1, or 2 when the command named
something that does not exist (a session, a skill, a file: like argparse's usage errors);
`--json` prints machine-readable output on stdout for scripts. The domain's messages name MCP
tools (what a model calls); here they name the matching commands instead.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from acontext_mcp import __version__
from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, NotFound, storage_error
from acontext_mcp.scrub import scrub_paths

Handler = Callable[[argparse.Namespace, Settings], int]

# MCP tool -> the command a person types for the same thing.
_COMMAND_FOR_TOOL = {
    "list_sessions": "acontext-mcp sessions",
    "get_messages": "acontext-mcp messages",
    "list_tasks": "acontext-mcp tasks",
    "get_session_summary": "acontext-mcp tasks --session",
    "annotate_session": "acontext-mcp events add",
    "flush_session": "acontext-mcp flush",
    "learn_now": "acontext-mcp learn",
    "learning_status": "acontext-mcp learn",
    "list_skills": "acontext-mcp skills list",
    "get_skill_file": "acontext-mcp skills show",
    "get_skill": "acontext-mcp skills show",
    "search_skills": "acontext-mcp skills search",
    "disk_list": "acontext-mcp disk ls",
    "disk_read": "acontext-mcp disk read",
    "disk_write": "acontext-mcp disk write",
    "disk_glob": "acontext-mcp disk glob",
    "disk_grep": "acontext-mcp disk grep",
}
_TOOL_NAME = re.compile(
    r"(?:\bthe `?(?=\w+`? tool))?`?\b(" + "|".join(_COMMAND_FOR_TOOL) + r")\b`?(?: tools?\b)?"
)
_ALSO_COMMAND = re.compile(r" \(or `acontext-mcp [^`]*`\)")


def for_the_command_line(message: str) -> str:
    """A domain message with its MCP tool names replaced by the matching commands."""
    message = _ALSO_COMMAND.sub("", message)
    return _TOOL_NAME.sub(lambda m: f"`{_COMMAND_FOR_TOOL[m.group(1)]}`", message)


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

    from acontext_mcp.cli import (
        browse,
        capture,
        config,
        disk,
        events,
        forget,
        import_,
        learn,
        serve,
        setup,
        skills,
        ui,
        usage,
        users,
        worker,
    )

    # this order is the order `acontext-mcp --help` lists the commands in
    for group in (
        serve,
        browse,
        events,
        disk,
        capture,
        setup,
        import_,
        forget,
        users,
        skills,
        learn,
        worker,
        usage,
        ui,
        config,
    ):
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
        message = for_the_command_line(str(problem or exc))
        print(
            f"acontext-mcp: {scrub_paths(message, settings) if settings else message}",
            file=sys.stderr,
        )
        return 2 if problem is None and isinstance(exc, NotFound) else 1
