"""A deterministic stand-in for every LLM stage of learning, answering over the real wire.

`LearningModel(fake)` plugs into `support.fake_llm.FakeLLM` (like observe e2e's `Scripted`)
and answers each request from what it shows, whatever the conversation:

- the task agent (system "You keep the task list"): in its first round, one task for the first
  user request, its messages linked, one progress line, status success, finish;
- distillation (tool `record_lesson`): a procedure for SKILL_NAME, a skill that does not exist
  yet (the older `report_success_analysis` is answered too);
- the skill learner (tool `report_thinking`): plan, create SKILL_NAME with a data file, then
  finish (or, when the skill is already listed, finish at once); the pipeline then writes the
  lesson's entry into the data file.

Works for OpenAI Chat Completions and Anthropic Messages requests. Stdlib only.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from support.fake_llm import anthropic_reply, openai_reply

SKILL_NAME = "release-checklist"
SKILL_DESCRIPTION = (
    "How this user cuts a release of a Python package: bump the version, run the "
    "frobnicator check, tag and publish. Use when preparing or debugging a release."
)
SKILL_MD = f"""---
name: {SKILL_NAME}
description: "{SKILL_DESCRIPTION}"
---

# Release checklist

Steps and traps for releasing this user's Python packages.

## File structure
- `steps.md`: the release procedure, one section per variant.

