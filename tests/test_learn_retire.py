"""Retirement on seeded stores and a real skills repository: unused and failing learned skills,
and stale runbook entries, become proposals with trailers saying why; defaults and a person's
skills never do; a waiting or rejected proposal is not made again for the same reason."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from acontext_mcp.cli import main
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.learn import retire, review
from acontext_mcp.skills import proposals, repo
from acontext_mcp.skills.defaults import DAILY_LOGS, prepare
from acontext_mcp.store import skill_uses
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.tasks import insert_task, set_outcome

PROJECT = "/work/shop"
OTHER = "/work/blog"
LEARNED = "shop-deploy"
SKILL = f"""\
---
name: {LEARNED}
description: Deploying the shop project; use when running scripts/deploy.sh or a release fails.
---

# Shop deploy

- Run the deploy from the repository root.
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


class Clock:
    """A day in the past: usage tracking and the skills' commits at its start, then one
    session every ten seconds (a session cannot start in the future: sessions._at)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.start = self.at = float(int(time.time()) - 86400)

    def next(self) -> float:
        self.at += 10
        return self.at

    def git_now(self) -> None:
        """Git commits (a rejection) made now, on this clock."""
        self.monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{int(self.next())} +0000")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def seeded(settings: Settings, db: sqlite3.Connection, clock: Clock) -> Settings:
    """Defaults, a learned skill taught by a session of PROJECT, and a person's own skill,
    all at the clock's start, when usage tracking began."""
    db.execute("UPDATE schema_migrations SET applied_at = ?", (clock.start - 100,))
    clock.monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{int(clock.start) - 50} +0000")
    prepare(settings)
    ensure_session(db, "teacher", project_dir=PROJECT, at=clock.start - 60)
    root = settings.skills_dir
    (root / LEARNED).mkdir()
    (root / LEARNED / "SKILL.md").write_text(SKILL)
    (root / LEARNED / "notes.md").write_text("notes\n")
    repo.commit_learning(
        root, "Learn shop deploy", session_id="teacher", task_id=1, paths=[LEARNED]
    )
    (root / "my-notes").mkdir()
    (root / "my-notes" / "SKILL.md").write_text(
        "---\nname: my-notes\ndescription: Notes the user keeps by hand.\n---\n\n# Notes\n"
    )
    repo.protect_user_edits(root)
    return settings


def sessions(
    db: sqlite3.Connection,
    clock: Clock,
    count: int,
    *,
    project: str = PROJECT,
    prefix: str = "s",
    used: str | None = None,
    failed: int = 0,
) -> list[str]:
    """`count` sessions of `project`; with `used`, each used that skill (a read of its file);
    the first `failed` end in a verified failure, the others in a verified success."""
    made = []
    for i in range(count):
        sid = f"{prefix}{i}"
        ensure_session(db, sid, project_dir=project, at=clock.next())
        task = insert_task(db, sid, "ship it", status="success")
        set_outcome(db, task["id"], "verified_failure" if i < failed else "verified_success")
        if used:
            skill_uses.record_use(
                db, used, "read", session_id=sid, path="SKILL.md", project_dir=project
            )
        made.append(sid)
    return made


def message(settings: Settings, pid: str) -> str:
    found = proposals.get(settings.skills_dir, pid)
    return git(settings.skills_dir, "log", "-1", "--format=%B", found.commit)


# --- unused -------------------------------------------------------------------------------------


