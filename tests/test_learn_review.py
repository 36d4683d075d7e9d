"""Review before use: `learning.accept` decides which learned changes are committed and which
become proposals, end to end with the real store, real git, real sync and the CLI entry, under
a scripted in-process model."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.fake_provider import call, tools
from support.learn_fixtures import SUCCESS, learner_script
from test_learn_pipeline import claude_home, finished_task, use_model  # noqa: F401 (fixture)

from acontext_mcp import cli
from acontext_mcp.config import Settings
from acontext_mcp.learn import pipeline, review
from acontext_mcp.llm import Reply
from acontext_mcp.skills import proposals
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import atomic, open_db

SKILL = "python-packaging"
# What a model answers for a task that failed (distillation offers only the failure tools).
FAILURE = call(
    "report_failure_analysis",
    task_goal="Fix the wheel build",
    failure_point="Built from a dirty dist/",
    flawed_reasoning="Assumed dist/ was empty",
    what_should_have_been_done="Clean dist/ first",
    prevention_principle="Build from a clean tree",
    applies_when="Packaging a hatchling-based Python project",
)


def distilled(outcome: str | None) -> Reply:
    return tools(FAILURE if outcome == "verified_failure" else SUCCESS)


def add_file(name: str, text: str) -> list[Reply]:
    """A learner that adds one file to the packaging skill and finishes."""
    return [
        tools(call("report_thinking", thinking=f"Record it in {name}.")),
        tools(call("create_skill_file", skill_name=SKILL, file_path=name, content=text)),
        tools(call("finish")),
    ]


@pytest.fixture
def home() -> Settings:
    """The settings the CLI reads (ACONTEXT_HOME from conftest, skills under it)."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def conn(home: Settings):
    db = open_db(home)
    yield db
    db.close()


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def head(settings: Settings) -> str:
    return git(settings.skills_dir, "rev-parse", "HEAD")


def learn(
    conn: sqlite3.Connection, settings: Settings, sid: str, outcome: str | None, **kw: Any
) -> dict[str, Any]:
    """A finished task of session `sid` with `outcome`, distilled (learner not run yet)."""
    task = finished_task(conn, settings, sid, description=kw.pop("description", f"Build {sid}"))
    with atomic(conn):
        task_store.set_outcome(conn, task["id"], outcome)
    out = pipeline.learn_task(conn, settings, {"task_id": task["id"], "session_id": sid})
    assert out["kind"] == ("failure" if outcome == "verified_failure" else "success"), out
    return task


def row(conn: sqlite3.Connection, task_id: int) -> dict[str, Any]:
    found = learning.learning_for_task(conn, task_id)
    assert found is not None
    return found


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "outcomes", "accepted"),
    [
        ("verified", ["verified_success"], True),
        ("verified", ["verified_failure", "verified_success"], True),
        ("verified", ["verified_success", "unverified"], False),
        ("verified", [None], False),
        ("verified", ["abandoned"], False),
        ("manual", ["verified_success"], False),
        ("auto", ["unverified", None], True),
    ],
)
def test_accepts_decides_by_policy_and_outcomes(policy, outcomes, accepted) -> None:
    assert review.accepts(policy, outcomes) is accepted


def test_split_keeps_learnings_decided_like_the_first_and_leaves_the_rest() -> None:
    outcomes = ["unverified", "verified_success", None]
    batch = [{"id": i, "outcome": o} for i, o in enumerate(outcomes)]
    now, later = review.split("verified", batch)
    assert [b["id"] for b in now] == [0, 2] and [b["id"] for b in later] == [1]
    assert review.split("auto", batch) == (batch, [])


