"""Doctor's learning checks on real skills repositories and a real store."""

from __future__ import annotations

import json

from acontext_mcp.config import Settings
from acontext_mcp.setup.doctor_learning import check_learning
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.skills.defaults import prepare
from acontext_mcp.store import learning
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.store.tasks import insert_task
from acontext_mcp.store.turns import store_turn


def checks(settings: Settings) -> dict[str, tuple[str, str, str | None]]:
    report = Report()
    check_learning(report, settings)
    return {c.area: (c.status, c.summary, c.fix) for c in report.checks}


def test_no_repository_yet_is_information_not_a_problem(settings: Settings) -> None:
    found = checks(settings)
    assert found["skills"][0] == "info" and "no repository yet" in found["skills"][1]
    assert "on first use" in found["skills"][1] and "first learning" not in found["skills"][1]
    assert not (settings.skills_dir / ".git").exists()  # doctor creates nothing


def test_a_healthy_repository_and_failed_learnings(settings: Settings) -> None:
    prepare(settings)
    assert checks(settings)["skills"][0] == "ok"
    conn = open_db(settings)
    try:
        store_turn(conn, settings, [{"role": "user", "content": "x"}], session_id="s1")
        with atomic(conn):
            task = insert_task(conn, "s1", "Do x", status="success")
            learning.attach_session(conn, "s1", "default")
            learning.add_learning(
                conn, session_id="s1", task_id=task["id"], space="default", kind="success", text="t"
            )
        conn.execute("UPDATE learnings SET status = 'failed'")
    finally:
        conn.close()
    status, summary, fix = checks(settings)["learning"]
    assert (status, summary) == ("warn", "failed 1") and "acontext-mcp learn" in fix


def test_a_rebase_left_in_progress_fails_with_the_command_to_run(settings: Settings) -> None:
    prepare(settings)
    (settings.skills_dir / ".git" / "rebase-merge").mkdir()
    status, summary, _ = checks(settings)["skills"]
    assert status == "fail" and "git rebase --abort" in summary


def test_an_invalid_skill_and_an_interrupted_run_are_named(settings: Settings) -> None:
    prepare(settings)
    bad = settings.skills_dir / "Bad_Name"
    bad.mkdir()
    (bad / "SKILL.md").write_text("---\nname: Bad_Name\ndescription: x\n---\n")
    (settings.skills_dir / ".git" / "acontext-learn.json").write_text(json.dumps({}))
    report = Report()
    check_learning(report, settings)
    found = [(c.area, c.status, c.summary) for c in report.checks]
    assert ("skills", "warn", "a learner run was interrupted before its commit") in found
    assert any(s == "warn" and "Bad_Name" in summary for a, s, summary in found if a == "skills")
