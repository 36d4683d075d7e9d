"""`openai`: Chat Completions with tools, on the OpenAI API or any compatible server.

A base URL (`ACONTEXT_LLM_BASE_URL`, else the SDK's own `OPENAI_BASE_URL`) points it at Ollama,
vLLM, LM Studio or OpenRouter. Local servers need no key; the SDK insists on one, so a
placeholder is sent when a base URL is set and `OPENAI_API_KEY` is not. The SDK's retries are
off: the Guard retries and records every attempt.
"""

from __future__ import annotations

import uuid
from typing import Any

from acontext_mcp.formats.convert import from_internal
from acontext_mcp.llm import Reply, ToolSpec
from acontext_mcp.llm.guard import CallFailed, sdk_client, sdk_failure, tool_call

DEFAULT_MODEL = "gpt-4.1-mini"


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        import openai

        self._sdk = openai
        self.model = model or DEFAULT_MODEL
        self.base_url = base_url
        self.client = sdk_client(openai.OpenAI, base_url=base_url, api_key=api_key, timeout=timeout)
        # The official API wants max_completion_tokens (reasoning models reject max_tokens);
        # compatible servers (Ollama, vLLM, LM Studio) know max_tokens best.
        official = "api.openai.com" in str(self.client.base_url)
        self._max_key = "max_completion_tokens" if official else "max_tokens"

    def send(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        max_tokens: int,
    ) -> Reply:
        wire: list[dict[str, Any]] = []
        if system:
            wire.append({"role": "system", "content": system})
        wire.extend(from_internal(messages, "openai"))  # type: ignore[arg-type]
        kwargs: dict[str, Any] = {"model": self.model, "messages": wire, self._max_key: max_tokens}
        if tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        try:
            completion = self.client.chat.completions.create(**kwargs)
        except self._sdk.OpenAIError as exc:
            raise sdk_failure(exc, self._sdk) from exc
        return _reply(completion, self.model)

    def close(self) -> None:
        self.client.close()


def _reply(completion: Any, model: str) -> Reply:
    choices = getattr(completion, "choices", None) or []
    if not choices or getattr(choices[0], "message", None) is None:
        raise CallFailed("bad response: no choices in the completion")
    choice = choices[0]
    message = choice.message
    calls = []
    for call in getattr(message, "tool_calls", None) or []:
        function = getattr(call, "function", None)
        if function is None:  # a custom (non-function) tool call: not ours
            continue
        call_id = getattr(call, "id", None) or "call_" + uuid.uuid4().hex[:20]
        calls.append(tool_call(call_id, function.name or "", function.arguments or ""))
    used = getattr(completion, "usage", None)
    return Reply(
        text=message.content or "",
        tool_calls=calls,
        input_tokens=int(getattr(used, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(used, "completion_tokens", 0) or 0),
        stop_reason=choice.finish_reason or "",
        model=getattr(completion, "model", None) or model,
    )
