"""Gemini `contents` <-> the internal form (see parts.py).

Gemini often sends no call ids. A functionCall without one gets a stable id: "call_" + 24 hex of
sha256 over its name, key-sorted args and its ordinal among the calls of this conversion, so
converting the same contents twice gives the same ids. A functionResponse without an id takes
the oldest unanswered call of the same name (FIFO): `open_calls` from earlier messages of the
session first, then calls in this conversion. With no such call it gets a stable generated id of
its own and is kept, not refused.

In: role model -> assistant; user, a missing role and the legacy "function" -> user; "system"
-> user with meta.original_role (written back as user: contents have no system role); snake_case
keys (inline_data, function_call, ...) are read as camelCase. text with thought: true ->
thinking; inlineData/fileData -> image, audio or file by MIME type. functionResponse.response
becomes compact JSON text, except {"output": text} and {"error": text} (the shapes Gemini
documents), which become that text (the second with is_error); functionResponse.parts media
join the result's content. Unknown part kinds are kept as opaque parts; other part keys
(thoughtSignature, videoMetadata, ...) go to meta["gemini_extra"].
Out: ids are always written, so generated ids appear where the input had none; args are always
written; a result's text is written back as the object it was read from, else wrapped as
{"output": text} ({"error": text} when is_error); several text items are joined by newlines;
redacted thinking and other formats' opaque parts are dropped; a message left empty is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from acontext_mcp.formats._common import (
    PendingCalls,
    args_object,
    canonical_json,
    compact_json,
    extras,
    fail,
    media_kind,
    native_extra,
    require_inline,
    stable_id,
    text_value,
    with_meta,
)
from acontext_mcp.formats.parts import Message

_ROLES = ("user", "model", "function", "system")
_ALIASES = {
    "inline_data": "inlineData",
    "file_data": "fileData",
    "function_call": "functionCall",
    "function_response": "functionResponse",
    "thought_signature": "thoughtSignature",
    "video_metadata": "videoMetadata",
    "mime_type": "mimeType",
    "file_uri": "fileUri",
}


def to_internal(
    contents: list[dict],
    *,
    open_calls: list[tuple[str, str]] | None = None,
    id_salt: str = "",
) -> list[Message]:
    """Normalize Gemini contents; `open_calls` are earlier unanswered (id, name) calls and
    `id_salt` makes generated ids unique beyond this one conversion."""
    if not isinstance(contents, list):
        fail("messages", "must be a list of Gemini content objects")
    state = PendingCalls(open_calls, id_salt)
    return [_content_in(raw, f"messages[{i}]", state) for i, raw in enumerate(contents)]


def from_internal(
    messages: list[Message], *, call_names: dict[str, str] | None = None
) -> list[dict]:
    """Gemini contents; a functionResponse's name comes from the matching tool-call.

    Names are looked up in the tool-calls of `messages`, then `call_names` (calls stored
    earlier), then the result's own name, else "unknown_tool".
    """
    names = dict(call_names or {})
    for message in messages:
        names.update((p["id"], p["name"]) for p in message["parts"] if p["type"] == "tool-call")
    out: list[dict] = []
    for i, message in enumerate(messages):
        parts = []
        for j, part in enumerate(message["parts"]):
            wire = _part_out(part, f"messages[{i}].parts[{j}]", names)
            if wire is not None:
                parts.append(wire)
        if parts:
            out.append(
                {"role": "model" if message["role"] == "assistant" else "user", "parts": parts}
            )
    return out


# --- In ---


def _camel(raw: dict) -> dict:
    return {_ALIASES.get(key, key): value for key, value in raw.items()}


def _content_in(raw: Any, where: str, state: PendingCalls) -> Message:
    if not isinstance(raw, dict):
        fail(where, "must be an object with role and parts")
    role = raw.get("role") or "user"
    if role not in _ROLES:
        fail(f"{where}.role", f"unknown role {role!r}; Gemini roles are user and model")
    parts = raw.get("parts")
    if not isinstance(parts, list):
        fail(f"{where}.parts", 'must be a list of parts such as {"text": "..."}')
    converted = [_part_in(part, f"{where}.parts[{j}]", state) for j, part in enumerate(parts)]
    meta: dict[str, Any] = {}
    if isinstance(raw.get("id"), str):
        meta["id"] = raw["id"]
    if role == "system":
        meta["original_role"] = "system"
    role_out = "assistant" if role == "model" else "user"
    return with_meta({"role": role_out, "parts": converted}, meta)  # type: ignore[return-value]


def _part_in(raw: Any, where: str, state: PendingCalls) -> dict:
    if not isinstance(raw, dict):
        fail(where, 'must be an object such as {"text": "..."}')
    part = _camel(raw)
    known: tuple[str, ...]
    if "text" in part:
        text = text_value(part, "text", where)
        if part.get("thought") is True:
            out, known = {"type": "thinking", "text": text}, ("text", "thought")
        else:
            out, known = {"type": "text", "text": text}, ("text",)
    elif "inlineData" in part or "fileData" in part:
        key = "inlineData" if "inlineData" in part else "fileData"
        out, known = _blob_in(part[key], f"{where}.{key}", inline=key == "inlineData"), (key,)
    elif "functionCall" in part:
        known = ("functionCall",)
        out = _call_in(part["functionCall"], f"{where}.functionCall", state)
    elif "functionResponse" in part:
        known = ("functionResponse",)
        out = _response_in(part["functionResponse"], f"{where}.functionResponse", state)
    else:
        return {"type": "opaque", "source_format": "gemini", "value": raw}
    extra = extras(part, known)
    return with_meta(out, {"gemini_extra": extra} if extra else {})


def _blob_in(raw: Any, where: str, *, inline: bool) -> dict:
    if not isinstance(raw, dict):
        fail(where, "must be an object with mimeType and data (inlineData) or fileUri (fileData)")
    spec = _camel(raw)
    media_type: str | None = None
    if inline:
        media_type = text_value(spec, "mimeType", where)
        source = {
            "kind": "base64",
            "media_type": media_type,
            "data": text_value(spec, "data", where),
        }
    else:
        source = {"kind": "url", "url": text_value(spec, "fileUri", where)}
        if spec.get("mimeType") is not None:
            media_type = source["media_type"] = text_value(spec, "mimeType", where)
    return {"type": media_kind(media_type), "source": source}


def _call_in(spec: Any, where: str, state: PendingCalls) -> dict:
    if not isinstance(spec, dict):
        fail(where, "must be an object with name and args")
    name = text_value(spec, "name", where)
    args = spec.get("args")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        fail(f"{where}.args", "must be an object")
    call_id = spec.get("id")
    if call_id is not None and not isinstance(call_id, str):
        fail(f"{where}.id", "must be a string")
    generated = not call_id
    if not call_id:
        call_id = stable_id(state.salt, name, canonical_json(args), str(state.calls))
    state.calls += 1
    state.add(call_id, name)
    arguments = compact_json(args, f"{where}.args")
    part: dict[str, Any] = {"type": "tool-call", "id": call_id, "name": name}
    part["arguments"] = arguments
    if generated:
        part["meta"] = {"generated_id": True}
    return part


def _response_in(spec: Any, where: str, state: PendingCalls) -> dict:
    if not isinstance(spec, dict):
        fail(where, "must be an object with name and response")
    name = text_value(spec, "name", where)
    response = spec.get("response")
    if response is None:
        response = {}
    if not isinstance(response, dict):
        fail(f"{where}.response", "must be an object")
    call_id = spec.get("id")
    if call_id is not None and not isinstance(call_id, str):
        fail(f"{where}.id", "must be a string")
    generated = False
    if call_id:
        state.discard(call_id)
    else:
        call_id = state.take(name)
        if call_id is None:
            generated = True
            call_id = stable_id(
                state.salt, "response", name, canonical_json(response), str(state.results)
            )
    state.results += 1
    content, is_error = _response_text(response, where)
    media = spec.get("parts", [])
    if not isinstance(media, list):
        fail(f"{where}.parts", "must be a list of inlineData parts")
    for k, item in enumerate(media):
        content.append(_result_media_in(item, f"{where}.parts[{k}]"))
    part: dict[str, Any] = {"type": "tool-result", "tool_call_id": call_id, "name": name}
    part["content"] = content
    if is_error:
        part["is_error"] = True
    if generated:
        part["meta"] = {"generated_id": True}
    return part


def _response_text(response: dict, where: str) -> tuple[list[dict], bool]:
    if not response:
        return [], False
    if len(response) == 1:
        ((key, value),) = response.items()
        if key in ("output", "error") and isinstance(value, str):
            return [{"type": "text", "text": value}], key == "error"
    return [{"type": "text", "text": compact_json(response, f"{where}.response")}], False


def _result_media_in(raw: Any, where: str) -> dict:
    part = _camel(raw) if isinstance(raw, dict) else {}
    for key in ("inlineData", "fileData"):
        if key in part:
            return _blob_in(part[key], f"{where}.{key}", inline=key == "inlineData")
    return {"type": "opaque", "source_format": "gemini", "value": raw}


# --- Out ---


def _part_out(part: Mapping[str, Any], where: str, names: dict[str, str]) -> dict | None:
    kind = part["type"]
    if kind == "text":
        wire: dict[str, Any] = {"text": part["text"]}
    elif kind == "thinking":
        wire = {"text": part["text"], "thought": True}
    elif kind in ("image", "audio", "file"):
        wire = _media_out(part, where)
    elif kind == "tool-call":
        call = {"id": part["id"], "name": part["name"], "args": args_object(part["arguments"])}
        wire = {"functionCall": call}
    elif kind == "tool-result":
        wire = {"functionResponse": _response_out(part, where, names)}
    elif kind == "opaque" and part.get("source_format") == "gemini":
        return part["value"]
    else:
        return None  # redacted thinking and other formats' opaque parts have no Gemini form
    return {**wire, **native_extra(part, "gemini")}


def _media_out(part: Mapping[str, Any], where: str) -> dict:
    source = require_inline(part, where)
    media_type = source.get("media_type")
    if source["kind"] == "url":
        spec = {"mimeType": media_type} if media_type else {}
        return {"fileData": {**spec, "fileUri": source["url"]}}
    inline = {"mimeType": media_type or "application/octet-stream", "data": source["data"]}
    return {"inlineData": inline}


def _response_out(part: Mapping[str, Any], where: str, names: dict[str, str]) -> dict:
    texts: list[str] = []
    media: list[dict] = []
    for k, inner in enumerate(part["content"]):
        if inner.get("type") == "text":
            texts.append(inner["text"])
        elif inner.get("type") in ("image", "audio", "file"):
            media.append(_media_out(inner, f"{where}.content[{k}]"))
        elif inner.get("type") == "opaque" and inner.get("source_format") == "gemini":
            media.append(inner["value"])
    text = "\n".join(texts)
    if part.get("is_error"):
        response: dict[str, Any] = {"error": text}
    elif not texts:
        response = {}
    else:
        response = {"output": text}
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        # Write an object back only when it reads back as exactly this text.
        if isinstance(value, dict) and compact_json(value) == text:
            response = value
    name = names.get(part["tool_call_id"]) or part.get("name") or "unknown_tool"
    out: dict[str, Any] = {"id": part["tool_call_id"], "name": name, "response": response}
    if media:
        out["parts"] = media
    return out
