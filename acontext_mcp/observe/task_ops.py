"""Task-list operations the task agent's tools perform, inside the caller's transaction.

Every function here runs inside `atomic()` opened by the caller (one transaction per round of
the task agent), so a round's effects commit together or not at all. Soft problems the model
can fix (an order out of range, an empty text) raise `InvalidInput` with a message written for
the model; the agent turns it into an error tool result and the round goes on.

The texts the model writes (descriptions, progress, preferences) are redacted like captured
text before they are stored: they feed distillation and the learner, and a model can copy a
secret from what it reads.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.errors import InvalidInput
from acontext_mcp.observe.outcome import decide
from acontext_mcp.privacy.redact import redact_text
from acontext_mcp.store import tasks as task_store

FINAL_STATUSES = ("success", "failed")
LEARN_JOB_KIND = task_store.LEARN_JOB_KIND


def session_tasks(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """All tasks of a session, in order."""
    return task_store.session_tasks(conn, session_id)


def _task_at(conn: sqlite3.Connection, session_id: str, order: int) -> dict[str, Any]:
    total = task_store.count_tasks(conn, session_id)
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= total:
        span = f"1..{total}" if total else "none yet: insert_task first"
        raise InvalidInput(f"task order {order!r} is out of range (tasks: {span})")
    return task_store.get_task(conn, session_id, order)


def insert_task_at(
    conn: sqlite3.Connection, session_id: str, after_order: int, description: str
) -> dict[str, Any]:
    """A new pending task at `after_order + 1`; later tasks move down by one."""
    last = task_store.count_tasks(conn, session_id)
    if not 0 <= after_order <= last:
        raise InvalidInput(f"after_order must be 0..{last} (0 puts the task first)")
    if not description.strip():
        raise InvalidInput("description must not be empty: use the user's words")
    description = redact_text(description)[0]
    return task_store.insert_task(conn, session_id, description, after_order=after_order)


def update_task(
    conn: sqlite3.Connection,
    session_id: str,
    order: int,
    *,
    description: str | None = None,
    status: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Change a task's description and/or status. Returns (task, previous status)."""
    task = _task_at(conn, session_id, order)
    if status is not None and status not in task_store.TASK_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(task_store.TASK_STATUSES)}")
    if description is not None and not description.strip():
        description = None
    if description is None and status is None:
        raise InvalidInput("nothing to change: give description and/or status")
    if description is not None:
        description = redact_text(description)[0]
    updated = task_store.update_task(
        conn, session_id, order, status=status, description=description
    )
    return updated, task["status"]


def append_progress(
    conn: sqlite3.Connection, session_id: str, order: int, progress: str
) -> dict[str, Any]:
    task = _task_at(conn, session_id, order)
    if not progress.strip():
        raise InvalidInput("progress must not be empty")
    if task["status"] in FINAL_STATUSES:
        raise InvalidInput(
            f"task {order} is already {task['status']}; set it back to running with "
            "update_task first if work on it resumed"
        )
    return task_store.update_task(conn, session_id, order, add_progress=redact_text(progress)[0])


def add_preference(
    conn: sqlite3.Connection, session_id: str, order: int, text: str
) -> dict[str, Any] | None:
    """Attach a preference to a task; None when the session already has it (any task)."""
    _task_at(conn, session_id, order)
    text = redact_text(text.strip())[0]
    if not text:
        raise InvalidInput("preference text must not be empty")
    for task in session_tasks(conn, session_id):
        if text.casefold() in (p.casefold() for p in task["user_preferences"]):
            return None
    return task_store.update_task(conn, session_id, order, add_preference=text)


def link_messages(
    conn: sqlite3.Connection, session_id: str, order: int, message_ids: list[int]
) -> tuple[dict[str, Any], int]:
    """Link stored messages to a task; a pending task becomes running (work on it started).
    Returns (task, number of new links)."""
    task = _task_at(conn, session_id, order)
    added = task_store.link_messages(conn, task["id"], message_ids)
    if task["status"] == "pending":
        task = task_store.update_task(conn, session_id, order, status="running")
    return task, added


def linked_message_ids(conn: sqlite3.Connection, task_id: int) -> list[int]:
    return task_store.linked_message_ids(conn, task_id)


def queue_learning(conn: sqlite3.Connection, task_id: int, session_id: str) -> bool:
    """Queue a finished task for skill learning, once per task. True when newly queued."""
    return task_store.queue_learning(conn, task_id, session_id)


def settle_outcome(conn: sqlite3.Connection, task_id: int, *, running: bool = False) -> str | None:
    """Settle a finished task's outcome from its evidence (observe/outcome.py); with
    `running`, a running task's too (its session ended, or is being finished), and a running
    task settled so before follows its evidence from then on. Returns the outcome, or None
    when the task is not settled (its outcome is left as it was)."""
    task = task_store.get_task_by_id(conn, task_id)
    if task is None:
        return None
    settled_running = task["status"] == "running" and (running or task.get("outcome"))
    if task["status"] not in FINAL_STATUSES and not settled_running:
        return None
    outcome = decide(task_store.task_evidence(conn, task_id))
    if outcome != task.get("outcome"):
        task_store.set_outcome(conn, task_id, outcome)
    return outcome
