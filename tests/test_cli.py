"""The command line, run as a user would: a subprocess per command, a real data home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "acontext_mcp", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def filled(settings: Settings) -> str:
    conn = open_db(settings)
    sid = store_turn(
        conn,
        settings,
        [
            {"role": "user", "content": "add a dark mode"},
            {"role": "assistant", "content": "Done: added a toggle in settings.py"},
        ],
        session_id="sess-1",
        project_dir="/work/app",
    )["session_id"]
    task_store.insert_task(conn, sid, "add a dark mode", status="success")
    conn.close()
    return sid


def test_status_on_a_fresh_home_creates_it_and_reports_paths(settings: Settings) -> None:
    out = run("status", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["home"] == str(settings.home)
    assert info["schema_version"] >= 1 and info["sessions"] == 0
    assert info["skills"] == 3  # the skills repository and its defaults exist from first use
    assert (Path(info["skills_dir"]) / ".git").is_dir()
    assert info["llm_provider"] == "none" and "config.json" in info["llm_reason"]
    human = run("status").stdout
    assert "capture works, learning waits" in human and str(settings.db_path) in human


def test_sessions_messages_and_tasks(filled: str) -> None:
    sessions = json.loads(run("sessions", "--json").stdout)["sessions"]
    assert [(s["id"], s["message_count"], s["task_count"]) for s in sessions] == [("sess-1", 2, 1)]
    assert "sess-1" in run("sessions").stdout
    transcript = run("messages", filled).stdout
    assert "user: add a dark mode" in transcript and "assistant: Done" in transcript
    anthropic = json.loads(run("messages", filled, "--format", "anthropic").stdout)
    assert anthropic["messages"][0] == {
        "role": "user",
        "content": [{"type": "text", "text": "add a dark mode"}],
    }
    tasks = json.loads(run("tasks", "--json", "--status", "success").stdout)["tasks"]
    assert [t["description"] for t in tasks] == ["add a dark mode"]
    assert "[success] sess-1 #1: add a dark mode" in run("tasks").stdout


def test_disk_commands_round_trip_through_stdin(settings: Settings) -> None:
    assert run("disk", "write", "notes/a.md", stdin="hello\nworld\n").returncode == 0
    assert run("disk", "read", "/notes/a.md").stdout == "hello\nworld\n"
    assert run("disk", "grep", "wor").stdout.strip() == "/notes/a.md:2:world"
    assert run("disk", "ls").stdout.strip() == "notes/"


@pytest.mark.parametrize(
    ("args", "env", "expected", "code"),
    [
        (("messages", "nope"), {}, "no session 'nope'", 2),  # something named that is not there
        (("disk", "read", "../../etc/passwd"), {}, "..", 1),
        (("status",), {"ACONTEXT_MAX_ARTIFACT_BYTES": "lots"}, "ACONTEXT_MAX_ARTIFACT_BYTES", 1),
        (("sessions", "--cursor", "zzz"), {}, "cursor", 1),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_1_or_2(args, env, expected, code) -> None:
    out = run(*args, env=env)
    assert out.returncode == code
    assert expected in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_a_newer_database_is_refused_by_every_command(settings: Settings) -> None:
    conn = open_db(settings)
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    out = run("sessions")
    assert out.returncode == 1 and "schema version 42" in out.stderr


def test_no_command_prints_help_and_fails() -> None:
    out = run()
    assert out.returncode == 2 and "serve" in out.stderr


def test_version() -> None:
    assert run("--version").stdout.startswith("acontext-mcp ")


def test_data_home_is_private(settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    assert run("status", env={"ACONTEXT_HOME": str(home)}).returncode == 0
    assert (home.stat().st_mode & 0o077) == 0
