"""The learning pipeline under a scripted in-process model: real store, real git, real sync."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import git
import pytest
from support.fake_provider import FakeProvider, call, tools
from support.learn_fixtures import PROCEDURE, SKILL_MD, SUCCESS, learner_script

from acontext_mcp.app import learning as learning_uc
from acontext_mcp.config import Settings
from acontext_mcp.learn import pipeline
from acontext_mcp.learn.learner import run_learner
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.llm import NoProvider
from acontext_mcp.skills import index, repo
from acontext_mcp.skills.defaults import prepare
from acontext_mcp.skills.validate import validate_skill
from acontext_mcp.store import learning
from acontext_mcp.store.db import atomic
from acontext_mcp.store.tasks import insert_task
from acontext_mcp.store.turns import store_turn
from acontext_mcp.worker import jobs

pytestmark = pytest.mark.usefixtures("accept_all")  # the commit path; review: test_learn_review


@pytest.fixture(autouse=True)
def claude_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sync targets inside the test: a temp Claude Code config dir, no OpenClaw."""
    target = tmp_path / "claude-config"
    target.mkdir()  # Claude Code is installed: sync writes into it
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(target))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "no-openclaw"))
    monkeypatch.setenv("HOME", str(tmp_path / "home-dir"))
    return target


def use_model(monkeypatch: pytest.MonkeyPatch, script: list[Any]) -> FakeProvider:
    model = FakeProvider(script)
    monkeypatch.setattr(pipeline, "_provider", lambda conn, settings: model)
    return model


def finished_task(
    conn: sqlite3.Connection,
    settings: Settings,
    sid: str = "s1",
    *,
    project: str | None = None,
    description: str = "Build the wheel",
    status: str = "success",
) -> dict[str, Any]:
    meta = {"project_dir": project} if project else None
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
                        "id": f"c-{sid}",
                        "type": "function",
                        "function": {"name": "Bash", "arguments": '{"command": "python -m build"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": f"c-{sid}", "content": "Successfully built wheel"},
            {"role": "assistant", "content": "Ran python -m build; dist/ has the wheel."},
        ],
        session_id=sid,
        meta=meta,
    )
    if project:
        conn.execute("UPDATE sessions SET project_dir = ? WHERE id = ?", (project, sid))
    with atomic(conn):
        return insert_task(conn, sid, description, status=status)


def head(settings: Settings) -> str | None:
    r = git.Repo(settings.skills_dir)
    try:
        return r.head.commit.hexsha if r.head.is_valid() else None
    finally:
        r.close()


def run_task_then_space(conn, settings, task) -> dict[str, Any]:
    out = pipeline.learn_task(conn, settings, {"task_id": task["id"], "session_id": "s1"})
    assert out["kind"] == "success", out
    return pipeline.learn_space(conn, settings, {"space": out["space"]})


