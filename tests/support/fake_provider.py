"""A scripted in-process LLM provider for tests and benchmarks of the LLM stages.

`FakeProvider(script)` answers `complete()` with the script's items in order: a `Reply`, an
exception instance (raised, e.g. `LLMUnavailable`), or a callable `(request) -> Reply` for
answers that depend on what was sent. When the script runs out it answers `exhausted`
(default: plain text with no tool calls, which ends a tool loop). Every request is recorded in
`requests` as a dict {system, messages, tools, purpose, session_id, max_tokens}, copied, so a
test can assert exactly what left the machine; `input_chars` counts what was sent.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from acontext_mcp.llm import Reply, ToolCall, ToolSpec

_ids = itertools.count(1)


def call(name: str, **arguments: Any) -> ToolCall:
    """A well-formed tool call with a fresh id."""
    return ToolCall(
        id=f"call_{next(_ids)}",
        name=name,
        arguments=arguments,
        raw_arguments=json.dumps(arguments),
    )


def bad_call(name: str, raw: str) -> ToolCall:
    """A tool call whose arguments are not a JSON object, as providers report it."""
    return ToolCall(
        id=f"call_{next(_ids)}",
        name=name,
        arguments={},
        raw_arguments=raw,
        error="arguments are not valid JSON",
    )


def tools(*calls: ToolCall, text: str = "") -> Reply:
    return Reply(text=text, tool_calls=list(calls), input_tokens=0, output_tokens=0)


def request_chars(request: dict[str, Any]) -> int:
    """Characters of one request as a provider would send them: system, messages, tools."""
    specs = [asdict(t) if isinstance(t, ToolSpec) else t for t in request["tools"]]
    return (
        len(request["system"])
        + len(json.dumps(request["messages"], ensure_ascii=False))
        + len(json.dumps(specs, ensure_ascii=False))
    )


class FakeProvider:
    name = "fake"
    model = "fake-1"

    def __init__(
        self,
        script: list[Reply | BaseException | Callable[[dict[str, Any]], Reply]] | None = None,
        *,
        exhausted: Reply | Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.script = list(script or [])
        self.exhausted = exhausted or Reply(text="Nothing more to do.")
        self.requests: list[dict[str, Any]] = []

    def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        purpose: str,
        session_id: str | None = None,
        max_tokens: int = 2048,
    ) -> Reply:
        request = {
            "system": system,
            "messages": copy.deepcopy(messages),
            "tools": list(tools),
            "purpose": purpose,
            "session_id": session_id,
            "max_tokens": max_tokens,
        }
        self.requests.append(request)
        step = self.script.pop(0) if self.script else self.exhausted
        if isinstance(step, BaseException):
            raise step
        reply = step(request) if callable(step) else step
        reply.input_tokens = reply.input_tokens or request_chars(request) // 4
        return reply

    @property
    def input_chars(self) -> int:
        return sum(request_chars(r) for r in self.requests)

    def prompt(self, index: int = 0) -> str:
        """The text of the first message of request `index` (the task agent's prompt)."""
        return self.requests[index]["messages"][0]["parts"][0]["text"]
