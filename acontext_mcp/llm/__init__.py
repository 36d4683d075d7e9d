"""LLM providers behind one small synchronous interface, used by observe and learn.

Callers build a `Provider` with `acontext_mcp.llm.select.provider_for(settings, conn)` (added
by the providers module) and call `complete(...)`. Every call goes through the same wrapper:
redaction of everything sent, the daily token budget, bounded retries, and one `llm_calls` row.
Never imported on the hook path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from acontext_mcp.errors import AcontextError


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: JSON Schema `parameters` of one object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ToolCall:
    """One tool call from the model. `arguments` is {} and `error` says why when the model's
    arguments were not a JSON object; the caller answers with that error instead of running."""

    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""
    error: str | None = None


@dataclass
class Reply:
    """One model turn."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str = ""
    model: str = ""


class Provider(Protocol):
    """`messages` are internal-form messages (acontext_mcp.formats.parts.Message: a role plus
    typed parts, tool calls and results included), so a tool loop appends the reply and the
    tool results as it goes, whatever the provider's wire format."""

    # Read-only for callers: `Guard` forwards them from the provider it wraps.
    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        purpose: str,
        session_id: str | None = None,
        max_tokens: int = 2048,
    ) -> Reply: ...


def assistant_message(reply: Reply) -> dict[str, Any]:
    """The model's turn as an internal-form message, to append to a tool loop's conversation."""
    parts: list[dict[str, Any]] = []
    if reply.text:
        parts.append({"type": "text", "text": reply.text})
    for call in reply.tool_calls:
        raw = call.raw_arguments or json.dumps(call.arguments, ensure_ascii=False)
        parts.append({"type": "tool-call", "id": call.id, "name": call.name, "arguments": raw})
    return {"role": "assistant", "parts": parts}


def tool_result(call: ToolCall, text: str, *, is_error: bool = False) -> dict[str, Any]:
    """The answer to one tool call, as a part of the next user message."""
    part: dict[str, Any] = {
        "type": "tool-result",
        "tool_call_id": call.id,
        "name": call.name,
        "content": [{"type": "text", "text": text}],
    }
    if is_error:
        part["is_error"] = True
    return part


class LLMUnavailable(AcontextError):
    """No LLM work can run now; the work waits (nothing is lost). `reason` is for the user."""


class NoProvider(LLMUnavailable):
    """ACONTEXT_LLM_PROVIDER is `none` or nothing usable was detected."""


class BudgetExhausted(LLMUnavailable):
    """Today's token budget is spent; work resumes tomorrow or when the budget is raised."""


class ProviderFailed(LLMUnavailable):
    """The provider kept failing after the bounded retries (timeouts, 429, 5xx, bad answers)."""
