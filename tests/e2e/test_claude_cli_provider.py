"""The claude-cli LLM provider against real Claude Code (from the e2e fixture): the flags we
pass are ones Claude Code accepts, and its JSON answer parses into tool calls."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_claude_code_skills import fake_api
from test_llm_providers import TOOLS, USER, _outcomes, _provider

from acontext_mcp.config import Settings
from acontext_mcp.llm.select import provider_for
from acontext_mcp.llm.setting import save

pytestmark = pytest.mark.e2e


def test_real_claude_code_runs_the_headless_command(
    claude_code, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The flags are real: Claude Code 2.1.330 runs them against a fake Anthropic API, sends
    no tools and our system prompt, and its JSON result parses into tool calls."""
    import subprocess
    import time

    answer = {"text": "ok", "tool_calls": [{"name": "finish", "arguments": {}}]}
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"conversations": [], "final": json.dumps(answer)}))
    port_file, log = tmp_path / "port", tmp_path / "llm.jsonl"
    support = Path(__file__).resolve().parents[1] / "support" / "anthropic_model.py"
    server = subprocess.Popen(
        [
            sys.executable,
            str(support),
            "--port-file",
            str(port_file),
            "--log",
            str(log),
            "--script",
            str(script),
        ]
    )
    try:
        for _ in range(100):
            if port_file.exists():
                break
            time.sleep(0.05)
        (tmp_path / "home-cc").mkdir()
        monkeypatch.setenv("HOME", str(tmp_path / "home-cc"))
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port_file.read_text()}")
        monkeypatch.setenv("DISABLE_TELEMETRY", "1")
        monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        monkeypatch.setenv("PATH", f"{claude_code.bin.parent}{os.pathsep}{os.environ['PATH']}")
        # auto would pick anthropic from the key Claude Code needs here: ask for the CLI.
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        llm = _provider(
            db, monkeypatch, ACONTEXT_LLM_PROVIDER="claude-cli", ACONTEXT_LLM_TIMEOUT="90"
        )
        reply = llm.complete(system="You track tasks.", messages=USER, tools=TOOLS, purpose="t")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert reply.text == "ok" and [c.name for c in reply.tool_calls] == ["finish"]
    requests = [
        r["body"]
        for r in map(json.loads, log.read_text().splitlines())
        if r.get("method") == "POST" and "/v1/messages" in r.get("path", "")
    ]
    assert len(requests) == 1  # one model turn
    body = requests[0]
    assert body.get("tools") in (None, [])
    assert "You track tasks." in json.dumps(body["system"]) and "finish" in json.dumps(
        body["system"]
    )
    assert "Please add dark mode." in json.dumps(body["messages"])
    assert _outcomes(db) == ["ok"]


# --- Background calls leave the user's Claude Code alone (issue 10, item 8) ---

HOOK_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop",
               "SessionEnd")  # fmt: skip
LOG_HOOK = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + ' ' + sys.argv[3] + '\\n')"
LOG_SERVER = (
    "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + ' started\\n'); sys.stdin.read()"
)
MEMORY = "USER-MEMORY-7d1f: always answer in French"


def _hooks(log: Path, who: str) -> dict[str, Any]:
    """Every event appends `<who> <event>` to `log`."""
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(LOG_HOOK)} {log} {who}"
    return {
        event: [{"matcher": "*", "hooks": [{"type": "command", "command": f"{command} {event}"}]}]
        for event in HOOK_EVENTS
    }


def _server(log: Path, who: str) -> dict[str, Any]:
    """An MCP server entry that appends `<who> started` to `log` when Claude Code starts it."""
    return {"type": "stdio", "command": sys.executable, "args": ["-c", LOG_SERVER, str(log), who]}


