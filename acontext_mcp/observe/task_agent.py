"""The task agent: an LLM tool-calling loop that keeps a session's task list up to date.

`extract_tasks` takes the session's oldest pending messages (a batch), shows the model the
current task list and those messages, and lets it call a few tools for a bounded number of
rounds: insert_task, update_task, append_progress, link_messages, record_preference, finish.
Each round's tool effects are one transaction; a round the model never finishes still keeps
what earlier rounds committed.

Message status moves pending -> processing (claimed, in its own transaction) -> processed.
`LLMUnavailable` (no provider, budget spent, provider down) puts the batch back to pending
and is re-raised so the caller defers the work: nothing is lost. Any other error also puts it
back, but after MAX_ATTEMPTS failures in a row on the same batch it is marked failed so one
poisonous message cannot block the session forever.

Cost: the prompt is the static instructions (system), a bounded task summary and the batch,
rendered compactly (user prompts in full, assistant text, tool calls as name + short args,
tool results clipped); nothing else of the session is resent. See bench/bench_observe_tokens.py.

A recorded preference is handed to `on_preference` (the use-case layer passes the learning
pipeline's `queue_preference`): observation sits below learning and never imports it.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.llm import LLMUnavailable, Provider, ToolSpec
from acontext_mcp.llm.toolloop import FINISHED, Tool, ToolLoop, ToolResult
from acontext_mcp.observe import task_ops
from acontext_mcp.observe.prompts import is_intent
from acontext_mcp.observe.summary import render_tasks
from acontext_mcp.store import batches
from acontext_mcp.store.cursors import delete_cursor, get_cursor, set_cursor
from acontext_mcp.store.db import atomic, loads
from acontext_mcp.store.sessions import session_project_dir
from acontext_mcp.text import clip
from acontext_mcp.user_config import project_setting

# (conn, settings, session_id, task_id, text): send one observed preference on to learning
PreferenceSink = Callable[[sqlite3.Connection, Settings, str, int, str], object]

log = logging.getLogger("acontext.observe")

PURPOSE = "task_extraction"
DEFAULT_BATCH = 16
DEFAULT_MAX_ROUNDS = 8
MAX_ATTEMPTS = 3
MAX_TOKENS = 2048

USER_TEXT_CHARS = 4000  # a user prompt is shown in full up to this (a huge paste is clipped)
AGENT_TEXT_CHARS = 1200
TOOL_ARGS_CHARS = 160
TOOL_RESULT_CHARS = 240
NOTE_CHARS = 200
TASKS_CHARS = 3000  # the task list section of the prompt

SYSTEM = """\
You keep the task list of a coding agent's session. You read new conversation messages \
between a user and an AI coding agent and record, with tools, what the user asked for and \
how far the agent got. You never talk to the user; only your tool calls matter.

