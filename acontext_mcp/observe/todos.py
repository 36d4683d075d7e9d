"""Deterministic task tracking: the agent's own todo tools and test runs, without any LLM.

Trigger: a session's stored messages grew (capture, an import, a flush). Why: coding agents
already keep a task list of their own (Claude Code's `TodoWrite`, and the newer `TaskCreate` /
`TaskUpdate`), and their test and build runs say plainly how far a task got; reading those
costs nothing and works with `ACONTEXT_LLM_PROVIDER=none`. Outcome: `track_session` turns
them into tasks, status changes, progress lines and task-message links, and queues every
task that reaches success or failed for learning (one `learn_task` job per task, ever).

What counts (input shapes from Claude Code's `sdk-tools.d.ts`, 2.1.330):
- `TodoWrite {todos: [{content, status: pending|in_progress|completed, activeForm}]}` sends
  the whole list each time. A todo is matched to a task by its `content` (the task's
  description): first among the todos this tracker already knows, then among the session's
  tasks by description (so a task the task agent created in the same words is reused). A
  new todo is inserted after the previous todo's task, else last.
- `TaskCreate {subject, description, activeForm?, metadata?}` creates a task; its result
  ("Task #N created successfully: ...") gives the id that `TaskUpdate {taskId, status?:
  pending|in_progress|completed|deleted, subject?, description?, ...}` refers to later.
- A call applies only once its result arrived without `is_error` (Claude Code rejected it
  otherwise), so the tracker keeps unanswered calls in its cursor until their results come.
- Status mapping: pending -> pending, in_progress -> running, completed -> success. A todo
  that disappears from the list, or a task `deleted`, keeps its status and gains the
  progress line "Dropped this step from my todo list before finishing it" (or "Deleted this
  task from my task list ...") when it was not finished: deleting a todo is a change of
  plan, not evidence that the work failed, and queueing it for learning as a failure would
  teach from a non-event. Unknown statuses leave the status as it was. The todo tools
  have no "failed": deterministic tracking never sets `failed`; the task agent (LLM)
  decides that from the conversation.
- TaskUpdate ids are resolved only through TaskCreate results seen in the same session; an
  id from elsewhere (a task list shared across sessions) is counted in `unknown_tasks`.
- A completed task that goes back to in_progress becomes running again; its learn job is
  not queued a second time (the learner reads the task as it is when the job runs).
- A Bash call whose command runs tests, a build, a type check or a linter (evidence.py)
  appends a progress line with its outcome to the current task: the running task, else
  the session's last task. No tasks yet: the evidence is counted as unassigned.

Incremental and idempotent: the cursor `todos:<session_id>` holds the last message position
handled (and how many of its parts, since capture can extend a stored assistant message),
the unanswered calls, the current todo list and the TaskCreate id map. Everything of one
call, cursor included, commits in one transaction, so re-running stores nothing twice and a
crash leaves the previous state.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from collections import Counter
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.observe.evidence import check_kind, read_outcome
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.db import atomic, loads
from acontext_mcp.store.messages import messages_from
from acontext_mcp.store.sessions import session_exists

CURSOR_PREFIX = "todos:"
STATUS_MAP = {"pending": "pending", "in_progress": "running", "completed": "success"}
TODO_TOOLS = ("TodoWrite", "TaskCreate", "TaskUpdate")
SHELL_TOOLS = ("Bash", "bash", "shell", "run_shell_command", "exec", "exec_command")
DROPPED = "Dropped this step from my todo list before finishing it"
DELETED = "Deleted this task from my task list before finishing it"
MAX_OPEN_CALLS = 200  # unanswered calls kept in the cursor; older ones are forgotten
PAGE = 200
_CREATED_ID = re.compile(r"Task #(\S+?) created")


def cursor_key(session_id: str) -> str:
    return CURSOR_PREFIX + session_id


def track_session(conn: sqlite3.Connection, settings: Settings, session_id: str) -> dict:
    """Apply a session's not yet handled messages (messages with status `disabled` are
    passed over); one transaction; an unknown session changes nothing. Returns counts:
    messages, tasks_created, status_changes, progress, dropped, learn_jobs, links, malformed,
    rejected, unknown_tasks, unknown_status, unassigned_evidence, position (the cursor
    afterwards)."""
    del settings  # parts are read as stored; blobs and limits do not matter here
    with atomic(conn):
        saved = get_cursor(conn, cursor_key(session_id))
        tracker = _Tracker(conn, session_id, copy.deepcopy(saved))
        if session_exists(conn, session_id):
            tracker.run()
            if tracker.state() != saved:
                set_cursor(conn, cursor_key(session_id), tracker.state())
    counts = {k: tracker.counts.get(k, 0) for k in _COUNT_KEYS}
    counts["position"] = tracker.position
    return counts


_COUNT_KEYS = (
    "messages",
    "tasks_created",
    "status_changes",
    "progress",
    "dropped",
    "learn_jobs",
    "links",
    "malformed",
    "rejected",
    "unknown_tasks",
    "unknown_status",
    "unassigned_evidence",
)


class _Tracker:
    """One track_session call: the cursor state, walked forward message by message."""

    def __init__(self, conn: sqlite3.Connection, session_id: str, saved: Any) -> None:
        self.conn, self.session_id = conn, session_id
        saved = saved if isinstance(saved, dict) else {}
        self.position: int = _int(saved.get("position"), -1)
        self.parts_done: int = _int(saved.get("parts"), 0)
        calls = saved.get("calls")
        self.calls: dict[str, dict[str, Any]] = calls if isinstance(calls, dict) else {}
        todos = saved.get("todos")
        self.todos: list[list[Any]] = todos if isinstance(todos, list) else []
        ids = saved.get("ids")
        self.ids: dict[str, int] = ids if isinstance(ids, dict) else {}
        self.counts: Counter[str] = Counter()
        self.current = self.position

    def state(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "parts": self.parts_done,
            "calls": self.calls,
            "todos": self.todos,
            "ids": self.ids,
        }

    def run(self) -> None:
        start = self.position  # re-read the last handled message: it may have grown
        while True:
            rows = messages_from(self.conn, self.session_id, start, PAGE)
            for row in rows:
                parts = [] if row["status"] == "disabled" else loads(row["parts"], [])
                self._message(row["id"], row["position"], parts)
            if len(rows) < PAGE:
                return
            start = rows[-1]["position"] + 1

    def _message(self, message_id: int, position: int, parts: Any) -> None:
        self.current = position
        if not isinstance(parts, list):
            parts = []
        skip = self.parts_done if position == self.position else 0
        if position < self.position or (position == self.position and skip >= len(parts)):
            return
        if position != self.position:
            self.counts["messages"] += 1
        for part in parts[skip:]:
            if not isinstance(part, dict):
                continue
            try:
                if part.get("type") == "tool-call":
                    self._call(message_id, part)
                elif part.get("type") == "tool-result":
                    self._result(message_id, part)
            except (TypeError, ValueError, AttributeError, KeyError):
                self.counts["malformed"] += 1  # odd shapes never stop the tracker
        self.position, self.parts_done = position, len(parts)

    # -- calls and results ---------------------------------------------------------------

    def _call(self, message_id: int, part: dict[str, Any]) -> None:
        name, call_id = part.get("name"), part.get("id")
        if not isinstance(call_id, str) or name not in TODO_TOOLS + SHELL_TOOLS:
            return
        args = _arguments(part.get("arguments"))
        if args is None:
            self.counts["malformed"] += 1
            return
        if name in SHELL_TOOLS:
            command = args.get("command")
            if isinstance(command, list):  # some shells take argv
                command = " ".join(str(c) for c in command)
            if not isinstance(command, str) or check_kind(command) is None:
                return
            entry: dict[str, Any] = {"name": "shell", "command": command}
        else:
            entry = {"name": name, "input": args}
        self.calls[call_id] = {**entry, "message": message_id, "position": self.current}
        while len(self.calls) > MAX_OPEN_CALLS:  # the oldest unanswered call is forgotten
            oldest = min(self.calls, key=lambda k: _int(self.calls[k].get("position"), -1))
            del self.calls[oldest]

    def _result(self, message_id: int, part: dict[str, Any]) -> None:
        call = self.calls.pop(str(part.get("tool_call_id")), None)
        if call is None:
            return
        text = _text(part.get("content"))
        is_error = bool(part.get("is_error"))
        messages = [call["message"], message_id]
        if call["name"] == "shell":
            self._evidence(call["command"], text, is_error, messages)
            return
        if is_error:
            self.counts["rejected"] += 1  # Claude Code refused the call: nothing changed
            return
        if call["name"] == "TodoWrite":
            self._todo_write(call["input"], messages)
        elif call["name"] == "TaskCreate":
            self._task_create(call["input"], text, messages)
        else:
            self._task_update(call["input"], messages)

    # -- the three tools -----------------------------------------------------------------

    def _todo_write(self, args: dict[str, Any], messages: list[int]) -> None:
        todos = args.get("todos")
        if not isinstance(todos, list):
            self.counts["malformed"] += 1
            return
        known = {c: tid for c, tid in self.todos if isinstance(c, str)}
        new_list: list[list[Any]] = []
        used: set[int] = set()
        previous: dict[str, Any] | None = None
        for item in todos:
            content = item.get("content") if isinstance(item, dict) else None
            if not isinstance(content, str) or not content.strip():
                self.counts["malformed"] += 1
                continue
            content = content.strip()
            status = STATUS_MAP.get(item.get("status"))  # type: ignore[arg-type]
            if status is None:
                self.counts["unknown_status"] += 1
            task = self._existing(known.get(content), content)
            if task is not None and task["id"] in used:
                continue  # the same todo twice in one list
            if task is None:
                after = previous["order"] if previous is not None else None
                task = self._create(content, status or "pending", after)
            else:
                task = self._set_status(task, status)
            self._link(task["id"], messages)
            used.add(task["id"])
            new_list.append([content, task["id"]])
            previous = task_store.get_task_by_id(self.conn, task["id"])
        for _content, task_id in self.todos:
            if task_id not in used:
                self._drop(task_id, messages, DROPPED)
        self.todos = new_list

    def _task_create(self, args: dict[str, Any], text: str, messages: list[int]) -> None:
        subject = args.get("subject")
        detail = args.get("description")
        subject = subject.strip() if isinstance(subject, str) else ""
        detail = detail.strip() if isinstance(detail, str) else ""
        description = _join(subject, detail)
        if not description:
            self.counts["malformed"] += 1
            return
        task = self._existing(None, description) or self._create(description, "pending", None)
        self._link(task["id"], messages)
        match = _CREATED_ID.search(text)
        if match:
            self.ids[match.group(1).rstrip(":")] = task["id"]

    def _task_update(self, args: dict[str, Any], messages: list[int]) -> None:
        task_id = self.ids.get(str(args.get("taskId")))
        task = task_store.get_task_by_id(self.conn, task_id) if task_id is not None else None
        if task is None:
            self.counts["unknown_tasks"] += 1
            return
        subject, detail = args.get("subject"), args.get("description")
        if isinstance(subject, str) and subject.strip():  # renamed: a new subject (+ detail)
            detail = detail.strip() if isinstance(detail, str) else ""
            described = _join(subject.strip(), detail)
            if described != task["description"]:
                task = task_store.update_task_by_id(self.conn, task["id"], description=described)
        status = args.get("status")
        if status == "deleted":
            self._drop(task["id"], messages, DELETED)
        elif status is not None:
            if status not in STATUS_MAP:
                self.counts["unknown_status"] += 1
            task = self._set_status(task, STATUS_MAP.get(status))  # type: ignore[arg-type]
        self._link(task["id"], messages)

    # -- evidence ------------------------------------------------------------------------

    def _evidence(self, command: str, text: str, is_error: bool, messages: list[int]) -> None:
        evidence = read_outcome(command, text, is_error)
        if evidence is None:
            return
        task = task_store.current_task(self.conn, self.session_id)
        if task is None:
            self.counts["unassigned_evidence"] += 1
            return
        task_store.update_task_by_id(self.conn, task["id"], add_progress=evidence.line())
        self.counts["progress"] += 1
        self._link(task["id"], messages)

    # -- store helpers -------------------------------------------------------------------

    def _existing(self, task_id: int | None, description: str) -> dict[str, Any] | None:
        if task_id is not None:
            task = task_store.get_task_by_id(self.conn, task_id)
            if task is not None and task["session_id"] == self.session_id:
                return task
        return task_store.find_task_by_description(self.conn, self.session_id, description)

    def _create(self, description: str, status: str, after: int | None) -> dict[str, Any]:
        task = task_store.insert_task(
            self.conn, self.session_id, description, after_order=after, status=status
        )
        self.counts["tasks_created"] += 1
        self._queue_if_final(task)
        return task

    def _set_status(self, task: dict[str, Any], status: str | None) -> dict[str, Any]:
        if status is None or status == task["status"]:
            return task
        task = task_store.update_task_by_id(self.conn, task["id"], status=status)
        self.counts["status_changes"] += 1
        self._queue_if_final(task)
        return task

    def _drop(self, task_id: int, messages: list[int], note: str) -> None:
        task = task_store.get_task_by_id(self.conn, task_id)
        if task is None or task["status"] in ("success", "failed"):
            return
        if not task["progresses"] or task["progresses"][-1] != note:
            task_store.update_task_by_id(self.conn, task_id, add_progress=note)
        self.counts["dropped"] += 1
        self._link(task_id, messages)

    def _queue_if_final(self, task: dict[str, Any]) -> None:
        final = task["status"] in ("success", "failed")
        if final and task_store.queue_learning(self.conn, task["id"], self.session_id):
            self.counts["learn_jobs"] += 1

    def _link(self, task_id: int, messages: list[int]) -> None:
        self.counts["links"] += task_store.link_messages(self.conn, task_id, messages)


def _join(subject: str, detail: str) -> str:
    """A TaskCreate's description: its subject, and the longer description when it says more."""
    if not detail or detail.casefold() == subject.casefold():
        return subject or detail
    if not subject:
        return detail
    return f"{subject}: {detail}"


def _arguments(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        p["text"]
        for p in content
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
    )


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
