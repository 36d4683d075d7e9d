"""`acontext-mcp serve`: the MCP server over stdio, as agents launch it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable

from acontext_mcp.config import Settings

# Shown only when a person starts the server in a terminal; an agent's pipe gets nothing.
TERMINAL_NOTE = (
    "acontext-mcp serve: the MCP server on stdio, waiting for a client (agents start it "
    "themselves; `acontext-mcp install claude-code` sets that up). Ctrl-C stops it."
)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.logsetup import setup_logging
    from acontext_mcp.server import serve

    setup_logging(settings, name="server")
    if sys.stdin.isatty():
        print(TERMINAL_NOTE, file=sys.stderr, flush=True)
    # Our own SIGINT handler, set before the event loop starts (asyncio then leaves it alone):
    # asyncio's would cancel the server's tasks and wait for the stdin reader thread, blocked
    # in a read that only a new line would end. Leave at once instead, whatever the server is
    # doing: every store write is a committed transaction or rolled back by SQLite.
    signal.signal(signal.SIGINT, _stop)
    serve(settings)
    return 0


def _stop(_signum: int, _frame: object) -> None:
    logging.getLogger("acontext.server").info("stopped by Ctrl-C")
    logging.shutdown()
    sys.stderr.flush()
    os._exit(130)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    add("serve", cmd_serve, "Run the MCP server over stdio (what agents launch).")
