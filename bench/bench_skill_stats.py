"""`skills stats` on a large store: how long the per-skill records take to compute.

Setup: a real SQLite store with `--sessions` top-level sessions over `--projects` projects, each
with three tasks whose outcomes are settled (verified success or failure) at random, and
`--uses` skill uses of `--skills` skills (a real skills folder: SKILL.md plus a reference file
each) spread over those sessions, a tenth of them without a session as the MCP tools record
them. Times `learn.skill_usage.skill_usage` for every skill, and for one skill over 30 days
(median of `--runs`, wall and CPU).

    python bench/bench_skill_stats.py [--sessions 5000] [--skills 200] [--uses 50000] [--runs 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.learn.skill_usage import DAY, skill_usage
from acontext_mcp.store import skill_uses
from acontext_mcp.store.db import atomic, open_db

KINDS = ("skill_tool", "read", "mcp_get", "brief", "prompt")


def build(settings: Settings, args: argparse.Namespace, now: float) -> None:
    rng = random.Random(7)
    for n in range(args.skills):
        folder = settings.skills_dir / f"skill-{n:04d}"
        (folder / "references").mkdir(parents=True)
        body = f"---\nname: skill-{n:04d}\ndescription: Skill {n} for the bench.\n---\n"
        (folder / "SKILL.md").write_text(body + "- step one\n" * 40)
        (folder / "references" / "notes.md").write_text("a note line\n" * 100)
    conn = open_db(settings)
    with atomic(conn):
        for s in range(args.sessions):
            at = now - rng.uniform(0, 90) * DAY
            project = f"/p/{s % args.projects}"
            conn.execute(
                "INSERT INTO sessions (id, agent, project_dir, configs, created_at, updated_at) "
                "VALUES (?, 'claude-code', ?, '{}', ?, ?)",
                (f"s{s}", project, at, at),
            )
            for order in (1, 2, 3):
                outcome = rng.choice(("verified_success", "verified_failure", "unverified"))
                conn.execute(
                    'INSERT INTO tasks (session_id, "order", description, status, outcome, '
                    "created_at, updated_at) VALUES (?, ?, 'task', 'success', ?, ?, ?)",
                    (f"s{s}", order, outcome, at, at),
                )
        for _ in range(args.uses):
            s = rng.randrange(args.sessions)
            skill = f"skill-{int(rng.paretovariate(1.2)) % args.skills:04d}"
            sid = None if rng.random() < 0.1 else f"s{s}"
            skill_uses.record_use(
                conn,
                skill,
                rng.choice(KINDS),
                session_id=sid,
                project_dir=f"/p/{s % args.projects}",
                at=now - rng.uniform(0, 90) * DAY,
            )
    conn.close()


def timed(fn, runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--skills", type=int, default=200)
    parser.add_argument("--uses", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        build(settings, args, now)
        conn = open_db(settings)
        records = skill_usage(conn, settings, now=now)
        used = sum(1 for r in records if r.uses)
        print(
            f"store: {args.sessions} sessions, {args.sessions * 3} tasks, {args.uses} uses of "
            f"{used}/{len(records)} skills"
        )
        wall, cpu = timed(lambda: skill_usage(conn, settings, now=now), args.runs)
        print(
            f"every skill: median of {args.runs}: {wall * 1000:.0f} ms wall, "
            f"{cpu * 1000:.0f} ms CPU"
        )
        wall, cpu = timed(
            lambda: skill_usage(conn, settings, skill="skill-0001", days=30, now=now), args.runs
        )
        print(f"one skill, 30 days: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU")
        conn.close()


if __name__ == "__main__":
    main()