Rules:
1. A task is a USER REQUEST, not an agent step: one task per distinct thing the user asked \
for, described in the user's own words (verbatim or a close paraphrase). "Fix the login bug \
and add dark mode" is two tasks; "book a table" is one task even if the agent searches, \
navigates and fills a form. When the user approves a plan of several steps, each step is a \
task, in plan order. Do not create tasks for the agent's own sub-steps (its TodoWrite / \
TaskCreate items are steps of the current request), and do not duplicate a task already in \
the list (one may come from the user's prompt): update it instead (update_task).
2. Only messages marked "user" are the user's intent; a slash command is a request only when \
it asks for work (/compact, /clear and the like are not). "tool" (tool output) and "note" \
(system notices) messages are context, never requests.
3. Status: pending = not started; running = being worked on (linking messages to a pending \
task makes it running); success = done WITH evidence in the conversation (the user confirms, \
or tests/build/commands shown pass, or the agent shows the result and moves on without \
errors); failed = explicit errors the agent gave up on, abandonment, or the user says it \
failed. A claim without evidence stays running.
4. Progress (append_progress): 1-3 short first-person milestones per task and batch, \
concrete: file names, commands, values, results ("I changed src/auth.py to refresh the token; \
pytest tests/test_auth.py passes."). Facts the user supplied start with "User:". Do not \
repeat progress already listed.
5. Preferences (record_preference): lasting wishes, constraints or personal facts the user \
states, one per call, third person ("The user wants a report before any coding."). Skip ones \
already listed.
6. link_messages: attach the message ids a task was worked on in.
7. Make all your calls in one turn when you can, with finish as the last call of that turn \
once the list reflects every new message. A turn with errors is answered and not finished.
"""

TOOLS = [
    ToolSpec(
        "insert_task",
        "Create a pending task for one user request, after the task numbered after_order.",
        {
            "type": "object",
            "properties": {
                "after_order": {
                    "type": "integer",
                    "description": "Insert after this task number; 0 = first",
                },
                "description": {"type": "string", "description": "The request, user's words"},
            },
            "required": ["after_order", "description"],
        },
    ),
    ToolSpec(
        "update_task",
        "Change a task's description and/or status.",
        {
            "type": "object",
            "properties": {
                "order": {"type": "integer", "description": "Task number"},
                "description": {"type": "string", "description": "New description"},
                "status": {
                    "type": "string",
                    "enum": ["pending", "running", "success", "failed"],
                    "description": "New status",
                },
            },
            "required": ["order"],
        },
    ),
    ToolSpec(
        "append_progress",
        "Record one concrete first-person progress sentence on a task.",
        {
            "type": "object",
            "properties": {
                "order": {"type": "integer", "description": "Task number"},
                "progress": {"type": "string", "description": "One sentence, <= 150 chars"},
            },
            "required": ["order", "progress"],
        },
    ),
    ToolSpec(
        "link_messages",
        "Attach messages (ids shown as [N]) to the task they worked on.",
        {
            "type": "object",
            "properties": {
                "order": {"type": "integer", "description": "Task number"},
                "message_ids": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "Message ids from this batch",
                },
            },
            "required": ["order", "message_ids"],
        },
    ),
    ToolSpec(
        "record_preference",
        "Record one user preference or constraint (third person).",
        {
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "e.g. The user prefers pytest."},
                "order": {
                    "type": "integer",
                    "description": "Task it came up in; default the current task",
                },
            },
            "required": ["text"],
        },
    ),
    ToolSpec("finish", "The task list is up to date; stop.", {"type": "object", "properties": {}}),
]


# --- Configuration ---


def task_criteria(settings: Settings, project_dir: str | None) -> dict[str, str]:
    """`projects.<project_dir>.task_criteria` from `<home>/config.json`: {"success", "failure"}.

    No file or no entry means the default rules; a broken file is logged, not fatal (criteria
    are advice for the model, never a safety switch).
    """
    entry = project_setting(settings, project_dir, "task_criteria")
    if not isinstance(entry, dict):
        return {}
    return {
        k: v.strip()
        for k, v in entry.items()
        if k in ("success", "failure") and isinstance(v, str) and v.strip()
    }


# --- Rendering ---


def _clip(text: str, limit: int) -> str:
    return clip(text, limit, tail=" […{n} more chars]")


def _one_line(text: str, limit: int) -> str:
    return _clip(" ".join(text.split()), limit)


def _short_args(raw: str) -> str:
    try:
        args = json.loads(raw) if raw else {}
    except ValueError:
        return _one_line(raw, TOOL_ARGS_CHARS)
    if not isinstance(args, dict):
        return _one_line(raw, TOOL_ARGS_CHARS)
    pieces = []
    for key, value in args.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        pieces.append(f"{key}={_one_line(shown, 80)}")
    return _one_line(", ".join(pieces), TOOL_ARGS_CHARS)


def _result_text(part: dict[str, Any]) -> str:
    chunks = []
    for inner in part.get("content") or []:
        if isinstance(inner, dict) and inner.get("type") == "text":
            chunks.append(inner.get("text") or "")
        elif isinstance(inner, dict):
            chunks.append(f"[{inner.get('type', 'item')}]")
        elif isinstance(inner, str):
            chunks.append(inner)
    return "\n".join(chunks)


_COMMAND = re.compile(r"<command-name>\s*(.*?)\s*</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>\s*(.*?)\s*</command-args>", re.S)


def _user_text(text: str) -> str:
    """A prompt in full (up to USER_TEXT_CHARS); a slash command as `/name args`."""
    command = _COMMAND.search(text)
    if command:
        args = _COMMAND_ARGS.search(text)
        shown = command.group(1) + (" " + args.group(1) if args and args.group(1) else "")
        return "(slash command) " + _clip(shown, USER_TEXT_CHARS)
    return _clip(text, USER_TEXT_CHARS)


def render_message(index: int, message: dict[str, Any], names: dict[str, str]) -> str:
    """One batch message as compact lines headed `[index] user|agent|tool|note:`."""
    intent = is_intent(message)
    if intent:
        who = "user"
    elif message["role"] == "assistant":
        who = "agent"
    elif message["parts"] and all(p.get("type") == "tool-result" for p in message["parts"]):
        who = "tool"
    else:
        who = "note"
    lines: list[str] = []
    for part in message["parts"]:
        kind = part.get("type")
        if kind == "text":
            if intent:
                lines.append(_user_text(part.get("text") or ""))
            elif who == "agent":
                lines.append(_clip(part.get("text") or "", AGENT_TEXT_CHARS))
            else:
                lines.append(_one_line(part.get("text") or "", NOTE_CHARS))
        elif kind == "tool-call":
            names[part.get("id", "")] = part.get("name", "?")
            lines.append(f"-> {part.get('name', '?')}({_short_args(part.get('arguments', ''))})")
        elif kind == "tool-result":
            name = part.get("name") or names.get(part.get("tool_call_id", ""), "tool")
            mark = " ERROR" if part.get("is_error") else ""
            lines.append(f"<- {name}{mark}: {_one_line(_result_text(part), TOOL_RESULT_CHARS)}")
        elif kind in ("image", "audio", "file"):
            label = part.get("filename") or part.get("title") or kind
            lines.append(f"[{label}]")
        # thinking, redacted thinking and opaque parts are left out: they cost and tell little
    body = "\n".join(line for line in lines if line) or "(empty)"
    return f"[{index}] {who}: {body}"


def build_prompt(
    tasks: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    criteria: dict[str, str],
) -> str:
    """The one user message the model starts from."""
    sections = []
    listing = render_tasks(tasks, max_chars=TASKS_CHARS, progress_lines=2)
    sections.append("## Current tasks\n" + (listing or "(none yet)"))
    if criteria:
        rules = ["## Task evaluation criteria (these replace the default status rules)"]
        if "success" in criteria:
            rules.append(f"Success: {criteria['success']}")
        if "failure" in criteria:
            rules.append(f"Failure: {criteria['failure']}")
        sections.append("\n".join(rules))
    names: dict[str, str] = {}
    rendered = [render_message(i, m, names) for i, m in enumerate(messages)]
    sections.append("## New messages\n" + "\n".join(rendered))
    sections.append(
        "Update the task list for these messages with the tools, then call finish. "
        "Task numbers are the current ones; they shift when you insert a task."
    )
    return "\n\n".join(sections)


# --- Batches ---


def claim_batch(conn: sqlite3.Connection, session_id: str, batch: int) -> list[sqlite3.Row]:
    """The oldest pending messages of the session, marked processing in one transaction."""
    return batches.claim_pending(conn, session_id, batch)


def _set_status(
    conn: sqlite3.Connection, ids: list[int], status: str, *, only: str = "processing"
) -> None:
    """Move the batch's messages that are still `only` to `status`. A message extended with
    late content while its batch ran went back to pending (store/messages.extend_message)
    and stays pending, so the next batch reads it whole."""
    batches.set_status(conn, ids, status, only=only)


def release_processing(conn: sqlite3.Connection, session_id: str) -> int:
    """Put a session's `processing` messages back to pending (a worker died holding them).
    Only for a caller that knows no extraction of this session is running (the worker lease
    holder). Returns how many were released."""
    return batches.release_processing(conn, session_id)


def _attempts_key(session_id: str) -> str:
    return f"observe:attempts:{session_id}"


def _record_failure(conn: sqlite3.Connection, session_id: str, ids: list[int]) -> str:
    """Back to pending, or failed after MAX_ATTEMPTS failures on the same first message."""
    with atomic(conn):
        key = _attempts_key(session_id)
        seen = get_cursor(conn, key) or {}
        attempts = seen.get("attempts", 0) + 1 if seen.get("first") == ids[0] else 1
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        _set_status(conn, ids, status)
        set_cursor(conn, key, {"first": ids[0], "attempts": 0 if status == "failed" else attempts})
    return status


# --- The loop ---


class _Round:
    """The state one batch's tool calls work on."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        session_id: str,
        ids: list[int],
        on_preference: PreferenceSink | None = None,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.on_preference = on_preference
        self.session_id = session_id
        self.ids = ids  # batch index -> stored message id
        self.current: int | None = None  # the task number last touched
        self.stats = {
            "tasks_created": 0,
            "tasks_updated": 0,
            "progress_added": 0,
            "preferences_added": 0,
            "messages_linked": 0,
            "tool_errors": 0,
        }
        self.learn_queued: list[int] = []

    def _touch(self, order: int) -> None:
        self.current = order

    def _current_task(self) -> int:
        tasks = task_ops.session_tasks(self.conn, self.session_id)
        if not tasks:
            raise InvalidInput("no task yet: insert the task this preference came up in first")
        orders = [t["order"] for t in tasks]
        if self.current in orders:
            return self.current  # type: ignore[return-value]
        running = [t["order"] for t in tasks if t["status"] == "running"]
        return running[-1] if running else orders[-1]

    def tools(self) -> list[Tool]:
        """The agent's tools on this state; finish is always allowed (the loop refuses it in
        a round with errors)."""

        def handler(name: str) -> Callable[[dict[str, Any]], ToolResult]:
            if name == "finish":
                return lambda _args: ToolResult.done(FINISHED)
            return lambda args: ToolResult.done(self.run(name, args))

        return [Tool(spec, handler(spec.name)) for spec in TOOLS]

    def run(self, name: str, args: dict[str, Any]) -> str:
        """One tool call with arguments checked against its schema; InvalidInput refuses."""
        conn, sid = self.conn, self.session_id
        if name == "insert_task":
            task = task_ops.insert_task_at(conn, sid, args["after_order"], args["description"])
            if self.current is not None and self.current >= task["order"]:
                self.current += 1
            self._touch(task["order"])
            self.stats["tasks_created"] += 1
            return f"Task {task['order']} created (pending)"
        if name == "update_task":
            task, before = task_ops.update_task(
                conn,
                sid,
                args["order"],
                description=args.get("description"),
                status=args.get("status"),
            )
            self._touch(task["order"])
            self.stats["tasks_updated"] += 1
            final = task["status"] in task_ops.FINAL_STATUSES and before != task["status"]
            if final:
                task_ops.settle_outcome(conn, task["id"])  # from evidence, not this call
            if final and task_ops.queue_learning(conn, task["id"], sid):
                self.learn_queued.append(task["id"])
            return f"Task {task['order']} updated ({task['status']})"
        if name == "append_progress":
            task = task_ops.append_progress(conn, sid, args["order"], args["progress"])
            self._touch(task["order"])
            self.stats["progress_added"] += 1
            return f"Progress added to task {task['order']}"
        if name == "link_messages":
            wanted = args["message_ids"]
            bad = [i for i in wanted if not 0 <= i < len(self.ids)]
            if bad:
                span = f"0..{len(self.ids) - 1}"
                raise InvalidInput(f"message ids {bad} are not in this batch ({span})")
            task, added = task_ops.link_messages(
                conn, sid, args["order"], [self.ids[i] for i in wanted]
            )
            self._touch(task["order"])
            self.stats["messages_linked"] += added
            return f"{added} messages linked to task {task['order']} ({task['status']})"
        if name == "record_preference":
            order = args.get("order") or self._current_task()
            held = task_ops.add_preference(conn, sid, order, args["text"])
            if held is None:
                return "Already known; nothing added"
            self.stats["preferences_added"] += 1
            if self.on_preference is not None:
                self.on_preference(conn, self.settings, sid, held["id"], args["text"].strip())
            return f"Preference recorded on task {order}"
        raise InvalidInput(f"no handler for tool {name!r}")


def extract_tasks(
    conn: sqlite3.Connection,
    settings: Settings,
    provider: Provider,
    session_id: str,
    *,
    batch: int = DEFAULT_BATCH,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    on_preference: PreferenceSink | None = None,
) -> dict[str, Any]:
    """Run the task agent over one batch of the session's pending messages; each preference
    it records also goes to `on_preference` (learning's `queue_preference` in the worker).

    Returns {session_id, messages (batch size), rounds, finished, tasks_created,
    tasks_updated, progress_added, preferences_added, messages_linked, tool_errors,
    learn_jobs (task ids newly queued), remaining (pending messages left)}. Raises
    LLMUnavailable (batch back to pending) when no model can be reached.
    """
    rows = claim_batch(conn, session_id, batch)
    ids = [r["id"] for r in rows]
    result: dict[str, Any] = {"session_id": session_id, "messages": len(ids), "rounds": 0}
    if not rows:
        result.update(finished=True, remaining=0)
        return result
    state = _Round(conn, settings, session_id, ids, on_preference)
    try:
        criteria = task_criteria(settings, session_project_dir(conn, session_id))
        messages = [
            {"role": r["role"], "parts": loads(r["parts"], []), "meta": loads(r["meta"], {})}
            for r in rows
        ]
        prompt = build_prompt(task_ops.session_tasks(conn, session_id), messages, criteria)
        loop = ToolLoop(
            system=SYSTEM,
            tools=state.tools(),
            purpose=PURPOSE,
            max_rounds=max_rounds,
            max_tokens=MAX_TOKENS,
            not_finished="Not finished: fix the errors above, then finish",
            round_scope=lambda: atomic(conn),  # a round's effects commit together
            call_scope=lambda: atomic(conn),  # a refused call leaves no half-done change
        )
        done = loop.run(provider, prompt, session_id=session_id)
        result["rounds"] = done.rounds
        state.stats["tool_errors"] = done.refused
        finished = done.finished
    except LLMUnavailable:
        with atomic(conn):
            _set_status(conn, ids, "pending")
        raise
    except Exception:
        status = _record_failure(conn, session_id, ids)
        log.exception("task extraction of %s failed; batch back to %s", session_id, status)
        raise
    except BaseException:  # interrupted: not the batch's fault
        with atomic(conn):
            _set_status(conn, ids, "pending")
        raise
    with atomic(conn):
        _set_status(conn, ids, "processed")
        if get_cursor(conn, _attempts_key(session_id)) is not None:
            delete_cursor(conn, _attempts_key(session_id))
    remaining, _oldest = batches.pending(conn, session_id)
    result.update(state.stats)
    result.update(finished=finished, learn_jobs=state.learn_queued, remaining=remaining)
    return result
