"""learn_now, learning_status and search_skills through the real `mcp.Client`, in-process.

Real store, real skills git repository, real workspace; the model is the scripted in-process
FakeProvider (tests/support/fake_provider.py) put in place of `pipeline._provider`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import git
import pytest
from mcp import Client
from support.fake_provider import FakeProvider, tools
from support.learn_fixtures import PROCEDURE, SUCCESS, learner_script

from acontext_mcp import server as server_module
from acontext_mcp.config import Settings
from acontext_mcp.learn import pipeline
from acontext_mcp.server import build_server
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.store.tasks import insert_task
from acontext_mcp.store.turns import store_turn

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("accept_all")]  # review: test_learn_review


@pytest.fixture(autouse=True)
def sync_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skills sync after learning writes into temp dirs, never the user's ~/.claude."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "no-openclaw"))
    monkeypatch.setenv("HOME", str(tmp_path / "home-dir"))


@pytest.fixture
def server(settings: Settings):
    return build_server(settings)


def use_model(monkeypatch: pytest.MonkeyPatch, script: list[Any]) -> FakeProvider:
    model = FakeProvider(script)
    monkeypatch.setattr(pipeline, "_provider", lambda conn, settings: model)
    return model


def seed_task(
    settings: Settings,
    sid: str = "s1",
    *,
    description: str = "Build the wheel",
    status: str = "success",
    project: str | None = None,
) -> dict[str, Any]:
    """A session with one task of a realistic shape: a prompt, a tool call and its result."""
    conn = open_db(settings)
    try:
        store_turn(
            conn,
            settings,
            [
                {"role": "user", "content": description},
                {
                    "role": "assistant",
                    "content": "Building.",
                    "tool_calls": [
                        {
                            "id": f"c-{sid}-{description[:8]}",
                            "type": "function",
                            "function": {
                                "name": "Bash",
                                "arguments": '{"command": "python -m build"}',
                            },
                        }
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": f"c-{sid}-{description[:8]}",
                    "content": "Successfully built acontext_mcp-0.1-py3-none-any.whl",
                },
                {"role": "assistant", "content": "Ran python -m build; dist/ has the wheel."},
            ],
            session_id=sid,
            project_dir=project,
        )
        with atomic(conn):
            return insert_task(conn, sid, description, status=status)
    finally:
        conn.close()


def query(settings: Settings, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    conn = open_db(settings)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def skills_head(settings: Settings) -> str:
    r = git.Repo(settings.skills_dir)
    try:
        return r.head.commit.hexsha
    finally:
        r.close()


# --- learning_status ------------------------------------------------------------------------


async def test_learning_status_of_an_unknown_session_is_an_error_naming_it(server) -> None:
    async with Client(server) as client:
        result = await client.call_tool("learning_status", {"session_id": "no-such-session"})
    assert result.is_error
    assert "no-such-session" in result.content[0].text


async def test_learning_status_is_idle_before_anything_finished(server, settings) -> None:
    seed_task(settings, description="Still building", status="running")
    async with Client(server) as client:
        result = await client.call_tool("learning_status", {"session_id": "s1"})
        listing = (await client.call_tool("learning_status", {})).structured_content
    assert not result.is_error, result.content
    out = result.structured_content
    assert (out["status"], out["finished_tasks"], out["learnings"]) == ("idle", 0, [])
    assert out["commits"] == []
    assert listing == {"sessions": []}  # no learning activity anywhere yet


async def test_learn_now_waiting_learns_and_status_reports_the_commit(
    server, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_task(settings)
    model = use_model(monkeypatch, [tools(SUCCESS), *learner_script()])

    async with Client(server) as client:
        result = await client.call_tool("learn_now", {"session_id": "s1", "wait_s": 60})
        assert not result.is_error, result.content
        learned = result.structured_content
        status = await client.call_tool("learning_status", {"session_id": "s1"})
        listing = (await client.call_tool("learning_status", {})).structured_content

    sha = skills_head(settings)
    assert learned["status"]["status"] == "completed", learned
    assert learned["status"]["commits"] == [sha]
    assert [s["job"] for s in learned["steps"]] == ["learn_task", "learn_space"]
    assert [r["purpose"] for r in model.requests][:2] == ["skill_distillation", "skill_learning"]
    assert (settings.skills_dir / "python-packaging" / "procedures.md").read_text() == PROCEDURE

    assert not status.is_error, status.content
    out = status.structured_content
    assert (out["status"], out["space"], out["finished_tasks"]) == ("completed", "default", 1)
    assert out["commits"] == [sha]
    assert [(i["kind"], i["status"], i.get("commit")) for i in out["learnings"]] == [
        ("success", "learned", sha)
    ]
    listed = {s["session_id"]: s for s in listing["sessions"]}
    assert listed["s1"]["status"] == "completed" and listed["s1"]["commits"] == [sha]


# --- learn_now without waiting ----------------------------------------------------------------


async def test_learn_now_without_waiting_queues_jobs_and_reports_pending(
    server, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.environ["ACONTEXT_WORKER"] == "off"  # conftest: no worker may be spawned
    first = seed_task(settings, description="Build the wheel")
    second = seed_task(settings, description="Fix the flaky test", status="failed")
    seed_task(settings, description="Still going", status="running")
    model = use_model(monkeypatch, [])

    async with Client(server) as client:
        result = await client.call_tool("learn_now", {"session_id": "s1"})
        status = await client.call_tool("learning_status", {"session_id": "s1"})
    assert not result.is_error, result.content
    out = result.structured_content
    assert out["worker_started"] is False
    assert (out["session_id"], out["space"], out["queued_tasks"]) == ("s1", "default", 2)
    assert out["status"]["status"] == "pending"
    assert out["status"]["jobs"] == {"queued": 2}
    assert status.structured_content["status"] == "pending"
    assert model.requests == []  # nothing ran in the foreground

    rows = query(settings, "SELECT kind, status, payload FROM jobs ORDER BY id")
    learn = [json.loads(r["payload"]) for r in rows if r["kind"] == "learn_task"]
    assert sorted(p["task_id"] for p in learn) == sorted([first["id"], second["id"]])
    assert all(p["session_id"] == "s1" for p in learn)
    observe = [json.loads(r["payload"]) for r in rows if r["kind"] == "observe_session"]
    assert observe == [{"session_id": "s1"}]
    assert {r["status"] for r in rows} == {"queued"}

    # Asking again does not queue the same work twice.
    async with Client(server) as client:
        again = (await client.call_tool("learn_now", {"session_id": "s1"})).structured_content
    assert again["status"]["status"] == "pending"
    kinds = [r["kind"] for r in query(settings, "SELECT kind FROM jobs")]
    assert sorted(kinds) == ["learn_task", "learn_task", "observe_session"]


async def test_learn_now_defaults_to_the_latest_session_of_the_working_directory(
    server, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    here = tmp_path / "proj-here"
    elsewhere = tmp_path / "proj-elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    seed_task(settings, "old-here", project=str(here.resolve()))
    seed_task(settings, "new-here", project=str(here.resolve()))
    seed_task(settings, "newest-elsewhere", project=str(elsewhere.resolve()))
    conn = open_db(settings)
    for n, sid in enumerate(("old-here", "new-here", "newest-elsewhere")):
        conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (1_000_000 + n, sid))
    conn.close()
    use_model(monkeypatch, [])
    monkeypatch.chdir(here)

    async with Client(server) as client:
        result = await client.call_tool("learn_now", {})
    assert not result.is_error, result.content
    out = result.structured_content
    assert out["session_id"] == "new-here"
    assert out["status"]["session_id"] == "new-here" and out["queued_tasks"] == 1
    payloads = [json.loads(r[0]) for r in query(settings, "SELECT payload FROM jobs")]
    assert {p["session_id"] for p in payloads} == {"new-here"}


async def test_learn_now_without_any_session_is_a_clear_error(
    server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    async with Client(server) as client:
        result = await client.call_tool("learn_now", {})
        unknown = await client.call_tool("learn_now", {"session_id": "ghost"})
    assert result.is_error
    assert "no session has been captured yet" in result.content[0].text
    assert unknown.is_error and "ghost" in unknown.content[0].text


# --- search_skills ---------------------------------------------------------------------------


def write_skill(root: Path, name: str, description: str, files: dict[str, str]) -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    body = f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\nNotes.\n"
    (folder / "SKILL.md").write_text(body)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)


async def test_search_skills_groups_by_skill_and_ranks_name_and_description_first(
    server, settings: Settings
) -> None:
    root = settings.skills_dir
    write_skill(
        root,
        "postgres-vacuum",
        "How to run vacuum and autovacuum tuning on Postgres.",
        {
            "procedures.md": "## Vacuum\nRun `VACUUM ANALYZE` after bulk loads.\n",
            "traps.md": "A long transaction blocks vacuum from reclaiming rows.\n",
        },
    )
    write_skill(
        root,
        "frontend-notes",
        "React component conventions for the web app.",
        {"misc.md": "Vacuum the demo DB: vacuum, vacuum, vacuum (said often).\n"},
    )
    # Skills that never say the word, as a real library has: bm25 weighs a rare word (in a
    # library where most files say it, every score collapses to ~0 and ties).
    for n in range(8):
        write_skill(
            root,
            f"filler-{n}",
            f"Notes on topic {n} of the project.",
            {"notes.md": f"Run make target-{n} before commit.\n"},
        )

    async with Client(server) as client:
        result = await client.call_tool("search_skills", {"query": "vacuum"})
    assert not result.is_error, result.content
    results = result.structured_content["results"]
    names = [r["name"] for r in results]
    assert names == ["postgres-vacuum", "frontend-notes"]  # one entry per skill, best first
    top = results[0]
    assert top["description"].startswith("How to run vacuum")
    assert top["score"] > results[1]["score"]
    paths = {m["path"] for m in top["matches"]}
    assert {"procedures.md", "traps.md"} <= paths and len(paths) == len(top["matches"])
    assert all("**" in m["snippet"].lower() for m in top["matches"])
    assert [m["path"] for m in results[1]["matches"]] == ["misc.md"]
    assert "**vacuum**" in results[1]["matches"][0]["snippet"].lower()


async def test_search_skills_sees_a_skill_written_after_the_server_started(
    server, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "INDEX_REFRESH_S", 0)
    write_skill(
        settings.skills_dir,
        "deploy-notes",
        "Deploying the API with fly.io.",
        {"steps.md": "Run fly deploy.\n"},
    )
    async with Client(server) as client:
        before = (await client.call_tool("search_skills", {"query": "zeppelin"})).structured_content
        write_skill(
            settings.skills_dir,
            "airship-ops",
            "Operating the zeppelin fleet.",
            {"checklist.md": "Check the zeppelin gas cells before launch.\n"},
        )
        after = (await client.call_tool("search_skills", {"query": "zeppelin"})).structured_content
    assert before == {"results": []}
    assert [r["name"] for r in after["results"]] == ["airship-ops"]
    assert {m["path"] for m in after["results"][0]["matches"]} <= {"SKILL.md", "checklist.md"}


async def test_search_skills_finds_edits_on_the_first_search_after_them(
    server, settings: Settings
) -> None:
    """No waiting period: a file edited in place, a new skill and a deleted one, each seen by
    the very next search (INDEX_REFRESH_S stays at its default)."""
    write_skill(settings.skills_dir, "deploy-notes", "Deploying the API.", {"a.md": "fly\n"})
    write_skill(settings.skills_dir, "old-notes", "Old things.", {"b.md": "obsolete walrus\n"})
    async with Client(server) as client:

        async def found(query: str) -> list[str]:
            answer = await client.call_tool("search_skills", {"query": query})
            return [r["name"] for r in answer.structured_content["results"]]

        assert await found("zeppelin") == []
        (settings.skills_dir / "deploy-notes" / "a.md").write_text("zeppelin hangar\n")
        assert await found("zeppelin") == ["deploy-notes"]
        write_skill(settings.skills_dir, "airship-ops", "Gas cells.", {"c.md": "dirigible\n"})
        assert await found("dirigible") == ["airship-ops"]
        assert await found("walrus") == ["old-notes"]
        shutil.rmtree(settings.skills_dir / "old-notes")
        assert await found("walrus") == []


async def test_search_skills_with_only_punctuation_returns_nothing(
    server, settings: Settings
) -> None:
    write_skill(settings.skills_dir, "deploy-notes", "Deploying the API.", {"a.md": "?! ... --"})
    async with Client(server) as client:
        result = await client.call_tool("search_skills", {"query": "?! ... -- ()"})
        sanity = await client.call_tool("search_skills", {"query": "deploying"})
    assert not result.is_error, result.content
    assert result.structured_content == {"results": []}
    assert "deploy-notes" in [r["name"] for r in sanity.structured_content["results"]]
