"""Distillation: one LLM call that turns a finished task into a short learning.

The skill learner (another module) writes skills from the Markdown this module renders; it
never sees the raw conversation. For one task that ended `success` or `failed`:

1. `is_trivial` may skip it without any call (see its docstring for the exact rule).
2. Otherwise the model gets the finished task, one line per task of the session, the task's
   messages rendered compactly (the task agent's `render_message`, each part clipped, the whole
   section bounded keeping its start and its end) and, when given, the existing skills.
3. Success tasks may be answered with `skip_learning`, `report_success_analysis` or
   `report_factual_content`; failed tasks only with `report_failure_analysis` (a failure is
   always worth learning from).
4. The FIRST tool call of the reply is used. No tool call, an unexpected tool or a missing or
   ill-typed required field raises `DistillFailed` (the caller retries later);
   `LLMUnavailable` from the provider passes through untouched.

Every field of the answer is clipped before rendering so a runaway model cannot blow up the
learner's prompt. Preferences the task agent recorded do not need a call: `render_preferences`
gives the block the learner reads for them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from acontext_mcp.errors import AcontextError, InvalidInput
from acontext_mcp.llm import Provider, ToolCall, ToolSpec
from acontext_mcp.observe.task_agent import render_message
from acontext_mcp.store.db import loads
from acontext_mcp.store.sessions import session_project_dir
from acontext_mcp.store.tasks import get_task_by_id, task_message_rows, task_outline
from acontext_mcp.text import clip, one_line

PURPOSE = "skill_distillation"
MAX_TOKENS = 1500

FIELD_CHARS = 1000  # one field of the model's answer, as rendered for the learner
LIST_ITEMS = 12  # key decisions / facts kept
DESCRIPTION_CHARS = 300  # a task description in the prompt (one line)
PROGRESS_LINES = 20  # the finished task's newest progress lines shown
FINISHED_CHARS = 4000  # the "## Finished Task" section
TASK_LINE_CHARS = 160  # one line of "## All Session Tasks"
TASKS_CHARS = 2500  # the "## All Session Tasks" section
MESSAGE_CHARS = 4000  # one rendered message
MESSAGES_CHARS = 12000  # the "## Task Messages" section, start and end kept
MESSAGE_ROWS = 60  # messages loaded from each end of a long task or window
FALLBACK_MESSAGES = 40  # the session's last messages when nothing better is known
SKILL_LINE_CHARS = 300  # one "- **name**: description" line
SKILLS_CHARS = 4000  # the "## Existing Skills" section
TRIVIAL_TEXT_CHARS = 200  # see is_trivial
PROVENANCE_CHARS = 200

KINDS = ("skip", "success", "factual", "failure")


class DistillFailed(AcontextError):
    """The model answered without a usable tool call; the distillation should be retried."""


@dataclass
class Distilled:
    """One task's learning. `text` is the Markdown the skill learner reads ("" for skip)."""

    kind: str  # "skip" | "success" | "factual" | "failure"
    text: str
    reason: str = ""  # why it was skipped (the model's reason, or the trivial rule's)
    called_llm: bool = True


# --- Prompts and tools ---

_COMMON = """\
You distill finished work of an AI coding agent into a short, reusable learning. Another \
agent reads your analysis later and records it in skills (how-to notes the coding agent \
consults on future tasks), so write what would help the next time similar work comes up. \
You never talk to the user; answer with exactly one tool call.

What you are given: the finished task (status, description, progress notes, preferences), \
every task of the session for context, the messages of the task (\"user\" = the person who \
sent the messages and asked for the work; \"agent\" = the coding agent; \"tool\" = tool output; \
\"-> name(args)\" = a tool call the agent made; \"<- name: result\" = its result) and, when there \
are any, the skills that already exist.

Writing rules:
- Be concrete: name the commands run, test and build results, files, config keys, versions, \
APIs, error messages and preconditions that mattered. No generic advice such as "test your \
changes" or "read the docs".
- \"The user\" is the person who sent the messages; other people mentioned are third parties.
- `applies_when` is scoped concretely: the project, tool, library, API, command or \
environment where this holds. Do not over-generalise one project's quirk into a universal rule.
- Use only what the messages show. Do not invent steps, outcomes or facts.
"""

