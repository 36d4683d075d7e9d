"""`acontext-mcp learn` and `acontext-mcp spaces` through the real CLI entry point, in-process.

`acontext_mcp.cli.main([...])` with the data home of conftest (ACONTEXT_HOME), a real skills git
repository, sync targets in temp dirs, and the scripted FakeProvider as the model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git
import pytest
from support.fake_provider import FakeProvider, tools
from support.learn_fixtures import PROCEDURE, SUCCESS, learner_script

from acontext_mcp.cli import main
from acontext_mcp.config import Settings
from acontext_mcp.learn import pipeline
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.store.tasks import insert_task
from acontext_mcp.store.turns import store_turn

pytestmark = pytest.mark.usefixtures("accept_all")  # the commit path; review: test_learn_review


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Sync targets in temp dirs; the root logger as it was (`learn` configures logging)."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "no-openclaw"))
    monkeypatch.setenv("HOME", str(tmp_path / "home-dir"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configured = getattr(root, "_acontext_configured", None)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    if configured is None:
        root.__dict__.pop("_acontext_configured", None)
    else:
        root._acontext_configured = configured  # type: ignore[attr-defined]


@pytest.fixture
def home() -> Settings:
    """The settings the CLI itself reads (ACONTEXT_HOME from conftest, skills under it)."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings


