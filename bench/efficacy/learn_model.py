"""The scripted learning provider (`--model scripted`): a lesson built from the session itself.

It plugs into tests/support/learn_script.py's `LearningModel` (the scripted fake LLM of
tests/support/fake_llm.py, answering over the real OpenAI wire), with its own `decide`:

- the task agent: as learn_script (one task for the request, its messages, success);
- distillation (`record_lesson`): reads the prompt the pipeline really built — the project
  line, the Bash calls of the task's messages and which of them failed (`<- Bash ERROR`) — and
  records one trap in `project-runbooks`, `projects/<project>.md`, section Traps: "Run `FIX`
  here: `NAIVE` fails" (NAIVE: the last call that failed; FIX: the calls that passed after
  it), with the request's content words as triggers; nothing failed: skip;
- the skill learner: finishes at once (project-runbooks exists), so the pipeline writes the
  entry itself.

So what reaches B is exactly what the product's own prompts carried from A: if capture lost
the failing run or the fix, the lesson says so (or is skipped). Stdlib only.
"""

from __future__ import annotations

import re
from typing import Any

import learn_script  # tests/support

_PROJECT = re.compile(r"^Project: (\S+)", re.M)
_COMMAND = re.compile(r"^\[\d+\] agent: -> Bash\(command=(.*?)(?:, description=.*)?\)$", re.M)
_RESULT = re.compile(r"^\[\d+\] tool: <- Bash( ERROR)?:")
_REQUEST = re.compile(r"^Task: (.*)$|^Description: (.*)$", re.M)
# Words too common to pick out a task (plus anything under four letters).
_STOP = frozenset(
    re.findall(
        r"\w+",
        "the this that with from into what when then them they have will would could should about "
        "again once more please tell make sure whether pass passes before after thanks",
    )
)


def lesson(prompt: str) -> dict[str, Any] | None:
    """The record_lesson arguments for a distillation prompt, or None (nothing failed)."""
    project = _PROJECT.search(prompt)
    runs = _runs(prompt)
    last = max((i for i, (_, failed) in enumerate(runs) if failed), default=None)
    if not project or last is None:
        return None
    naive = runs[last][0]
    fix = list(dict.fromkeys(c for c, failed in runs[last + 1 :] if not failed))
    if not fix:
        return None
    shown = " && ".join(fix)
    request = _request(prompt)
    words = [w for w in re.findall(r"[a-z][a-z-]{3,}", request.lower()) if w not in _STOP]
    return {
        "kind": "trap",
        "skill": "project-runbooks",
        "file": f"projects/{project.group(1)}.md",
        "section": "Traps",
        "title": f"Run {fix[0]}"[:60].replace("*", ""),
        "text": f"Run `{shown}` here: `{naive}` fails.",
        "triggers": list(dict.fromkeys(words))[:6],
        "summary": f"{request[:80]}: `{naive}` failed, `{shown}` passed.",
        "new_skill_description": "",
    }


def _runs(prompt: str) -> list[tuple[str, bool]]:
    """(command, failed) of each Bash call in the task's messages, in order: a call's result
    line reads `<- Bash ERROR: ...` when it failed."""
    runs: list[tuple[str, bool]] = []
    for line in prompt.split("## Task Messages\n", 1)[-1].splitlines():
        called = _COMMAND.match(line)
        if called:
            runs.append((called.group(1), False))
        elif runs and (result := _RESULT.match(line)):
            runs[-1] = (runs[-1][0], result.group(1) is not None)
    return runs


def _request(prompt: str) -> str:
    """The user's request: the task's description line, else the first user message."""
    found = _REQUEST.search(prompt)
    if found:
        return (found.group(1) or found.group(2) or "").strip()
    user = re.search(r"^\[\d+\] user: (.*)$", prompt, re.M)
    return user.group(1).strip() if user else ""


def decide(system: str, prompt: str, rounds: int, names: set[str]) -> list[tuple[str, dict]]:
    """The tool calls for one request of a learning stage ([] ends a loop in words)."""
    if "record_lesson" in names:
        found = lesson(prompt)
        if found is None:
            return [("skip_learning", {"reason": "No failed run followed by a fix was captured."})]
        return [("record_lesson", found)]
    if "report_thinking" in names:
        return [("finish", {})]
    return learn_script.decide(system, prompt, rounds, names)
