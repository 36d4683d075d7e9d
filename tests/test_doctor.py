"""`acontext-mcp doctor` against real installs in a temp HOME, broken in the usual ways."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.setup import claude_code as cc
from acontext_mcp.store.cleanup import delete_session
from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.events import add_event
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.tasks import insert_task
from acontext_mcp.store.turns import store_turn

BIN = Path(sys.executable).parent
EXE = str(BIN / "acontext-mcp")
TURN = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """HOME, a private TMPDIR (to see doctor's temp files go), our bin dir on PATH."""
    for name in ("HOME", "TMPDIR"):
        (tmp_path / name.lower()).mkdir()
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    # A data home of its own: HOME (tmp_path/home) holds the user's .claude, not ours to tighten.
    monkeypatch.setenv("ACONTEXT_HOME", str(tmp_path / "data"))
    (tmp_path / "project").mkdir()
    return dict(os.environ)


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=170, env=env, cwd=cwd
    )


def doctor(env: dict[str, str], tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """Doctor's exit code and --json report, run from the project directory."""
    done = run(env, "doctor", "--json", *extra, cwd=tmp_path / "project")
    return done.returncode, json.loads(done.stdout)


def doctor_text(env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    done = run(env, "doctor", cwd=tmp_path / "project")
    return done.returncode, done.stdout


def failures(report: dict[str, Any]) -> str:
    return "\n".join(c["summary"] for c in report["checks"] if c["status"] == "fail")


@pytest.fixture
def installed(env: dict[str, str]) -> Path:
    done = run(env, "install", "claude-code")
    assert done.returncode == 0, done.stderr
    return Path(env["HOME"]) / ".claude" / "settings.json"


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def store_rows(settings_home: Path) -> dict[str, Any]:
    conn = sqlite3.connect(settings_home / "acontext.db")
    try:
        return {
            "sessions": conn.execute("SELECT id FROM sessions").fetchall(),
            "messages": conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
            "cursors": [r[0] for r in conn.execute("SELECT key FROM cursors")],
        }
    finally:
        conn.close()


def test_a_fresh_install_is_healthy_and_leaves_no_trace(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    code, report = doctor(env, tmp_path)
    assert code == 0, failures(report)
    assert report["healthy"] is True
    assert set(report["latency_ms"]["claude-code"]) >= set(cc.HOOK_EVENTS)
    code, text = doctor_text(env, tmp_path)
    assert code == 0, text
    assert "stored 2 of 2 messages" in text
    assert "hook latency" in text and " ms" in text
    assert "answered tools/list with" in text
    assert "capture works, learning waits" in text
    assert text.rstrip().endswith("healthy")

    rows = store_rows(Path(env["ACONTEXT_HOME"]))
    assert rows["sessions"] == [] and rows["messages"] == 0
    assert not [k for k in rows["cursors"] if "acontext-doctor" in k]
    assert list((tmp_path / "tmpdir").iterdir()) == []
    log = (Path(env["ACONTEXT_HOME"]) / "logs" / "hooks.log").read_text()
    assert "claude-code Stop ok" in log  # the hooks ran for real, and logged it


def test_an_async_prompt_hook_from_an_older_install_is_named(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    def make_async(data: dict[str, Any]) -> None:
        for group in data["hooks"]["UserPromptSubmit"]:
            for handler in group["hooks"]:
                handler["async"] = True

    edit(installed, make_async)
    _code, report = doctor(env, tmp_path)
    warned = [c["summary"] for c in report["checks"] if c["status"] == "warn"]
    assert any("hooks.UserPromptSubmit is async" in w for w in warned), warned
    assert run(env, "install", "claude-code").returncode == 0
    code, report = doctor(env, tmp_path)
    assert code == 0 and not [c for c in report["checks"] if "is async" in c["summary"]]


def test_a_missing_hook_is_named(env: dict[str, str], installed: Path, tmp_path: Path) -> None:
    edit(installed, lambda d: d["hooks"].pop("SessionEnd"))
    code, report = doctor(env, tmp_path)
    assert code == 1
    assert "hooks missing for SessionEnd" in failures(report)
    code, text = doctor_text(env, tmp_path)
    assert code == 1 and "fix: acontext-mcp install claude-code" in text
    assert text.rstrip().endswith("1 problem found")


def test_malformed_settings_are_named(env: dict[str, str], installed: Path, tmp_path: Path):
    installed.write_text('{"hooks": ')
    code, report = doctor(env, tmp_path)
    assert code == 1
    assert f"{installed} is not valid JSON" in failures(report)


def test_a_hook_pointing_at_a_missing_binary_is_named(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    gone = "/nowhere/venv/bin/acontext-mcp"
    text = installed.read_text().replace(
        f"{EXE} hook claude-code Stop", f"{gone} hook claude-code Stop"
    )
    installed.write_text(text)
    code, report = doctor(env, tmp_path)
    assert code == 1
    assert f"Stop: {gone} does not exist" in failures(report)


def test_an_unregistered_or_broken_mcp_server_is_named(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    claude_json = Path(env["HOME"]) / ".claude.json"
    edit(claude_json, lambda d: d["mcpServers"].pop("acontext"))
    code, report = doctor(env, tmp_path)
    assert code == 1 and "MCP server `acontext` is not registered" in failures(report)

    broken = tmp_path / "broken-server"
    broken.write_text("#!/bin/sh\necho 'acontext-mcp: boom' >&2\nexit 3\n")
    broken.chmod(0o755)
    server = {"type": "stdio", "command": str(broken), "args": ["serve"]}
    edit(claude_json, lambda d: d["mcpServers"].update(acontext=server))
    code, report = doctor(env, tmp_path, "--timeout", "10")
    assert code == 1
    assert "did not answer tools/list" in failures(report)
    assert "boom" in failures(report)  # the server's stderr is quoted


def test_capture_switched_off_is_named(env: dict[str, str], installed: Path, tmp_path: Path):
    (Path(env["ACONTEXT_HOME"]) / "capture-off").touch()
    code, report = doctor(env, tmp_path)
    assert code == 1
    assert "did not reach the store: capture is switched off" in failures(report)
    (switch,) = [c for c in report["checks"] if c["area"] == "capture"]
    assert switch["status"] == "warn"  # also said for the project itself


def test_a_database_from_a_newer_release_is_named(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    run(env, "status")  # create the store
    conn = sqlite3.connect(Path(env["ACONTEXT_HOME"]) / "acontext.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    code, report = doctor(env, tmp_path)
    assert code == 1
    assert "schema version 999" in failures(report)


def test_recent_hook_errors_warn_without_failing(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    import time

    logs = Path(env["ACONTEXT_HOME"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)  # as private as the hooks keep it
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    (logs / "hooks.log").write_text(
        f"{stamp} 42 claude-code Stop error OperationalError: database is locked 10002.0ms\n"
    )
    (logs / "hooks.log").chmod(0o600)
    code, report = doctor(env, tmp_path)
    assert code == 0
    (logs_check,) = [c for c in report["checks"] if c["area"] == "logs"]
    assert logs_check["status"] == "warn" and "database is locked" in logs_check["summary"]


def test_nothing_installed_fails(env: dict[str, str], tmp_path: Path) -> None:
    code, report = doctor(env, tmp_path)
    assert code == 1 and "not installed for any agent" in failures(report)


def test_not_on_path_only_warns_when_hooks_use_absolute_paths(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    bare = {**env, "PATH": "/usr/bin:/bin"}
    code, report = doctor(bare, tmp_path)
    assert code == 0, failures(report)
    (path_check,) = [c for c in report["checks"] if c["area"] == "path"]
    assert path_check["status"] == "warn"


def test_openclaw_install_is_checked_through_its_hook(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "install", "openclaw").returncode == 0
    code, report = doctor(env, tmp_path)
    assert code == 0, failures(report)
    assert "synthetic agent_end stored 2 of 2 messages" in json.dumps(report)
    assert "agent_end" in report["latency_ms"]["openclaw"]

    config = Path(env["HOME"]) / ".openclaw" / "openclaw.json"
    edit(
        config,
        lambda d: d["plugins"]["entries"]["acontext"]["hooks"].update(
            allowConversationAccess=False
        ),
    )
    code, report = doctor(env, tmp_path)
    assert code == 1 and "allowConversationAccess is not true" in failures(report)


# --- store.cleanup ---


def test_delete_session_removes_it_its_subagents_and_everything_keyed_by_it(db, settings: Settings):
    store_turn(db, settings, TURN, session_id="s1")
    ensure_session(db, "s1:agent-x", agent="claude-code", parent_id="s1")
    store_turn(db, settings, TURN, session_id="s1:agent-x")
    add_event(db, "s1", "compaction", {})
    insert_task(db, "s1", "do it")
    store_turn(db, settings, TURN, session_id="s10")  # a neighbour with a longer id
    for key in ("transcript:s1:/t.jsonl", "transcript:s1:agent-x:/a.jsonl", "provisional:s1",
                "transcript:s10:/t.jsonl", "provisional:s10"):  # fmt: skip
        set_cursor(db, key, 1)

    counts = delete_session(db, "s1")

    assert counts == {
        "messages": 4,
        "tasks": 1,
        "events": 1,
        "sessions": 2,
        "cursors": 3,
        "jobs": 0,
    }
    assert [r[0] for r in db.execute("SELECT id FROM sessions")] == ["s10"]
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2
    assert get_cursor(db, "transcript:s10:/t.jsonl") == 1 and get_cursor(db, "provisional:s10") == 1
    assert delete_session(db, "s1")["sessions"] == 0  # again: nothing, no error


def test_it_says_how_many_session_starts_were_prepared_ahead(
    env: dict[str, str], installed: Path, tmp_path: Path
) -> None:
    import time

    logs = Path(env["ACONTEXT_HOME"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    (logs / "hooks.log").write_text(
        f"{stamp} 41 claude-code SessionStart ok (detached) 80.1ms\n"
        f"{stamp} 42 claude-code SessionStart ok (detached, prepared answer) 20.3ms\n"
        f"{stamp} 43 claude-code SessionStart ok (detached, prepared answer) 19.8ms\n"
        "2020-01-01 00:00:00 44 claude-code SessionStart ok (detached) 90.0ms\n"
    )
    (logs / "hooks.log").chmod(0o600)
    _code, report = doctor(env, tmp_path)
    (check,) = [c for c in report["checks"] if c["area"] == "session-start"]
    assert check["summary"].startswith("2 of the 3 Claude Code session starts")
