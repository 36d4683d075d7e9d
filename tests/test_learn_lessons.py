"""Structured lessons end to end: one distillation call, a written entry with evidence counts,
repeats counted without a call, dates from the session, the learner only for a new skill.
Real store, real skills git repository, a scripted in-process model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import git
import pytest
from support.fake_provider import FakeProvider, call, tools

from acontext_mcp.cli.learn import _status_lines
from acontext_mcp.config import Settings
from acontext_mcp.learn import entries, pipeline
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.skills.defaults import prepare
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import atomic
from acontext_mcp.store.turns import store_turn

PROJECT = "/work/billing-api"
RUNBOOK = "project-runbooks/projects/billing-api.md"
TRAP = {
    "kind": "trap",
    "skill": "project-runbooks",
    "file": "projects/billing-api.md",
    "section": "Traps",
    "title": "test_sessions fails in random order",
    "text": "`pytest tests/test_sessions.py` fails with `AssertionError: session cache not empty` "
    "under pytest-randomly; the fix is a function-scoped `cache` fixture.",
    "triggers": ["flaky", "test_sessions", "pytest-randomly"],
    "summary": "Fixed the flaky tests/test_sessions.py.",
}


@pytest.fixture(autouse=True)
def sync_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "no-openclaw"))


def use_model(monkeypatch: pytest.MonkeyPatch, script: list[Any]) -> FakeProvider:
    model = FakeProvider(script)
    monkeypatch.setattr(pipeline, "_provider", lambda conn, settings: model)
    return model


def task(
    conn: sqlite3.Connection,
    settings: Settings,
    sid: str,
    description: str,
    *,
    day: str,
    command: str = "pytest tests/test_sessions.py",
    status: str = "success",
    outcome: str | None = "verified_success",
) -> dict[str, Any]:
    stored = store_turn(
        conn,
        settings,
        [
            {"role": "user", "content": description},
            {
                "role": "assistant",
                "content": "Running it.",
                "tool_calls": [
                    {
                        "id": f"c-{sid}",
                        "type": "function",
                        "function": {"name": "Bash", "arguments": json.dumps({"command": command})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": f"c-{sid}", "content": "31 passed in 2.1s"},
            {"role": "assistant", "content": "The fixture is function-scoped now; all pass."},
        ],
        session_id=sid,
        project_dir=PROJECT,
        meta={"timestamp": f"{day}T10:00:00Z"},
    )
    with atomic(conn):
        row = task_store.insert_task(conn, sid, description, status=status)
        task_store.link_messages(conn, row["id"], stored["message_ids"])
        task_store.set_outcome(conn, row["id"], outcome)
    return row


def learn(conn: sqlite3.Connection, settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    out = pipeline.learn_task(
        conn, settings, {"task_id": row["id"], "session_id": row["session_id"]}
    )
    done = pipeline.learn_space(conn, settings, {"space": "default"})
    return {"task": out, "space": done}


def read(settings: Settings, rel: str) -> str:
    return (settings.skills_dir / rel).read_text()


def test_a_lesson_becomes_an_entry_dated_by_the_session_with_one_call(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = use_model(monkeypatch, [tools(call("record_lesson", **TRAP))])
    row = task(db, settings, "s1", "Fix the flaky test in tests/test_sessions.py", day="2026-11-02")

    out = learn(db, settings, row)

    assert out["task"]["called_llm"] and out["space"]["commit"]
    assert [r["purpose"] for r in model.requests] == ["skill_distillation"]  # no learner loop
    prompt = model.prompt(0)
    assert "Project: billing-api (/work/billing-api)" in prompt
    assert "Outcome: verified_success" in prompt
    runbook = read(settings, RUNBOOK)
    assert runbook.splitlines()[:3] == ["# billing-api", "", f"Path: `{PROJECT}`"]
    assert (
        "## Traps\n- **test_sessions fails in random order**: `pytest tests/test_sessions.py`"
        in runbook
    )
    assert runbook.rstrip().endswith(
        "(when: flaky, test_sessions, pytest-randomly; seen 1×, verified 1×, 2026-11-02)"
    )
    # The day's log is the session's day, not today's.
    # In the month's file (daily-logs' layout: one file per month, a section per day).
    assert read(settings, "daily-logs/logs/2026-11.md") == (
        "# 2026-11\n\n## 2026-11-02\n\n### Fix the flaky test in tests/test_sessions.py\n"
        "Fixed the flaky tests/test_sessions.py.\n"
    )
    commit = git.Repo(settings.skills_dir).commit(out["space"]["commit"])
    assert sorted(commit.stats.files) == ["daily-logs/logs/2026-11.md", RUNBOOK]
    assert f"Acontext-Session: s1\nAcontext-Task: {row['id']}" in commit.message
    # What it cost is recorded per learning.
    (item,) = learning.session_status(db, "s1")["learnings"]
    assert item["llm_calls"] == 1 and item["tokens"] > 0
    (line,) = [ln for ln in _status_lines(learning.session_status(db, "s1")) if "[learned]" in ln]
    assert line.endswith(f"(1 LLM call, {item['tokens']:,} tokens)")


def test_a_repeat_only_counts_again_without_any_call(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_model(monkeypatch, [tools(call("record_lesson", **TRAP))])
    learn(
        db,
        settings,
        task(db, settings, "s1", "Fix the flaky test in tests/test_sessions.py", day="2026-11-02"),
    )
    once = read(settings, RUNBOOK)
    model = use_model(monkeypatch, [])  # any call would get no tool call and fail

    for n, day in enumerate(["2026-11-09", "2026-11-16", "2026-12-04"], 2):
        row = task(db, settings, f"s{n}", "The test_sessions test is flaky again, fix it", day=day)
        out = learn(db, settings, row)
        assert out["task"]["called_llm"] is False and out["task"]["known"].endswith(
            "test_sessions fails in random order"
        )
        assert out["space"]["commit"], out

    assert model.requests == []
    runbook = read(settings, RUNBOOK)
    assert runbook.count("test_sessions fails in random order") == 1
    assert "seen 4×, verified 4×, 2026-11-02 – 2026-12-04)" in runbook
    assert runbook != once and len(runbook.splitlines()) == len(once.splitlines())
    # A small commit with provenance: the entry's line and the day's log.
    repo = git.Repo(settings.skills_dir)
    last = repo.head.commit
    assert sorted(last.stats.files) == ["daily-logs/logs/2026-12.md", RUNBOOK]
    assert last.stats.total["lines"] <= 8
    assert "Acontext-Session: s4\n" in last.message and "Met again" not in last.message
    statuses = learning.session_status(db, "s4")["learnings"]
    assert [(i["status"], i["llm_calls"], i["tokens"]) for i in statuses] == [("learned", 0, 0)]
    assert _status_lines(learning.session_status(db, "s4"))[1].endswith("(no LLM call)")


def test_a_trap_seen_ten_times_reads_differently_from_one_seen_once(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_model(monkeypatch, [tools(call("record_lesson", **TRAP))])
    learn(
        db,
        settings,
        task(db, settings, "s0", "Fix the flaky test in tests/test_sessions.py", day="2026-11-01"),
    )
    for n in range(1, 10):
        day = f"2026-11-{n + 1:02d}"
        outcome = None if n % 3 else "verified_success"
        row = task(db, settings, f"s{n}", "The test_sessions test is flaky again", day=day,
                   outcome=outcome)  # fmt: skip
        learn(db, settings, row)
    line = next(ln for ln in read(settings, RUNBOOK).splitlines() if "test_sessions fails" in ln)
    entry = entries.parse_line(line)
    assert entry is not None and (entry.seen, entry.verified) == (10, 4)
    assert line.endswith("seen 10×, verified 4×, 2026-11-01 – 2026-11-10)")


def test_a_failed_task_never_counts_as_a_procedure_it_resembles(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    procedure = {**TRAP, "kind": "procedure", "section": "Test", "title": "Run the session tests"}
    use_model(monkeypatch, [tools(call("record_lesson", **procedure))])
    learn(
        db,
        settings,
        task(db, settings, "s1", "Fix the flaky test in tests/test_sessions.py", day="2026-11-02"),
    )
    model = use_model(monkeypatch, [tools(call("record_lesson", **TRAP))])
    row = task(
        db, settings, "s2", "Fix the flaky test in tests/test_sessions.py", day="2026-11-03",
        status="failed", outcome="verified_failure",
    )  # fmt: skip
    out = learn(db, settings, row)
    assert out["task"]["called_llm"] is True and len(model.requests) == 1
    runbook = read(settings, RUNBOOK)
    assert "## Test\n- **Run the session tests**" in runbook
    assert "## Traps\n- **test_sessions fails in random order**" in runbook


def test_a_lesson_for_a_new_skill_runs_the_learner_only_to_create_it(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = {
        **TRAP,
        "kind": "procedure",
        "skill": "docker-deploy",
        "file": "procedures.md",
        "section": "",
        "title": "Compose waits for postgres",
        "text": "Without `depends_on: condition: service_healthy` the api crash-loops on "
        "`connection refused`; `docker compose up -d --build` then works.",
        "new_skill_description": "Deploying services with Docker compose.",
    }
    skill_md = (
        "---\nname: docker-deploy\ndescription: Deploying services with Docker compose; use "
        "when a container will not start.\n---\n\n# Docker deploy\n\nProcedures.\n\n"
        "## File structure\n- `procedures.md`: one entry per procedure.\n"
    )
    model = use_model(
        monkeypatch,
        [
            tools(call("record_lesson", **lesson)),
            tools(call("report_thinking", thinking="Create docker-deploy.")),
            tools(call("create_skill", skill_md_content=skill_md)),
            tools(call("finish")),
        ],
    )
    row = task(db, settings, "s1", "Deploy billing-api with docker compose", day="2026-11-05",
               command="docker compose up -d --build")  # fmt: skip
    out = learn(db, settings, row)

    assert out["space"]["created"] == ["docker-deploy"], out
    learner_prompt = model.prompt(1)
    assert (
        "### Learning 1 (task: Deploy billing-api with docker compose; project: billing-api "
        f"at {PROJECT}; date: 2026-11-05)" in learner_prompt
    )
    assert "**What to do:** Create the skill `docker-deploy`" in learner_prompt
    # Its description is asked to name what should trigger it (agents pick by description).
    assert (
        "naming the tools, commands and error words that should bring it up (this lesson's: "
        "`flaky`, `test_sessions`, `pytest-randomly`)" in learner_prompt
    )
    assert "Date of the work: 2026-11-05" in learner_prompt
    text = read(settings, "docker-deploy/procedures.md")
    assert text.startswith("# Procedures\n\n- **Compose waits for postgres**: Without")
    assert text.rstrip().endswith("seen 1×, verified 1×, 2026-11-05)")
    (item,) = learning.session_status(db, "s1")["learnings"]
    assert item["llm_calls"] == 1 + 3 and item["tokens"] > 0  # distillation + its learner run


def test_an_older_analysis_answer_still_goes_through_the_learner(
    db: sqlite3.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.learn_fixtures import SUCCESS, learner_script

    model = use_model(monkeypatch, [tools(SUCCESS), *learner_script()])
    out = learn(db, settings, task(db, settings, "s1", "Build the wheel", day="2026-11-05",
                                   command="python -m build"))  # fmt: skip
    assert out["space"]["created"] == ["python-packaging"]
    assert [r["purpose"] for r in model.requests].count("skill_learning") == 4


# --- entries, without a model -------------------------------------------------------------------


def test_entry_lines_round_trip_and_other_lines_are_left_alone() -> None:
    entry = entries.Entry("Title", "Run `x`.", ["a", "b c"], 3, 2, "2026-11-02", "2026-12-04")
    line = entry.render()
    assert (
        line
        == "- **Title**: Run `x`. (when: a, b c; seen 3×, verified 2×, 2026-11-02 – 2026-12-04)"
    )
    back = entries.parse_line(line, "Traps")
    assert back is not None and (back.title, back.text, back.triggers, back.seen) == (
        "Title", "Run `x`.", ["a", "b c"], 3,
    )  # fmt: skip
    assert back.is_trap()
    once = entries.Entry("T", "x", [], 1, 0, "2026-11-02", "2026-11-02").render()
    assert once == "- **T**: x (seen 1×, 2026-11-02)"
    assert entries.parse_line("- **User wrote this**: no counts") is None


def test_insert_goes_to_the_end_of_its_section_or_adds_it() -> None:
    doc = "# p\n\n## Test\n- a\n\n## Traps\n- b\n"
    assert entries._insert(doc, "Test", "- new") == "# p\n\n## Test\n- a\n- new\n\n## Traps\n- b\n"
    assert entries._insert(doc, "traps", "- new").endswith("## Traps\n- b\n- new\n")
    assert entries._insert(doc, "Deploy", "- new").endswith("- b\n\n## Deploy\n- new\n")
    assert entries._insert("# Facts\n", "", "- new") == "# Facts\n\n- new\n"


def test_find_known_never_answers_from_another_projects_runbook(settings: Settings) -> None:
    prepare(settings)
    folder = settings.skills_dir / "project-runbooks" / "projects"
    folder.mkdir()
    line = entries.Entry("Run the test suite", "Run `pytest -x -q` from the root.",
                         ["run tests"], 1, 1, "2026-11-02", "2026-11-02").render()  # fmt: skip
    (folder / "etl-jobs.md").write_text(f"# etl-jobs\n\n## Test\n{line}\n")
    ws = SkillWorkspace(settings.skills_dir)
    here = entries.find_known(ws, "Run the tests again", ["pytest -x -q"],
                              project_dir="/x/etl-jobs", failed=False)  # fmt: skip
    assert here is not None and here.title == "Run the test suite"
    assert entries.find_known(ws, "Run the tests again", ["pytest -x -q"],
                              project_dir="/x/billing-api", failed=False) is None  # fmt: skip
    # Another command, or a failure against a procedure: distilled, not counted.
    assert entries.find_known(ws, "Run the tests again", ["tox -e py312"],
                              project_dir="/x/etl-jobs", failed=False) is None  # fmt: skip
    assert entries.find_known(ws, "Run the tests again", ["pytest -x -q"],
                              project_dir="/x/etl-jobs", failed=True) is None  # fmt: skip
