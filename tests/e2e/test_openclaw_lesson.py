"""Real OpenClaw: the learned lesson matching a prompt reaches the model with that prompt.

Our plugin's `before_prompt_build` asks `acontext-mcp hook openclaw prompt` every turn; a
runbook trap of the workspace's project, indexed in the store's skills-index.db, matches the
first prompt and is prepended to it in the model request (OpenClaw keeps the typed prompt in
its transcript, so our capture stores the prompt as typed). The same question again in that
session gets nothing: the lesson is given once per session, recorded as a `prompt` use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.model_server import model_server
from test_openclaw import MODEL, Workspace, _requests, _stored, _summary, _timed, new_workspace

from acontext_mcp.config import Settings
from acontext_mcp.skills import index

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

FIRST = "The tests fail with no such table after the pull, why?"
AGAIN = "Still no such table when the tests run."
TRAP = "Migrate before the test suite"
SHARED = "Stamp the pulled test database"
SHARED_SKILL = (
    "---\nname: alembic-migrations\ndescription: Alembic migrations and their traps.\n---\n"
    "# Alembic migrations\n\n## Traps\n"
    f"- **{SHARED}**: after a pull, run `alembic upgrade head` before the tests, or they fail "
    'with "no such table" (when: alembic, pull, no such table; seen 6×, verified 5×, '
    "2026-12-03)\n"
)
RUNBOOK = (
    "# project\n\n## Traps\n"
    f"- **{TRAP}**: run `alembic upgrade head` first, or the tests fail with "
    '"no such table" (when: alembic, no such table; seen 4×, verified 3×, 2026-12-02)\n'
)


@pytest.fixture
def model(tmp_path: Path) -> Iterator[Path]:
    log, port_file = tmp_path / "model.jsonl", tmp_path / "model.port"
    with model_server(MODEL, port_file, "--log", str(log), "--final-text", "FAKE-DONE"):
        yield log


@pytest.fixture
def workspace(openclaw: Any, model: Path, tmp_path: Path) -> Workspace:
    return new_workspace(openclaw, tmp_path)


def _user_texts(body: dict[str, Any]) -> list[str]:
    out = []
    for message in body["messages"]:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
        out.append(str(content))
    return out


def test_the_matching_lesson_is_prepended_to_the_prompt_once_per_session(
    workspace: Workspace, model: Path
) -> None:
    settings = Settings(home=workspace.store, skills_dir=workspace.store / "skills")
    runbook = settings.skills_dir / "project-runbooks" / "projects" / "project.md"
    runbook.parent.mkdir(parents=True)
    runbook.write_text(RUNBOOK)
    (settings.skills_dir / "alembic-migrations").mkdir()
    (settings.skills_dir / "alembic-migrations" / "SKILL.md").write_text(SHARED_SKILL)
    index.refresh(settings)

    timings = workspace.oc.timings
    first = _timed(timings, "agent --local, lesson turn 1", workspace.agent, FIRST)
    session_id = first["meta"]["agentMeta"]["sessionId"]
    asked = [t for body in _requests(model) for t in _user_texts(body) if FIRST in t]
    assert asked, [_user_texts(body) for body in _requests(model)]
    assert SHARED in asked[-1] and "alembic upgrade head" in asked[-1], asked
    assert "alembic-migrations" in asked[-1], asked
    # The runbook's trap matches too, but the brief (system context) showed it already.
    assert TRAP not in asked[-1], asked
    # Our capture keeps the prompt as the user typed it, not the lesson.
    assert _summary(_stored(workspace.store, session_id)[0]) == ("user", FIRST)

    seen = len(_requests(model))
    second = _timed(timings, "agent --local, lesson turn 2", workspace.agent, AGAIN)
    assert second["meta"]["agentMeta"]["sessionId"] == session_id
    later = [t for body in _requests(model)[seen:] for t in _user_texts(body) if AGAIN in t]
    assert later and all(SHARED not in text and TRAP not in text for text in later), later

    conn = sqlite3.connect(workspace.store / "acontext.db")
    try:
        uses = conn.execute(
            "SELECT skill, kind, entry, session_id FROM skill_uses WHERE entry IS NOT NULL"
        ).fetchall()
    finally:
        conn.close()
    assert ("alembic-migrations", "prompt", SHARED, session_id) in uses
    assert ("project-runbooks", "brief", TRAP, session_id) in uses
    assert [u for u in uses if u[1] == "prompt"] == [
        ("alembic-migrations", "prompt", SHARED, session_id)
    ]
    log = (settings.logs_dir / "hooks.log").read_text().splitlines()
    assert not [x for x in log if " failed" in x or "error" in x], log
    assert sum(" openclaw prompt ok" in x for x in log) == 2, log