SUCCESS_SYSTEM = (
    _COMMON
    + """
This task SUCCEEDED. Choose one tool:
- skip_learning: trivial work with nothing reusable: a simple lookup, small talk, a one-shot \
question and answer, a trivial status check, a single obvious edit. But a task in the domain \
of an existing skill is NOT trivial: report it so that skill can grow.
- report_success_analysis: a procedure, debugging session, configuration, migration or \
design decision worth repeating. Give the approach as concrete steps with the tools, \
commands and file names used, the key decisions and why, the traps met on the way and how \
they were avoided, and the preconditions.
- report_factual_content: the task mainly established facts about the user, the project or \
its environment (a preference, a convention, where something lives, which version is used). \
Record them as short third-person sentences. Never inflate facts into a made-up procedure.
"""
)

FAILURE_SYSTEM = (
    _COMMON
    + """
This task FAILED (or was abandoned). Failures are always worth learning from: answer with \
report_failure_analysis. Say where it went wrong, citing the agent's actual actions \
(commands, edits, test output); the reasoning that led there; what should have been done \
instead (the most valuable part: concrete and actionable); and a prevention principle for \
next time. Explain what happened; do not assign blame.
"""
)


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _spec(name: str, description: str, properties: dict[str, Any]) -> ToolSpec:
    return ToolSpec(
        name,
        description,
        {"type": "object", "properties": properties, "required": list(properties)},
    )


_APPLIES_WHEN = "When this applies, scoped concretely (project, tool, API, environment)"

SKIP = _spec(
    "skip_learning",
    "Nothing reusable to learn from this task.",
    {"reason": _string("Why, in one sentence")},
)
SUCCESS = _spec(
    "report_success_analysis",
    "A reusable procedure, fix, configuration or decision from a successful task.",
    {
        "task_goal": _string("What the user wanted, one sentence"),
        "approach": _string("The steps that worked: commands, tools, files, preconditions"),
        "key_decisions": _strings("Decisions or traps that mattered, one sentence each"),
        "generalizable_pattern": _string("The reusable lesson for similar tasks"),
        "applies_when": _string(_APPLIES_WHEN),
    },
)
FACTUAL = _spec(
    "report_factual_content",
    "Facts about the user, the project or its environment established by the task.",
    {
        "task_goal": _string("What the task was about, one sentence"),
        "facts": _strings("Third-person single-sentence facts"),
    },
)
FAILURE = _spec(
    "report_failure_analysis",
    "What went wrong in a failed task and how to avoid it next time.",
    {
        "task_goal": _string("What the user wanted, one sentence"),
        "failure_point": _string("Where it went wrong, citing the agent's actions"),
        "flawed_reasoning": _string("The assumption or reasoning that led there"),
        "what_should_have_been_done": _string("The concrete correct approach"),
        "prevention_principle": _string("A rule that prevents this next time"),
        "applies_when": _string(_APPLIES_WHEN),
    },
)
SUCCESS_TOOLS = [SKIP, SUCCESS, FACTUAL]
FAILURE_TOOLS = [FAILURE]


# --- Small text helpers ---


def _head_tail(text: str, limit: int) -> str:
    """`text` within `limit` chars, keeping its start and its end."""
    if len(text) <= limit:
        return text
    mark = "\n[… {} chars left out …]\n"
    keep = max(0, limit - len(mark.format(len(text))))
    head, tail = keep // 2, keep - keep // 2
    left_out = len(text) - head - tail
    return text[:head] + mark.format(left_out) + (text[-tail:] if tail else "")


# --- Loading ---


def _message(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "position": row["position"],
        "role": row["role"],
        "parts": loads(row["parts"], []),
        "meta": loads(row["meta"], {}),
    }