def test_config_learning_accept_is_shown_set_and_checked(
    home: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    path = home.home / "config.json"
    path.write_text(json.dumps({"llm": {"provider": "none"}, "learning": {"other": 1}}))

    code, out, _ = run_cli(capsys, "config", "learning.accept")
    assert code == 0 and out.startswith("learning.accept verified:")

    code, out, _ = run_cli(capsys, "config", "learning.accept", "manual")
    assert code == 0 and "saved learning.accept manual" in out
    assert json.loads(path.read_text()) == {
        "llm": {"provider": "none"},
        "learning": {"other": 1, "accept": "manual"},
    }

    code, _, err = run_cli(capsys, "config", "learning.accept", "sometimes")
    assert code == 1 and "learning.accept must be one of verified, manual, auto" in err
    assert json.loads(path.read_text())["learning"]["accept"] == "manual"

    code, out, _ = run_cli(capsys, "config", "learning.accept", "--json")
    assert json.loads(out)["learning.accept"] == "manual"

    # A value edited by hand that means nothing: a human reviews everything, and it is said.
    path.write_text(json.dumps({"learning": {"accept": "yolo"}}))
    policy, problem = review.configured(home)
    assert policy == "manual" and problem and "yolo" in problem


# --- the pipeline under each policy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "outcome", "proposed"),
    [
        (None, "verified_success", False),  # no setting: verified
        ("verified", "verified_failure", False),
        ("verified", "unverified", True),
        ("verified", None, True),
        ("manual", "verified_success", True),
        ("auto", "unverified", False),
    ],
)
def test_each_policy_commits_or_proposes(
    home: Settings,
    conn: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    claude_home: Path,  # noqa: F811
    policy: str | None,
    outcome: str | None,
    proposed: bool,
) -> None:
    if policy:
        review.save_policy(home, policy)
    use_model(monkeypatch, [distilled(outcome), *learner_script()])
    task = learn(conn, home, "s1", outcome)
    before = head(home)

    out = pipeline.learn_space(conn, home, {"space": "default"})

    synced = claude_home / "skills" / SKILL
    if proposed:
        pid = out["proposal"]
        assert out["commit"] is None and head(home) == before
        assert not (home.skills_dir / SKILL).exists() and not synced.exists()
        assert git(home.skills_dir, "status", "--porcelain", "--untracked-files=all") == ""
        learned = row(conn, task["id"])
        assert (learned["status"], learned["proposal"], learned["review"]) == (
            "learned",
            pid,
            "pending",
        )
        assert learned["commit_sha"] is None
        [waiting] = proposals.list_proposals(home.skills_dir)
        assert waiting.id == pid and waiting.task_ids == [str(task["id"])]
        assert waiting.skills == [SKILL]
    else:
        assert "proposal" not in out and out["commit"] == head(home) != before
        assert (synced / "SKILL.md").exists()
        assert row(conn, task["id"])["proposal"] is None
        assert proposals.list_proposals(home.skills_dir) == []


