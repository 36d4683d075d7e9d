"""Learn a session now (`acontext-mcp learn`, `learn_now` with a wait) or queue its learning
for the background worker (`learn_now` without one). Use cases: they drive observation, the
learning pipeline and the worker's jobs, here or in the background, with the real handlers."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from acontext_mcp import job_kinds
from acontext_mcp.app.flush import flush_session
from acontext_mcp.app.handlers import HANDLERS
from acontext_mcp.config import Settings, env_number
from acontext_mcp.learn import pipeline
from acontext_mcp.observe.task_ops import settle_outcome
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.worker import jobs
from acontext_mcp.worker.flush import run_job_now
from acontext_mcp.worker.triggers import ensure_worker, observe_key


def finish_running_tasks(conn: sqlite3.Connection, session_id: str) -> list[int]:
    """Finish the session's running tasks, each settled by its evidence (observe/outcome.py):
    verified_failure -> failed, else success (the user says they are done); the outcome is
    stored and a progress line says who decided."""
    note = "User: marked done with `acontext-mcp learn --finish-running`"
    done = []
    with atomic(conn):
        for task_id in task_store.task_ids(conn, session_id, ("running",)):
            outcome = settle_outcome(conn, task_id, running=True)
            status = "failed" if outcome == "verified_failure" else "success"
            line = f"{note} (outcome from the evidence: {outcome})."
            task_store.update_task_by_id(conn, task_id, status=status, add_progress=line)
            done.append(task_id)
    return done


def learn_session(
    settings: Settings,
    session_id: str,
    *,
    space: str | None = None,
    observe_first: bool = True,
    timeout_s: float | None = None,
    progress: Any = None,
    finish_running: bool = False,
) -> dict[str, Any]:
    """Observe the session (if asked), then distill its finished tasks and run its space's
    learner, here and now (or, when a live worker holds the lease, wait for it to). With
    `finish_running`, tasks still running after observation count as succeeded: the user says
    so, the way the reference product promotes tasks when learning is asked for.

    Returns {session_id, space, observe?, steps: [...], status: learning status}."""
    timeout = timeout_s if timeout_s is not None else env_number("ACONTEXT_LEARN_TIMEOUT_S", 300)
    deadline = time.monotonic() + timeout
    say = progress or (lambda _msg: None)
    out: dict[str, Any] = {"session_id": session_id, "steps": []}
    conn = open_db(settings)
    try:
        pipeline.require_session(conn, session_id)  # before anything is queued for it
    finally:
        conn.close()
    if observe_first:
        say("observing the session (task tracking)…")
        observed = flush_session(
            settings, session_id, timeout_s=max(1.0, timeout / 2), hand_on=False
        )  # the learning it queues runs here, next
        out["observe"] = {k: observed.get(k) for k in ("status", "reason") if observed.get(k)}
    conn = open_db(settings)
    try:
        if finish_running:
            out["finished_by_request"] = finish_running_tasks(conn, session_id)
        queued = pipeline.queue_session(conn, settings, session_id, space=space)
        out["space"] = queued["space"]
        for n, job_id in enumerate(queued["queued"], 1):
            say(f"distilling finished task {n}/{len(queued['queued'])}…")
            step = run_job_now(settings, conn, job_id, deadline, handlers=HANDLERS, hand_on=False)
            out["steps"].append({"job": learning.LEARN_TASK, **step})
            if step["status"] in ("deferred", "timeout"):
                break
        for _ in range(8):  # each run takes MAX_BATCH learnings
            if not learning.waiting_count(conn, queued["space"]) or time.monotonic() > deadline:
                break
            say(f"running the skill learner for space {queued['space']}…")
            job_id = pipeline.queue_space(conn, queued["space"])
            step = run_job_now(settings, conn, job_id, deadline, handlers=HANDLERS, hand_on=False)
            out["steps"].append({"job": learning.LEARN_SPACE, **step})
            if step["status"] != "done":
                break
        out["status"] = learning.session_status(conn, session_id)
        ensure_worker(conn, settings)  # whatever is left (other sessions, deferred work)
        return out
    finally:
        conn.close()


def learn_later(settings: Settings, session_id: str, *, space: str | None = None) -> dict[str, Any]:
    """Queue the session's observation and learning for the background worker (started if
    none is alive) and return at once with its learning status."""
    conn = open_db(settings)
    try:
        queued = pipeline.queue_session(conn, settings, session_id, space=space)
        jobs.enqueue(
            conn,
            job_kinds.OBSERVE_SESSION,
            {"session_id": session_id},
            dedup_key=observe_key(session_id),
            requeue=True,
            run_after=time.time(),
        )
        started = ensure_worker(conn, settings)
        return {
            "session_id": session_id,
            "space": queued["space"],
            "queued_tasks": len(queued["queued"]),
            "worker_started": started,
            "status": learning.session_status(conn, session_id),
        }
    finally:
        conn.close()
