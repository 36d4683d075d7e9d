"""One `--json` option: every command that offers it declares it through `cli.output`, so the
flag is spelled, documented and parsed the same way everywhere."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from acontext_mcp.cli import build_parser
from acontext_mcp.cli.output import JSON_HELP

CLI = Path(__file__).resolve().parent.parent / "acontext_mcp" / "cli"

# The commands scripts rely on for JSON output today; losing the flag is a behaviour change.
WITH_JSON = {
    "brief", "config", "disk", "doctor", "events", "flush", "forget", "import", "install", "learn",
    "messages", "sessions", "skills", "spaces", "status", "tasks", "uninstall", "usage",
    "users", "worker",
}  # fmt: skip


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _json_flag(parser: argparse.ArgumentParser) -> argparse.Action | None:
    return next((a for a in parser._actions if "--json" in a.option_strings), None)


def test_every_json_flag_is_the_shared_one() -> None:
    found = {}
    for name, parser in _commands().items():
        flag = _json_flag(parser)
        if flag is None:
            continue
        found[name] = flag
        assert isinstance(flag, argparse._StoreTrueAction), name
        assert (flag.option_strings, flag.dest, flag.default) == (["--json"], "json", False), name
        assert flag.help == JSON_HELP, f"{name}: --json says {flag.help!r}"
    assert set(found) == WITH_JSON


def test_no_command_module_declares_json_by_hand() -> None:
    """A hand-written `add_argument("--json", ...)` would drift from the shared help."""
    bad = []
    for path in sorted(CLI.glob("*.py")):
        if path.name == "output.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"
                and any(isinstance(a, ast.Constant) and a.value == "--json" for a in node.args)
            ):
                bad.append(f"{path.name}:{node.lineno}")
    assert not bad, f"use cli.output.add_json_option instead: {bad}"
