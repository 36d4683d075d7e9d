"""The skill learner: a bounded tool loop that writes learnings into skills.

The model gets the distilled learnings of one batch, the space's skills (names and
descriptions) and today's date, and edits skills with the workspace's file tools (an overlay:
nothing reaches disk here). It must say what it plans (`report_thinking`) before its first
edit, and ends with `finish`. A `finish` while the touched skills are invalid is refused with
the problems, so the model can fix them; the loop stops after `max_rounds` whatever happens.
The loop's rules (rounds, finish, refusals, argument checks) are llm/toolloop.py's.

Cost: the system prompt, one user message with the batch and the skill list, and the growing
conversation of tool calls and results (file reads are the bulk). See bench/bench_learn_tokens.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.config import env_number
from acontext_mcp.learn.paths import Refused
from acontext_mcp.learn.workspace import FILE_TOOLS, SkillWorkspace
from acontext_mcp.llm import Provider, ToolSpec
from acontext_mcp.llm.toolloop import FINISHED, Handler, Tool, ToolLoop, ToolResult
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
(for example daily-logs wants one yyyy-mm.md file per month with a section per day, \
user-general-facts one file per topic, project-runbooks one file per project).
2. Before your first edit, call report_thinking: the key learning and whether it is worth \
keeping; which skill covers its domain and the exact entry you will add, or, if none does, \
the category-level name of a new skill. Edits are refused until you have reported.
3. Prefer updating: same domain -> add to that skill; partial overlap -> update and broaden \
it; no coverage -> create one skill with a category-level name (`python-packaging`, \
`api-error-handling`, `deployment`), never a one-off name (a bug id, a date). Few rich skills \
beat many thin ones. User preferences and facts go to user-general-facts in its fact format.
4. Edit with str_replace_skill_file (keep the structure; old_string must be unique), add \
data files with create_skill_file, create a skill with create_skill (a complete SKILL.md: \
front matter `name` in kebab-case equal to its folder, at most 64 characters, and a \
`description` of at most 1024 characters saying what it holds and when to use it; then \
`# Title`, a purpose paragraph, `## File structure`, `## Guidelines`). An agent picks a skill \
by its description alone: name the tools, commands, file names and error words a task that \
needs it would contain (`pip install`, `ModuleNotFoundError`, `docker compose up`), and the \
project when it only applies to one; never just "read/edit memory".
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


def _where(ctx: dict[str, Any]) -> list[str]:
    """The project (name and directory) and the day of a learning's task, when known."""
    plan = ctx.get("plan") or {}
    out = []
    project_dir = plan.get("project_dir")
    if project_dir:
        name = project_dir.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        out.append(f"project: {_clip(name, 80)} at {_clip(project_dir, 200)}")
    if plan.get("day"):
        out.append(f"date: {plan['day']}")
    return out


def build_prompt(contexts: list[dict[str, Any]], skills_listing: str, today: str) -> str:
    """The first user message: the learnings (each with its task's project and day), the
    space's skills, and the day the work happened (`today`: the first learning's day, which
    entries and the daily log are dated by, not the day learning runs)."""
    skills_listing = fit_listing(skills_listing, contexts)
    sections = []
    for i, ctx in enumerate(contexts, 1):
        head = f"### Learning {i}"
        about = ([f"task: {_clip(ctx['task'], 200)}"] if ctx.get("task") else []) + _where(ctx)
        if about:
            head += f" ({'; '.join(about)})"
        body = _clip(ctx.get("text") or "", CONTEXT_CHARS)
        if ctx.get("note"):
            body += f"\n\n**What to do:** {ctx['note']}"
        sections.append(f"{head}\n{body}")
    return (
        "## Learnings to record\n\n"
        + "\n\n".join(sections)
        + f"\n\n## Available skills\n{skills_listing}\n\nDate of the work: {today} (date "
        "entries and the daily log by the day the work happened, never by today)\n\n"
        "Record these learnings in the skills (update a fitting skill, or create one), "
        "then call finish."
    )


def _problems_reason(problems: dict[str, list[str]]) -> str:
    lines = [f"- {skill}: {p}" for skill, found in problems.items() for p in found]
    return "not finished; fix these skills first:\n" + "\n".join(lines)


def _file_tool(workspace: SkillWorkspace, name: str) -> Handler:
    def handle(args: dict[str, Any]) -> ToolResult:
        try:
            return workspace.call(name, args)
        except Exception as exc:  # a workspace bug must not kill the run; the model sees it
            log.exception("learner tool %s failed", name)
            return ToolResult.refused(f"{name} failed: {exc}")

    return handle


def _tools(workspace: SkillWorkspace, run: LearnerRun) -> list[Tool]:
    """The learner's tools over `workspace`; report_thinking notes the plan in `run`."""

    def report_thinking(args: dict[str, Any]) -> ToolResult:
        thinking = args["thinking"].strip()
        if not thinking:
            return ToolResult.refused(
                "report_thinking needs `thinking`, your plan in a few sentences"
            )
        try:  # the plan goes into the commit message
            workspace.check_no_secret("thinking", thinking)
        except Refused as exc:
            return ToolResult.refused(str(exc))
        run.thinking.append(thinking)
        return ToolResult.done("Noted. Go ahead with the edits.")

    def finish(_args: dict[str, Any]) -> ToolResult:
        # Only a clean state counts as finished: the problems go back to the model.
        problems = workspace.problems()
        if problems:
            return ToolResult.refused(_problems_reason(problems))
        return ToolResult.done(FINISHED)

    control = {"report_thinking": report_thinking, "finish": finish}
    out = []
    for spec in TOOLS:
        if spec.name in control:
            out.append(Tool(spec, control[spec.name]))
        else:
            handler = _file_tool(workspace, spec.name)
            out.append(Tool(spec, handler, ungated=spec.name in READ_TOOLS))
    return out


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
    everything the model does wrong is answered as a refusal and costs it a round."""
    run = LearnerRun()
    loop = ToolLoop(
        system=SYSTEM,
        tools=_tools(workspace, run),
        purpose=PURPOSE,
        max_rounds=rounds if rounds is not None else max_rounds(),
        max_tokens=MAX_TOKENS,
        not_finished="Error: not finished; some calls in this turn failed, see above",
        required_first="report_thinking",
        required_first_why="with the learning, the skill it goes in and the exact change",
    )
    prompt = build_prompt(contexts, workspace.list_skills(), today)
    done = loop.run(provider, prompt, session_id=session_id)
    run.finished, run.rounds, run.tool_calls = done.finished, done.rounds, done.tool_calls
    run.tool_errors, run.last_error = done.refused, done.last_refusal
    run.input_tokens, run.output_tokens = done.input_tokens, done.output_tokens
    if not run.finished:
        log.warning("skill learner stopped after %d rounds without finishing", run.rounds)
    return run
