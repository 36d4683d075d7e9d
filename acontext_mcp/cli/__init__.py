"""The `acontext-mcp` command line: argparse subcommands over domain functions.

This module assembles the parser and runs a command; each command group lives in its own
module of this package (`register(add)` adds its subcommands), `output` holds the shared
`--json` option.

Errors from the domain print one line to stderr and exit 1; `--json` prints machine-readable
output on stdout for scripts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from acontext_mcp import __version__
from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, storage_error
from acontext_mcp.scrub import scrub_paths

Handler = Callable[[argparse.Namespace, Settings], int]


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
        forget,
        import_,
        learn,
        serve,
        setup,
        skills,
        usage,
        worker,
    )

    # this order is the order `acontext-mcp --help` lists the commands in
    for group in (
        serve,
        browse,
        disk,
        capture,
        setup,
        import_,
        forget,
        skills,
        learn,
        worker,
        usage,
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
        message = str(problem or exc)
        print(
            f"acontext-mcp: {scrub_paths(message, settings) if settings else message}",
            file=sys.stderr,
        )
        return 1
