"""Console-script entry: dispatch before importing anything heavy.

`hook` invocations (once per agent tool call, in a fresh interpreter) are routed to a
stdlib-only path before argparse, pydantic or the MCP SDK are imported. Every command, hooks
included, first sets an owner-only umask: the data home holds conversations (see umask.py).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from acontext_mcp.umask import restrict_umask

    restrict_umask()
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"]:
        from acontext_mcp.hooks import main as hook_main

        return hook_main(args[1:])
    from acontext_mcp import cli

    return cli.main(args)
