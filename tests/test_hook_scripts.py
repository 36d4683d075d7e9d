"""The shell hook shims (hooks/claude-code, hooks/openclaw, the Claude Code plugin's
acontext-hook), run as the host runs them: a subprocess fed a recorded payload on stdin.

With acontext-mcp reachable they must be a transparent `exec` (the store gets the session);
without it they must fail open: exit 0, nothing on stdout, one line in the hooks log.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
BIN = Path(sys.executable).parent / "acontext-mcp"
CLAUDE = REPO / "hooks" / "claude-code"
OPENCLAW = REPO / "hooks" / "openclaw"
PLUGIN = REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook"
SYSTEM_PATH = "/usr/bin:/bin"  # has sh, cat, date, mkdir; never our venv

# (script, the arguments that name an event for it)
SHIMS = {
    "hooks/claude-code": (CLAUDE, ["Stop"]),
    "hooks/openclaw": (OPENCLAW, ["agent_end"]),
    "plugin acontext-hook": (PLUGIN, ["claude-code", "Stop"]),
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACONTEXT_")}
    env.update(HOME=str(tmp_path / "user"), ACONTEXT_HOME=str(tmp_path / "home"))
    env.update(extra)
    return env


def _run(script: Path, args: list[str], payload: bytes, env: dict[str, str]):
    return subprocess.run(
        [str(script), *args], input=payload, capture_output=True, env=env, timeout=60
    )


def _count(home: Path, session_id: str) -> int:
    db = home / "acontext.db"
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = ?)",
            (session_id,),
        ).fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0
    finally:
        conn.close()


def _texts(home: Path, session_id: str) -> str:
    conn = sqlite3.connect(home / "acontext.db")
    try:
        rows = conn.execute(
            "SELECT parts FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = ?)",
            (session_id,),
        )
        return "\n".join(r[0] for r in rows)
    finally:
        conn.close()


def _wait_for(home: Path, session_id: str, want: int, timeout: float = 30) -> int:
    """Capture may run in a detached child after the hook exits: poll the store."""
    deadline = time.monotonic() + timeout
    while True:
        got = _count(home, session_id)
        if got >= want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _claude_payload(tmp_path: Path) -> tuple[dict[str, Any], str]:
    """The recorded Stop payload of the multi_turn run, pointed at a copy of its transcript."""
    payloads = [
        json.loads(line)
        for line in (FIXTURES / "claude_code" / "hooks-multi_turn.jsonl").read_text().splitlines()
    ]
    stop = next(p for p in payloads if p["hook_event_name"] == "Stop")
    folder = tmp_path / "claude" / "projects" / "-tmp-cc-fixture-project"
    folder.mkdir(parents=True)
    transcript = folder / f"{stop['session_id']}.jsonl"
    shutil.copy(FIXTURES / "claude_code" / "multi_turn.jsonl", transcript)
    return {**stop, "transcript_path": str(transcript)}, stop["session_id"]


def _direct_count(tmp_path: Path, agent: str, event: str, payload: bytes, sid: str) -> int:
    """What `acontext-mcp hook` itself stores for the payload, in a home of its own."""
    env = _env(tmp_path, ACONTEXT_HOME=str(tmp_path / "direct"), ACONTEXT_HOOK_INLINE="1")
    done = subprocess.run(
        [str(BIN), "hook", agent, event], input=payload, capture_output=True, env=env, timeout=60
    )
    assert done.returncode == 0
    return _count(tmp_path / "direct", sid)


# --- Files ---


@pytest.mark.parametrize("name", sorted(SHIMS))
def test_shim_is_an_executable_posix_sh_script(name: str) -> None:
    script = SHIMS[name][0]
    mode = script.stat().st_mode
    assert stat.S_ISREG(mode)
    executable = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
    assert mode & executable == executable, f"{script} is {oct(mode & 0o777)}: chmod 755 it"
    assert script.read_text().startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n", str(script)], timeout=30).returncode == 0


# --- Installed: a transparent exec ---


@pytest.mark.parametrize("via", ["ACONTEXT_MCP_BIN", "PATH"])
def test_claude_code_script_captures_the_session(tmp_path: Path, via: str) -> None:
    payload, sid = _claude_payload(tmp_path)
    data = json.dumps(payload).encode()
    want = _direct_count(tmp_path, "claude-code", "Stop", data, sid)
    assert want > 10
    if via == "PATH":
        env = _env(tmp_path, PATH=f"{BIN.parent}:{SYSTEM_PATH}")
    else:
        env = _env(tmp_path, PATH=SYSTEM_PATH, ACONTEXT_MCP_BIN=str(BIN))
    done = _run(CLAUDE, ["Stop"], data, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert _wait_for(tmp_path / "home", sid, want) == want
    assert "ALPHA" in _texts(tmp_path / "home", sid)


def test_claude_code_script_passes_the_session_start_answer_through(tmp_path: Path) -> None:
    payload, _sid = _claude_payload(tmp_path)
    payload = {**payload, "hook_event_name": "SessionStart", "source": "startup"}
    env = _env(tmp_path, PATH=SYSTEM_PATH, ACONTEXT_MCP_BIN=str(BIN))
    done = _run(CLAUDE, ["SessionStart"], json.dumps(payload).encode(), env)
    assert done.returncode == 0, done.stderr
    if done.stdout.strip():  # a brief, or nothing for a brand-new store
        answer = json.loads(done.stdout)
        assert answer["hookSpecificOutput"]["hookEventName"] == "SessionStart"


@pytest.mark.parametrize("via", ["ACONTEXT_MCP_BIN", "PATH"])
def test_openclaw_script_captures_the_run(tmp_path: Path, via: str) -> None:
    payload = json.loads((FIXTURES / "openclaw" / "run1_agent_end.json").read_text())
    sid = payload["sessionId"]
    data = json.dumps(payload).encode()
    want = _direct_count(tmp_path, "openclaw", "agent_end", data, sid)
    assert want > 2
    if via == "PATH":
        env = _env(tmp_path, PATH=f"{BIN.parent}:{SYSTEM_PATH}")
    else:
        env = _env(tmp_path, PATH=SYSTEM_PATH, ACONTEXT_MCP_BIN=str(BIN))
    done = _run(OPENCLAW, ["agent_end"], data, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert _wait_for(tmp_path / "home", sid, want) == want


# --- Not installed: fail open ---


@pytest.fixture
def no_acontext_on_system_path() -> None:
    if shutil.which("acontext-mcp", path=SYSTEM_PATH):
        pytest.skip(f"acontext-mcp is installed in {SYSTEM_PATH}")


@pytest.mark.usefixtures("no_acontext_on_system_path")
@pytest.mark.parametrize("name", sorted(SHIMS))
@pytest.mark.parametrize("home_set", [True, False], ids=["ACONTEXT_HOME", "default home"])
def test_missing_install_exits_0_silently_and_logs(tmp_path: Path, name: str, home_set: bool):
    script, args = SHIMS[name]
    env = _env(tmp_path, PATH=SYSTEM_PATH)
    env.pop("ACONTEXT_MCP_BIN", None)
    if not home_set:
        env.pop("ACONTEXT_HOME")
    payload = b'{"session_id": "s", "transcript_path": "/nonexistent.jsonl"}' * 20_000
    done = _run(script, args, payload, env)  # ~1 MB: more than a pipe buffer, must be drained
    assert done.returncode == 0
    assert done.stdout == b""
    home = tmp_path / "home" if home_set else tmp_path / "user" / ".acontext-mcp"
    log = (home / "logs" / "hooks.log").read_text()
    assert log.count("\n") == 1
    assert "skipped" in log and args[-1] in log
    assert not (home / "acontext.db").exists()


@pytest.mark.parametrize("script", [CLAUDE, OPENCLAW], ids=["claude-code", "openclaw"])
def test_an_unusable_acontext_mcp_bin_is_named_in_the_log(tmp_path: Path, script: Path):
    bogus = tmp_path / "not-executable"
    bogus.write_text("#!/bin/sh\nexit 3\n")
    env = _env(tmp_path, PATH=SYSTEM_PATH, ACONTEXT_MCP_BIN=str(bogus))
    done = _run(script, ["Stop"], b"{}", env)
    assert (done.returncode, done.stdout) == (0, b"")
    log = (tmp_path / "home" / "logs" / "hooks.log").read_text()
    assert f"ACONTEXT_MCP_BIN={bogus} is not executable" in log
