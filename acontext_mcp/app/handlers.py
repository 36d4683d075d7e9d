"""The job-handler registry: which code runs each job kind. The worker is handed it
(`run_worker(settings, HANDLERS)`); it imports no handler by name, so a renamed module or
function fails here, at import time, not quietly in a background job.

A handler gets `(conn, settings, payload)` and returns a dict for the log (worker/loop.py says
what its outcome does to the job). The learning handlers import gitpython and the LLM SDKs
only inside their functions: a worker that only observes never loads them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp import job_kinds
from acontext_mcp.config import Settings
from acontext_mcp.learn.pipeline import learn_space, learn_task, queue_preference
from acontext_mcp.llm.select import provider_for
from acontext_mcp.observe.task_agent import extract_tasks, release_processing
from acontext_mcp.observe.todos import track_session
from acontext_mcp.store.sessions import TRACKING_OFF, session_tracking_off
from acontext_mcp.worker.loop import Handler
from acontext_mcp.worker.triggers import queue_observe

MAX_BATCHES = 8  # extraction batches per observe job


def observe_session(
    conn: sqlite3.Connection, settings: Settings, payload: dict[str, Any]
) -> dict[str, Any]:
    """Deterministic todo tracking, then LLM task extraction, batch by batch, while a
    provider is available, then tracking once more (for what extraction linked). Messages a
    dead worker left `processing` go back to pending first: this job's holder is the only one
    working on the session."""
    session_id = payload["session_id"]
    out: dict[str, Any] = {"session_id": session_id}
    if session_tracking_off(conn, session_id):  # its configs say so: no tasks, no LLM calls
        out["skipped"] = f"task tracking is off for this session (configs {TRACKING_OFF})"
        return out
    out["tracked"] = track_session(conn, settings, session_id)
    out["released"] = release_processing(conn, session_id)
    provider = provider_for(settings, conn)  # raises NoProvider when there is none
    batches: list[dict[str, Any]] = []
    for _ in range(MAX_BATCHES):
        result = extract_tasks(conn, settings, provider, session_id, on_preference=queue_preference)
        batches.append(result)
        if not result.get("messages") or not result.get("remaining"):
            break
    else:  # more than a job's share: run again after this one (others get a turn)
        queue_observe(conn, session_id)
    out["extracted"] = batches
    # Replies held for a request the task agent has just linked to a task land now.
    out["tracked_after"] = track_session(conn, settings, session_id)
    return out


HANDLERS: dict[str, Handler] = {
    job_kinds.OBSERVE_SESSION: observe_session,
    job_kinds.LEARN_TASK: learn_task,
    job_kinds.LEARN_SPACE: learn_space,
}