def test_a_mixed_batch_is_split_nothing_lost_or_learned_twice(
    home: Settings,
    conn: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_model(
        monkeypatch,
        [tools(SUCCESS), tools(SUCCESS), *learner_script(), *add_file("traps.md", "- a trap\n")],
    )
    verified = learn(conn, home, "s1", "verified_success")
    unverified = learn(conn, home, "s2", "unverified")

    first = pipeline.learn_space(conn, home, {"space": "default"})

    assert first["learned"] == 1 and first["commit"] and first.get("more_waiting") is True
    message = git(home.skills_dir, "log", "-1", "--format=%B")
    assert f"Acontext-Task: {verified['id']}" in message
    assert f"Acontext-Task: {unverified['id']}" not in message
    waiting = row(conn, unverified["id"])
    assert (waiting["status"], waiting["attempts"]) == ("distilled", 0)

    second = pipeline.learn_space(conn, home, {"space": "default"})

    assert second["learned"] == 1 and second["proposal"] and second["commit"] is None
    [proposal] = proposals.list_proposals(home.skills_dir)
    assert proposal.task_ids == [str(unverified["id"])] and proposal.files == [f"{SKILL}/traps.md"]
    assert pipeline.learn_space(conn, home, {"space": "default"})["learned"] == 0
    rows = [row(conn, t["id"]) for t in (verified, unverified)]
    assert [(r["status"], r["attempts"]) for r in rows] == [("learned", 1), ("learned", 1)]
    assert [r["commit_sha"] is not None for r in rows] == [True, False]


# --- review through the CLI ---------------------------------------------------------------------


def test_review_through_the_cli_lists_shows_accepts_and_rejects(
    home: Settings,
    conn: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    claude_home: Path,  # noqa: F811
) -> None:
    review.save_policy(home, "manual")
    use_model(
        monkeypatch,
        [tools(FAILURE), *learner_script(), tools(SUCCESS), *add_file("traps.md", "- trap\n")],
    )
    task = learn(conn, home, "s1", "verified_failure", description="Fix the wheel build")
    with atomic(conn):
        task_store.add_evidence(
            conn, task["id"], "test_run", "fail", command="python -m pytest", detail="1 failed"
        )
    pid = pipeline.learn_space(conn, home, {"space": "default"})["proposal"]

    code, out, _ = run_cli(capsys, "learn")
    assert f"-> proposal {pid} (pending)" in out
    code, out, _ = run_cli(capsys, "skills", "proposals", "--json")
    [listed] = json.loads(out)
    assert code == 0 and listed["id"] == pid and listed["state"] == "pending"
    assert listed["skills"] == [SKILL] and listed["session_ids"] == ["s1"]
    assert listed["task_ids"] == [str(task["id"])] and listed["created_at"] > 0
    code, out, _ = run_cli(capsys, "skills", "proposals")
    assert pid in out and "skills accept ID" in out

    code, out, _ = run_cli(capsys, "skills", "show-proposal", pid[:7])
    assert code == 0
    assert f"task {task['id']} [success, verified_failure]: Fix the wheel build" in out
    assert "test_run: fail `python -m pytest`" in out
    assert "+name: python-packaging" in out  # the diff against main
    code, out, _ = run_cli(capsys, "skills", "show-proposal", pid, "--json")
    shown = json.loads(out)
    assert shown["tasks"][0]["evidence"][0]["command"] == "python -m pytest"
    assert shown["tasks"][0]["outcome"] == "verified_failure" and "diff --git" in shown["diff"]

    code, out, _ = run_cli(capsys, "skills", "accept", pid[:8])
    assert code == 0 and f"accepted proposal {pid}" in out
    accepted = row(conn, task["id"])
    assert (accepted["review"], accepted["commit_sha"]) == ("accepted", head(home))
    assert (claude_home / "skills" / SKILL / "SKILL.md").exists()  # synced once accepted
    assert run_cli(capsys, "skills", "proposals")[1].strip() == "no skill proposals wait for review"

    other = learn(conn, home, "s2", "unverified")
    second = pipeline.learn_space(conn, home, {"space": "default"})["proposal"]
    code, out, _ = run_cli(capsys, "skills", "reject", second, "--reason", "not a real trap")
    assert code == 0 and f"rejected proposal {second}" in out
    rejected = row(conn, other["id"])
    assert rejected["review"] == "rejected" and "not a real trap" in rejected["error"]
    assert not (home.skills_dir / SKILL / "traps.md").exists()
    code, out, _ = run_cli(capsys, "skills", "proposals", "--all", "--json")
    assert {(p["id"], p["state"]) for p in json.loads(out)} == {
        (pid, "accepted"),
        (second, "rejected"),
    }

    code, _, err = run_cli(capsys, "skills", "accept", "0123abcd")
    assert code == 2 and "no proposal '0123abcd'" in err and "skills proposals" in err
    code, _, err = run_cli(capsys, "skills", "reject")
    assert code == 1 and "needs a proposal id" in err


def test_a_conflicting_stale_proposal_is_refused_then_relearned_on_current_skills(
    home: Settings,
    conn: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    review.save_policy(home, "auto")
    use_model(
        monkeypatch,
        [
            tools(SUCCESS),
            *learner_script(),
            tools(SUCCESS),
            *add_file("traps.md", "- learned trap\n"),
            *add_file("pitfalls.md", "- learned again\n"),
        ],
    )
    learn(conn, home, "s1", "unverified")
    pipeline.learn_space(conn, home, {"space": "default"})  # auto: the skill is on main
    review.save_policy(home, "verified")
    task = learn(conn, home, "s2", "unverified")
    pid = pipeline.learn_space(conn, home, {"space": "default"})["proposal"]
    (home.skills_dir / SKILL / "traps.md").write_text("- the user's own trap\n")
    git(home.skills_dir, "add", "-A")
    git(home.skills_dir, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "mine")
    main = head(home)
    assert [p.state for p in proposals.list_proposals(home.skills_dir)] == ["stale"]

    code, _, err = run_cli(capsys, "skills", "accept", pid)

    assert code == 1 and "no longer applies" in err and f"reject {pid} --relearn" in err
    assert head(home) == main
    assert (home.skills_dir / SKILL / "traps.md").read_text() == "- the user's own trap\n"

    code, out, _ = run_cli(capsys, "skills", "reject", pid, "--relearn", "--json")
    assert code == 0 and json.loads(out)["queued_spaces"] == ["default"]
    again = row(conn, task["id"])
    assert (again["status"], again["proposal"], again["attempts"]) == ("distilled", None, 0)

    out = pipeline.learn_space(conn, home, {"space": "default"})

    [fresh] = proposals.list_proposals(home.skills_dir)
    assert fresh.id == out["proposal"] != pid and fresh.state == "pending"
    assert proposals.proposal_files(home.skills_dir, fresh.id) == {
        f"{SKILL}/pitfalls.md": "- learned again\n"
    }
