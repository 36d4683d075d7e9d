"""The skill learner: a bounded tool loop that writes learnings into skills.

The model gets the distilled learnings of one batch, the space's skills (names and
descriptions) and today's date, and edits skills with the workspace's file tools (an overlay:
nothing reaches disk here). It must say what it plans (`report_thinking`) before its first
edit, and ends with `finish`. A `finish` while the touched skills are invalid is refused with
the problems, so the model can fix them; the loop stops after `max_rounds` whatever happens.

Cost: the system prompt, one user message with the batch and the skill list, and the growing
conversation of tool calls and results (file reads are the bulk). See bench/bench_learn_tokens.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.config import env_number
from acontext_mcp.learn.workspace import FILE_TOOLS, SkillWorkspace
from acontext_mcp.llm import Provider, ToolCall, ToolSpec, assistant_message, tool_result
from acontext_mcp.text import clip

log = logging.getLogger("acontext.learn")

PURPOSE = "skill_learning"
DEFAULT_MAX_ROUNDS = 16
MAX_TOKENS = 4096
CONTEXT_CHARS = 6000  # one learning as shown to the learner
SKILLS_CHARS = 4000  # the skill list in the first message

READ_TOOLS = {"list_skills", "get_skill", "get_skill_file"}

SYSTEM = """\
You maintain a library of skills for an AI coding agent: Agent Skills folders, each a \
SKILL.md (YAML front matter with `name` and `description`, then Markdown) plus data files. \
You receive learnings distilled from the agent's finished tasks and record what is worth \
keeping, with file tools. You never talk to anyone; only your tool calls matter.

How to work:
1. Look before you write: list or open the skills that might fit (get_skill, then \
get_skill_file for SKILL.md and the file you would change). A skill's SKILL.md is the \
authority on its purpose, its file layout and how entries are written: follow it exactly \
(for example daily-logs wants one yyyy-mm-dd.md file per day, user-general-facts one file per \
topic, project-runbooks one file per project).
2. Before your first edit, call report_thinking: the key learning and whether it is worth \
keeping; which skill covers its domain and the exact entry you will add, or, if none does, \
the category-level name of a new skill. Edits are refused until you have reported.
3. Prefer updating: same domain -> add to that skill; partial overlap -> update and broaden \
it; no coverage -> create one skill with a category-level name (`python-packaging`, \
`api-error-handling`, `deployment`), never a one-off name (a bug id, a date). Few rich skills \
beat many thin ones. User preferences and facts go to user-general-facts in its fact format.
4. Edit with str_replace_skill_file (keep the structure; old_string must be unique), add \
data files with create_skill_file, create a skill with create_skill (a complete SKILL.md: \
front matter `name` in kebab-case equal to its folder, a `description` saying what it holds \
and when to use it; then `# Title`, a purpose paragraph, `## File structure`, `## Guidelines`).
5. Never rename a skill or break its front matter; keep SKILL.md short (under 500 lines) and \
put entries in data files when the skill says so.
6. Record only what will help next time: concrete commands, file names, versions, traps and \
their fixes. Skip trivia and anything already written. Write about the user in the third \
person. Never copy secrets, tokens or passwords.

Entry formats (unless the skill says otherwise):
- Procedure: `## <Title> (date: YYYY-MM-DD)` then bullets **Principle**, **When to apply**, \
**Steps**.
- Warning: `## <Title> (date: YYYY-MM-DD)` then **Symptom**, **Root cause**, \
**Correct approach**, **Prevention**.
- Fact: `- <third-person fact> (date: YYYY-MM-DD)`.

