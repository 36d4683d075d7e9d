"""Distillation: one LLM call that turns a finished task into one structured lesson.

The pipeline writes the lesson into a skill file itself (learn/entries.py); the skill learner's
tool loop runs only when the lesson needs a new skill, or for an answer in the older analysis
form. For one task that ended `success` or `failed`:

1. No call at all for a trivial task (`is_trivial`) or one the user dropped (outcome
   `abandoned`).
2. Otherwise the model gets the finished task (its project by name and directory, its outcome
   and the evidence captured for it), one line per task of the session, the task's messages
   rendered compactly (the task agent's `render_message`, each part clipped, the whole section
   bounded keeping its start and its end), the skills that fit best and, when given, an
   outline of the file the lesson will most likely go to.
3. It answers `record_lesson` (kind trap/procedure/fact/preference, target skill and file,
   title, text, trigger words, a one-line summary for the day's log) or, for a success,
   `skip_learning`. A task whose outcome is `verified_failure`, or that failed, may only yield
   a trap. The older `report_*` tools are still understood when a model sends them.
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
from datetime import datetime
from typing import Any

from acontext_mcp.capture.gaps import epoch
from acontext_mcp.errors import AcontextError, InvalidInput
from acontext_mcp.learn.entries import KINDS as LESSON_KINDS
from acontext_mcp.learn.entries import (
    Lesson,
    clean_text,
    clean_title,
    clean_triggers,
    project_slug,
)
from acontext_mcp.llm import Provider, ToolCall, ToolSpec
from acontext_mcp.observe.task_agent import render_message
from acontext_mcp.store.db import loads
from acontext_mcp.store.sessions import session_project_dir
from acontext_mcp.store.tasks import (
    get_task_by_id,
    task_evidence,
    task_message_rows,
    task_outline,
)
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
MESSAGE_CHARS = 1500  # one rendered message
MESSAGES_CHARS = 6000  # the "## Task Messages" section, start and end kept
MESSAGE_ROWS = 60  # messages loaded from each end of a long task or window
FALLBACK_MESSAGES = 40  # the session's last messages when nothing better is known
SKILL_LINE_CHARS = 160  # one "- **name**: description" line
SKILLS_CHARS = 1500  # the "## Existing Skills" section, the best-fitting skills first
EVIDENCE_LINES = 8  # evidence rows shown, newest last
RESULT_ENDS_CHARS = 230  # a longer tool result is shown as its start and its end:
RESULT_HEAD_CHARS = 70
RESULT_TAIL_CHARS = 150
TRIVIAL_TEXT_CHARS = 200  # see is_trivial
PROVENANCE_CHARS = 200

KINDS = ("skip", "success", "factual", "failure")


class DistillFailed(AcontextError):
    """The model answered without a usable tool call; the distillation should be retried."""


@dataclass
class Distilled:
    """One task's learning. `text` is the Markdown the skill learner reads ("" for skip);
    `lesson` the structured entry the pipeline writes itself (None: the learner decides)."""

    kind: str  # "skip" | "success" | "factual" | "failure"
    text: str
    reason: str = ""  # why it was skipped (the model's reason, or the trivial rule's)
    called_llm: bool = True
    lesson: Lesson | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    day: str = ""  # the day the work happened (its messages' own time), yyyy-mm-dd


# --- Prompts and tools ---

_COMMON = """\
You distill one finished task of an AI coding agent into at most one lesson that helps the \
next time similar work comes up. The pipeline writes your lesson into a skill file as one \
entry; answer with exactly one tool call and never talk to the user.

