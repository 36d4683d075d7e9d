"""The public entry: any supported format to and from the internal form, plus store helpers.

Dispatches to one pure converter per format (openai.py, anthropic.py, gemini.py); each
module's docstring lists its normalizations and lossy cases. Tool-call ids are the same
internal id whichever format goes in or out.
"""

from __future__ import annotations

from typing import Any

from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import anthropic, gemini, openai
from acontext_mcp.formats._common import fail
from acontext_mcp.formats.parts import FORMATS, PART_TYPES, Message

_CONVERTERS = {"openai": openai, "anthropic": anthropic, "gemini": gemini}
# Keyword arguments each direction knows, and which formats use them. The store may pass them
# for any format; a format with no use for one ignores it.
_TO_KW: dict[str, tuple[str, ...]] = {
    "open_calls": ("openai", "gemini"),
    "id_salt": ("openai", "gemini"),
}
_FROM_KW: dict[str, tuple[str, ...]] = {"call_names": ("gemini",)}
_MEDIA = ("image", "audio", "file")
_NESTED = ("text", *_MEDIA, "opaque")  # what a tool-result's content may hold
_STRINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # required, optional
    "text": (("text",), ()),
    "image": ((), ("filename", "title")),
    "audio": ((), ("filename", "title")),
    "file": ((), ("filename", "title")),
    "tool-call": (("id", "name", "arguments"), ()),
    "tool-result": (("tool_call_id",), ("name",)),
    "thinking": (("text",), ("signature",)),
    "redacted_thinking": (("data",), ()),
    "opaque": (("source_format",), ()),
}
_SOURCE_FIELD = {"base64": "data", "url": "url", "blob": "blob"}


def to_internal(messages: list, fmt: str, **kw: Any) -> list[Message]:
    """Normalize `messages` given in `fmt`; InvalidInput names the bad message and field.

    `open_calls=[(id, name), ...]` lists earlier calls of the session still lacking a result,
    so id-less results (Gemini, OpenAI `function`) can be paired with them.
    """
    fmt = _check_format(fmt)
    used = _check_kw(kw, _TO_KW, fmt)
    if not isinstance(messages, list):
        fail("messages", "must be a list of message objects")
    if fmt == "acontext":
        return [validate_internal(raw, f"messages[{i}]") for i, raw in enumerate(messages)]
    return _CONVERTERS[fmt].to_internal(messages, **used)


def from_internal(messages: list[Message], fmt: str, **kw: Any) -> list[dict]:
    """Write internal messages as `fmt` messages, valid input for that provider's API.

    `call_names={id: name}` names tool-calls stored earlier, for Gemini functionResponses.
    Messages are trusted to be valid internal messages (the store only holds those).
    """
    fmt = _check_format(fmt)
    used = _check_kw(kw, _FROM_KW, fmt)
    if fmt == "acontext":
        return [dict(message) for message in messages]
    return _CONVERTERS[fmt].from_internal(messages, **used)


def tool_call_names(messages: list[Message]) -> dict[str, str]:
    """{tool-call id: tool name} for every tool-call in `messages`."""
    return {
        part["id"]: part["name"]  # type: ignore[typeddict-item]
        for message in messages
        for part in message["parts"]
        if part["type"] == "tool-call"
    }


def open_tool_calls(messages: list[Message]) -> list[tuple[str, str]]:
    """(id, name) of tool-calls with no tool-result in `messages`, oldest first."""
    answered = {
        part["tool_call_id"]  # type: ignore[typeddict-item]
        for message in messages
        for part in message["parts"]
        if part["type"] == "tool-result"
    }
    return [
        (part["id"], part["name"])  # type: ignore[typeddict-item]
        for message in messages
        for part in message["parts"]
        if part["type"] == "tool-call" and part["id"] not in answered  # type: ignore[typeddict-item]
    ]


def validate_internal(message: Any, where: str = "message") -> Message:
    """Check one message in our own form and return it; unknown part types are errors here."""
    if not isinstance(message, dict):
        fail(where, "must be an object with role and parts")
    unknown = sorted(set(message) - {"role", "parts", "meta"})
    if unknown:
        fail(where, f"unknown key {unknown[0]!r}; a message has role, parts and meta")
    if "role" not in message:
        fail(where, "missing role; use user or assistant")
    if message["role"] not in ("user", "assistant"):
        fail(f"{where}.role", f"unknown role {message['role']!r}; use user or assistant")
    if not isinstance(message.get("parts"), list):
        fail(f"{where}.parts", "must be a list of parts")
    _check_meta(message, where)
    for j, part in enumerate(message["parts"]):
        _validate_part(part, f"{where}.parts[{j}]", nested=False)
    return message  # type: ignore[return-value]


# --- Helpers ---


def _check_format(fmt: Any) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"format: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def _check_kw(kw: dict[str, Any], known: dict[str, tuple[str, ...]], fmt: str) -> dict:
    for name in kw:
        if name not in known:
            raise TypeError(f"unexpected keyword argument {name!r}")
    return {name: value for name, value in kw.items() if fmt in known[name]}


def _check_meta(obj: dict, where: str) -> None:
    if "meta" in obj and not isinstance(obj["meta"], dict):
        fail(f"{where}.meta", "must be an object")


def _validate_part(part: Any, where: str, *, nested: bool) -> None:
    if not isinstance(part, dict):
        fail(where, 'must be an object with a type, e.g. {"type": "text", "text": "..."}')
    kind = part.get("type")
    allowed = _NESTED if nested else PART_TYPES
    if kind not in allowed:
        fail(f"{where}.type", f"unknown part type {kind!r}; use one of {', '.join(allowed)}")
    required, optional = _STRINGS[kind]
    for key in required:
        if not isinstance(part.get(key), str):
            fail(where, f"a {kind} part needs a string {key}")
    for key in optional:
        if key in part and not isinstance(part[key], str):
            fail(f"{where}.{key}", "must be a string")
    _check_meta(part, where)
    if kind in _MEDIA:
        _validate_source(part.get("source"), f"{where}.source")
    elif kind == "tool-call" and not part["id"]:
        fail(f"{where}.id", "must be a non-empty string")
    elif kind == "tool-result":
        if not part["tool_call_id"]:
            fail(f"{where}.tool_call_id", "must be a non-empty string")
        if not isinstance(part.get("content"), list):
            fail(f"{where}.content", "must be a list of text or media parts")
        for k, inner in enumerate(part["content"]):
            _validate_part(inner, f"{where}.content[{k}]", nested=True)
        if "is_error" in part and not isinstance(part["is_error"], bool):
            fail(f"{where}.is_error", "must be true or false")
    elif kind == "opaque" and "value" not in part:
        fail(where, "an opaque part needs a value")


def _validate_source(source: Any, where: str) -> None:
    if not isinstance(source, dict):
        fail(where, 'must be an object such as {"kind": "base64", "media_type": ..., "data": ...}')
    field = _SOURCE_FIELD.get(source.get("kind"))  # type: ignore[arg-type]
    if field is None:
        fail(f"{where}.kind", "must be base64, url or blob")
    if not isinstance(source.get(field), str):
        fail(where, f"a {source['kind']} source needs a string {field}")
    if "media_type" in source and not isinstance(source["media_type"], str):
        fail(f"{where}.media_type", "must be a string")
