"""`anthropic`: the Messages API with tools, on the Anthropic API or a compatible base URL.

The key comes from `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`), the base URL from
`ACONTEXT_LLM_BASE_URL`, else the SDK's own `ANTHROPIC_BASE_URL`. The SDK's retries are off:
the Guard retries and records every attempt.
"""

from __future__ import annotations

from typing import Any

from acontext_mcp.formats.convert import from_internal
from acontext_mcp.llm import Reply, ToolSpec
from acontext_mcp.llm.guard import CallFailed, sdk_client, sdk_failure, tool_call

DEFAULT_MODEL = "claude-haiku-4-5"


class AnthropicBackend:
    name = "anthropic"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        import anthropic

        self._sdk = anthropic
        self.model = model or DEFAULT_MODEL
        self.client = sdk_client(
            anthropic.Anthropic, base_url=base_url, api_key=api_key, timeout=timeout
        )

    def send(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        max_tokens: int,
    ) -> Reply:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "messages": from_internal(messages, "anthropic"),  # type: ignore[arg-type]
        }
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        try:
            message = self.client.messages.create(**kwargs)
        except self._sdk.AnthropicError as exc:
            raise sdk_failure(exc, self._sdk) from exc
        return _reply(message, self.model)

    def close(self) -> None:
        self.client.close()


def _reply(message: Any, model: str) -> Reply:
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        raise CallFailed("bad response: no content in the message")
    texts: list[str] = []
    calls = []
    for block in content:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(getattr(block, "text", "") or "")
        elif kind == "tool_use":
            calls.append(tool_call(block.id, block.name, getattr(block, "input", None)))
    used = getattr(message, "usage", None)
    tokens_in = sum(
        int(getattr(used, key, 0) or 0)
        for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return Reply(
        text="".join(texts),
        tool_calls=calls,
        input_tokens=tokens_in,
        output_tokens=int(getattr(used, "output_tokens", 0) or 0),
        stop_reason=getattr(message, "stop_reason", None) or "",
        model=getattr(message, "model", None) or model,
    )