Make several calls per turn when you can. Call finish when every learning is recorded (or \
judged not worth keeping).
"""

CONTROL_TOOLS = [
    ToolSpec(
        "report_thinking",
        "Say what you learned, which skill it belongs in and the exact change; required "
        "before the first edit.",
        {
            "type": "object",
            "properties": {"thinking": {"type": "string", "description": "Your plan"}},
            "required": ["thinking"],
        },
    ),
    ToolSpec("finish", "All learnings are recorded; stop.", {"type": "object", "properties": {}}),
]
TOOLS: list[ToolSpec] = [*FILE_TOOLS, *CONTROL_TOOLS]


def max_rounds() -> int:
    return int(env_number("ACONTEXT_LEARN_MAX_ROUNDS", DEFAULT_MAX_ROUNDS))


@dataclass
class LearnerRun:
    """What one learner loop did. `finished` is False when the rounds ran out first."""

    finished: bool = False
    rounds: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    thinking: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    last_error: str = ""


def _clip(text: str, limit: int) -> str:
    return clip(text, limit, tail="\n[…{n} chars cut]")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]{3,}", text.lower())}


def fit_listing(listing: str, contexts: list[dict[str, Any]], limit: int = SKILLS_CHARS) -> str:
    """The skill list for the prompt, bounded: when it is too long, the skills sharing most
    words with the learnings are kept (in their order) and the rest are counted, since a
    repository of hundreds of skills would otherwise cost that much in every round."""
    if len(listing) <= limit:
        return listing
    lines = listing.splitlines()
    wanted = _words(" ".join(c.get("text") or "" for c in contexts))
    ranked = sorted(range(len(lines)), key=lambda i: (-len(_words(lines[i]) & wanted), i))
    kept: set[int] = set()
    used = 0
    for i in ranked:
        if used + len(lines[i]) + 1 > limit:
            continue
        kept.add(i)
        used += len(lines[i]) + 1
    shown = [lines[i] for i in sorted(kept)]
    rest = len(lines) - len(shown)
    return "\n".join(shown) + f"\n(and {rest} more skills: call list_skills to see them all)"


def build_prompt(contexts: list[dict[str, Any]], skills_listing: str, today: str) -> str:
    """The first user message: the learnings, the space's skills, today's date."""
    skills_listing = fit_listing(skills_listing, contexts)
    sections = []
    for i, ctx in enumerate(contexts, 1):
        head = f"### Learning {i}"
        if ctx.get("task"):
            head += f" (task: {_clip(ctx['task'], 200)})"
        sections.append(f"{head}\n{_clip(ctx.get('text') or '', CONTEXT_CHARS)}")
    return (
        "## Learnings to record\n\n"
        + "\n\n".join(sections)
        + f"\n\n## Available skills\n{skills_listing}\n\nToday's date: {today}\n\n"
        "Record these learnings in the skills (update a fitting skill, or create one), "
        "then call finish."
    )


def _result(call: ToolCall, text: str) -> dict[str, Any]:
    return tool_result(call, text, is_error=text.startswith("Error"))


def _problems_text(problems: dict[str, list[str]]) -> str:
    lines = [f"- {skill}: {p}" for skill, found in problems.items() for p in found]
    return "Error: not finished; fix these skills first:\n" + "\n".join(lines)


def run_learner(
    provider: Provider,
    workspace: SkillWorkspace,
    contexts: list[dict[str, Any]],
    *,
    today: str,
    session_id: str | None = None,
    rounds: int | None = None,
) -> LearnerRun:
    """Run the loop over `contexts` ({"text", "task"?} each). Raises LLMUnavailable as is;
    everything the model does wrong is answered as a tool error and costs it a round."""
    limit = rounds if rounds is not None else max_rounds()
    run = LearnerRun()
    prompt = build_prompt(contexts, workspace.list_skills(), today)
    convo: list[dict[str, Any]] = [{"role": "user", "parts": [{"type": "text", "text": prompt}]}]
    for _ in range(limit):
        reply = provider.complete(
            system=SYSTEM, messages=convo, tools=TOOLS, purpose=PURPOSE,
            session_id=session_id, max_tokens=MAX_TOKENS,
        )  # fmt: skip
        run.rounds += 1
        run.input_tokens += reply.input_tokens
        run.output_tokens += reply.output_tokens
        if not reply.tool_calls:
            # Said in words that it is done. Only a clean state counts as finished.
            run.finished = not workspace.problems()
            if not run.finished:
                run.last_error = _problems_text(workspace.problems())
            break
        answers: list[str | None] = []  # None: the finish call, answered once the turn is known
        for call in reply.tool_calls:
            run.tool_calls += 1
            if call.name == "finish":
                answers.append(None)
                continue
            text = _run_call(workspace, run, call)
            if text.startswith("Error"):
                run.tool_errors += 1
                run.last_error = text
            answers.append(text)
        verdict = ""
        if None in answers:
            problems = workspace.problems()
            if problems:
                verdict = run.last_error = _problems_text(problems)
            elif any(a is not None and a.startswith("Error") for a in answers):
                verdict = "Error: not finished; some calls in this turn failed, see above"
            else:
                verdict = "Finished"
            run.finished = verdict == "Finished"
        # Results in call order, whatever the provider expects.
        parts = [
            _result(call, verdict if text is None else text)
            for call, text in zip(reply.tool_calls, answers, strict=True)
        ]
        convo.append(assistant_message(reply))
        convo.append({"role": "user", "parts": parts})
        if run.finished:
            break
    if not run.finished:
        log.warning("skill learner stopped after %d rounds without finishing", run.rounds)
    return run


def _run_call(workspace: SkillWorkspace, run: LearnerRun, call: ToolCall) -> str:
    if call.error:
        return f"Error: arguments were not a JSON object ({call.error}); send valid JSON"
    if call.name == "report_thinking":
        thinking = call.arguments.get("thinking")
        if not isinstance(thinking, str) or not thinking.strip():
            return "Error: report_thinking needs `thinking`, your plan in a few sentences"
        run.thinking.append(thinking.strip())
        return "Noted. Go ahead with the edits."
    if call.name not in READ_TOOLS and not run.thinking:
        return (
            f"Error: {call.name} refused: call report_thinking first with the learning, the "
            "skill it goes in and the exact change"
        )
    try:
        return workspace.dispatch(call.name, call.arguments)
    except Exception as exc:  # a workspace bug must not kill the run; the model sees it
        log.exception("learner tool %s failed", call.name)
        return f"Error: {call.name} failed: {exc}"
