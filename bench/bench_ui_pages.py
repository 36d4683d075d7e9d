"""The dashboard's server time per page at 10k and 1M messages (target: <= 200 ms at 1M).

Fills a data home per size fast, with `executemany` straight into a real store file (the
schema of `open_db`, the counters `message_totals`/`task_totals` kept right): sessions of 100
messages (1-2 KB each, tool calls and results) spread over 180 days, three tasks per session
with outcomes and evidence, a learning per task, 30 LLM calls a day, and a disk with 500
files. Then asks each page type through the real app (`ui.app.build_app`, in-process over
ASGI: routing, the guard, SQL, templates) and prints the median of `--runs` per page.

    python bench/bench_ui_pages.py [--sizes 10000 1000000] [--runs 7] [--keep DIR]

`--keep DIR` builds each size's home once under DIR and reuses it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _support import code, prose

from acontext_mcp.config import Settings
from acontext_mcp.disk.files import write_file
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.ui.activity import MessageDays

PER_SESSION = 100
TASKS_PER_SESSION = 3
DAYS = 180
AGENTS = ("claude-code", "openclaw", "mcp")
PROJECTS = [f"/work/project-{i:02d}" for i in range(20)]
OUTCOMES = ("verified_success", "verified_success", "unverified", "verified_failure", None)
MARK = "bench-ui.json"


def _parts(rng: random.Random, position: int, pool: list[str]) -> tuple[str, str]:
    """(role, parts JSON) of the internal format, cycling user / call / result / text."""
    kind = position % 4
    if kind == 0:
        return "user", json.dumps([{"type": "text", "text": rng.choice(pool)}])
    if kind == 1:
        call = {
            "type": "tool-call",
            "id": f"call_{position}",
            "name": "Bash",
            "arguments": json.dumps({"command": "pytest -q"}),
        }
        return "assistant", json.dumps([{"type": "text", "text": rng.choice(pool)[:300]}, call])
    if kind == 2:
        result = {
            "type": "tool-result",
            "tool_call_id": f"call_{position - 1}",
            "content": [{"type": "text", "text": rng.choice(pool)}],
        }
        return "user", json.dumps([result])
    return "assistant", json.dumps([{"type": "text", "text": rng.choice(pool)}])


def fill(settings: Settings, messages: int, seed: int = 5) -> dict[str, Any]:
    rng = random.Random(seed)
    pool = [prose(rng, rng.randint(800, 1600)) for _ in range(200)]
    pool += [code(rng, rng.randint(800, 1600)) for _ in range(100)]
    conn = open_db(settings)
    now = time.time()
    start = now - DAYS * 86400
    sessions = max(1, messages // PER_SESSION)
    started = time.perf_counter()
    tokens = 0
    try:
        for first in range(0, sessions, 500):
            batch = range(first, min(sessions, first + 500))
            srows, mrows, trows = [], [], []
            for s in batch:
                at = start + (s + rng.random()) * (now - start) / sessions
                sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                parent = srows[-1][0] if s % 10 == 9 and srows else None
                srows.append((sid, AGENTS[s % 3], PROJECTS[s % 20], parent, at, at + 3000, s + 1))
                for p in range(PER_SESSION):
                    role, parts = _parts(rng, p, pool)
                    count = len(parts) // 4
                    tokens += count
                    mrows.append(
                        (s + 1, p, role, parts, "openai", count, f"k{p}", "processed", at + p * 30)
                    )
                for t in range(TASKS_PER_SESSION):
                    outcome = OUTCOMES[(s + t) % len(OUTCOMES)]
                    status = (
                        "failed"
                        if outcome == "verified_failure"
                        else ("success" if outcome else "running")
                    )
                    trows.append(
                        (
                            sid,
                            t + 1,
                            f"task {t} of session {s}: fix the loader",
                            status,
                            json.dumps(["ran the tests"]),
                            at + t * 900,
                            at + t * 900 + 600,
                            outcome,
                        )
                    )
            with atomic(conn):
                conn.executemany(
                    "INSERT INTO sessions (id, agent, project_dir, parent_id, created_at, "
                    "updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    srows,
                )
                conn.executemany(
                    "INSERT INTO messages (session_seq, position, role, parts, format, "
                    "token_count, dedup_key, status, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    mrows,
                )
                conn.executemany(
                    'INSERT INTO tasks (session_id, "order", description, status, progresses, '
                    "created_at, updated_at, outcome) VALUES (?,?,?,?,?,?,?,?)",
                    trows,
                )
                conn.execute(
                    "INSERT INTO task_evidence (task_id, kind, result, command, created_at) "
                    "SELECT id, 'test', CASE outcome WHEN 'verified_failure' THEN 'fail' "
                    "ELSE 'pass' END, 'pytest -q', updated_at FROM tasks "
                    "WHERE outcome LIKE 'verified%' AND id > (SELECT COALESCE(MAX(task_id), 0) "
                    "FROM task_evidence)"
                )
                conn.execute(
                    "INSERT INTO learnings (session_id, task_id, space, kind, status, text, "
                    "outcome, created_at, updated_at) SELECT session_id, id, 'default', "
                    "'success', CASE id % 7 WHEN 0 THEN 'failed' ELSE 'learned' END, "
                    "'a lesson', outcome, updated_at, updated_at FROM tasks WHERE outcome IS NOT "
                    "NULL AND id > (SELECT COALESCE(MAX(task_id), 0) FROM learnings)"
                )
            print(
                f"    {len(srows) * PER_SESSION + first * PER_SESSION:,} messages", file=sys.stderr
            )
        with atomic(conn):
            conn.execute(
                "UPDATE message_totals SET messages = ?, tokens = ? WHERE id = 1",
                (sessions * PER_SESSION, tokens),
            )
            calls = []
            for d in range(DAYS):
                day = time.strftime("%Y-%m-%d", time.localtime(start + d * 86400))
                for i in range(30):
                    calls.append(
                        (
                            "anthropic",
                            "claude-haiku",
                            ("distillation", "skill_learning", "task_extraction")[i % 3],
                            3000 + i * 50,
                            700,
                            400.0,
                            "ok" if i % 13 else "error",
                            day,
                            start + d * 86400 + i,
                        )
                    )
            conn.executemany(
                "INSERT INTO llm_calls (provider, model, purpose, input_tokens, output_tokens, "
                "duration_ms, outcome, day, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                calls,
            )
        for i in range(500):
            write_file(conn, settings, "default", f"/reports/r{i:03d}.md", prose(rng, 2000))
        write_file(conn, settings, "default", "/img/blob.bin", bytes(range(256)) * 40)
    finally:
        conn.close()
    return {
        "messages": sessions * PER_SESSION,
        "sessions": sessions,
        "fill_s": round(time.perf_counter() - started, 1),
    }


def home_for(root: Path, messages: int) -> Settings:
    base = root / f"ui{messages}"
    settings = Settings(home=base / "home", skills_dir=base / "skills")
    mark = base / MARK
    if not mark.exists():
        import shutil

        shutil.rmtree(base, ignore_errors=True)
        settings.ensure_dirs()
        print(f"  filling {messages:,} messages ...", file=sys.stderr)
        info = fill(settings, messages)
        mark.write_text(json.dumps(info))
    return settings


def urls(settings: Settings) -> dict[str, str]:
    """One URL per page type, pointing at real rows (the newest session and task)."""
    conn = open_db(settings)
    try:
        sid = conn.execute("SELECT id FROM sessions ORDER BY updated_at DESC LIMIT 1").fetchone()
        older = conn.execute(
            "SELECT id FROM sessions ORDER BY updated_at LIMIT 1 OFFSET ?",
            (max(0, conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] // 2),),
        ).fetchone()
        task = conn.execute("SELECT id FROM tasks ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return {
        "overview (30 days)": "/",
        "overview (365 days)": "/?days=365",
        "sessions": "/sessions",
        "session transcript": f"/sessions/{sid[0]}",
        "session transcript (middle of history)": f"/sessions/{older[0]}",
        "tasks": "/tasks",
        "task": f"/tasks/{task[0]}",
        "skills": "/skills",
        "learning": "/learning",
        "disks": "/disks",
        "disk folder (500 files)": "/disks/default/reports/",
        "disk file (text)": "/disks/default/reports/r042.md",
        "disk file (binary)": "/disks/default/img/blob.bin",
    }


def measure(settings: Settings, runs: int) -> dict[str, tuple[str, float, float]]:
    """page -> (status, cold ms: the first request of a fresh app, median ms of `runs`).
    A page still a placeholder says so in its status (its time means nothing yet)."""
    from starlette.testclient import TestClient

    from acontext_mcp.ui.app import build_app

    token = "bench-token-0123456789"
    app = build_app(settings, token=token, allowed_hosts={"testserver"})
    out: dict[str, tuple[str, float, float]] = {}
    with TestClient(app, base_url="http://testserver") as client:
        client.get(f"/?token={token}", follow_redirects=False)
        for name, url in urls(settings).items():
            times = []
            status = ""
            for _ in range(runs + 1):
                started = time.perf_counter()
                answer = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                status = str(answer.status_code)
                if "This page is coming" in answer.text:
                    status += " (placeholder)"
            out[name] = (status, times[0], statistics.median(times[1:]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build homes here once and reuse them")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; median of {args.runs} runs after a first (cold) one")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            settings = home_for(root, size)
            print(f"\n{size:,} messages")
            count = []
            for _ in range(3):
                started = time.perf_counter()
                MessageDays().counts(settings)
                count.append((time.perf_counter() - started) * 1000)
            print(
                f"  messages per day, the one full count per run (in the background): "
                f"{statistics.median(count):.0f} ms"
            )
            print(f"  {'page':<40} {'status':>16} {'first ms':>9} {'median ms':>10}")
            for name, (status, cold, median) in measure(settings, args.runs).items():
                flag = "" if median <= 200 else "  over 200 ms"
                print(f"  {name:<40} {status:>16} {cold:>9.1f} {median:>10.1f}{flag}")


if __name__ == "__main__":
    main()
