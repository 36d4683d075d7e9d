"""Background worker overhead per job, with a zero-latency fake handler.

(a) The queue alone: `jobs.claim` + `jobs.complete` in a loop on one connection (the floor).
(b) The worker loop in-process: `run_worker` with a handler that returns at once, so what is
    timed is the loop, the lease, the heartbeat thread, the per-job log line and the fenced
    completion. Each run queues `--jobs` jobs into a fresh data home (not timed) and times
    the worker from start until the queue is empty (idle exit at 0 s). The fixed cost of one
    worker run (open and migrate the store, take and release the lease, the heartbeat thread,
    close) is measured on an empty queue and subtracted, so ms/job is the marginal cost.
(c) Starting a worker process: spawning `python -m acontext_mcp worker --until-idle --idle 0`
    on an empty queue until it exits (what a hook pays, in the background, per start).

Prints the median of `--runs` runs: jobs/s and ms/job for (a) and (b), and ms for (c).

    python bench/bench_worker.py [--jobs 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.worker import jobs, loop

KIND = "bench_noop"


def _noop(conn: Any, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    return {}


def _home(root: Path, n: int) -> Settings:
    settings = Settings(home=root / "home", skills_dir=root / "home" / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    for i in range(n):
        jobs.enqueue(conn, KIND, {"i": i}, dedup_key=f"bench:{i}")
    conn.close()
    return settings


def queue_only(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        settings = _home(Path(tmp), n)
        conn = open_db(settings)
        started = time.perf_counter()
        while (job := jobs.claim(conn, "bench", kinds=[KIND], lease_s=30)) is not None:
            jobs.complete(conn, job)
        elapsed = time.perf_counter() - started
        conn.close()
    return elapsed


def worker_loop(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        settings = _home(Path(tmp), n)
        started = time.perf_counter()
        stats = loop.run_worker(settings, {KIND: _noop}, until_idle=True, idle_exit_s=0.0)
        elapsed = time.perf_counter() - started
        assert stats["outcomes"] == ({"done": n} if n else {}), stats
    return elapsed


def worker_process() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ACONTEXT_HOME": str(Path(tmp) / "home")}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "acontext_mcp", "worker", "--until-idle", "--idle", "0"],
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("acontext").setLevel(logging.WARNING)  # per-job INFO lines not shown
    print(f"python {sys.version.split()[0]}, {args.jobs} jobs, median of {args.runs} runs")
    a = statistics.median(queue_only(args.jobs) for _ in range(args.runs))
    fixed = statistics.median(worker_loop(0) for _ in range(args.runs))
    b = statistics.median(worker_loop(args.jobs) for _ in range(args.runs)) - fixed
    c = statistics.median(worker_process() for _ in range(args.runs))
    for name, secs in (("(a) claim + complete", a), ("(b) worker loop", b)):
        print(f"{name:<24} {args.jobs / secs:8.0f} jobs/s  {1000 * secs / args.jobs:6.2f} ms/job")
    print(f"{'(b) / (a)':<24} {b / a:8.2f}x")
    print(f"{'(b) fixed per run':<24} {1000 * fixed:8.1f} ms (open, lease, heartbeat, close)")
    print(f"{'(c) worker start+exit':<24} {1000 * c:8.0f} ms (empty queue)")


if __name__ == "__main__":
    main()
