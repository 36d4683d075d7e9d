"""Deterministic task tracking: user requests, the agent's own todo tools and the outcome
evidence in tool results, without any LLM.

Trigger: a session's stored messages grew (capture, an import, a flush). Why: coding agents
keep a todo list of their own (Claude Code's `TodoWrite`, and the newer `TaskCreate` /
`TaskUpdate`), their test, build and commit runs and the user's next prompt say plainly how
far a request got and whether it worked; reading those costs nothing and works with
`ACONTEXT_LLM_PROVIDER=none`. Outcome: `track_session` keeps one task per user request with
the todos as its steps, records `task_evidence` rows, settles outcomes
(observe/outcome.py), and queues each request task that reaches success for learning.

Requests (issue 12, item 2): a user's prompt (observe/prompts.is_intent) opens a request. Its
task is the task already linked to the prompt message (the task agent links the messages a
task came from), else one the tracker creates, described by the prompt, as soon as the
agent plans steps for it (a todo list). Without any prompt seen (capture started
mid-session), the current task is used (the running one, else the last), and with no task at
all a todo list creates one named after its first todo. A prompt that only corrects the work
before it ("no, still failing") continues that request; any other prompt opens a new one.

Steps (input shapes from Claude Code's `sdk-tools.d.ts`, 2.1.330):
- `TodoWrite {todos: [{content, status: pending|in_progress|completed, activeForm}]}` sends
  the whole list each time; a todo is a step keyed by its `content`, owned by the request
  that was open when it first appeared (Claude Code keeps finished todos of earlier requests
  in the list).
- `TaskCreate {subject, description, ...}` adds a step; its result ("Task #N created
  successfully: ...") gives the id that `TaskUpdate {taskId, status?: pending|in_progress|
  completed|deleted, subject?, ...}` refers to later. Ids are resolved only through
  TaskCreate results seen in the same session (`unknown_tasks` counts the rest).
- A call applies only once its result arrived without `is_error` (Claude Code rejected it
  otherwise), so unanswered calls wait in the cursor.
- The request task's status follows its steps: all completed -> success (queued for
  learning, once); some in progress or completed -> running. A step completed adds the
  progress line "Finished step: X". A todo that disappears from the list, or a task
  `deleted`, before it was completed adds "Dropped this step ...: X" / "Deleted this task
  ...: X" and no longer counts: dropping a step is a change of plan, not a failure. The todo
  tools have no "failed": deterministic tracking never sets `failed`.

Evidence (a `task_evidence` row on the open request's task, linked to the call and result
messages): a check run (test/build/typecheck/lint, evidence.py; also a progress line as
before), a `git commit`, a failed shell command (`tool_failure`), the user's next prompt
(`user_reply`: confirmed/corrected/dropped, observe/prompts.py) on the request before it,
and the host's `TaskCompleted` hook event (`task_completed`, stored as a session event by
hooks/claude_code.py) on the request owning that step. Evidence of a request with no task
yet (no todos: the task agent creates the task) is held in the cursor until a task is
linked to the request's prompt (or, for a run, to the run's own messages); the worker
tracks once more after the task agent ran. A finished task's outcome is settled again
whenever evidence for it arrives.

Incremental and idempotent: the cursor `todos:<session_id>` holds the last message position
handled (and how many of its parts, since capture can extend a stored assistant message),
the unanswered calls, the steps, the current todo list, the TaskCreate id map, the open
request, held replies and the last session event read. Everything of one call, cursor
included, commits in one transaction, so re-running stores nothing twice and a crash leaves
the previous state.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from collections import Counter
from typing import Any

from acontext_mcp.capture.skill_use import tool_arguments as _arguments
from acontext_mcp.config import Settings
from acontext_mcp.observe import outcome as rules
from acontext_mcp.observe.evidence import Evidence, read_commit, read_failure, read_outcome
from acontext_mcp.observe.prompts import (
    CORRECTED,
    classify_reply,
    is_housekeeping,
    is_intent,
    joined_text,
    prompt_text,
)
from acontext_mcp.observe.task_ops import settle_outcome
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.db import atomic, loads
from acontext_mcp.store.events import list_events
from acontext_mcp.store.messages import messages_from
from acontext_mcp.store.sessions import session_exists
from acontext_mcp.text import clip, one_line

CURSOR_PREFIX = "todos:"
STEP_STATUSES = ("pending", "in_progress", "completed")
TODO_TOOLS = ("TodoWrite", "TaskCreate", "TaskUpdate")
SHELL_TOOLS = ("Bash", "bash", "shell", "run_shell_command", "exec", "exec_command")
TASK_COMPLETED_EVENT = "task_completed"  # session event written by the TaskCompleted hook
SESSION_END_EVENT = "session_end"  # session event written by the SessionEnd hook
FINISHED = "Finished step"
DROPPED = "Dropped this step from my todo list before finishing it"
DELETED = "Deleted this task from my task list before finishing it"
MAX_OPEN_CALLS = 200  # unanswered calls kept in the cursor; older ones are forgotten
MAX_HELD = 20  # replies waiting for their request's task
PAGE = 200
REQUEST_CHARS = 300  # a request task's description: the prompt, on one line
DETAIL_CHARS = 200
COMMAND_CHARS = 300
_CREATED_ID = re.compile(r"Task #(\S+?) created")


def cursor_key(session_id: str) -> str:
    return CURSOR_PREFIX + session_id


def track_session(conn: sqlite3.Connection, settings: Settings, session_id: str) -> dict:
    """Apply a session's not yet handled messages and host events (messages with status
    `disabled` are passed over); one transaction; an unknown session changes nothing.
    Returns counts: messages, tasks_created, status_changes, progress, steps, dropped,
    learn_jobs, links, evidence, replies, outcomes, malformed, rejected, unknown_tasks,
    unknown_status, unassigned_evidence, position (the cursor afterwards)."""
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


def seed_copy(
    conn: sqlite3.Connection, source_id: str, copy_id: str, event_ids: dict[int, int]
) -> bool:
    """Start a copied session's tracker where the original's stands (store/session_copy).

    Trigger: a session was copied with its messages and tasks. Why: with no cursor the
    tracker would walk the copied messages again and create their tasks a second time.
    Outcome: the copy's cursor has the original's position and the copy's id of the last
    handled event; the open request, held replies and todo steps are not carried over (they
    name the original's rows), so the copy's tracking starts afresh at its next request.
    Returns whether the original had a cursor. Call inside the copying transaction."""
    saved = get_cursor(conn, cursor_key(source_id))
    if not isinstance(saved, dict):
        return False
    handled = _int(saved.get("events"), 0)
    seeded = {
        "position": _int(saved.get("position"), -1),
        "parts": _int(saved.get("parts"), 0),
        "events": max((new for old, new in event_ids.items() if old <= handled), default=0),
    }
    set_cursor(conn, cursor_key(copy_id), seeded)
    return True


_COUNT_KEYS = (
    "messages",
    "tasks_created",
    "status_changes",
    "progress",
    "steps",
    "dropped",
    "learn_jobs",
    "links",
    "evidence",
    "replies",
    "outcomes",
    "malformed",
    "rejected",
    "unknown_tasks",
    "unknown_status",
    "unassigned_evidence",
)


def _steps_from(saved: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The steps and the current todo list of a saved cursor; a cursor from before steps
    (todos as [content, task id] pairs) becomes steps with unknown progress."""
    steps = saved.get("steps")
    todos = saved.get("todos")
    if isinstance(steps, dict):
        return steps, [t for t in todos if isinstance(t, str)] if isinstance(todos, list) else []
    steps, keys = {}, []
    for item in todos if isinstance(todos, list) else []:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
            steps[item[0]] = {"text": item[0], "task": item[1], "status": "pending"}
            keys.append(item[0])
    return steps, keys


class _Tracker:
    """One track_session call: the cursor state, walked forward message by message."""

    def __init__(self, conn: sqlite3.Connection, session_id: str, saved: Any) -> None:
        self.conn, self.session_id = conn, session_id
        saved = saved if isinstance(saved, dict) else {}
        self.position: int = _int(saved.get("position"), -1)
        self.parts_done: int = _int(saved.get("parts"), 0)
        calls = saved.get("calls")
        self.calls: dict[str, dict[str, Any]] = calls if isinstance(calls, dict) else {}
        self.steps, self.todos = _steps_from(saved)
        ids = saved.get("ids")
        self.ids: dict[str, str] = ids if isinstance(ids, dict) else {}
        request = saved.get("request")
        self.request: dict[str, Any] | None = request if isinstance(request, dict) else None
        held = saved.get("held")
        self.held: list[dict[str, Any]] = held if isinstance(held, list) else []
        self.events: int = _int(saved.get("events"), 0)
        self.counts: Counter[str] = Counter()
        self.current = self.position

    def state(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "parts": self.parts_done,
            "calls": self.calls,
            "steps": self.steps,
            "todos": self.todos,
            "ids": self.ids,
            "request": self.request,
            "held": self.held,
            "events": self.events,
        }

    def run(self) -> None:
        self._place_held()
        start = self.position  # re-read the last handled message: it may have grown
        while True:
            rows = messages_from(self.conn, self.session_id, start, PAGE)
            for row in rows:
                disabled = row["status"] == "disabled"
                parts = [] if disabled else loads(row["parts"], [])
                meta = {} if disabled else loads(row["meta"], {})
                self._message(row["id"], row["position"], row["role"], parts, meta)
            if len(rows) < PAGE:
                break
            start = rows[-1]["position"] + 1
        self._host_events()
        self._place_held()

    def _message(self, message_id: int, position: int, role: str, parts: Any, meta: Any) -> None:
        self.current = position
        if not isinstance(parts, list):
            parts = []
        skip = self.parts_done if position == self.position else 0
        if position < self.position or (position == self.position and skip >= len(parts)):
            return
        if position != self.position:
            self.counts["messages"] += 1
        message = {"role": role, "parts": parts, "meta": meta if isinstance(meta, dict) else {}}
        if skip == 0 and parts and is_intent(message):
            self._prompt(message_id, prompt_text(parts))
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

    # -- requests and replies ------------------------------------------------------------

    def _prompt(self, message_id: int, text: str) -> None:
        """A user prompt: a verdict on the open request, and (unless it only corrects that
        request) the start of a new one. A housekeeping slash command is neither."""
        if not text or is_housekeeping(text):
            return
        verdict = classify_reply(text) if self.request is not None else None
        if verdict is not None and self.request is not None:
            self._place_or_hold(
                {
                    "request": self.request["message"],
                    "kind": rules.USER_REPLY,
                    "result": verdict,
                    "detail": one_line(text, DETAIL_CHARS),
                    "message": message_id,
                    "messages": [message_id],
                }
            )
        if verdict == CORRECTED:
            task_id = self.request.get("task") if self.request else None
            if task_id is not None:
                self._link(task_id, [message_id])
            return
        self.request = {"message": message_id, "text": one_line(text, REQUEST_CHARS), "task": None}

    def _place_or_hold(self, item: dict[str, Any]) -> None:
        if not self._place(item):
            self.held = [*self.held, item][-MAX_HELD:]

    def _place(self, item: dict[str, Any], task: dict[str, Any] | None = None) -> bool:
        """Record one piece of evidence on `task`, else on its request's task (a check run
        also on a task linked to its own messages: the task agent links what a task was
        worked in); False when no task holds it yet."""
        task = task or self._task_of_request(item.get("request"))
        if task is None and item.get("kind") != rules.USER_REPLY:
            task = self._task_linked_to(item.get("messages"))
        if task is None:
            return False
        if item.get("progress"):
            self._progress(task["id"], item["progress"])
        self._add_evidence(
            task["id"],
            item["kind"],
            item["result"],
            command=item.get("command"),
            detail=item.get("detail"),
            message_id=item.get("message"),
        )
        self._link(task["id"], [m for m in item.get("messages") or [] if isinstance(m, int)])
        if item["kind"] == rules.USER_REPLY:
            self.counts["replies"] += 1
        return True

    def _place_held(self) -> None:
        if self.held:
            self.held = [i for i in self.held if isinstance(i, dict) and not self._place(i)]

    def _task_linked_to(self, messages: Any) -> dict[str, Any] | None:
        for message_id in messages if isinstance(messages, list) else []:
            task = self._task_of_request(message_id)
            if task is not None:
                return task
        return None

    def _task_of_request(self, prompt_message: Any) -> dict[str, Any] | None:
        """The task of the request opened by this prompt message: ours, else the first
        task (in order) linked to the prompt."""
        if self.request is not None and self.request.get("message") == prompt_message:
            task = self._own(self.request.get("task"))
            if task is not None:
                return task
        if not isinstance(prompt_message, int) or isinstance(prompt_message, bool):
            return None
        return self._own(task_store.task_linked_to(self.conn, self.session_id, prompt_message))

    def _request_task(
        self, *, create: bool = True, fallback_name: str | None = None
    ) -> dict[str, Any] | None:
        """The open request's task, created from its prompt when it has none yet (unless not
        `create`: then None). Without a request: the current task, else (with
        `fallback_name`) a new task of that name."""
        if self.request is None:
            task = task_store.current_task(self.conn, self.session_id)
            if task is None and fallback_name:
                task = self._create(fallback_name, "running")
            return task
        task = self._task_of_request(self.request["message"])
        if task is None and not create:
            return None
        if task is None:
            task = self._create(self.request["text"] or "(untitled request)", "running")
            self._link(task["id"], [self.request["message"]])
        self.request["task"] = task["id"]
        return task

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
            if not isinstance(command, str) or not command.strip():
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
            self._shell(call["command"], text, is_error, messages)
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
        listed: list[str] = []
        touched: set[int] = set()
        for item in todos:
            content = item.get("content") if isinstance(item, dict) else None
            if not isinstance(content, str) or not content.strip():
                self.counts["malformed"] += 1
                continue
            content = content.strip()
            if content in listed:
                continue  # the same todo twice in one list
            status = item.get("status")
            if status not in STEP_STATUSES:
                self.counts["unknown_status"] += 1
                status = None
            step = self._step(content, content, status, messages)
            if step is None:
                continue
            listed.append(content)
            touched.add(step["task"])
        for key in self.todos:
            if key not in listed and key in self.steps:
                touched.add(self._drop(key, messages, DROPPED))
        self.todos = listed
        for task_id in touched:
            self._follow(task_id)

    def _task_create(self, args: dict[str, Any], text: str, messages: list[int]) -> None:
        subject = args.get("subject")
        detail = args.get("description")
        subject = subject.strip() if isinstance(subject, str) else ""
        detail = detail.strip() if isinstance(detail, str) else ""
        description = _join(subject, detail)
        if not description:
            self.counts["malformed"] += 1
            return
        match = _CREATED_ID.search(text)
        number = match.group(1).rstrip(":") if match else None
        key = f"#{number}" if number else description
        step = self._step(key, description, "pending", messages)
        if step is None:
            return
        if number:
            self.ids[number] = key
        self._follow(step["task"])

    def _task_update(self, args: dict[str, Any], messages: list[int]) -> None:
        key = self.ids.get(str(args.get("taskId")))
        step = self.steps.get(key) if key is not None else None
        task = self._own(step["task"]) if step is not None else None
        if step is None or task is None or key is None:
            self.counts["unknown_tasks"] += 1
            return
        subject, detail = args.get("subject"), args.get("description")
        if isinstance(subject, str) and subject.strip():  # renamed: a new subject (+ detail)
            detail = detail.strip() if isinstance(detail, str) else ""
            step["text"] = _join(subject.strip(), detail)
        status = args.get("status")
        if status == "deleted":
            self._drop(key, messages, DELETED)
        elif status is not None:
            if status not in STEP_STATUSES:
                self.counts["unknown_status"] += 1
            else:
                self._step(key, step["text"], status, messages)
        self._link(task["id"], messages)
        self._follow(task["id"])

    # -- steps ---------------------------------------------------------------------------

    def _step(
        self, key: str, text: str, status: str | None, messages: list[int]
    ) -> dict[str, Any] | None:
        """Add or update one step of the open request's task; its task is linked to the
        messages. None when no task can hold it."""
        step = self.steps.get(key)
        task = self._own(step["task"]) if step is not None else None
        if step is None or task is None:
            task = self._request_task(fallback_name=text)
            if task is None:
                return None
            step = {"text": text, "task": task["id"], "status": status or "pending"}
            self.steps[key] = step
            self.counts["steps"] += 1
            if step["status"] == "completed":
                self._progress(task["id"], f"{FINISHED}: {text}")
        elif status is not None and status != step["status"]:
            reopened = step["status"] == "dropped"
            step["status"] = status
            if status == "completed":
                self._progress(task["id"], f"{FINISHED}: {step['text']}")
            elif reopened:
                self.counts["steps"] += 1
        self._link(task["id"], messages)
        return step

    def _drop(self, key: str, messages: list[int], note: str) -> int:
        """A step left the plan; returns its task id."""
        step = self.steps[key]
        if step["status"] not in ("completed", "dropped"):
            step["status"] = "dropped"
            self._progress(step["task"], f"{note}: {step['text']}")
            self.counts["dropped"] += 1
            self._link(step["task"], messages)
        return int(step["task"])

    def _follow(self, task_id: int) -> None:
        """The task's status follows its steps: all completed -> success, some in progress or
        completed -> running; no live steps or all pending -> unchanged."""
        live = [s["status"] for s in self.steps.values() if s["task"] == task_id]
        live = [s for s in live if s != "dropped"]
        if not live:
            return
        if all(s == "completed" for s in live):
            wanted = "success"
        elif any(s in ("in_progress", "completed") for s in live):
            wanted = "running"
        else:
            return
        task = self._own(task_id)
        if task is not None:
            self._set_status(task, wanted)

    # -- evidence ------------------------------------------------------------------------

    def _shell(self, command: str, text: str, is_error: bool, messages: list[int]) -> None:
        check = read_outcome(command, text, is_error)
        found = (
            check or read_commit(command, text, is_error) or read_failure(command, text, is_error)
        )
        if found is None:
            return
        item = {
            "request": self.request["message"] if self.request is not None else None,
            "kind": found.kind,
            "result": found.result,
            "command": clip(found.command, COMMAND_CHARS),
            "detail": _detail(found),
            "message": messages[-1],
            "messages": messages,
            "progress": check.line() if check is not None else None,
        }
        if self.request is None:  # capture began mid-session: the current task, if any
            task = task_store.current_task(self.conn, self.session_id)
            if task is None:
                self.counts["unassigned_evidence"] += 1
                return
            self._place(item, task)
            return
        self._place_or_hold(item)

    def _host_events(self) -> None:
        """The host's TaskCompleted and SessionEnd events stored since the last run."""
        for event in list_events(self.conn, self.session_id, after=self.events):
            self.events = event["id"]
            if event["type"] == SESSION_END_EVENT:
                self._session_end()
                continue
            if event["type"] != TASK_COMPLETED_EVENT:
                continue
            data = event["data"] if isinstance(event["data"], dict) else {}
            task = self._task_of_step(data)
            if task is None:
                self.counts["unassigned_evidence"] += 1
                continue
            subject = data.get("task_subject")
            self._add_evidence(
                task["id"],
                rules.TASK_COMPLETED,
                "completed",
                command=f"#{data['task_id']}" if data.get("task_id") is not None else None,
                detail=one_line(subject, DETAIL_CHARS) if isinstance(subject, str) else None,
            )

    def _session_end(self) -> None:
        """The session ended: its running tasks get the outcome their evidence gives (their
        status stays: only the user or the agent finishes a task)."""
        self._place_held()  # what could land before the settling
        for task_id in task_store.task_ids(self.conn, self.session_id, ("running",)):
            if settle_outcome(self.conn, task_id, running=True) is not None:
                self.counts["outcomes"] += 1

    def _task_of_step(self, data: dict[str, Any]) -> dict[str, Any] | None:
        key = self.ids.get(str(data.get("task_id")))
        if key is None and isinstance(data.get("task_subject"), str):
            subject = data["task_subject"].strip()
            key = next((k for k, s in self.steps.items() if s["text"].startswith(subject)), None)
        step = self.steps.get(key) if key is not None else None
        if step is not None:
            return self._own(step["task"])
        return self._request_task(create=False) if self.request is not None else None

    def _add_evidence(self, task_id: int, kind: str, result: str, **fields: Any) -> None:
        task_store.add_evidence(self.conn, task_id, kind, result, **fields)
        self.counts["evidence"] += 1
        if settle_outcome(self.conn, task_id) is not None:
            self.counts["outcomes"] += 1

    # -- store helpers -------------------------------------------------------------------

    def _own(self, task_id: Any) -> dict[str, Any] | None:
        """The task with this id when it belongs to this session."""
        if not isinstance(task_id, int) or isinstance(task_id, bool):
            return None
        task = task_store.get_task_by_id(self.conn, task_id)
        return task if task is not None and task["session_id"] == self.session_id else None

    def _create(self, description: str, status: str) -> dict[str, Any]:
        task = task_store.insert_task(self.conn, self.session_id, description, status=status)
        self.counts["tasks_created"] += 1
        return task

    def _progress(self, task_id: int, line: str) -> None:
        task = self._own(task_id)
        if task is None or (task["progresses"] and task["progresses"][-1] == line):
            return
        task_store.update_task_by_id(self.conn, task_id, add_progress=line)
        self.counts["progress"] += 1

    def _set_status(self, task: dict[str, Any], status: str) -> None:
        if status == task["status"]:
            return
        task = task_store.update_task_by_id(self.conn, task["id"], status=status)
        self.counts["status_changes"] += 1
        if task["status"] in ("success", "failed"):
            if settle_outcome(self.conn, task["id"]) is not None:
                self.counts["outcomes"] += 1
            if task_store.queue_learning(self.conn, task["id"], self.session_id):
                self.counts["learn_jobs"] += 1

    def _link(self, task_id: int, messages: list[int]) -> None:
        self.counts["links"] += task_store.link_messages(self.conn, task_id, messages)


def _detail(found: Evidence) -> str | None:
    """A run's `task_evidence.detail`: its result in words with its exit code, e.g. "1 failed,
    1 passed; exit code 1 (FAILED ...)" (a made commit: its first line)."""
    if found.kind == rules.COMMIT and found.passed:
        return found.detail
    said = found.summary()
    if found.exit_code is not None and "exit code" not in said:
        head, _, rest = said.partition(" (")
        said = f"{head}; exit code {found.exit_code}" + (f" ({rest}" if rest else "")
    return one_line(said, DETAIL_CHARS)


def _join(subject: str, detail: str) -> str:
    """A TaskCreate's description: its subject, and the longer description when it says more."""
    if not detail or detail.casefold() == subject.casefold():
        return subject or detail
    if not subject:
        return detail
    return f"{subject}: {detail}"


def _text(content: Any) -> str:
    return content if isinstance(content, str) else joined_text(content)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
