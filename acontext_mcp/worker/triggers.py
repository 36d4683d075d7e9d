"""What hooks call after capture: queue a session's observe job, start a worker if needed.

The reference buffers a session's messages and processes them once 16 are pending, or 8 s
after the oldest pending one was stored, or on an explicit flush. Hooks run at every turn
boundary and tool call, so the check happens there:

- `ACONTEXT_OBSERVE_BATCH` (16) or more pending messages, or
- the oldest pending message is `ACONTEXT_OBSERVE_WAIT_S` (8) seconds old, or
- the event ends a turn (Stop, SubagentStop, PreCompact, SessionEnd; OpenClaw's agent_end and
  compaction/reset) and anything is pending,

queues one `observe_session` job per session (dedup key `observe:<session>`; while it runs, a
new request marks it to run once more). A job deferred because no LLM provider exists at all
is made ready again at each turn end, so deterministic tracking keeps up; other deferrals
(budget spent, provider failing) are waited out. Then, unless `ACONTEXT_WORKER=off`, it starts a
detached `python -P -m acontext_mcp worker --until-idle` when a job is ready and no live worker
holds the lease. No LLM here, stdlib only, `subprocess` imported only to spawn. Never raises:
errors go to <home>/logs/hooks.log (a hook must not fail because of background work).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from typing import Any

from acontext_mcp import job_kinds
from acontext_mcp.config import Settings, env_lenient_number, worker_switch
from acontext_mcp.store import batches
from acontext_mcp.worker import jobs, lease

DEFAULT_BATCH = 16
DEFAULT_WAIT_S = 8.0
SPAWN_LEASE = "worker-spawn"  # one spawn per couple of seconds, however many hooks race
SPAWN_GAP_S = 2.0
FINAL_EVENTS = frozenset(
    {"Stop", "SubagentStop", "PreCompact", "SessionEnd", "agent_end", "before_compaction",
     "before_reset"}
)  # fmt: skip
OFF = ("off", "0", "false", "no")


def batch_size() -> int:
    return int(env_lenient_number("ACONTEXT_OBSERVE_BATCH", DEFAULT_BATCH))


def wait_seconds() -> float:
    return env_lenient_number("ACONTEXT_OBSERVE_WAIT_S", DEFAULT_WAIT_S)


def autostart_enabled() -> bool:
    return worker_switch() not in OFF


def observe_key(session_id: str) -> str:
    return f"observe:{session_id}"


def pending(conn: sqlite3.Connection, session_id: str) -> tuple[int, float | None]:
    """(pending message count, created_at of the oldest pending message) of a session."""
    return batches.pending(conn, session_id)


def why_observe(conn: sqlite3.Connection, session_id: str, event: str | None) -> str | None:
    """The reason to observe the session now ("batch", "waited", "event"), or None."""
    count, oldest = pending(conn, session_id)
    if count == 0:
        return None
    if count >= batch_size():
        return "batch"
    if oldest is not None and time.time() - oldest >= wait_seconds():
        return "waited"
    if event in FINAL_EVENTS:
        return "event"
    return None


def queue_observe(conn: sqlite3.Connection, session_id: str) -> int:
    """Queue (or re-queue) the session's observe job; returns its id."""
    return jobs.enqueue(
        conn,
        job_kinds.OBSERVE_SESSION,
        {"session_id": session_id},
        dedup_key=observe_key(session_id),
        requeue=True,
    )


def maybe_queue(
    conn: sqlite3.Connection, settings: Settings, session_id: str, *, event: str | None
) -> dict[str, Any]:
    """Queue the session's observe job when a trigger fires, then start a worker if needed.

    Returns {"queued": job id or None, "why", "spawned"}; {"error"} after logging a failure.
    """
    try:
        why = why_observe(conn, session_id, event)
        job_id = queue_observe(conn, session_id) if why else None
        if job_id is not None and why == "event":
            # With no LLM provider at all, the job is deferred for long stretches, but its
            # deterministic tracking should keep up: each turn end runs it again.
            jobs.hasten(conn, job_id, "NoProvider")
        spawned = ensure_worker(conn, settings) if why else False
        return {"queued": job_id, "why": why, "spawned": spawned}
    except Exception as exc:  # background work must never break capture
        _log(f"observe trigger for {session_id} ({event}) failed: {type(exc).__name__}: {exc}")
        return {"queued": None, "why": None, "spawned": False, "error": str(exc)}


def ensure_worker(conn: sqlite3.Connection, settings: Settings) -> bool:
    """Spawn a detached worker when one is needed and allowed; True when one was started."""
    if not autostart_enabled() or lease.current(conn) is not None:
        return False
    if not jobs.ready_count(conn, job_kinds.ALL):  # the kinds app/handlers.py runs
        return False
    if not lease.acquire(conn, lease.new_holder("spawn"), SPAWN_GAP_S, name=SPAWN_LEASE):
        return False  # another hook started one a moment ago
    spawn_worker(settings)
    return True


def spawn_worker(settings: Settings) -> int:
    """Start `python -m acontext_mcp worker --until-idle` detached; returns its pid.

    It runs in the data home, not the hook's working directory, with `-P` so that directory
    is not put on sys.path: a project's own `logging.py` or `acontext_mcp/` must not be what
    the worker imports.
    """
    import subprocess

    env = {**os.environ, "ACONTEXT_HOME": str(settings.home)}
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "acontext_mcp", "worker", "--until-idle"],
        cwd=str(settings.home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env=env,
    )
    import threading

    # Reap it when it exits if this process outlives it (the MCP server); a hook exits first.
    threading.Thread(target=proc.wait, name="reap-worker", daemon=True).start()
    return proc.pid


def _log(line: str) -> None:
    from acontext_mcp.hooklog import append

    append(line)