def test_finished_task_becomes_a_valid_committed_skill_synced_and_searchable(
    db: sqlite3.Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    claude_home: Path,
) -> None:
    task = finished_task(db, settings)
    model = use_model(monkeypatch, [tools(SUCCESS), *learner_script()])

    first = pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})
    assert first == {
        "task_id": task["id"],
        "space": "default",
        "kind": "success",
        "called_llm": True,
    }
    queued = db.execute("SELECT kind, status FROM jobs WHERE kind = 'learn_space'").fetchall()
    assert [tuple(r) for r in queued] == [("learn_space", "queued")]
    assert "## Task Analysis (Success)" in learning.learning_for_task(db, task["id"])["text"]

    out = pipeline.learn_space(db, settings, {"space": "default"})
    assert out["learned"] == 1 and out["created"] == ["python-packaging"], out
    folder = settings.skills_dir / "python-packaging"
    assert validate_skill(folder) == []
    assert (folder / "procedures.md").read_text() == PROCEDURE

    # One commit with provenance; the tree is clean.
    entries = repo.log(settings.skills_dir, limit=5)
    assert entries[0]["sha"] == out["commit"]
    commit = git.Repo(settings.skills_dir).commit(out["commit"])
    assert "Acontext-Session: s1" in commit.message
    assert f"Acontext-Task: {task['id']}" in commit.message
    assert commit.message.startswith("Learn from 1 learning: Build the wheel")
    assert not git.Repo(settings.skills_dir).is_dirty(untracked_files=True)

    # Store: learned with the sha; the skill belongs to the session's space.
    row = learning.learning_for_task(db, task["id"])
    assert (row["status"], row["commit_sha"]) == ("learned", out["commit"])
    assert learning.space_skills(db, "default") == {"python-packaging"}
    assert learning.session_status(db, "s1")["status"] == "completed"

    # Synced into the temp Claude Code home, and found by search.
    synced = claude_home / "skills" / "python-packaging" / "SKILL.md"
    assert synced.read_text() == SKILL_MD
    hits = index.search_by_skill(settings, "wheel hatch")
    assert hits[0]["name"] == "python-packaging"

    # The learner was shown the distilled learning and the day of the work (the session's).
    first_learner = next(r for r in model.requests if r["purpose"] == "skill_learning")
    prompt = first_learner["messages"][0]["parts"][0]["text"]
    assert "## Task Analysis (Success)" in prompt and "Date of the work:" in prompt
    assert "daily-logs" in prompt  # the default skills are offered


def test_learner_that_never_finishes_writes_nothing(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACONTEXT_LEARN_MAX_ROUNDS", "4")
    task = finished_task(db, settings)
    endless = tools(call("report_thinking", thinking="still thinking"))
    script: list[Any] = [tools(SUCCESS), *learner_script()[:3]]
    use_model(monkeypatch, script)
    model = pipeline._provider(db, settings)
    model.exhausted = endless
    pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})
    prepare(settings)
    before = head(settings)

    out = pipeline.learn_space(db, settings, {"space": "default"})

    assert out["outcome"] == "failed" and "did not finish within 4 rounds" in out["reason"]
    assert head(settings) == before
    assert not (settings.skills_dir / "python-packaging").exists()
    assert learning.learning_for_task(db, task["id"])["status"] == "failed"
    assert learning.session_status(db, "s1")["status"] == "failed"
    assert sum(r["purpose"] == "skill_learning" for r in model.requests) == 4


def test_edits_before_report_thinking_are_refused(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(settings)
    model = FakeProvider(
        [
            tools(call("create_skill", skill_md_content=SKILL_MD)),
            tools(call("finish")),
        ]
    )
    workspace = SkillWorkspace(settings.skills_dir)
    run = run_learner(model, workspace, [{"text": "x"}], today="2026-12-02", rounds=3)
    refused = model.requests[1]["messages"][-1]["parts"][0]
    assert refused["is_error"] and "report_thinking first" in refused["content"][0]["text"]
    assert workspace.changes() == {}
    assert run.finished  # nothing was changed, so finishing is allowed


def test_malformed_skill_md_from_the_model_is_refused_and_nothing_committed(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACONTEXT_LEARN_MAX_ROUNDS", "3")
    task = finished_task(db, settings)
    broken = SKILL_MD.replace("name: python-packaging", "name: Python Packaging!")
    use_model(monkeypatch, [tools(SUCCESS), *learner_script(broken)])
    pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})
    prepare(settings)
    before = head(settings)

    out = pipeline.learn_space(db, settings, {"space": "default"})

    assert out["outcome"] == "failed"
    assert head(settings) == before
    assert sorted(p.name for p in settings.skills_dir.iterdir() if not p.name.startswith(".")) == [
        "daily-logs",
        "project-runbooks",
        "user-general-facts",
    ]


