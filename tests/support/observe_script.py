"""A deterministic stand-in for the task agent's model on the landing-page conversation.

`decide(prompt, rounds)` answers the way a sensible model would, from what the request
shows: the batch prompt (its "## Current tasks" section says what is already recorded) and
how many assistant turns the conversation already has. With no tasks yet it inserts the
three plan steps in round 1 and, in round 2, sets the first running, appends one progress
line, records the preference and finishes. When the prompt already lists some of that (a
batch retried after a crash), only what is missing is sent: the end state is the same.

The `*_view` functions pull (prompt, rounds) out of a request in each wire format: OpenAI
Chat Completions, Anthropic Messages, and the text `claude -p` reads on stdin. Stdlib only:
the fake `claude` script imports this module.
"""

from __future__ import annotations

import json
from typing import Any

SESSION = "landing-e2e"

# The reference product's documented Observe example, as OpenAI-style messages.
CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "content": "I need to write a landing page of iPhone 15 pro max"},
    {
        "role": "assistant",
        "content": "Sure, my plan is below:\n1. Search for the latest news about iPhone 15 pro "
        "max\n2. Init Next.js project for the landing page\n3. Deploy the landing page to the "
        "website",
    },
    {
        "role": "user",
        "content": "That sounds good. Let's first collect the message and report to me before "
        "any landing page coding.",
    },
    {
        "role": "assistant",
        "content": "Sure, I will first collect the message then report to you before any "
        "landing page coding.",
        "tool_calls": [
            {
                "id": "call_e2e_search",
                "type": "function",
                "function": {"name": "search_news", "arguments": '{"query": "iPhone news"}'},
            }
        ],
    },
]

TASKS = [
    "Search for the latest news about iPhone 15 Pro Max and report it to the user before any "
    "landing page coding",
    "Init a Next.js project for the iPhone 15 Pro Max landing page",
    "Deploy the landing page to the website",
]
PROGRESS = "I started collecting news with search_news(query='iPhone news')."
PREFERENCE = "The user wants a report on the news before any landing page coding."


def current_tasks(prompt: str) -> str:
    """The "## Current tasks" section of a batch prompt ("" when there is none)."""
    head = "## Current tasks\n"
    start = prompt.find(head)
    if start < 0:
        return ""
    rest = prompt[start + len(head) :]
    end = rest.find("\n\n## ")
    return rest if end < 0 else rest[:end]


def decide(prompt: str, rounds: int) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls answering round `rounds + 1` of the batch; [] ends it in words."""
    if "## New messages" not in prompt or "iPhone 15 pro max" not in prompt:
        return []
    listing = current_tasks(prompt)
    inserts = [
        ("insert_task", {"after_order": i, "description": text})
        for i, text in enumerate(TASKS)
        if text not in listing
    ]
    updates: list[tuple[str, dict[str, Any]]] = []
    if "Task 1 [running]" not in listing:
        updates.append(("update_task", {"order": 1, "status": "running"}))
    if PROGRESS not in listing:
        updates.append(("append_progress", {"order": 1, "progress": PROGRESS}))
    if PREFERENCE not in listing:
        updates.append(("record_preference", {"text": PREFERENCE, "order": 1}))
    updates.append(("finish", {}))
    plan = [inserts, updates] if inserts else [updates]
    return plan[rounds] if rounds < len(plan) else []


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        block.get("text", "")
        for block in content or []
        if isinstance(block, dict) and block.get("type") == "text"
    )


def _chat_view(body: dict[str, Any]) -> tuple[str, int]:
    messages = body.get("messages") or []
    first = next((m for m in messages if m.get("role") == "user"), {})
    rounds = sum(1 for m in messages if m.get("role") == "assistant")
    return _text(first.get("content")), rounds


openai_view = _chat_view  # system is a message of its own; the first user message is the prompt
anthropic_view = _chat_view  # system is a top-level field


def cli_view(stdin: str) -> tuple[str, int]:
    """(prompt, rounds) from the conversation text `claude -p` reads (llm/claude_cli.render)."""
    start = stdin.find("<user>\n")
    end = stdin.find("\n</user>", start)
    prompt = stdin[start + len("<user>\n") : end] if start >= 0 and end >= 0 else ""
    rounds = sum(1 for line in stdin.splitlines() if line == "<assistant>")
    return prompt, rounds


def cli_answer(calls: list[tuple[str, dict[str, Any]]]) -> str:
    """The JSON answer the claude-cli provider's tool emulation asks for."""
    return json.dumps({"text": "", "tool_calls": [{"name": n, "arguments": a} for n, a in calls]})
