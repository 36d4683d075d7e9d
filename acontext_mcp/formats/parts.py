"""The internal message form ("acontext" format): a role plus a list of typed parts.

Wire shapes are TypedDicts: they document the form and cost nothing at run time. A message is

    {"role": "user" | "assistant", "parts": [Part, ...], "meta": {...}}

Roles are only user and assistant, as in the reference product: OpenAI `tool` messages become
user messages holding `tool-result` parts, and `system`/`developer` messages become user
messages with `meta.original_role`, restored on the way back out.

Binary content (images, documents) sits in a `source`: inline base64, a URL, or a `blob`
reference to a content-addressed file in the data home (see store/blobs.py). Converters never
see blobs; the store swaps them in and out around conversion.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["user", "assistant"]
FormatName = Literal["openai", "anthropic", "gemini", "acontext"]
FORMATS: tuple[str, ...] = ("openai", "anthropic", "gemini", "acontext")

PART_TYPES: tuple[str, ...] = (
    "text",
    "image",
    "audio",
    "file",
    "tool-call",
    "tool-result",
    "thinking",
    "redacted_thinking",
    "opaque",
)


class Source(TypedDict):
    """Where binary content lives. Exactly one of data / url / blob is set."""

    kind: Literal["base64", "url", "blob"]
    media_type: NotRequired[str]
    data: NotRequired[str]  # base64, kind == "base64"
    url: NotRequired[str]  # kind == "url"
    blob: NotRequired[str]  # sha256 hex, kind == "blob"
    size: NotRequired[int]  # decoded bytes, kind == "blob"


class TextPart(TypedDict):
    type: Literal["text"]
    text: str
    meta: NotRequired[dict[str, Any]]  # e.g. {"cache_control": {...}}, {"citations": [...]}


class MediaPart(TypedDict):
    """image / audio / file (documents). `filename` and `title` are kept when known."""

    type: Literal["image", "audio", "file"]
    source: Source
    filename: NotRequired[str]
    title: NotRequired[str]
    meta: NotRequired[dict[str, Any]]


class ToolCallPart(TypedDict):
    type: Literal["tool-call"]
    id: str  # stable across formats; generated for Gemini, which has none
    name: str
    arguments: str  # JSON text, exactly as OpenAI carries it
    meta: NotRequired[dict[str, Any]]


class ToolResultPart(TypedDict):
    type: Literal["tool-result"]
    tool_call_id: str
    content: list[Any]  # text and media parts
    is_error: NotRequired[bool]
    name: NotRequired[str]  # tool name when the source format says it (Gemini, OpenAI function)
    meta: NotRequired[dict[str, Any]]


class ThinkingPart(TypedDict):
    type: Literal["thinking"]
    text: str
    signature: NotRequired[str]
    meta: NotRequired[dict[str, Any]]


class RedactedThinkingPart(TypedDict):
    type: Literal["redacted_thinking"]
    data: str
    meta: NotRequired[dict[str, Any]]


class OpaquePart(TypedDict):
    """A part type we do not understand, kept verbatim instead of dropped."""

    type: Literal["opaque"]
    source_format: str
    value: Any
    meta: NotRequired[dict[str, Any]]


Part = (
    TextPart
    | MediaPart
    | ToolCallPart
    | ToolResultPart
    | ThinkingPart
    | RedactedThinkingPart
    | OpaquePart
)


class Message(TypedDict):
    role: Role
    parts: list[Part]
    meta: NotRequired[dict[str, Any]]  # original_role, message-level cache flags, ids, ...


def text_of(message: Message) -> str:
    """Plain text of a message (text and thinking parts, tool-result text), for search/tokens."""
    chunks: list[str] = []
    for part in message["parts"]:
        kind = part["type"]
        if kind in ("text", "thinking"):
            chunks.append(part["text"])  # type: ignore[typeddict-item]
        elif kind == "tool-call":
            chunks.append(f"{part['name']}({part['arguments']})")  # type: ignore[typeddict-item]
        elif kind == "tool-result":
            for inner in part["content"]:  # type: ignore[typeddict-item]
                if isinstance(inner, dict) and inner.get("type") == "text":
                    chunks.append(inner["text"])
    return "\n".join(chunks)


def estimate_tokens(message: Message) -> int:
    """A cheap token estimate (about four characters a token; a flat cost per image).

    Good enough for budgets and stats; not an exact tokenizer count.
    """
    total = 4  # role and framing
    for part in message["parts"]:
        kind = part["type"]
        if kind in ("image", "file", "audio"):
            total += 800
        elif kind == "tool-result":
            for inner in part["content"]:  # type: ignore[typeddict-item]
                if isinstance(inner, dict) and inner.get("type") == "text":
                    total += (len(inner["text"]) + 3) // 4
                else:
                    total += 800
        elif kind == "tool-call":
            total += (len(part["name"]) + len(part["arguments"]) + 3) // 4 + 4  # type: ignore[typeddict-item]
        elif kind in ("text", "thinking"):
            total += (len(part["text"]) + 3) // 4  # type: ignore[typeddict-item]
        elif kind == "redacted_thinking":
            total += (len(part["data"]) + 3) // 4  # type: ignore[typeddict-item]
    return total
