"""`acontext-mcp serve`: the MCP server over stdio, as agents launch it."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from acontext_mcp.config import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.logsetup import setup_logging
    from acontext_mcp.server import serve

    setup_logging(settings, name="server")
    serve(settings)
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    add("serve", cmd_serve, "Run the MCP server over stdio (what agents launch).")