def test_a_learned_skill_unused_over_n_sessions_of_its_project_is_proposed_for_retirement(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    retire.save_after(seeded, 5)
    sessions(db, clock, 4)
    assert retire.run(db, seeded)["proposed"] == []  # 4 < 5
    sessions(db, clock, 10, project=OTHER, prefix="o")  # another project's sessions: not its
    assert retire.run(db, seeded)["proposed"] == []
    sessions(db, clock, 1, prefix="late")
    done = retire.run(db, seeded)
    assert len(done["proposed"]) == 1
    found = proposals.get(seeded.skills_dir, done["proposed"][0])
    assert found.skills == [LEARNED]
    assert found.files == [f"{LEARNED}/SKILL.md", f"{LEARNED}/notes.md"]
    assert found.subject == f"Retire {LEARNED}: unused in 5 sessions"
    text = message(seeded, found.id)
    for trailer in (
        "Acontext-Kind: retirement",
        f"Acontext-Retire: unused {LEARNED}",
        "Acontext-Uses: 0",
        "Acontext-Sessions-Without-Use: 5",
        "Acontext-Last-Used: never",
    ):
        assert trailer in text.splitlines()
    assert PROJECT in text
    # Nothing changed on main until it is accepted; then the folder is gone, as a retirement.
    assert (seeded.skills_dir / LEARNED / "SKILL.md").exists()
    review.accept(db, seeded, found.id)
    assert not (seeded.skills_dir / LEARNED).exists()
    assert repo.log(seeded.skills_dir, limit=1)[0]["kind"] == "retirement"
    # Defaults and the person's skill never retire, however long unused.
    assert {"daily-logs", "project-runbooks", "user-general-facts", "my-notes"} <= {
        p.name for p in seeded.skills_dir.iterdir()
    }


def test_a_use_restarts_the_count_and_a_brief_delivery_is_not_a_use(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    retire.save_after(seeded, 3)
    sessions(db, clock, 2)
    ensure_session(db, "user", project_dir=PROJECT, at=clock.next())
    skill_uses.record_use(db, LEARNED, "skill_tool", session_id="user", at=clock.at)
    sessions(db, clock, 2, prefix="after")
    assert retire.run(db, seeded, dry_run=True)["findings"] == []
    ensure_session(db, "briefed", project_dir=PROJECT, at=clock.next())
    skill_uses.record_use(db, LEARNED, "brief", session_id="briefed", at=clock.at)
    done = retire.run(db, seeded, dry_run=True)
    assert [f["subject"] for f in done["findings"]] == [f"Retire {LEARNED}: unused in 3 sessions"]
    assert done["findings"][0]["details"]["uses"] == 1
    assert done["proposed"] == [] and proposals.list_proposals(seeded.skills_dir) == []


def test_a_waiting_proposal_is_not_made_twice_and_a_rejected_one_waits_n_more_sessions(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    retire.save_after(seeded, 3)
    sessions(db, clock, 3)
    first = retire.run(db, seeded)["proposed"]
    again = retire.run(db, seeded)
    assert again["proposed"] == []
    assert again["findings"][0]["skipped"] == f"proposal {first[0]} waits for review"
    clock.git_now()
    review.reject(db, seeded, first[0], "still useful for releases")
    sessions(db, clock, 2, prefix="r")
    assert retire.run(db, seeded)["proposed"] == []  # 2 sessions since the rejection
    sessions(db, clock, 1, prefix="r2")
    assert len(retire.run(db, seeded)["proposed"]) == 1


def test_zero_turns_the_unused_rule_off(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    retire.save_after(seeded, 0)
    sessions(db, clock, 40)
    assert retire.run(db, seeded)["findings"] == []


# --- failing ------------------------------------------------------------------------------------


def test_sessions_that_fail_clearly_more_often_with_the_skill_retire_it(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    sessions(db, clock, 10, prefix="w", used=LEARNED, failed=6)
    sessions(db, clock, 20, prefix="n", failed=2)
    done = retire.run(db, seeded)
    assert len(done["proposed"]) == 1
    finding = done["findings"][0]
    assert finding["reason"] == "failing"
    assert finding["subject"] == f"Retire {LEARNED}: its sessions fail more often (60% vs 10%)"
    text = message(seeded, done["proposed"][0])
    assert "Acontext-Fail-Rate-With: 6/10 = 0.60" in text
    assert "Acontext-Fail-Rate-Without: 2/20 = 0.10" in text
    assert "Acontext-Uses: 10" in text


def test_one_bad_session_or_a_small_sample_is_not_enough(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    sessions(db, clock, 1, prefix="w", used=LEARNED, failed=1)
    sessions(db, clock, 20, prefix="n")
    assert retire.run(db, seeded)["findings"] == []
    sessions(db, clock, 8, prefix="w2", used=LEARNED, failed=8)  # 9 with: below the floor
    assert retire.run(db, seeded)["findings"] == []


def test_the_decision_rule_needs_sample_margin_and_significance() -> None:
    rates = skill_uses.OutcomeRates
    assert retire.fails_clearly(rates(10, 6, 20, 2))
    assert not retire.fails_clearly(rates(9, 9, 20, 0))  # too few with it
    assert not retire.fails_clearly(rates(10, 3, 10, 2))  # within the margin
    assert not retire.fails_clearly(rates(10, 5, 10, 3))  # margin met, not significant
    assert retire.z_score(6, 10, 2, 20) > retire.Z_MIN


def test_outcome_rates_count_a_sessions_last_verified_task_and_its_subagents_uses(
    db: sqlite3.Connection, clock: Clock
) -> None:
    ensure_session(db, "main", project_dir=PROJECT, at=clock.next())
    ensure_session(db, "sub", project_dir=PROJECT, parent_id="main", at=clock.next())
    first = insert_task(db, "main", "try", status="failed")
    set_outcome(db, first["id"], "verified_failure")
    last = insert_task(db, "main", "fix", status="success")
    set_outcome(db, last["id"], "verified_success")
    skill_uses.record_use(db, "x", "read", session_id="sub")
    found = skill_uses.outcome_rates(db, "x", project_dirs=[PROJECT], since=0)
    assert found == skill_uses.OutcomeRates(1, 0, 0, 0)


# --- stale --------------------------------------------------------------------------------------


def test_stale_runbook_entries_are_proposed_for_removal_once(
    seeded: Settings, db: sqlite3.Connection, tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "build.sh").write_text("")
    (project / "Makefile").write_text("test:\n\tpytest\n")
    tail = "(seen 3×, verified 3×, 2026-11-02 – 2026-12-01)"
    book = seeded.skills_dir / "project-runbooks" / "projects" / "shop.md"
    book.parent.mkdir(parents=True)
    lines = [
        "# shop",
        "",
        f"Path: `{project}`",
        "",
        "## Build",
        f"- **Build**: `scripts/build.sh` {tail}",
        "",
        "## Test",
        f"- **All tests**: `make test-all` {tail}",
        f"- **Unit tests**: `make test` {tail}",
        "- The user's own note: `scripts/release.sh` is manual.",
        "",
        "## Deploy",
        f"- **Deploy**: `scripts/deploy.sh prod` {tail}",
    ]
    book.write_text("\n".join(lines) + "\n")
    repo.commit_learning(
        seeded.skills_dir, "Learn shop", session_id=None, task_id=None, paths=[book]
    )
    done = retire.run(db, seeded)
    assert len(done["proposed"]) == 1
    pid = done["proposed"][0]
    finding = done["findings"][0]
    assert finding["subject"] == "Remove 2 stale entries from project-runbooks/projects/shop.md"
    assert [r["ref"] for r in finding["details"]["refs"]] == [
        "make test-all",
        "scripts/release.sh",
        "scripts/deploy.sh",
    ]
    proposed = proposals.proposal_files(seeded.skills_dir, pid)["project-runbooks/projects/shop.md"]
    assert proposed is not None
    assert "test-all" not in proposed and "deploy.sh" not in proposed
    assert "scripts/release.sh" in proposed and "make test`" in proposed  # a person's line stays
    text = message(seeded, pid)
    assert "Acontext-Stale: make test-all" in text and "Acontext-Kind: retirement" in text
    # Waiting: not made twice. Rejected: not made again for the same references.
    assert retire.run(db, seeded)["proposed"] == []
    review.reject(db, seeded, pid, "the Makefile comes back next week")
    again = retire.run(db, seeded)
    assert again["proposed"] == []
    assert again["findings"][0]["skipped"] == "rejected before for the same references"


def test_a_runbook_whose_project_is_not_on_this_machine_is_not_judged(
    seeded: Settings, db: sqlite3.Connection
) -> None:
    book = seeded.skills_dir / "project-runbooks" / "projects" / "gone.md"
    book.parent.mkdir(parents=True)
    book.write_text("# gone\n\nPath: `/nowhere/gone`\n\n- `make deploy`\n")
    assert retire.stale_findings(db, seeded) == []


# --- when it runs, and its setting --------------------------------------------------------------


def test_the_pass_after_learning_runs_at_most_once_a_day(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    retire.save_after(seeded, 2)
    sessions(db, clock, 2)
    now = time.time()
    first = retire.maybe_run(seeded, now=now)
    assert first is not None and len(first["proposed"]) == 1
    assert retire.maybe_run(seeded, now=now + 3600) is None
    later = retire.maybe_run(seeded, now=now + retire.PASS_EVERY_S + 1)
    assert later == {"proposed": []}  # due again; the waiting proposal is not made twice


def test_the_setting_is_checked_and_kept_with_the_other_learning_settings(
    settings: Settings,
) -> None:
    review.save_policy(settings, "manual")
    assert retire.save_after(settings, "12") == 12
    assert retire.configured(settings) == (12, None)
    assert review.configured(settings) == ("manual", None)
    for bad in (-1, "soon", True, 2.5):
        with pytest.raises(InvalidInput, match="whole number of sessions"):
            retire.save_after(settings, bad)
    (settings.home / "config.json").write_text(json.dumps({"learning": {SETTING: "x"}}))
    after, problem = retire.configured(settings)
    assert after == retire.DEFAULT_AFTER_SESSIONS and problem and "using 30" in problem


SETTING = retire.SETTING


def test_cli_retire_and_config(
    seeded: Settings,
    db: sqlite3.Connection,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock.monkeypatch.setenv("ACONTEXT_SKILLS_DIR", str(seeded.skills_dir))
    assert main(["config", "learning.retire_after_sessions", "2"]) == 0
    assert "saved learning.retire_after_sessions 2" in capsys.readouterr().out
    sessions(db, clock, 2)
    assert main(["skills", "retire", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["proposed"] == [] and dry["findings"][0]["skill"] == LEARNED
    assert proposals.list_proposals(seeded.skills_dir) == []
    assert main(["skills", "retire"]) == 0
    out = capsys.readouterr().out
    assert f"Retire {LEARNED}: unused in 2 sessions" in out and "proposed as" in out
    assert len(proposals.list_proposals(seeded.skills_dir)) == 1


# --- default skills holding an earlier release's text -------------------------------------------

# daily-logs/SKILL.md as release 0.1 wrote it (one file per day, "read/edit user memory").
EARLIER_DAILY_LOGS = (
    Path(__file__).parent / "fixtures" / "defaults" / "daily-logs-SKILL-0.1.md"
).read_text(encoding="utf-8")


def test_an_untouched_earlier_default_is_offered_the_new_description_once(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    root = seeded.skills_dir
    (root / "daily-logs" / "SKILL.md").write_text(EARLIER_DAILY_LOGS)
    (root / "daily-logs" / "logs").mkdir()
    (root / "daily-logs" / "logs" / "2026-11-02.md").write_text("# 2026-11-02\n")
    (root / "user-general-facts" / "SKILL.md").write_text(
        EARLIER_DAILY_LOGS.replace("daily-logs", "user-general-facts") + "- edited\n"
    )
    repo.protect_user_edits(root)
    done = retire.run(db, seeded)
    assert [f["skill"] for f in done["findings"]] == ["daily-logs"]  # the edited one: never
    (pid,) = done["proposed"]
    assert proposals.proposal_files(root, pid) == {"daily-logs/SKILL.md": DAILY_LOGS}
    assert (root / "daily-logs" / "SKILL.md").read_text() == EARLIER_DAILY_LOGS  # not in place
    clock.git_now()
    review.reject(db, seeded, pid, "I like the old one")
    again = retire.run(db, seeded)
    assert again["proposed"] == []
    assert again["findings"][0]["skipped"] == "rejected before for the same text"


def test_after_learning_runs_the_pass_once_a_day(
    seeded: Settings, db: sqlite3.Connection, clock: Clock
) -> None:
    from acontext_mcp.learn.pipeline import after_learning

    retire.save_after(seeded, 2)
    sessions(db, clock, 2)
    first = after_learning(seeded)
    assert len(first["retire"]["proposed"]) == 1
    assert (seeded.home / retire.STAMP).exists()
    proposals.reject(seeded.skills_dir, first["retire"]["proposed"][0], "keep")
    assert "retire" not in after_learning(seeded)  # not due again today
