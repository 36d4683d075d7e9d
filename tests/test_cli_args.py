"""The command line's shared argument rules (cli/args.py), as a user meets them: a relative
`--project`, session id prefixes, unknown sessions (exit 2), page limits and --days bounds,
errors naming commands rather than MCP tools, `skills --help`, and `flush --all`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from samples import openai_turn

from acontext_mcp.cli.skills import ACTIONS
from acontext_mcp.config import Settings
from acontext_mcp.learn.pipeline import _commit_message
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn
from acontext_mcp.text import clip

EXE = str(Path(sys.executable).parent / "acontext-mcp")
TURN = openai_turn("disk_list", '{"path": "notes"}', "todo.md", "One file: todo.md.")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACONTEXT_LLM")}
    env["ACONTEXT_WORKER"] = "off"
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


@pytest.fixture
def project(tmp_path: Path, settings: Settings) -> Path:
    """Three captured sessions: two in `project` (ids sharing a prefix), one elsewhere."""
    where = tmp_path / "project"
    where.mkdir()
    conn = open_db(settings)
    try:
        for sid, folder in (
            ("abc-111", where),
            ("abd-222", where),
            ("zzz-999", tmp_path),
        ):
            store_turn(conn, settings, TURN, session_id=sid, project_dir=str(folder))
    finally:
        conn.close()
    return where


def test_a_relative_project_means_the_directory_it_names(project: Path) -> None:
    done = run("sessions", "--project", ".", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    ids = {s["id"] for s in json.loads(done.stdout)["sessions"]}
    assert ids == {"abc-111", "abd-222"}
    elsewhere = run("sessions", "--project", "sub", cwd=project)
    assert elsewhere.stdout.strip() == f"no sessions of project {project / 'sub'}"
    brief = run("brief", "--project", ".", "--json", cwd=project)
    assert json.loads(brief.stdout)["project_dir"] == str(project)


def test_a_unique_prefix_names_a_session(project: Path) -> None:
    done = run("messages", "abc", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["session_id"] == "abc-111"
    assert run("tasks", "--session", "zz").returncode == 0


def test_an_ambiguous_prefix_is_refused_with_the_candidates(project: Path) -> None:
    done = run("messages", "ab")
    assert done.returncode == 2
    assert "abc-111" in done.stderr and "abd-222" in done.stderr and "more" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("flush", "nosuch"),
        ("tasks", "--session", "nosuch"),
        ("capture", "off", "--session", "nosuch"),
        ("messages", "nosuch"),
        ("learn", "nosuch"),
        ("forget", "--dry-run", "nosuch"),
    ],
)
def test_an_unknown_session_is_an_error_with_exit_2_that_names_a_command(
    project: Path, args: tuple[str, ...]
) -> None:
    done = run(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "no session 'nosuch'" in done.stderr
    assert "`acontext-mcp sessions`" in done.stderr
    assert "list_sessions" not in done.stderr
    assert not (Path(os.environ["ACONTEXT_HOME"]) / "capture-off-sessions" / "nosuch").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("sessions", "--limit", "100000"), "at most 200"),
        (("messages", "abc", "--limit", "501"), "at most 500"),
        (("tasks", "--limit", "0"), "at least 1"),
        (("usage", "--days", "-3"), "at least 1"),
        (("disk", "grep", "x", "--limit", "5000"), "at most 1000"),
    ],
)
def test_out_of_range_numbers_say_their_bounds(args: tuple[str, ...], said: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert said in done.stderr


def test_skills_help_lists_every_action() -> None:
    done = run("skills", "--help")
    listed = done.stdout.split("actions:", 1)[1]
    for action in ACTIONS:
        assert f"\n  {action} " in listed, action


def test_commit_subjects_end_between_words() -> None:
    label = "Make the payment reconciliation job idempotent across retries and partial failures"
    subject = _commit_message([{"kind": "success", "task": label}], []).splitlines()[0]
    assert subject.endswith("…")
    cut = subject.removeprefix("Learn from 1 learning: ").removesuffix("…")
    assert label.startswith(cut) and label[len(cut)] == " "
    assert clip("one two three", 8, at_word=True) == "one two…"
    assert clip("abcdefghijkl", 8, at_word=True) == "abcdefg…"  # one long word: cut inside


def test_flush_all_tracks_every_session_with_pending_messages_oldest_first(
    project: Path,
) -> None:
    done = run("flush", "--all")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # No LLM is configured: the first session's tracking is deferred and the rest wait.
    assert lines[0].startswith("[1/3] abc-111: deferred")
    assert "stopped: 2 more session(s) wait" in done.stdout
    refused = run("flush")
    assert refused.returncode == 1 and "--all" in refused.stderr


def test_capture_names_a_session_not_captured_yet_only_with_new(project: Path) -> None:
    refused = run("capture", "off", "--session", "later-1")
    assert refused.returncode == 2 and "--new" in refused.stderr
    assert run("capture", "off", "--new", "--session", "later-1").returncode == 0
    assert run("capture", "on", "--session", "later-1").returncode == 0  # switched off: known
    assert run("capture", "off", "--session", "abd").returncode == 0  # a stored one, by prefix
    marker = Path(os.environ["ACONTEXT_HOME"]) / "capture-off-sessions" / "abd-222"
    assert marker.is_file()