def _users_claude_code(claude_code: Any, home: Path, work: Path, env: dict[str, str]) -> None:
    """A user's setup: hooks in ~/.claude/settings.json, an MCP server in ~/.claude.json, a
    CLAUDE.md, and a plugin (installed from a local marketplace) with hooks and a server."""
    market = work / "market"
    (market / ".claude-plugin").mkdir(parents=True)
    (market / ".claude-plugin" / "marketplace.json").write_text(
        json.dumps(
            {
                "name": "local",
                "owner": {"name": "me"},
                "plugins": [
                    {"name": "noisy", "source": "./noisy", "description": "hooks and a server"}
                ],
            }
        )
    )
    plugin = market / "noisy"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / "hooks").mkdir()
    (plugin / ".claude-plugin" / "plugin.json").write_text(
        json.dumps({"name": "noisy", "version": "0.0.1", "description": "hooks and a server"})
    )
    plugin_hooks = {"hooks": _hooks(work / "hooks.log", "plugin")}
    (plugin / "hooks" / "hooks.json").write_text(json.dumps(plugin_hooks))
    (plugin / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"noisy": _server(work / "servers.log", "plugin")}})
    )
    claude_dir = home / ".claude"
    claude_dir.mkdir(parents=True)
    user_hooks = {"hooks": _hooks(work / "hooks.log", "user")}
    (claude_dir / "settings.json").write_text(json.dumps(user_hooks))
    (claude_dir / "CLAUDE.md").write_text(MEMORY + "\n")
    (home / ".claude.json").write_text(
        json.dumps({"mcpServers": {"mine": _server(work / "servers.log", "user")}})
    )
    for args in (
        ["plugin", "marketplace", "add", str(market)],
        ["plugin", "install", "noisy@local"],
    ):
        done = subprocess.run(
            [str(claude_code.bin), *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    for log in ("hooks.log", "servers.log"):  # `claude plugin ...` itself runs SessionEnd hooks
        (work / log).unlink(missing_ok=True)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_background_calls_run_no_user_hooks_plugins_or_servers_and_leave_no_session(
    claude_code,
    db: sqlite3.Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The attack: a user's Stop hook fired 35 times for 3 sessions, once per background call.
    Three calls through our provider, with the user's hooks, plugin, MCP servers and CLAUDE.md
    in place: none of them runs or is read, and no session is left under ~/.claude; then one
    plain `claude -p` in the same HOME shows every one of them is live."""
    home, work = tmp_path / "home-cc", tmp_path / "work"
    work.mkdir()
    answer = {"text": "ok", "tool_calls": [{"name": "finish", "arguments": {}}]}
    with fake_api(tmp_path / "api", {"conversations": [], "final": json.dumps(answer)}) as api:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC"))},
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": api.base_url,
            "ANTHROPIC_API_KEY": "sk-test",
            "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "PATH": f"{claude_code.bin.parent}{os.pathsep}{os.environ['PATH']}",
        }
        _users_claude_code(claude_code, home, work, env)
        monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        save(settings, "claude-cli")  # chosen, as `acontext-mcp config llm claude-cli` does
        llm = provider_for(settings.replace(llm_timeout=90), db)
        for _ in range(3):
            reply = llm.complete(system="You track tasks.", messages=USER, tools=TOOLS, purpose="t")
            assert [c.name for c in reply.tool_calls] == ["finish"]
        time.sleep(1)  # a SessionEnd hook would have been started by now
        sent = [json.dumps(r["body"]) for r in api.requests()]

        assert len(sent) == 3 and _outcomes(db) == ["ok"] * 3
        assert _lines(work / "hooks.log") == []  # no hook of the user's or the plugin's
        assert _lines(work / "servers.log") == []  # no MCP server started
        assert not any(MEMORY in body for body in sent)  # ~/.claude/CLAUDE.md not read
        assert not any("noisy" in body for body in sent)  # nothing of the plugin offered
        claude_dir = home / ".claude"
        for kept in ("projects", "session-env", "todos", "shell-snapshots"):
            left = sorted(p.name for p in (claude_dir / kept).glob("*"))
            assert left == [], (kept, left)  # no transcript, no per-session folders
        assert list((claude_dir / "sessions").glob("*")) == []

        # The control: the same HOME, a plain headless run. Everything above is live.
        done = subprocess.run(
            [str(claude_code.bin), "-p", "hi"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr
        time.sleep(1)
    fired = set(_lines(work / "hooks.log"))
    assert {"user Stop", "plugin Stop", "user SessionStart", "plugin SessionStart"} <= fired
    assert set(_lines(work / "servers.log")) == {"user started", "plugin started"}
    assert any(MEMORY in json.dumps(r["body"]) for r in api.requests()[3:])
    assert list((home / ".claude" / "projects").glob("*/*.jsonl"))
