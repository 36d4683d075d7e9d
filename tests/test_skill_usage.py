"""`skills stats` and learn/skill_usage.py on a seeded store; MCP reads record uses.

The seeded store (real SQLite file, real skills folder), `now` = T:
- s1, project A, T-5d: reads deploy-notes; tasks ok, ok, failed, unverified. Its subagent
  invokes deploy-notes with the Skill tool and settles one more ok: it counts for s1.
- s2, project A, T-4d: never uses it; tasks ok, failed, failed (comparable).
- s3, project A, T-10d: never uses it; one failed task (comparable only for the whole
  history: it was active after the first use, at T-40d, but before the 30-day window's one).
- s4, project B, T-3d: never uses it; ok (another project: never comparable).
- s5, project A, T-40d: reads deploy-notes; ok.
- an MCP get_skill of deploy-notes from project A at T-1d (no session).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client
from test_skill_uses_capture import make_skill

from acontext_mcp.config import Settings
from acontext_mcp.learn.skill_usage import DAY, skill_usage
from acontext_mcp.server import build_server
from acontext_mcp.store import skill_uses
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import open_db
from acontext_mcp.store.sessions import ensure_session

BIN = Path(sys.executable).parent / "acontext-mcp"
A, B = "/p/a", "/p/b"


def seed(settings: Settings, now: float) -> None:
    make_skill(settings.skills_dir)
    unused = settings.skills_dir / "unused-skill"
    unused.mkdir(parents=True)
    (unused / "SKILL.md").write_text("---\nname: unused-skill\ndescription: Never.\n---\n" * 4)
    conn = open_db(settings)
    try:

        def session(sid: str, project: str, days_ago: float, outcomes: list[str], **kw) -> None:
            ensure_session(conn, sid, project_dir=project, at=now - days_ago * DAY, **kw)
            for n, outcome in enumerate(outcomes):
                task = task_store.insert_task(conn, sid, f"task {n}")
                task_store.set_outcome(conn, task["id"], outcome)

        ok, bad = "verified_success", "verified_failure"
        session("s1", A, 5, [ok, ok, bad, "unverified"])
        session("s1:agent-x", A, 5, [ok], parent_id="s1")
        session("s2", A, 4, [ok, bad, bad])
        session("s3", A, 10, [bad])
        session("s4", B, 3, [ok])
        session("s5", A, 40, [ok])
        use = skill_uses.record_use
        use(conn, "deploy-notes", "read", session_id="s1", path="SKILL.md", at=now - 5 * DAY)
        use(conn, "deploy-notes", "skill_tool", session_id="s1:agent-x", at=now - 5 * DAY + 60)
        use(conn, "deploy-notes", "read", session_id="s5", path="SKILL.md", at=now - 40 * DAY)
        use(conn, "deploy-notes", "mcp_get", project_dir=A, at=now - DAY)
    finally:
        conn.close()


def test_used_only_keeps_the_used_skills_with_the_same_records(settings: Settings, db) -> None:
    now = time.time()
    seed(settings, now)
    every = {r.skill: r for r in skill_usage(db, settings, now=now)}
    used = skill_usage(db, settings, now=now, used_only=True)
    assert [r.skill for r in used] == ["deploy-notes"]  # unused-skill is neither read nor listed
    assert used[0] == every["deploy-notes"]  # sizes and rates as the full listing has them
    assert used[0].tokens > 0
    assert skill_usage(db, settings, now=now, days=0.5, used_only=True) == []


def test_rates_compare_sessions_with_and_without_the_skill(settings: Settings, db) -> None:
    now = time.time()
    seed(settings, now)
    by_name = {r.skill: r for r in skill_usage(db, settings, now=now)}
    notes = by_name["deploy-notes"]
    assert notes.uses == 4
    assert notes.by_kind == {"read": 2, "skill_tool": 1, "mcp_get": 1}
    assert notes.sessions == 2  # s1 (its subagent's use included) and s5
    assert notes.projects == [A]
    assert notes.last_used == pytest.approx(now - DAY)
    assert (notes.with_rate, notes.with_settled) == (0.8, 5)  # s1: 3 ok 1 failed; s5: 1 ok
    assert (notes.without_rate, notes.without_settled) == (0.25, 4)  # s2 and s3
    assert notes.comparable_sessions == 2
    assert notes.tokens > notes.listing_tokens > 0
    unused = by_name["unused-skill"]
    assert (unused.uses, unused.sessions, unused.with_rate, unused.exists) == (0, 0, None, True)
    assert unused.tokens > 0

    recent = skill_usage(db, settings, skill="deploy-notes", days=30, now=now)
    assert [r.skill for r in recent] == ["deploy-notes"]
    (notes,) = recent
    assert (notes.uses, notes.sessions) == (3, 1)
    assert (notes.with_rate, notes.with_settled) == (0.75, 4)
    assert (notes.without_rate, notes.comparable_sessions) == (0.3333, 1)  # s2 only


def test_a_use_of_a_skill_gone_from_the_repository_is_still_reported(settings, db) -> None:
    skill_uses.record_use(db, "renamed-away", "brief")
    (gone,) = skill_usage(db, settings)
    assert (gone.skill, gone.uses, gone.exists, gone.tokens) == ("renamed-away", 1, False, 0)


def test_skills_stats_json_and_text(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, skills_dir=home / "skills")
    settings.ensure_dirs()
    seed(settings, time.time())
    env = {
        **os.environ,
        "HOME": str(tmp_path / "user"),
        "ACONTEXT_HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "OPENCLAW_STATE_DIR": str(tmp_path / "no-openclaw"),
    }

    def stats(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN), "skills", "stats", *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == code, done.stderr
        return done

    value = json.loads(stats("--json", "--days", "30").stdout)
    notes = next(r for r in value["skills"] if r["skill"] == "deploy-notes")
    assert (notes["uses"], notes["sessions"], notes["with_rate"]) == (3, 1, 0.75)
    assert notes["without_rate"] == 0.3333 and notes["comparable_sessions"] == 1
    # the default skills, created on first use, and ours that nobody used
    assert set(value["never_used"]) >= {"unused-skill", "daily-logs", "project-runbooks"}
    assert "deploy-notes" not in value["never_used"]
    text = stats().stdout
    assert "deploy-notes: 4 uses (mcp_get 1, read 2, skill_tool 1) in 2 sessions" in text
    assert "with: 80% of 5  without: 25% of 4 (2 comparable sessions)" in text
    assert "never used: " in text and "unused-skill (" in text
    missing = stats("--skill", "nope", code=2)
    assert "no skill 'nope'" in missing.stderr


@pytest.mark.anyio
async def test_mcp_skill_reads_and_search_hits_are_recorded(settings: Settings, monkeypatch):
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", "/p/served")
    make_skill(settings.skills_dir)
    async with Client(build_server(settings)) as client:
        for name, args in (
            ("get_skill", {"name": "deploy-notes"}),
            ("get_skill_file", {"name": "deploy-notes", "path": "references/steps.md"}),
            ("get_skill", {"name": "no-such-skill"}),  # an error: no use
        ):
            await client.call_tool(name, args)
        found = await client.call_tool("search_skills", {"query": "deploy"})
        hits = [r["name"] for r in found.structured_content["results"]]
    assert "deploy-notes" in hits
    conn = open_db(settings)
    try:
        rows = conn.execute(
            "SELECT skill, kind, path, session_id, project_dir FROM skill_uses ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert [tuple(r) for r in rows] == [
        ("deploy-notes", "mcp_get", "SKILL.md", None, "/p/served"),
        ("deploy-notes", "mcp_file", "references/steps.md", None, "/p/served"),
    ] + [(name, "mcp_search", None, None, "/p/served") for name in hits]


def test_the_rates_match_a_plain_count_on_a_random_store(settings: Settings, db) -> None:
    """The per-project running sums give what counting every session one by one gives."""
    rng = random.Random(3)
    now = time.time()
    sessions = []
    for n in range(120):
        sid, project = f"r{n}", f"/p/{rng.randrange(4)}"
        at = now - rng.uniform(0, 60) * DAY
        ensure_session(db, sid, project_dir=project, at=at)
        outcomes = [rng.choice(["verified_success", "verified_failure", None]) for _ in "ab"]
        for k, outcome in enumerate(outcomes):
            task = task_store.insert_task(db, sid, f"task {k}")
            task_store.set_outcome(db, task["id"], outcome)
        sessions.append((sid, project, at, outcomes))
    uses: dict[str, list[tuple[str, str, float]]] = {}
    for _ in range(300):
        sid, project, at, _o = rng.choice(sessions)
        skill = f"k{rng.randrange(6)}"
        when = now - rng.uniform(0, 60) * DAY
        skill_uses.record_use(db, skill, "read", session_id=sid, at=when)
        uses.setdefault(skill, []).append((sid, project, when))
    for days in (None, 20):
        since = 0.0 if days is None else now - days * DAY
        got = {r.skill: r for r in skill_usage(db, settings, days=days, now=now)}
        for skill, made in uses.items():
            window = [u for u in made if u[2] >= since]
            first: dict[str, float] = {}
            for _sid, project, when in window:
                first[project] = min(first.get(project, when), when)
            users = {u[0] for u in window}
            w = [0, 0]
            wo = [0, 0, 0]
            for sid, project, at, outcomes in sessions:
                settled = [o for o in outcomes if o]
                if at < since or not settled:
                    continue
                ok = settled.count("verified_success")
                if sid in users:
                    w = [w[0] + ok, w[1] + len(settled) - ok]
                elif project in first and at >= first[project]:
                    wo = [wo[0] + ok, wo[1] + len(settled) - ok, wo[2] + 1]
            record = got.get(skill)
            if not window:
                assert record is None or record.uses == 0
                continue
            assert (record.with_settled, record.without_settled) == (sum(w), sum(wo[:2]))
            assert record.comparable_sessions == wo[2]
            if sum(w):
                assert record.with_rate == round(w[0] / sum(w), 4)
            if sum(wo[:2]):
                assert record.without_rate == round(wo[0] / sum(wo[:2]), 4)