## Guidelines
- Keep each step one line with the exact command.
"""
STEPS = """\
## Release a package (date: 2026-12-02)
- **Principle**: never tag before the frobnicator check passes.
- **When to apply**: every release.
- **Steps**: bump the version; run `make frobnicate`; `git tag vX.Y.Z`; publish.
"""

ENTRY_TITLE = "Tag only after the frobnicator check"


def learned_steps(text: str) -> bool:
    """steps.md as the learner created it, plus the lesson's entry the pipeline wrote, with
    its evidence counts (seen once; verified once when capture settled the outcome)."""
    tail = re.compile(r"^- \*\*" + ENTRY_TITLE + r"\*\*: .*\(when: release, frobnicate, tag; "
                      r"seen 1×(?:, verified 1×)?, \d{4}-\d\d-\d\d\)$", re.M)  # fmt: skip
    return text.startswith(STEPS) and tail.search(text) is not None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
    )


def _view(body: dict[str, Any]) -> tuple[str, str, int, set[str]]:
    """(system, first user prompt, assistant rounds so far, tool names offered)."""
    messages = body.get("messages") or []
    system = body.get("system")
    if isinstance(system, list):
        system = _text(system)
    if not system:
        system = next((_text(m.get("content")) for m in messages if m.get("role") == "system"), "")
    first = next((m for m in messages if m.get("role") == "user"), {})
    rounds = sum(1 for m in messages if m.get("role") == "assistant")
    names = {t.get("name") or (t.get("function") or {}).get("name") for t in body.get("tools", [])}
    return system or "", _text(first.get("content")), rounds, names


def _batch(prompt: str) -> list[tuple[int, str, str]]:
    """(index, who, first line) of each message shown in a task-agent batch prompt."""
    section = prompt.split("## New messages\n", 1)[-1]
    return [
        (int(m.group(1)), m.group(2), m.group(3).strip())
        for m in re.finditer(r"^\[(\d+)\] (\w+): (.*)$", section, re.M)
    ]


def decide(system: str, prompt: str, rounds: int, names: set[str]) -> list[tuple[str, dict]]:
    """The tool calls for this request; [] ends a loop in words."""
    if "insert_task" in names:  # the task agent
        if rounds or "## Current tasks\n(none yet)" not in prompt:
            return [("finish", {})] if rounds == 0 else []
        shown = _batch(prompt)
        asked = next((line for _, who, line in shown if who == "user"), "")
        if not asked:
            return [("finish", {})]
        return [
            ("insert_task", {"after_order": 0, "description": asked[:200]}),
            ("link_messages", {"order": 1, "message_ids": [i for i, _, _ in shown]}),
            ("append_progress", {"order": 1, "progress": "I did what was asked; it worked."}),
            ("update_task", {"order": 1, "status": "success"}),
            ("finish", {}),
        ]
    if "record_lesson" in names:  # distillation: one structured lesson for a new skill
        return [
            (
                "record_lesson",
                {
                    "kind": "procedure",
                    "skill": SKILL_NAME,
                    "file": "steps.md",
                    "section": "",
                    "title": ENTRY_TITLE,
                    "text": "Bump the version, run `make frobnicate`, then `git tag vX.Y.Z` and "
                    "publish; a tag before the check passes ships a broken release.",
                    "triggers": ["release", "frobnicate", "tag"],
                    "summary": "Cut a release of the package; make frobnicate passed.",
                    "new_skill_description": SKILL_DESCRIPTION,
                },
            )
        ]
    if "report_success_analysis" in names:  # distillation (the older form)
        return [
            (
                "report_success_analysis",
                {
                    "task_goal": "Cut a release of the package",
                    "approach": "Bumped the version, ran make frobnicate, tagged, published",
                    "key_decisions": ["Run the frobnicator check before tagging"],
                    "generalizable_pattern": "Check, then tag, then publish",
                    "applies_when": "Releasing this user's Python packages",
                },
            )
        ]
    if "report_failure_analysis" in names:
        fields = ("task_goal", "failure_point", "flawed_reasoning", "what_should_have_been_done",
                  "prevention_principle", "applies_when")  # fmt: skip
        return [("report_failure_analysis", {key: "It failed; check first." for key in fields})]
    if "report_thinking" in names:  # the skill learner
        if rounds == 0 and f"**{SKILL_NAME}**" not in prompt:
            return [
                ("report_thinking", {"thinking": f"New domain: releases. Create {SKILL_NAME}."}),
                ("create_skill", {"skill_md_content": SKILL_MD}),
                (
                    "create_skill_file",
                    {"skill_name": SKILL_NAME, "file_path": "steps.md", "content": STEPS},
                ),
            ]
        return [("finish", {})]
    return []


class LearningModel:
    """FakeLLM's answer queue, deciding each answer from the request just received."""

    def __init__(self, fake: Any, stall_at: tuple[int, ...] = (), decide: Any = None) -> None:
        self.fake = fake
        self.decide = decide or globals()["decide"]  # another script: same wire, same stages
        self.stages: list[str] = []
        self.stall_at = set(stall_at)  # 1-based request numbers held until `release` is set
        self.stalled = threading.Event()
        self.release = threading.Event()
        fake.answers = self

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> dict[str, Any]:
        request = self.fake.received[-1]
        if len(self.fake.received) in self.stall_at:
            self.stalled.set()
            self.release.wait(60)
        body = request["body"] or {}
        system, prompt, rounds, names = _view(body)
        calls = self.decide(system, prompt, rounds, names)
        stage = (
            "observe"
            if "insert_task" in names
            else "learn"
            if "report_thinking" in names
            else "distill"
            if names
            else "other"
        )
        self.stages.append(stage)
        anthropic = request["path"].split("?")[0].endswith("/messages")
        usage = (len(request["raw"]) // 4, 20 + 10 * len(calls))
        make = anthropic_reply if anthropic else openai_reply
        reply = make(None if calls else "Done.", calls=calls or None, usage=usage)
        return {"body": reply, "status": 200, "headers": {}, "delay": 0.0}


def cli_reply(argv: list[str], stdin: str) -> str:
    """What a fake `claude -p` prints for one call of the claude-cli provider: the stage is
    told by the tool list in the instructions (system prompt, or the head of stdin)."""
    import json

    from support.observe_script import cli_answer, cli_view

    instructions = argv[argv.index("--system-prompt") + 1] if "--system-prompt" in argv else stdin
    names = set(re.findall(r"^- (\w+): ", instructions, re.M))
    prompt, rounds = cli_view(stdin)
    calls = decide(instructions, prompt, rounds, names)
    usage = {"input_tokens": len(stdin) // 4, "output_tokens": 20 + 10 * len(calls)}
    answer = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": cli_answer(calls),
        "usage": usage,
        "session_id": "fake",
    }
    return json.dumps(answer)