def test_learnings_arriving_meanwhile_are_batched_into_one_commit(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = [
        finished_task(db, settings, f"s{i}", description=f"Build wheel number {i}")
        for i in range(1, 4)
    ]
    use_model(monkeypatch, [tools(SUCCESS)] * 3 + learner_script())
    for t in tasks:
        pipeline.learn_task(db, settings, {"task_id": t["id"], "session_id": t["session_id"]})
    # Three learn_task runs queued the space once.
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'learn_space'").fetchone()[0] == 1

    out = pipeline.learn_space(db, settings, {"space": "default"})

    assert out["learned"] == 3
    message = git.Repo(settings.skills_dir).commit(out["commit"]).message
    assert [ln for ln in message.splitlines() if ln.startswith("Acontext-Session:")] == [
        "Acontext-Session: s1",
        "Acontext-Session: s2",
        "Acontext-Session: s3",
    ]
    assert message.count("Acontext-Task:") == 3
    assert all(learning.session_status(db, f"s{i}")["status"] == "completed" for i in (1, 2, 3))


def test_more_than_a_batch_queues_the_next_run(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(pipeline.MAX_BATCH + 2):
        task = finished_task(db, settings, f"s{i}", description=f"Task {i}")
        with atomic(db):
            learning.attach_session(db, f"s{i}", "default")
            learning.add_learning(
                db,
                session_id=f"s{i}",
                task_id=task["id"],
                space="default",
                kind="success",
                text=f"learning {i}",
            )
    model = use_model(monkeypatch, [])  # a learner with nothing to write: says so and stops

    out = pipeline.learn_space(db, settings, {"space": "default"})

    assert out["learned"] == pipeline.MAX_BATCH and out["commit"] is None
    assert out["more_waiting"] is True
    prompt = model.requests[0]["messages"][0]["parts"][0]["text"]
    assert "learning 0" in prompt and f"learning {pipeline.MAX_BATCH}" not in prompt
    second = pipeline.learn_space(db, settings, {"space": "default"})
    assert second["learned"] == 2 and "more_waiting" not in second


def test_llm_unavailable_keeps_learnings_waiting_without_spending_attempts(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = finished_task(db, settings)
    use_model(monkeypatch, [tools(SUCCESS), NoProvider("no model today")])
    pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})

    with pytest.raises(NoProvider):
        pipeline.learn_space(db, settings, {"space": "default"})

    row = learning.learning_for_task(db, task["id"])
    assert (row["status"], row["attempts"]) == ("distilled", 0)
    assert learning.session_status(db, "s1")["status"] == "pending"


def test_trivial_task_is_skipped_without_a_model_call(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    hello = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    store_turn(db, settings, hello, session_id="s1")
    with atomic(db):
        task = insert_task(db, "s1", "Say hello", status="success")
    model = use_model(monkeypatch, [])

    out = pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})

    assert out["kind"] == "skip" and out["called_llm"] is False
    assert model.requests == []
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'learn_space'").fetchone()[0] == 0
    assert learning.session_status(db, "s1")["status"] == "completed"


def test_preferences_go_straight_to_the_learner(db: sqlite3.Connection, settings: Settings) -> None:
    task = finished_task(db, settings, status="running")
    pipeline.queue_preference(db, settings, "s1", task["id"], "The user prefers uv over pip.")
    rows = db.execute("SELECT kind, status, text FROM learnings").fetchall()
    assert [(r["kind"], r["status"]) for r in rows] == [("preferences", "distilled")]
    assert "## User Preferences Observed" in rows[0]["text"]
    assert "The user prefers uv over pip." in rows[0]["text"]
    job = db.execute("SELECT run_after, created_at FROM jobs WHERE kind = 'learn_space'").fetchone()
    assert job["run_after"] >= job["created_at"] + pipeline.PREFERENCE_DELAY_S - 1


def test_project_config_picks_the_space_and_spaces_do_not_see_each_others_skills(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project = str(tmp_path / "web")
    config = {"projects": {project: {"learning_space": "web"}}}
    (settings.home / "config.json").write_text(json.dumps(config))
    task = finished_task(db, settings, "w1", project=project)
    use_model(monkeypatch, [tools(SUCCESS), *learner_script()])
    out = pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "w1"})
    assert out["space"] == "web"
    pipeline.learn_space(db, settings, {"space": "web"})
    assert learning.space_skills(db, "web") == {"python-packaging"}

    # The default space's learner sees the shared skills but not web's.
    names = [p.name for p in settings.skills_dir.iterdir() if not p.name.startswith(".")]
    seen = learning.visible_skills(db, "default", names)
    assert "python-packaging" not in seen and "daily-logs" in seen
    workspace = SkillWorkspace(settings.skills_dir, visible=seen)
    assert workspace.get_skill("python-packaging").startswith("Error")
    assert "python-packaging" not in workspace.list_skills()


