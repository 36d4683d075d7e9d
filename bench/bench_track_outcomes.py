"""Deterministic tracking of requests, steps and outcome evidence: what it queues for learning
and what it costs, without any LLM.

One session of R requests in the internal message form, stored into a fresh temp data home:
each request is a user prompt, a TodoWrite planning 3 todos, a failing then a passing
`python -m pytest` (Claude Code's "Exit code 1" result, then a clean one), a `git commit`, the
TodoWrite with all 3 completed; every third request is followed by "perfect, thanks", "no,
that's wrong" or "never mind, leave it" in turn (the user's next prompt). Then
`observe.todos.track_session` runs once over the whole session.

Printed: tasks created, learn jobs queued (before issue 12 every todo was a task: 3 per
request), the outcomes settled and evidence rows written (when this code has them), and the
tracking time per message, median of `--runs` runs (a fresh home each).

    python bench/bench_track_outcomes.py [--requests 30] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.observe.todos import track_session
from acontext_mcp.store.db import open_db
from acontext_mcp.store.messages import store_messages
from acontext_mcp.store.sessions import ensure_session

REPLIES = ("perfect, thanks", "no, that's wrong", "never mind, leave it")
PYTEST = "python -m pytest -q tests/test_app.py"
FAIL = "Exit code 1\nF.\nFAILED tests/test_app.py::test_x - assert 1 == 2\n1 failed, 1 passed"


def _session(requests: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    n = 0

    def add(role: str, parts: list[dict[str, Any]]) -> None:
        messages.append({"role": role, "parts": parts, "meta": {"id": f"m{len(messages)}"}})

    def call(name: str, args: dict[str, Any], result: str, is_error: bool = False) -> None:
        nonlocal n
        n += 1
        cid = f"toolu_{n}"
        add("assistant", [{"type": "tool-call", "id": cid, "name": name,
                           "arguments": json.dumps(args)}])  # fmt: skip
        add("user", [{"type": "tool-result", "tool_call_id": cid, "is_error": is_error,
                      "content": [{"type": "text", "text": result}]}])  # fmt: skip

    for r in range(requests):
        add("user", [{"type": "text", "text": f"Request {r}: add feature {r} with a test"}])
        todos = [f"step {k} of feature {r}" for k in range(3)]
        plan = [{"content": t, "status": "pending", "activeForm": t} for t in todos]
        call("TodoWrite", {"todos": plan}, "Todos have been modified successfully.")
        call("Bash", {"command": PYTEST}, FAIL, is_error=True)
        call("Bash", {"command": PYTEST}, "..\n2 passed in 0.03s")
        call("Bash", {"command": f"git commit -am 'feature {r}'"}, f"[main {r:07x}] feature {r}")
        done = [{**t, "status": "completed"} for t in plan]
        call("TodoWrite", {"todos": done}, "Todos have been modified successfully.")
        add("assistant", [{"type": "text", "text": f"Feature {r} is in; tests pass."}])
        if r % 3 == 2:
            add("user", [{"type": "text", "text": REPLIES[(r // 3) % 3]}])
    return messages


def _run(requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        conn = open_db(settings)
        try:
            ensure_session(conn, "bench")
            messages = _session(requests)
            store_messages(conn, settings, "bench", messages, fmt="acontext")
            started = time.perf_counter()
            track_session(conn, settings, "bench")
            seconds = time.perf_counter() - started
            tasks = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
            jobs = conn.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'learn_task'").fetchone()
            columns = {r[1] for r in conn.execute("PRAGMA table_info(tasks)")}
            outcomes: Counter[str] = Counter()
            evidence = 0
            if "outcome" in columns:
                outcomes.update(r[0] or "none" for r in conn.execute("SELECT outcome FROM tasks"))
                evidence = conn.execute("SELECT COUNT(*) FROM task_evidence").fetchone()[0]
        finally:
            conn.close()
    return {
        "messages": len(messages),
        "tasks": tasks,
        "learn_jobs": jobs[0],
        "outcomes": dict(sorted(outcomes.items())),
        "evidence": evidence,
        "ms_per_message": 1000 * seconds / len(messages),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; {args.requests} requests, {args.runs} runs")
    runs = [_run(args.requests) for _ in range(args.runs)]
    first = runs[0]
    per_request = first["learn_jobs"] / args.requests
    print(f"messages: {first['messages']}")
    print(f"tasks created: {first['tasks']}; learn jobs queued: {first['learn_jobs']} "
          f"({per_request:.1f} per request)")  # fmt: skip
    print(f"outcomes: {first['outcomes'] or '(no outcome column)'}")
    print(f"evidence rows: {first['evidence']}")
    times = [r["ms_per_message"] for r in runs]
    print(
        f"tracking: {statistics.median(times):.3f} ms per message "
        f"(median of {args.runs}; min {min(times):.3f}, max {max(times):.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
