"""`acontext-mcp install` checked by the real clients: Claude Code connects to the server it
registered, and OpenClaw accepts the config it merged. The clients come from the e2e fixtures
(npm, into .ci/cache), so these run on a clean checkout too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXE = str(Path(sys.executable).parent / "acontext-mcp")


def _install(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [EXE, "install", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr


def test_claude_code_connects_the_server_install_registered(claude_code, tmp_path: Path) -> None:
    home = tmp_path / "user"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "ACONTEXT_HOME": str(tmp_path / "data"),
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    env.pop("CLAUDE_CONFIG_DIR", None)
    _install(env, "claude-code")
    done = subprocess.run(
        [str(claude_code.bin), "mcp", "get", "acontext"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert EXE in done.stdout and "Connected" in done.stdout, done.stdout


def test_openclaw_accepts_the_config_install_merged(openclaw, tmp_path: Path) -> None:
    state = tmp_path / "user" / ".openclaw"
    state.mkdir(parents=True)
    config = {"agents": {"defaults": {"workspace": "~/work"}}, "plugins": {"allow": ["telegram"]}}
    (state / "openclaw.json").write_text(json.dumps(config))
    env = {
        "PATH": f"{openclaw.node_bin}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "HOME": str(tmp_path / "user"),
        "ACONTEXT_HOME": str(tmp_path / "data"),
        "OPENCLAW_CONFIG_PATH": str(state / "openclaw.json"),
        "OPENCLAW_STATE_DIR": str(tmp_path / "oc-state"),
    }
    _install(env, "openclaw")
    merged = json.loads((state / "openclaw.json").read_text())
    assert merged["plugins"]["entries"]["acontext"]["hooks"]["allowConversationAccess"] is True
    done = subprocess.run(
        [str(openclaw.bin), "config", "validate", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["valid"] is True
