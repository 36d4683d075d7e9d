"""Explicit flush: run a session's observe job now and wait for it, bounded by a timeout.

The job is queued (or moved up, if it was deferred), then either run here, in-process,
holding the data home's worker lease like any worker, or, when a live worker holds the lease,
left to that worker while we watch the job settle, with the handlers the caller hands in
(app/flush.py: `acontext-mcp flush` and the `flush_session` MCP tool).
"""

from __future__ import annotations

import time
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.worker import jobs, lease
from acontext_mcp.worker.loop import Handler

POLL_S = 0.1


def _settled(job: jobs.Job | None) -> dict[str, Any] | None:
    """The outcome of a job that is no longer queued-and-ready nor running, else None."""
    if job is None:
        return {"status": "gone", "reason": "the job was deleted (session removed?)"}
    if job.status == "done":
        return {"status": "done"}
    if job.status == "failed":
        return {"status": "failed", "reason": job.error}
    if job.status == "queued" and job.run_after > time.time():
        deferred = (job.error or "").startswith(jobs.DEFERRED)
        return {"status": "deferred" if deferred else "retry", "reason": job.error}
    return None


def flush_session(
    settings: Settings,
    session_id: str,
    timeout_s: float = 60.0,
    *,
    handlers: dict[str, Handler],
    hand_on: bool = True,
) -> dict[str, Any]:
    """Observe `session_id` now. Returns {session_id, job_id, status, ran_here, result?,
    reason?, pending_before, pending_after}; status is done, deferred (LLM unavailable, with
    the reason), retry or failed (an error), or timeout (another worker was busy). With
    `hand_on`, a background worker is started for the work this queued (learning)."""
    from acontext_mcp.store.db import open_db
    from acontext_mcp.worker.loop import OBSERVE
    from acontext_mcp.worker.triggers import observe_key, pending

    conn = open_db(settings)
    try:
        before = pending(conn, session_id)[0]
        job_id = jobs.enqueue(
            conn,
            OBSERVE,
            {"session_id": session_id},
            dedup_key=observe_key(session_id),
            requeue=True,
            run_after=time.time(),
        )
        out = run_job_now(
            settings,
            conn,
            job_id,
            time.monotonic() + timeout_s,
            handlers=handlers,
            hand_on=hand_on,
        )
        return {
            "session_id": session_id,
            "job_id": job_id,
            **out,
            "pending_before": before,
            "pending_after": pending(conn, session_id)[0],
        }
    finally:
        conn.close()


def run_job_now(
    settings: Settings,
    conn: Any,
    job_id: int,
    deadline: float,
    *,
    handlers: dict[str, Handler],
    hand_on: bool = True,
) -> dict[str, Any]:
    """Run queued job `job_id` here, holding the worker lease, or wait for the live worker
    that holds it to settle the job, until `deadline` (time.monotonic()). Returns {status,
    ran_here, result?, reason?}; status is done, deferred, retry, failed, lost or timeout.
    With `hand_on`, a worker is started afterwards for whatever else is queued."""
    from acontext_mcp.worker.loop import Worker
    from acontext_mcp.worker.triggers import ensure_worker

    worker = Worker(settings, conn, handlers, holder=lease.new_holder("flush"))
    out: dict[str, Any] | None = None
    ran_here = False
    while out is None:
        if worker.acquire():
            worker.start_heartbeat()
            try:
                while out is None and time.monotonic() < deadline:
                    job = worker.claim(job_id)
                    if job is not None:
                        done = worker.run_job(job)
                        ran_here = True
                        status = {"done": "done", "deferred": "deferred", "lost": "lost"}
                        out = {k: v for k, v in done.items() if k != "outcome"}
                        out["status"] = status.get(done["outcome"], done["outcome"])
                        break
                    out = _settled(jobs.get(conn, job_id))
                    if out is None:  # running under a previous worker's job lease
                        time.sleep(POLL_S)
            finally:
                worker.stop()
            if ran_here and hand_on:
                ensure_worker(conn, settings)  # we held the lease: hand on other work
        else:
            job = jobs.get(conn, job_id)
            if job is None or job.status != "queued" or job.run_after > time.time():
                out = _settled(job)
        if out is None:
            if time.monotonic() >= deadline:
                holder = lease.current(conn)
                out = {
                    "status": "timeout",
                    "reason": "another worker is busy "
                    f"({holder['holder'] if holder else 'none'}); the job stays queued",
                }
            else:
                time.sleep(POLL_S)
    return {"ran_here": ran_here, **out}
