"""The README documents every tool, command and setting the code has."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from acontext_mcp.cli import build_parser
from acontext_mcp.config import ENV_VARS, Settings
from acontext_mcp.server import build_server

REPO = Path(__file__).resolve().parent.parent

README = (REPO / "README.md").read_text()


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_every_mcp_tool_is_in_the_readme(settings: Settings) -> None:
    async with Client(build_server(settings)) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    missing = [n for n in names if f"`{n}(" not in README]
    assert not missing, f"tools missing from the README table: {missing}"


def test_every_setting_is_in_the_readme_table() -> None:
    for name, (default, _meaning) in ENV_VARS.items():
        row = re.search(rf"^\| `{name}` \| (.+?) \|", README, re.M)
        assert row, f"{name} is not in the README configuration table"
        assert default.strip("()<>") in row.group(1), f"{name}: README default differs"


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented_and_has_help(command: str) -> None:
    assert f"acontext-mcp {command}" in README
    done = subprocess.run(
        [sys.executable, "-m", "acontext_mcp", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "usage:" in done.stdout


def test_the_readme_test_command_is_what_ci_runs() -> None:
    block = re.search(r"Run the tests.*?```bash\n(.+?)\n```", README, re.S)
    assert block, "README lost its test command"
    assert block.group(1).strip() in (REPO / ".ci" / "run").read_text()