You get: the finished task (project, status, outcome and the evidence captured for it: test \
runs, exit codes, the user's confirmation), the session's tasks, the task's messages \
("user" asked for the work; "agent" is the coding agent; "-> name(args)" a tool call; \
"<- name: result" its result), the skills that fit best and, when there is one, an outline of \
the file the lesson most likely belongs in.

Rules:
- Frame the lesson by what was verified: the outcome and evidence, not the agent's opinion.
- Be specific: exact commands, error words, file paths, config keys, versions. No generic \
advice ("test your changes").
- Put it where it belongs: project build/test/run/deploy knowledge and its traps in \
project-runbooks, file projects/<project>.md, section Build, Test, Run, Deploy or Traps; \
facts and preferences about the user in user-general-facts, file <topic>.md; knowledge that \
spans projects in the existing skill of its domain. Name a new skill (a category, e.g. \
`docker-deploy`, with new_skill_description) only when nothing fits.
- If the outline already has this lesson, reuse its title exactly: the entry is updated.
- Use only what the messages show; write about the user in the third person; never copy \
secrets.
"""

SUCCESS_SYSTEM = (
    _COMMON
    + """
This task SUCCEEDED. record_lesson for a procedure, fix, configuration, trap met on the way, \
fact or preference worth keeping; skip_learning for trivial work with nothing reusable (a \
lookup, small talk, a single obvious edit).
"""
)

FAILURE_SYSTEM = (
    _COMMON
    + """
This task FAILED: record it as a trap (kind "trap"): the symptom with its error words, the \
cause, and what to do instead. A failure is never a procedure to repeat.
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


def _record(kinds: tuple[str, ...]) -> ToolSpec:
    properties: dict[str, Any] = {
        "kind": {"type": "string", "enum": list(kinds), "description": "What the lesson is"},
        "skill": _string("The skill it goes in (from the list, or a new category name)"),
        "file": _string("File in that skill, per its layout (e.g. projects/<project>.md)"),
        "section": _string("Section heading in the file (Build/Test/Run/Deploy/Traps), or ''"),
        "title": _string("Short title, under 10 words"),
        "text": _string("The lesson in 1-3 sentences: exact commands, error words, paths"),
        "triggers": _strings("3-6 words or phrases a future task about this would contain"),
        "summary": _string("One sentence for the day's log: what was done, how it ended"),
        "new_skill_description": _string(
            "Only for a new skill: what it holds and when to use it, naming the tools, "
            "commands and error words that should bring it up (and the project, when it only "
            "applies to one); one or two sentences"
        ),
    }
    spec = _spec("record_lesson", "Record the task's one reusable lesson.", properties)
    spec.parameters["required"] = [
        k for k in properties if k not in ("section", "new_skill_description")
    ]
    return spec


RECORD = _record(LESSON_KINDS)
RECORD_TRAP = _record(("trap",))
SUCCESS_TOOLS = [SKIP, RECORD]
FAILURE_TOOLS = [RECORD_TRAP]
# Older answers are still understood (a model or script that sends them is not refused).
LEGACY_SUCCESS = [SUCCESS, FACTUAL]
LEGACY_FAILURE = [FAILURE]


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
        "created_at": row["created_at"],
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


def outcome_of(task: dict[str, Any]) -> str:
    """The task's settled outcome; not settled (None) counts as `unverified`."""
    return task.get("outcome") or "unverified"


def is_failure(task: dict[str, Any]) -> bool:
    return task["status"] == "failed" or outcome_of(task) == "verified_failure"


def _project_line(project_dir: str) -> str:
    name = project_slug(project_dir) or project_dir
    return f"Project: {name} ({one_line(project_dir, DESCRIPTION_CHARS)})"


def _evidence_lines(evidence: list[dict[str, Any]]) -> list[str]:
    lines = []
    for row in evidence[-EVIDENCE_LINES:]:
        line = f"- {row.get('kind')}: {row.get('result')}"
        if row.get("command"):
            line += f" `{one_line(str(row['command']), 160)}`"
        if row.get("detail"):
            line += f" ({one_line(str(row['detail']), 160)})"
        lines.append(line)
    if len(evidence) > len(lines):
        lines.insert(0, f"- ({len(evidence) - len(lines)} earlier signals not shown)")
    return lines


def _finished_section(
    task: dict[str, Any], project_dir: str | None, evidence: list[dict[str, Any]] | None = None
) -> str:
    lines = ["## Finished Task", f"Status: {task['status']}"]
    if project_dir:
        lines.append(_project_line(project_dir))
    lines.append(f"Description: {one_line(task['description'], DESCRIPTION_CHARS)}")
    lines.append(f"Outcome: {outcome_of(task)}")
    if evidence:
        lines.append("Evidence:")
        lines += _evidence_lines(evidence)
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


def _ends_of_results(message: dict[str, Any]) -> dict[str, Any]:
    """`message` with each long tool result cut to its start and its end: the compact
    rendering keeps only a result's first line's worth, and the verdict of a test or build
    run (counts, the error) is at its end."""
    parts = []
    changed = False
    for part in message.get("parts") or []:
        if isinstance(part, dict) and part.get("type") == "tool-result":
            text = "\n".join(
                str(c.get("text") or "") if isinstance(c, dict) else str(c)
                for c in part.get("content") or []
                if isinstance(c, str) or (isinstance(c, dict) and c.get("type") == "text")
            )
            flat = " ".join(text.split())
            if len(flat) > RESULT_ENDS_CHARS:
                cut = f"{flat[:RESULT_HEAD_CHARS]} […] {flat[-RESULT_TAIL_CHARS:]}"
                part = {**part, "content": [{"type": "text", "text": cut}]}
                changed = True
        parts.append(part)
    return {**message, "parts": parts} if changed else message


def _messages_section(messages: list[dict[str, Any]]) -> str:
    """The messages rendered compactly, within MESSAGES_CHARS: whole messages from the start
    and from the end, with what was left out said in between."""
    if not messages:
        return "## Task Messages\n(no messages were recorded for this task)"
    names: dict[str, str] = {}
    blocks = [
        _head_tail(render_message(i, _ends_of_results(m), names), MESSAGE_CHARS)
        for i, m in enumerate(messages)
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


def _rank(skills: list[dict[str, str]], about: str) -> list[dict[str, str]]:
    """The skills sharing most words with the task first (stable otherwise): a long list is
    cut, and what is cut should be what fits least."""
    from acontext_mcp.learn.entries import words

    wanted = words(about)

    def score(skill: dict[str, str]) -> int:
        text = f"{skill.get('name') or ''} {skill.get('description') or ''}".replace("-", " ")
        return -len(words(text) & wanted)

    return sorted(skills, key=score)


def _skills_section(skills: list[dict[str, str]], about: str = "") -> str:
    lines: list[str] = []
    used = 0
    for skill in _rank(skills, about) if about else skills:
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
    *,
    evidence: list[dict[str, Any]] | None = None,
    outline: str = "",
) -> str:
    """The one user message the model answers."""
    sections = [
        _finished_section(task, project_dir, evidence),
        _tasks_section(tasks, task["id"]),
        _messages_section(messages),
    ]
    if skills:
        listing = _skills_section(skills, f"{task['description']} {project_dir or ''}")
        if listing:
            sections.append(listing)
    if outline:
        sections.append(f"## Outline of the likely target file\n{outline}")
    if is_failure(task):
        sections.append("Record the trap this failed task teaches with record_lesson.")
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


def _first_call(
    reply_calls: list[ToolCall],
    allowed: list[ToolSpec],
    legacy: list[ToolSpec] = (),  # type: ignore[assignment]
) -> ToolCall:
    names = [t.name for t in allowed]
    if not reply_calls:
        raise DistillFailed(f"the model answered without a tool call (expected one of {names})")
    call = reply_calls[0]
    if call.name not in names and call.name not in [t.name for t in legacy]:
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


def _optional(call: ToolCall, name: str) -> str:
    value = call.arguments.get(name)
    return clip(value, FIELD_CHARS) if isinstance(value, str) else ""


def _lesson(call: ToolCall, task: dict[str, Any]) -> Distilled:
    """A record_lesson answer: the structured entry, and its Markdown for status and the
    learner (when a new skill needs one)."""
    kind = _field(call, "kind")
    if kind not in LESSON_KINDS:
        raise DistillFailed(f"record_lesson: kind must be one of {list(LESSON_KINDS)}")
    if is_failure(task):
        kind = "trap"  # a failure is never a procedure to repeat
    lesson = Lesson(
        kind=kind,
        skill=one_line(_field(call, "skill"), 64).strip("/ "),
        file=one_line(_field(call, "file"), 200).strip("/ "),
        title=clean_title(_field(call, "title")),
        text=clean_text(_field(call, "text")),
        triggers=clean_triggers(_items(call, "triggers", allow_empty=True)),
        section=one_line(_optional(call, "section"), 60).strip("# "),
        summary=one_line(_field(call, "summary"), 400),
        new_skill=one_line(_optional(call, "new_skill_description"), 500),
    )
    where = f"{lesson.skill}/{lesson.file}" + (f" ({lesson.section})" if lesson.section else "")
    lines = [
        f"## Lesson ({lesson.kind}) for {where}",
        f"**{lesson.title}**: {lesson.text}",
        f"**When:** {', '.join(lesson.triggers) or '(no trigger words)'}",
        f"**Outcome:** {outcome_of(task)}. {lesson.summary}",
    ]
    if lesson.new_skill:
        lines.append(f"**New skill:** {lesson.skill}: {lesson.new_skill}")
    learned = (
        "failure"
        if kind == "trap" and is_failure(task)
        else ("factual" if kind in ("fact", "preference") else "success")
    )
    return Distilled(learned, _provenance(task) + "\n\n" + "\n".join(lines), lesson=lesson)


def _render(call: ToolCall, task: dict[str, Any]) -> Distilled:
    if call.name == "skip_learning":
        return Distilled("skip", "", reason=_field(call, "reason"))
    if call.name == "record_lesson":
        return _lesson(call, task)
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
    outline: str = "",
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
    day = work_day(messages, task.get("updated_at"))
    if outcome_of(task) == "abandoned":
        dropped = "abandoned: the user dropped this task; nothing to learn"
        return Distilled("skip", "", reason=dropped, called_llm=False, day=day)
    reason = is_trivial(task, messages)
    if reason:
        return Distilled("skip", "", reason=reason, called_llm=False, day=day)
    project_dir = session_project_dir(conn, task["session_id"])
    tasks = task_outline(conn, task["session_id"])
    prompt = build_prompt(
        task,
        project_dir,
        tasks,
        messages,
        skills,
        evidence=task_evidence(conn, task_id),
        outline=outline,
    )
    failed = is_failure(task)
    allowed = FAILURE_TOOLS if failed else SUCCESS_TOOLS
    reply = provider.complete(
        system=FAILURE_SYSTEM if failed else SUCCESS_SYSTEM,
        messages=[{"role": "user", "parts": [{"type": "text", "text": prompt}]}],
        tools=allowed,
        purpose=PURPOSE,
        session_id=task["session_id"],
        max_tokens=max_tokens,
    )
    legacy = LEGACY_FAILURE if failed else LEGACY_SUCCESS
    out = _render(_first_call(reply.tool_calls, allowed, legacy), task)
    out.input_tokens, out.output_tokens = reply.input_tokens, reply.output_tokens
    out.day = day
    return out


def work_day(messages: list[dict[str, Any]], fallback: float | None = None) -> str:
    """The local day (yyyy-mm-dd) the task's work happened: its last message's own time (the
    host's timestamp, else when it was captured), so imported history keeps its dates."""
    for message in reversed(messages):
        stamp = epoch((message.get("meta") or {}).get("timestamp"))
        if stamp is None:
            stamp = message.get("created_at")
        if isinstance(stamp, (int, float)) and stamp > 0:
            return datetime.fromtimestamp(stamp).date().isoformat()
    when = fallback if isinstance(fallback, (int, float)) and fallback > 0 else None
    return (datetime.fromtimestamp(when) if when else datetime.now()).date().isoformat()
