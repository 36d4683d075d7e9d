"""A data home with something on every dashboard page, made through the product's own writers.

`seed(settings)` stores: a Claude Code session (prompt, thinking, text, a tool call and its
result, a redacted secret) with a subagent session linked to it, an older OpenClaw session;
tasks with outcomes and evidence linked to their messages; learnings (learned, failed,
pending review); LLM calls; a disk with a text file and a binary file; and a skills repo with
history (a user commit, a learning commit with provenance) and a pending proposal.

`seed(settings, hostile=True)` puts XSS payloads (HOSTILE) into message text, a task, a skill
and a file name: pages must show them as text, and no script may run.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.disk.files import write_file
from acontext_mcp.skills import proposals, repo
from acontext_mcp.store import learning, tasks, usage
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.store.events import add_event
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.turns import store_turn

# Each payload sets window.__xss (or opens a dialog) if it ever runs.
HOSTILE = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "[click](javascript:window.__xss=3)",
    '"><svg onload="window.__xss=4">',
)
PROJECT = "/work/demo-app"
SKILL_MD = """\
---
name: deploy-demo
description: How demo-app is deployed; use when shipping a release of demo-app.
---

# Deploy demo-app

- Run `make release` from the repo root.
- Tag first: `git tag vX.Y.Z`.
"""
LEARNED_LINE = "- Run the migrations before `make release` (verified: exit 0) [s1 t1]\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Seeded:
    session: str  # the main Claude Code session
    subagent: str  # its subagent session (parent_id = session)
    older: str  # an OpenClaw session from two days ago
    task_ids: list[int] = field(
        default_factory=list
    )  # verified_success, verified_failure, unverified
    message_ids: list[int] = field(default_factory=list)
    learned_commit: str = ""  # the learning commit (provenance: session + first task)
    proposal: str = ""  # a pending proposal id
    skill: str = "deploy-demo"
    disk_files: list[str] = field(default_factory=list)


def seed(settings: Settings, *, hostile: bool = False) -> Seeded:
    bad = " ".join(HOSTILE) if hostile else ""
    conn = open_db(settings)
    try:
        main = _main_session(conn, settings, bad)
        sub = store_turn(
            conn,
            settings,
            [
                {"role": "user", "content": "Find where the login test lives."},
                {"role": "assistant", "content": "It is tests/test_login.py."},
            ],
            fmt="anthropic",
            agent="claude-code",
            project_dir=PROJECT,
        )["session_id"]
        ensure_session(conn, sub)
        conn.execute("UPDATE sessions SET parent_id = ? WHERE id = ?", (main["session_id"], sub))
        older = _older_session(conn, settings)
        seeded = Seeded(main["session_id"], sub, older, message_ids=main["message_ids"])
        seeded.task_ids = _tasks(conn, main["session_id"], main["message_ids"], bad)
        _usage(conn, main["session_id"])
        seeded.disk_files = _disk(conn, settings, hostile)
        commit, proposal = _skills(settings, seeded, bad)
        seeded.learned_commit, seeded.proposal = commit, proposal
        _learnings(conn, seeded, commit, proposal)
    finally:
        conn.close()
    return seeded


def _main_session(conn: sqlite3.Connection, settings: Settings, bad: str) -> dict[str, Any]:
    prompt = "Fix the failing login test, then run the suite." + (f" {bad}" if bad else "")
    messages = [
        {"role": "user", "content": prompt},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": "The test probably needs the fixture.",
                    "signature": "sig",
                },
                {
                    "type": "text",
                    "text": "Let me run the tests first." + (f" {bad}" if bad else ""),
                },
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "Bash",
                    "input": {"command": "pytest -q tests/test_login.py"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "content": "1 failed: test_login_redirect",
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "text",
                    "text": "Fixed the redirect; export API_KEY=sk-ant-api03-" + "x" * 40,
                },
                {
                    "type": "tool_use",
                    "id": "toolu_02",
                    "name": "Bash",
                    "input": {"command": "pytest -q"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_02", "content": "42 passed"}],
        },
        {"role": "assistant", "content": "All 42 tests pass."},
    ]
    stored = store_turn(
        conn, settings, messages, fmt="anthropic", agent="claude-code", project_dir=PROJECT
    )
    add_event(conn, stored["session_id"], "compaction", {"trigger": "auto"})
    return stored


def _older_session(conn: sqlite3.Connection, settings: Settings) -> str:
    sid = store_turn(
        conn,
        settings,
        [
            {"role": "user", "content": "Summarise the changelog."},
            {"role": "assistant", "content": "Three fixes and one feature."},
        ],
        fmt="openai",
        agent="openclaw",
        project_dir="/work/other",
    )["session_id"]
    two_days = time.time() - 2 * 86400
    with atomic(conn):
        conn.execute(
            "UPDATE sessions SET created_at = ?, updated_at = ? WHERE id = ?",
            (two_days, two_days, sid),
        )
        conn.execute(
            "UPDATE messages SET created_at = ? "
            "WHERE session_seq = (SELECT seq FROM sessions WHERE id = ?)",
            (two_days, sid),
        )
    return sid


def _tasks(conn: sqlite3.Connection, session: str, message_ids: list[int], bad: str) -> list[int]:
    specs = [
        (
            "Fix the failing login test" + (f" {bad}" if bad else ""),
            "success",
            "verified_success",
            ("test", "pass", "pytest -q", "42 passed"),
        ),
        (
            "Make the build reproducible",
            "failed",
            "verified_failure",
            ("command", "fail", "make release", "exit 2"),
        ),
        ("Tidy the README", "success", "unverified", None),
    ]
    ids = []
    for description, status, outcome, evidence in specs:
        task = tasks.insert_task(conn, session, description, status=status)
        with atomic(conn):
            tasks.set_outcome(conn, task["id"], outcome)
            tasks.update_task_by_id(
                conn, task["id"], add_progress="ran the suite", add_preference="use pytest -q"
            )
            if evidence:
                kind, result, command, detail = evidence
                tasks.add_evidence(
                    conn,
                    task["id"],
                    kind,
                    result,
                    command=command,
                    detail=detail,
                    message_id=message_ids[-2],
                )
            tasks.link_messages(conn, task["id"], message_ids[:3])
        ids.append(task["id"])
    return ids


def _usage(conn: sqlite3.Connection, session: str) -> None:
    with atomic(conn):
        for purpose, tokens_in, outcome in (
            ("task_extraction", 1200, "ok"),
            ("distillation", 800, "ok"),
            ("skill_learning", 3000, "ok"),
            ("skill_learning", 0, "error"),
        ):
            usage.record_call(
                conn,
                provider="anthropic",
                model="claude-haiku",
                purpose=purpose,
                outcome=outcome,
                session_id=session,
                input_tokens=tokens_in,
                output_tokens=tokens_in // 4,
                duration_ms=420.0,
                error="overloaded" if outcome == "error" else None,
            )


def _disk(conn: sqlite3.Connection, settings: Settings, hostile: bool) -> list[str]:
    files = {
        "/notes/plan.md": "# Plan\n\n1. fix login\n2. release\n",
        "/img/pixel.png": PNG,
    }
    if hostile:
        files['/notes/<img src=x onerror="window.__xss=5">.md'] = HOSTILE[0] + "\n" + HOSTILE[1]
    for path, content in files.items():
        write_file(conn, settings, "default", path, content)
    return list(files)


def _skills(settings: Settings, seeded: Seeded, bad: str) -> tuple[str, str]:
    root = Path(settings.skills_dir)
    repo.ensure_repo(root).close()
    folder = root / seeded.skill
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(SKILL_MD + (f"\n{bad}\n" if bad else ""))
    repo.protect_user_edits(root)  # a user commit
    with (folder / "SKILL.md").open("a") as out:
        out.write("\n## Traps\n\n" + LEARNED_LINE)
    commit = repo.commit_learning(
        root,
        "Learn: run migrations before release",
        session_id=seeded.session,
        task_id=seeded.task_ids[0],
        paths=[seeded.skill],
    )
    assert commit
    path = f"{seeded.skill}/SKILL.md"
    parent, current = proposals.head_files(root, [path])
    text = (current[path] or "") + "- Tag before building the release (verified: exit 0)\n"
    made = proposals.create(
        root,
        "Learn: tag before building",
        {path: text},
        parent=parent,
        session_ids=[seeded.session],
        task_ids=[str(seeded.task_ids[1])],
    )
    return commit, made.id


def _learnings(conn: sqlite3.Connection, seeded: Seeded, commit: str, proposal: str) -> None:
    first, second, third = seeded.task_ids
    with atomic(conn):
        learning.ensure_space(conn, "default")
        done = learning.add_learning(
            conn,
            session_id=seeded.session,
            task_id=first,
            space="default",
            kind="success",
            text="Run migrations before release.",
            outcome="verified_success",
            llm_calls=2,
            input_tokens=2000,
            output_tokens=500,
        )
        pending = learning.add_learning(
            conn,
            session_id=seeded.session,
            task_id=second,
            space="default",
            kind="failure",
            text="Tag before building.",
            outcome="verified_failure",
        )
        failed = learning.add_learning(
            conn,
            session_id=seeded.session,
            task_id=third,
            space="default",
            kind="success",
            text="README tidy.",
            outcome="unverified",
        )
        conn.execute(
            "UPDATE learnings SET status = 'learned', commit_sha = ? WHERE id = ?", (commit, done)
        )
        conn.execute(
            "UPDATE learnings SET status = 'learned', proposal = ?, review = 'pending' "
            "WHERE id = ?",
            (proposal, pending),
        )
        conn.execute(
            "UPDATE learnings SET status = 'failed', attempts = 3, error = ? WHERE id = ?",
            ("the model timed out after 300 s", failed),
        )


def seed_history(settings: Settings, *, days: int = 30, per_day: int = 3, rng_seed: int = 3) -> int:
    """Past activity for the overview's charts: each of the last `days` days gets a few
    sessions with messages, settled tasks (verified and unverified outcomes), learnings and
    LLM calls, written through the store's writers and then dated back. Returns sessions made."""
    import random

    rng = random.Random(rng_seed)
    conn = open_db(settings)
    made = 0
    try:
        for back in range(days, 0, -1):
            at = time.time() - back * 86400
            for n in range(rng.randint(1, per_day)):
                turn = [
                    {"role": "user", "content": f"day -{back} job {n}: fix the flaky test"},
                    {"role": "assistant", "content": "Done; the suite passes."},
                ] * rng.randint(2, 12)
                sid = store_turn(
                    conn,
                    settings,
                    turn,
                    fmt="openai",
                    agent=("claude-code", "openclaw")[n % 2],
                    project_dir=PROJECT,
                )["session_id"]
                task = tasks.insert_task(conn, sid, f"job {n} of day -{back}", status="success")
                outcome = rng.choice(
                    ("verified_success", "verified_success", "verified_failure", "unverified")
                )
                tasks.set_outcome(conn, task["id"], outcome)
                learning.add_learning(
                    conn,
                    session_id=sid,
                    task_id=task["id"],
                    space="default",
                    kind="success",
                    text="a lesson",
                    outcome=outcome,
                )
                usage.record_call(
                    conn,
                    provider="anthropic",
                    model="claude-haiku",
                    purpose="distillation",
                    outcome="ok",
                    session_id=sid,
                    input_tokens=rng.randint(20_000, 90_000),
                    output_tokens=rng.randint(2_000, 9_000),
                )
                stamp = at + n * 600
                day = time.strftime("%Y-%m-%d", time.localtime(stamp))
                with atomic(conn):
                    conn.execute(
                        "UPDATE sessions SET created_at = ?, updated_at = ? WHERE id = ?",
                        (stamp, stamp + 300, sid),
                    )
                    conn.execute(
                        "UPDATE messages SET created_at = ? "
                        "WHERE session_seq = (SELECT seq FROM sessions WHERE id = ?)",
                        (stamp, sid),
                    )
                    conn.execute(
                        "UPDATE tasks SET created_at = ?, updated_at = ? WHERE id = ?",
                        (stamp, stamp + 200, task["id"]),
                    )
                    conn.execute(
                        "UPDATE learnings SET created_at = ?, updated_at = ?, status = 'learned' "
                        "WHERE task_id = ?",
                        (stamp + 250, stamp + 250, task["id"]),
                    )
                    conn.execute(
                        "UPDATE llm_calls SET day = ?, created_at = ? WHERE session_id = ?",
                        (day, stamp, sid),
                    )
                made += 1
    finally:
        conn.close()
    return made