def test_a_session_learns_into_one_space_ever(db: sqlite3.Connection, settings: Settings) -> None:
    finished_task(db, settings)
    with atomic(db):
        assert learning.attach_session(db, "s1", "default") == "default"
    with pytest.raises(Exception, match="already learns into space 'default'"):
        learning.attach_session(db, "s1", "other", explicit=True)
    with atomic(db):
        assert learning.attach_session(db, "s1", "other") == "default"  # implicit: kept


def test_learn_session_runs_everything_in_the_foreground(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished_task(db, settings)
    finished_task(db, settings, description="Fix the flaky test", status="failed")
    failure = call(
        "report_failure_analysis",
        task_goal="Fix the flaky test",
        failure_point="Retried without reading the log",
        flawed_reasoning="Assumed timing",
        what_should_have_been_done="Read the traceback first",
        prevention_principle="Read before retrying",
        applies_when="pytest flakes in this repo",
    )
    use_model(monkeypatch, [tools(SUCCESS), tools(failure), *learner_script()])
    steps: list[str] = []

    out = learning_uc.learn_session(
        settings, "s1", observe_first=False, timeout_s=60, progress=steps.append
    )

    status = out["status"]
    assert status["status"] == "completed", out
    assert {item["kind"] for item in status["learnings"]} == {"success", "failure"}
    assert len(status["commits"]) == 1
    assert any("skill learner" in s for s in steps)
    # Nothing is left queued for a background worker.
    left = db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0]
    assert left == 0


def test_worker_runs_learning_jobs(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from acontext_mcp.app.handlers import HANDLERS
    from acontext_mcp.worker.loop import run_worker

    task = finished_task(db, settings)
    use_model(monkeypatch, [tools(SUCCESS), *learner_script()])
    with atomic(db):
        from acontext_mcp.store.tasks import queue_learning

        queue_learning(db, task["id"], "s1")

    stats = run_worker(settings, HANDLERS, until_idle=True, idle_exit_s=0.2)

    assert stats["outcomes"] == {"done": 2}, stats
    assert (settings.skills_dir / "python-packaging" / "procedures.md").exists()
    assert {
        j.kind for j in map(lambda r: jobs.Job.from_row(r), db.execute("SELECT * FROM jobs"))
    } == {"learn_task", "learn_space"}


def test_a_task_reopened_before_learning_is_learned_when_it_finishes_again(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from acontext_mcp.store.tasks import queue_learning, update_task_by_id

    task = finished_task(db, settings)
    with atomic(db):
        assert queue_learning(db, task["id"], "s1")
        update_task_by_id(db, task["id"], status="running")  # reopened before the job ran
    model = use_model(monkeypatch, [tools(SUCCESS)])
    out = pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})
    assert out["outcome"] == "not finished (running)" and model.requests == []
    db.execute("UPDATE jobs SET status = 'done' WHERE kind = 'learn_task'")

    with atomic(db):
        update_task_by_id(db, task["id"], status="success")
        assert queue_learning(db, task["id"], "s1")  # done without a learning: queued again
    assert db.execute("SELECT status FROM jobs WHERE kind = 'learn_task'").fetchone()[0] == "queued"
    assert (
        pipeline.learn_task(db, settings, {"task_id": task["id"], "session_id": "s1"})["kind"]
        == "success"
    )
    db.execute("UPDATE jobs SET status = 'done' WHERE kind = 'learn_task'")
    with atomic(db):
        assert not queue_learning(db, task["id"], "s1")  # learned: never again