def task_messages(conn: sqlite3.Connection, task: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages a task was worked in: its linked messages; without links, the session's
    messages after the previous tasks' last linked message and before the next tasks' first
    one; failing that, the session's last messages. Bounded in count; disabled (capture off)
    messages are left out."""
    rows = task_message_rows(conn, task, rows=MESSAGE_ROWS, fallback=FALLBACK_MESSAGES)
    return [_message(r) for r in rows]


# --- The trivial gate ---


def is_trivial(task: dict[str, Any], messages: list[dict[str, Any]]) -> str | None:
    """A reason to skip `task` without any LLM call, or None when it needs distilling.

    Conservative on purpose (the model decides everything else). A task is trivial only when
    ALL of these hold:
    - it succeeded (a failed task is never trivial: failures are always learned);
    - it has no progress notes;
    - its messages hold no tool call, tool result or attachment (image, audio, file);
    - the text of its messages (user and agent together) is under TRIVIAL_TEXT_CHARS (200).
    """
    if task.get("status") != "success":
        return None
    if task.get("progresses"):
        return None
    chars = 0
    for message in messages:
        for part in message.get("parts") or []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                chars += len((part.get("text") or "").strip())
            elif kind in ("tool-call", "tool-result", "image", "audio", "file"):
                return None
    if chars >= TRIVIAL_TEXT_CHARS:
        return None
    return (
        f"trivial: a successful task with no progress, no tool calls and {chars} chars of "
        "conversation"
    )


# --- The prompt ---


def _finished_section(task: dict[str, Any], project_dir: str | None) -> str:
    lines = ["## Finished Task", f"Status: {task['status']}"]
    if project_dir:
        lines.append(f"Project: {one_line(project_dir, DESCRIPTION_CHARS)}")
    lines.append(f"Description: {one_line(task['description'], DESCRIPTION_CHARS)}")
    progress = task.get("progresses") or []
    if progress:
        shown = progress[-PROGRESS_LINES:]
        lines.append("Progress:")
        if len(progress) > len(shown):
            lines.append(f"- ({len(progress) - len(shown)} earlier progress notes not shown)")
        lines += [f"- {one_line(p, DESCRIPTION_CHARS)}" for p in shown]
    preferences = task.get("user_preferences") or []
    if preferences:
        lines.append("User preferences:")
        lines += [f"- {one_line(p, DESCRIPTION_CHARS)}" for p in preferences[-PROGRESS_LINES:]]
    return _head_tail("\n".join(lines), FINISHED_CHARS)


def _tasks_section(tasks: list[sqlite3.Row], current_id: int) -> str:
    """One line per session task; over budget, the tasks nearest the finished one are kept."""
    lines: dict[int, str] = {}
    here = 0
    for i, t in enumerate(tasks):
        mark = "  <- this task" if t["id"] == current_id else ""
        text = one_line(t["description"], TASK_LINE_CHARS)
        lines[i] = f"{t['order']}. [{t['status']}] {text}{mark}"
        if t["id"] == current_id:
            here = i
    kept: list[int] = []
    used = 0
    for i in sorted(lines, key=lambda i: (abs(i - here), i)):
        if used + len(lines[i]) + 1 > TASKS_CHARS:
            break
        kept.append(i)
        used += len(lines[i]) + 1
    body = [lines[i] for i in sorted(kept)]
    if len(kept) < len(lines):
        body.append(f"({len(lines) - len(kept)} other tasks not shown)")
    return "## All Session Tasks\n" + "\n".join(body)


def _messages_section(messages: list[dict[str, Any]]) -> str:
    """The messages rendered compactly, within MESSAGES_CHARS: whole messages from the start
    and from the end, with what was left out said in between."""
    if not messages:
        return "## Task Messages\n(no messages were recorded for this task)"
    names: dict[str, str] = {}
    blocks = [
        _head_tail(render_message(i, m, names), MESSAGE_CHARS) for i, m in enumerate(messages)
    ]
    budget = MESSAGES_CHARS - 100  # room for the "left out" line
    if sum(len(b) + 1 for b in blocks) <= MESSAGES_CHARS:
        return "## Task Messages\n" + "\n".join(blocks)
    head: list[str] = []
    used = 0
    for block in blocks:
        if used + len(block) + 1 > budget // 2:
            break
        head.append(block)
        used += len(block) + 1
    tail: list[str] = []
    for block in reversed(blocks[len(head) :]):
        if used + len(block) + 1 > budget:
            break
        tail.append(block)
        used += len(block) + 1
    tail.reverse()
    omitted = len(blocks) - len(head) - len(tail)
    gap = [f"[… {omitted} messages in between left out …]"] if omitted else []
    return "## Task Messages\n" + "\n".join(head + gap + tail)


def _skills_section(skills: list[dict[str, str]]) -> str:
    lines: list[str] = []
    used = 0
    for skill in skills:
        name = one_line(str(skill.get("name") or ""), 100)
        if not name:
            continue
        description = str(skill.get("description") or "")
        line = one_line(f"- **{name}**: {one_line(description, SKILL_LINE_CHARS)}", 400)
        if used + len(line) + 1 > SKILLS_CHARS:
            lines.append(f"({len(skills) - len(lines)} more skills not shown)")
            break
        lines.append(line)
        used += len(line) + 1
    return "## Existing Skills\n" + "\n".join(lines) if lines else ""


def build_prompt(
    task: dict[str, Any],
    project_dir: str | None,
    tasks: list[sqlite3.Row],
    messages: list[dict[str, Any]],
    skills: list[dict[str, str]] | None,
) -> str:
    """The one user message the model answers."""
    sections = [
        _finished_section(task, project_dir),
        _tasks_section(tasks, task["id"]),
        _messages_section(messages),
    ]
    if skills:
        listing = _skills_section(skills)
        if listing:
            sections.append(listing)
    if task["status"] == "failed":
        sections.append("Analyse this failed task with report_failure_analysis.")
    else:
        sections.append("Distill this task with exactly one of the tools.")
    return "\n\n".join(sections)


# --- Reading the answer ---


def _field(call: ToolCall, name: str) -> str:
    value = call.arguments.get(name)
    if value is None:
        raise DistillFailed(f"{call.name} is missing the required field {name!r}")
    if not isinstance(value, str):
        raise DistillFailed(f"{call.name}: {name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise DistillFailed(f"{call.name}: {name} is empty")
    return clip(value, FIELD_CHARS)


def _items(call: ToolCall, name: str, *, allow_empty: bool) -> list[str]:
    value = call.arguments.get(name)
    if value is None:
        raise DistillFailed(f"{call.name} is missing the required field {name!r}")
    if isinstance(value, str):
        value = [value]  # a model that sends one string for a list is forgiven
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DistillFailed(f"{call.name}: {name} must be a list of strings")
    items = [clip(v, FIELD_CHARS) for v in value if v.strip()][:LIST_ITEMS]
    if not items and not allow_empty:
        raise DistillFailed(f"{call.name}: {name} is empty")
    return items


def _first_call(reply_calls: list[ToolCall], allowed: list[ToolSpec]) -> ToolCall:
    names = [t.name for t in allowed]
    if not reply_calls:
        raise DistillFailed(f"the model answered without a tool call (expected one of {names})")
    call = reply_calls[0]
    if call.name not in names:
        raise DistillFailed(f"the model called unexpected tool {call.name!r} (expected {names})")
    if call.error or not isinstance(call.arguments, dict):
        raise DistillFailed(f"{call.name}: arguments were not a JSON object ({call.error})")
    return call


def _provenance(task: dict[str, Any]) -> str:
    description = one_line(task["description"], PROVENANCE_CHARS)
    return (
        f"Source: session {task['session_id']}, task {task['order']} "
        f"({task['status']}): {description}"
    )


def _bullets(items: list[str]) -> list[str]:
    return [f"  - {' '.join(item.split())}" for item in items] or ["  - (none stated)"]


def _render(call: ToolCall, task: dict[str, Any]) -> Distilled:
    if call.name == "skip_learning":
        return Distilled("skip", "", reason=_field(call, "reason"))
    if call.name == "report_success_analysis":
        goal, approach = _field(call, "task_goal"), _field(call, "approach")
        decisions = _items(call, "key_decisions", allow_empty=True)
        pattern, when = _field(call, "generalizable_pattern"), _field(call, "applies_when")
        lines = [
            "## Task Analysis (Success)",
            f"**Goal:** {goal}",
            f"**Approach:** {approach}",
            "**Key Decisions:**",
            *_bullets(decisions),
            f"**Generalizable Pattern:** {pattern}",
            f"**Applies When:** {when}",
        ]
        kind = "success"
    elif call.name == "report_factual_content":
        goal = _field(call, "task_goal")
        facts = _items(call, "facts", allow_empty=False)
        lines = ["## Factual Content", f"**Context:** {goal}", "**Facts:**", *_bullets(facts)]
        kind = "factual"
    else:  # report_failure_analysis (the only other allowed tool)
        fields = [
            _field(call, name)
            for name in (
                "task_goal", "failure_point", "flawed_reasoning",
                "what_should_have_been_done", "prevention_principle", "applies_when",
            )
        ]  # fmt: skip
        labels = (
            "Goal", "Failure Point", "Flawed Reasoning", "What Should Have Been Done",
            "Prevention Principle", "Applies When",
        )  # fmt: skip
        lines = ["## Task Analysis (Failure)"]
        lines += [f"**{label}:** {value}" for label, value in zip(labels, fields, strict=True)]
        kind = "failure"
    return Distilled(kind, _provenance(task) + "\n\n" + "\n".join(lines))


# --- Entry points ---


def render_preferences(preferences: list[str]) -> str:
    """The block the learner reads for preferences the task agent recorded (no LLM call):
    `## User Preferences Observed` and one bullet each, deduplicated and clipped; "" when
    there are none."""
    seen: dict[str, str] = {}
    for text in preferences:
        line = one_line(text or "", FIELD_CHARS)
        if line:
            seen.setdefault(line.casefold(), line)
    if not seen:
        return ""
    return "## User Preferences Observed\n" + "\n".join(f"- {p}" for p in seen.values())


def distill_task(
    conn: sqlite3.Connection,
    provider: Provider,
    task_id: int,
    *,
    skills: list[dict[str, str]] | None = None,
    max_tokens: int = MAX_TOKENS,
) -> Distilled:
    """Distill one finished task (see the module docstring). Raises InvalidInput when the
    task does not exist or is not success/failed, DistillFailed when the model's answer is
    unusable, and lets LLMUnavailable through."""
    task = get_task_by_id(conn, task_id)
    if task is None:
        raise InvalidInput(f"no task with id {task_id}; nothing to distill")
    if task["status"] not in ("success", "failed"):
        raise InvalidInput(
            f"task {task_id} is {task['status']}; only success or failed tasks are distilled"
        )
    messages = task_messages(conn, task)
    reason = is_trivial(task, messages)
    if reason:
        return Distilled("skip", "", reason=reason, called_llm=False)
    project_dir = session_project_dir(conn, task["session_id"])
    tasks = task_outline(conn, task["session_id"])
    prompt = build_prompt(task, project_dir, tasks, messages, skills)
    failed = task["status"] == "failed"
    allowed = FAILURE_TOOLS if failed else SUCCESS_TOOLS
    reply = provider.complete(
        system=FAILURE_SYSTEM if failed else SUCCESS_SYSTEM,
        messages=[{"role": "user", "parts": [{"type": "text", "text": prompt}]}],
        tools=allowed,
        purpose=PURPOSE,
        session_id=task["session_id"],
        max_tokens=max_tokens,
    )
    return _render(_first_call(reply.tool_calls, allowed), task)
