"""A compact text of a session's tasks, for prompts (the task agent's, a new session's).

One block per task, in order:

    Task 2 [running]: Add dark mode to the settings page
      - I added a theme toggle in src/settings.tsx; npm test passes.
      Preference: The user wants no new dependencies.

Within `max_chars` the newest progress lines and the open tasks are kept first: older
progress lines of a task go before the task does, and finished tasks (success/failed) before
open ones, the oldest first. What was left out is said on the first line.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.observe.task_ops import FINAL_STATUSES, session_tasks
from acontext_mcp.text import clip, one_line

DEFAULT_MAX_CHARS = 4000
_LINE = 300  # one description, progress or preference line is clipped to this many characters


def _clip(text: str, limit: int = _LINE) -> str:
    return one_line(text, limit)


def task_line(task: dict[str, Any]) -> str:
    return f"Task {task['order']} [{task['status']}]: {_clip(task['description'])}"


def _block(task: dict[str, Any], progress_lines: int) -> str:
    lines = [task_line(task)]
    if progress_lines:
        lines += [f"  - {_clip(p)}" for p in task["progresses"][-progress_lines:]]
    lines += [f"  Preference: {_clip(p)}" for p in task["user_preferences"]]
    return "\n".join(lines)


def render_tasks(
    tasks: list[dict[str, Any]], *, max_chars: int = DEFAULT_MAX_CHARS, progress_lines: int = 3
) -> str:
    """The blocks of `tasks` within `max_chars` (see the module docstring)."""
    if not tasks:
        return ""
    blocks = {t["order"]: _block(t, progress_lines) for t in tasks}
    kept = {t["order"] for t in tasks}

    def size() -> int:  # the blocks, their newlines and the "(N earlier ...)" head line
        body = sum(len(blocks[o]) + 1 for o in kept) - 1
        omitted = len(tasks) - len(kept)
        return body + (len(f"({omitted} earlier tasks not shown)") + 1 if omitted else 0)

    total = size()
    # First trim progress to the latest line: finished tasks, then open ones, oldest first.
    for finished_first in (True, False):
        for task in tasks:
            if total <= max_chars:
                break
            if (task["status"] in FINAL_STATUSES) == finished_first and progress_lines > 1:
                shorter = _block(task, 1)
                total -= len(blocks[task["order"]]) - len(shorter)
                blocks[task["order"]] = shorter
    # Then drop whole tasks: finished ones oldest first, then open ones oldest first.
    drop = [t for t in tasks if t["status"] in FINAL_STATUSES] + [
        t for t in tasks if t["status"] not in FINAL_STATUSES
    ]
    for task in drop:
        if total <= max_chars or len(kept) == 1:
            break
        kept.discard(task["order"])
        total = size()
    omitted = len(tasks) - len(kept)
    head = [f"({omitted} earlier tasks not shown)"] if omitted else []
    out = "\n".join(head + [blocks[t["order"]] for t in tasks if t["order"] in kept])
    return clip(out, max_chars)


def session_summary(
    conn: sqlite3.Connection,
    session_id: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    progress_lines: int = 3,
) -> str:
    """The session's tasks with status, latest progress and preferences; "" when none."""
    return render_tasks(
        session_tasks(conn, session_id), max_chars=max_chars, progress_lines=progress_lines
    )