def test_a_task_finished_again_while_its_learn_job_runs_is_learned(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The learn-again window: the job is running, the task is reopened and finished again,
    and `queue_learning` arrives mid-run. The job must not end `done` with the finish lost."""
    from acontext_mcp.app.handlers import HANDLERS
    from acontext_mcp.store.tasks import queue_learning, update_task_by_id
    from acontext_mcp.worker.loop import run_worker

    task = finished_task(db, settings)
    with atomic(db):
        assert queue_learning(db, task["id"], "s1")
    job = jobs.claim(db, "w1", kinds=["learn_task"], lease_s=60)
    assert job is not None and job.payload == {"task_id": task["id"], "session_id": "s1"}
    with atomic(db):
        update_task_by_id(db, task["id"], status="running")  # reopened before the run reads it
    model = use_model(monkeypatch, [tools(SUCCESS), *learner_script()])
    assert pipeline.learn_task(db, settings, job.payload)["outcome"] == "not finished (running)"
    with atomic(db):  # finished again while the job still runs
        update_task_by_id(db, task["id"], status="success")
        assert queue_learning(db, task["id"], "s1")
    assert jobs.complete(db, job)

    row = db.execute("SELECT status, attempts FROM jobs WHERE id = ?", (job.id,)).fetchone()
    assert tuple(row) == ("queued", 0)
    stats = run_worker(settings, HANDLERS, until_idle=True, idle_exit_s=0.2)
    assert stats["outcomes"] == {"done": 2}, stats
    assert learning.learning_for_task(db, task["id"])["kind"] == "success"
    assert len(model.requests) >= 1
    with atomic(db):
        assert not queue_learning(db, task["id"], "s1")  # learned: never again


def test_the_learner_prompt_keeps_the_skill_list_bounded_and_relevant() -> None:
    from acontext_mcp.learn.learner import SKILLS_CHARS, build_prompt

    lines = [f"- **skill-{i:04d}**: Notes about topic {i} and its chores." for i in range(800)]
    lines.insert(537, "- **python-packaging**: Building wheels with hatch and publishing them.")
    prompt = build_prompt([{"text": "Built the wheel with hatch"}], "\n".join(lines), "2026-12-02")
    listing = prompt.split("## Available skills\n", 1)[1].split("\n\nDate of the work:")[0]
    assert len(listing) < SKILLS_CHARS + 100
    assert "**python-packaging**" in listing  # the one that shares words with the learning
    assert "call list_skills to see them all" in listing


def test_finish_running_learns_tasks_the_user_says_are_done(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = finished_task(db, settings, status="running")
    assert learning.session_status(db, "s1")["unfinished_tasks"] == 1
    use_model(monkeypatch, [tools(SUCCESS), *learner_script()])

    out = learning_uc.learn_session(
        settings, "s1", observe_first=False, timeout_s=60, finish_running=True
    )

    assert out["finished_by_request"] == [task["id"]]
    row = db.execute("SELECT status, progresses FROM tasks WHERE id = ?", (task["id"],)).fetchone()
    assert row["status"] == "success" and "--finish-running" in row["progresses"]
    status = out["status"]
    assert (status["status"], status["unfinished_tasks"], len(status["commits"])) == (
        "completed",
        0,
        1,
    )


def test_finish_in_a_turn_with_a_failed_call_is_refused_and_answers_keep_call_order(
    settings: Settings,
) -> None:
    prepare(settings)
    model = FakeProvider(
        [
            tools(call("finish"), call("get_skill", skill_name="no-such-skill")),
            tools(call("finish")),
        ]
    )
    run = run_learner(
        model, SkillWorkspace(settings.skills_dir), [{"text": "x"}], today="2026-12-02", rounds=4
    )
    first = model.requests[1]["messages"][-1]["parts"]
    assert [p["name"] for p in first] == ["finish", "get_skill"]
    assert first[0]["content"][0]["text"].startswith("Error: not finished")
    assert first[1]["is_error"]
    assert run.finished and run.rounds == 2 and run.tool_errors == 1