def seed_task(settings: Settings, sid: str = "s1", status: str = "success") -> dict[str, Any]:
    conn = open_db(settings)
    try:
        store_turn(
            conn,
            settings,
            [
                {"role": "user", "content": "Build the wheel"},
                {
                    "role": "assistant",
                    "content": "Building.",
                    "tool_calls": [
                        {
                            "id": f"c-{sid}",
                            "type": "function",
                            "function": {
                                "name": "Bash",
                                "arguments": '{"command": "python -m build"}',
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": f"c-{sid}", "content": "Successfully built wheel"},
                {"role": "assistant", "content": "Ran python -m build; dist/ has the wheel."},
            ],
            session_id=sid,
        )
        with atomic(conn):
            return insert_task(conn, sid, "Build the wheel", status=status)
    finally:
        conn.close()


def use_model(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    model = FakeProvider([tools(SUCCESS), *learner_script()])
    monkeypatch.setattr(pipeline, "_provider", lambda conn, settings: model)
    return model


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_learn_without_a_session_or_any_activity_prints_the_hint(capsys, home) -> None:
    code, out, err = cli(capsys, "learn")
    assert code == 0, err
    assert "no learning yet" in out and "acontext-mcp learn SESSION" in out
    code, out, _ = cli(capsys, "learn", "--json")
    assert code == 0 and json.loads(out) == {"sessions": []}


def test_learn_session_learns_commits_and_reports_json(
    capsys, home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_task(home)
    model = use_model(monkeypatch)

    code, out, err = cli(capsys, "learn", "s1", "--no-observe", "--json")

    assert code == 0, err + out
    report = json.loads(out)
    repo = git.Repo(home.skills_dir)
    sha = repo.head.commit.hexsha
    repo.close()
    assert report["session_id"] == "s1" and report["space"] == "default"
    assert "observe" not in report  # --no-observe
    assert report["status"]["status"] == "completed"
    assert report["status"]["commits"] == [sha]
    assert [s["status"] for s in report["steps"]] == ["done", "done"]
    assert (home.skills_dir / "python-packaging" / "procedures.md").read_text() == PROCEDURE
    assert len(model.requests) == 5  # one distillation, four learner rounds
    assert err == ""  # --json: no progress lines

    # Without SESSION, the status listing now shows it.
    code, out, _ = cli(capsys, "learn")
    assert code == 0
    assert out.splitlines()[0] == "s1: completed (space default)"
    assert sha[:10] in out


def test_learn_prints_progress_and_status_for_humans(
    capsys, home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_task(home)
    use_model(monkeypatch)
    code, out, err = cli(capsys, "learn", "s1", "--no-observe")
    assert code == 0, err + out
    assert "distilling finished task 1/1" in err and "running the skill learner" in err
    assert "s1: completed (space default)" in out
    assert "acontext-mcp skills revert" in out


def test_learn_an_unknown_session_fails_clearly(capsys, home: Settings) -> None:
    code, out, err = cli(capsys, "learn", "unknown-session", "--no-observe")
    assert code == 2
    assert out == ""
    assert "no session 'unknown-session'" in err and "acontext-mcp sessions" in err


def test_learn_an_unknown_session_with_observation_fails_clearly(capsys, home: Settings) -> None:
    code, _, err = cli(capsys, "learn", "unknown-session")
    assert code == 2
    assert "no session 'unknown-session'" in err


def test_learn_an_unknown_session_leaves_no_job_behind(capsys, home: Settings) -> None:
    code, _, _ = cli(capsys, "learn", "unknown-session")
    assert code == 2
    conn = open_db(home)
    try:
        left = conn.execute("SELECT kind, payload FROM jobs").fetchall()
    finally:
        conn.close()
    assert [tuple(r) for r in left] == []


def test_spaces_list_create_attach_show(capsys, home: Settings) -> None:
    seed_task(home)

    code, out, err = cli(capsys, "spaces")
    assert code == 0, err
    assert out.startswith("default: 0 own skill(s), 0 session(s)")

    code, out, err = cli(capsys, "spaces", "create", "web", "--describe", "The web app")
    assert (code, out.strip()) == (0, "space web ready"), err
    code, out, _ = cli(capsys, "spaces", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["default", "web"]

    code, out, err = cli(capsys, "spaces", "attach", "web", "s1")
    assert (code, out.strip()) == (0, "session s1 learns into space web"), err

    code, _, _ = cli(capsys, "spaces", "create", "api")
    code, out, err = cli(capsys, "spaces", "attach", "api", "s1")
    assert code == 1 and out == ""
    assert "s1 already learns into space 'web'" in err

    code, out, err = cli(capsys, "spaces", "show", "web")
    assert code == 0, err
    assert out.strip() == "web: 1 session(s); own skills: (none yet; shared skills only)"
    code, out, _ = cli(capsys, "spaces", "show", "web", "--json")
    shown = json.loads(out)
    assert (shown["name"], shown["description"], shown["sessions"]) == ("web", "The web app", 1)

    code, _, err = cli(capsys, "spaces", "show", "nowhere")
    assert code == 2 and "no learning space 'nowhere'" in err
    code, _, err = cli(capsys, "spaces", "attach", "web", "no-such-session")
    assert code == 2 and "no session 'no-such-session'" in err
    code, _, err = cli(capsys, "spaces", "create", "Bad Name")
    assert code == 1 and "invalid space name" in err


def test_spaces_include_and_exclude_move_a_skill_between_owned_and_shared(
    capsys, home: Settings
) -> None:
    from acontext_mcp.skills.defaults import prepare
    from acontext_mcp.store import learning

    prepare(home)
    cli(capsys, "spaces", "create", "web")

    code, out, err = cli(capsys, "spaces", "include", "web", "project-runbooks")
    assert (code, out.strip()) == (0, "skill project-runbooks now belongs to space web"), err
    conn = open_db(home)
    try:
        names = ["daily-logs", "project-runbooks", "user-general-facts"]
        others = {"daily-logs", "user-general-facts"}
        assert learning.visible_skills(conn, "default", names) == others
        assert learning.visible_skills(conn, "web", names) == set(names)
        code, out, err = cli(capsys, "spaces", "exclude", "project-runbooks")
        assert (code, out.strip()) == (0, "skill project-runbooks is shared by every space")
        assert learning.visible_skills(conn, "default", names) == set(names)
    finally:
        conn.close()

    code, _, err = cli(capsys, "spaces", "include", "web", "no-such-skill")
    assert code == 2 and "no skill 'no-such-skill'" in err
    code, _, err = cli(capsys, "spaces", "include", "nowhere", "daily-logs")
    assert code == 2 and "no learning space 'nowhere'" in err
