"""OpenAI Chat Completions messages <-> the internal form (see parts.py).

In: `system`/`developer` become user text with meta.original_role; `tool` and legacy `function`
messages become user messages holding one tool-result; refusals are text parts with
meta.refusal; legacy `function_call`s get stable generated ids and their `function` results are
paired with them first in, first out by name. Unknown content part types and `file_id` files are
kept as opaque parts, unmapped part keys in meta["openai_extra"]; other message-level keys
(audio, annotations, ...) are not kept. Out, normalized to stay valid Chat Completions:
- a user message's tool-results become one `tool` message each, ahead of the rest of it;
- thinking becomes text (as the reference does); redacted thinking is dropped;
- media OpenAI cannot carry there (images in tool results or in assistant/system messages,
  audio or files by URL) becomes a placeholder text such as "[image: image/png]";
- is_error on tool results is dropped (OpenAI has no such field);
- content that is one plain text part is written as a string; assistant content with no text
  is null; a message with nothing left to carry is dropped; meta["id"] is not written out;
- file_data is always a data: URL; other formats' opaque parts are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from acontext_mcp.formats._common import (
    PendingCalls,
    compact_json,
    data_url,
    extras,
    fail,
    is_http_url,
    native_extra,
    parse_data_url,
    placeholder,
    require_inline,
    stable_id,
    text_value,
    with_meta,
)
from acontext_mcp.formats.parts import Message

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_ROLE_HINT = "use one of system, developer, user, assistant, tool, function"
_AUDIO_MIME = {"mp3": "audio/mpeg"}
_AUDIO_FORMAT = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/x-wav": "wav"}


def to_internal(
    messages: list[dict],
    *,
    open_calls: list[tuple[str, str]] | None = None,
    id_salt: str = "",
) -> list[Message]:
    """Normalize Chat Completions messages; `open_calls` are earlier unanswered (id, name)s
    and `id_salt` makes ids generated for legacy function calls unique beyond this call."""
    if not isinstance(messages, list):
        fail("messages", "must be a list of message objects")
    state = PendingCalls(open_calls, id_salt)
    return [_message_in(raw, f"messages[{i}]", state) for i, raw in enumerate(messages)]


def from_internal(messages: list[Message]) -> list[dict]:
    """Chat Completions messages for the internal ones (normalizations in the module doc)."""
    out: list[dict] = []
    for i, message in enumerate(messages):
        if message["role"] == "assistant":
            out.extend(_assistant_out(message, f"messages[{i}]"))
        else:
            out.extend(_user_out(message, f"messages[{i}]"))
    return out


# --- In ---


def _message_in(raw: Any, where: str, state: PendingCalls) -> Message:
    if not isinstance(raw, dict):
        fail(where, "must be an object with a role and content")
    role = raw.get("role")
    if role is None:
        fail(where, f"missing role; {_ROLE_HINT}")
    if role not in _ROLES:
        fail(f"{where}.role", f"unknown role {role!r}; {_ROLE_HINT}")
    meta: dict[str, Any] = {}
    if isinstance(raw.get("id"), str):
        meta["id"] = raw["id"]
    if role == "assistant":
        parts = _assistant_in(raw, where, state)
    elif role == "tool":
        parts = [_tool_in(raw, where)]
    elif role == "function":
        parts = [_function_in(raw, where, state)]
    else:
        if raw.get("content") is None:
            fail(f"{where}.content", f"is required in a {role} message")
        parts = _content_in(raw["content"], f"{where}.content")
        if role != "user":
            meta["original_role"] = role
    if role != "function" and "name" in raw:
        meta["name"] = text_value(raw, "name", where)
    role_out = "assistant" if role == "assistant" else "user"
    return with_meta({"role": role_out, "parts": parts}, meta)  # type: ignore[return-value]


def _content_in(content: Any, where: str) -> list[dict]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [_part_in(item, f"{where}[{j}]") for j, item in enumerate(content)]
    fail(where, "must be a string or a list of content parts")


def _keep(part: dict, raw: dict, known: tuple[str, ...], meta: dict | None = None) -> dict:
    meta = dict(meta or {})
    extra = extras(raw, known)
    if extra:
        meta["openai_extra"] = extra
    return with_meta(part, meta)


def _part_in(item: Any, where: str) -> dict:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        fail(where, 'must be an object with a string type, e.g. {"type": "text", "text": "..."}')
    kind = item["type"]
    if kind == "text":
        return _keep(
            {"type": "text", "text": text_value(item, "text", where)}, item, ("type", "text")
        )
    if kind == "refusal":
        part = {"type": "text", "text": text_value(item, "refusal", where)}
        return _keep(part, item, ("type", "refusal"), {"refusal": True})
    if kind == "image_url":
        return _image_in(item, where)
    if kind == "input_audio":
        return _audio_in(item, where)
    if kind == "file":
        return _file_in(item, where)
    return {"type": "opaque", "source_format": "openai", "value": item}


def _url_source(url: str, where: str, field: str) -> dict:
    if url[:5].lower() == "data:":
        media_type, data = parse_data_url(url, where, field)
        return {"kind": "base64", "media_type": media_type, "data": data}
    if is_http_url(url):
        return {"kind": "url", "url": url}
    fail(where, f"{field} must be a data: URL or http(s) URL")


def _image_in(item: dict, where: str) -> dict:
    spec = item.get("image_url")
    if isinstance(spec, str):  # some SDKs send the URL bare
        spec = {"url": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
        fail(where, "image_url.url must be a string: a data: URL or an http(s) URL")
    source = _url_source(spec["url"], where, "image_url.url")
    meta = {"detail": spec["detail"]} if "detail" in spec else {}
    return _keep({"type": "image", "source": source}, item, ("type", "image_url"), meta)


def _audio_in(item: dict, where: str) -> dict:
    spec = item.get("input_audio")
    if not (
        isinstance(spec, dict)
        and isinstance(spec.get("data"), str)
        and isinstance(spec.get("format"), str)
    ):
        fail(where, "input_audio needs string data (base64) and format (e.g. wav, mp3)")
    media_type = _AUDIO_MIME.get(spec["format"], f"audio/{spec['format']}")
    source = {"kind": "base64", "media_type": media_type, "data": spec["data"]}
    return _keep({"type": "audio", "source": source}, item, ("type", "input_audio"))


def _file_in(item: dict, where: str) -> dict:
    spec = item.get("file")
    if not isinstance(spec, dict):
        fail(where, "file must be an object with file_data (a base64 data: URL) or file_id")
    if "file_data" not in spec and isinstance(spec.get("file_id"), str):
        return {"type": "opaque", "source_format": "openai", "value": item}
    data = text_value(spec, "file_data", f"{where}.file")
    filename = spec.get("filename")
    if filename is not None and not isinstance(filename, str):
        fail(f"{where}.file", "filename must be a string")
    if data[:5].lower() == "data:":
        media_type, data = parse_data_url(data, where, "file.file_data")
    elif filename and filename.lower().endswith(".pdf"):
        media_type = "application/pdf"
    else:
        media_type = "application/octet-stream"
    part: dict[str, Any] = {
        "type": "file",
        "source": {"kind": "base64", "media_type": media_type, "data": data},
    }
    if filename:
        part["filename"] = filename
    return _keep(part, item, ("type", "file"))


def _assistant_in(raw: dict, where: str, state: PendingCalls) -> list[dict]:
    parts: list[dict] = []
    if raw.get("content") is not None:
        parts.extend(_content_in(raw["content"], f"{where}.content"))
    refusal = raw.get("refusal")
    if refusal is not None:
        if not isinstance(refusal, str):
            fail(f"{where}.refusal", "must be a string")
        parts.append({"type": "text", "text": refusal, "meta": {"refusal": True}})
    calls = raw.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            fail(f"{where}.tool_calls", "must be a list of tool calls")
        parts.extend(
            _tool_call_in(call, f"{where}.tool_calls[{k}]") for k, call in enumerate(calls)
        )
    if raw.get("function_call") is not None:
        parts.append(_legacy_call_in(raw["function_call"], f"{where}.function_call", state))
    return parts


def _arguments(spec: dict, where: str) -> str:
    arguments = spec.get("arguments")
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, dict):  # some SDKs send an object; OpenAI itself sends JSON text
        return compact_json(arguments, f"{where}.arguments")
    fail(where, 'arguments must be a string of JSON text, e.g. \'{"path": "a.py"}\'')


def _tool_call_in(call: Any, where: str) -> dict:
    if not isinstance(call, dict):
        fail(where, 'must be an object: {"id", "type": "function", "function": {name, arguments}}')
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        fail(where, "id must be a non-empty string")
    kind = call.get("type", "function")
    if kind == "custom":
        spec = call.get("custom")
        if not isinstance(spec, dict):
            fail(where, "custom must be an object with name and input")
        name = text_value(spec, "name", f"{where}.custom")
        arguments = text_value(spec, "input", f"{where}.custom")
        return {
            "type": "tool-call",
            "id": call_id,
            "name": name,
            "arguments": arguments,
            "meta": {"openai_type": "custom"},
        }
    if kind != "function":
        fail(f"{where}.type", f"unknown tool call type {kind!r}; use function")
    spec = call.get("function")
    if not isinstance(spec, dict):
        fail(where, "function must be an object with name and arguments")
    name = text_value(spec, "name", f"{where}.function")
    arguments = _arguments(spec, f"{where}.function")
    return {"type": "tool-call", "id": call_id, "name": name, "arguments": arguments}


def _legacy_call_in(spec: Any, where: str, state: PendingCalls) -> dict:
    if not isinstance(spec, dict):
        fail(where, "must be an object with name and arguments")
    name = text_value(spec, "name", where)
    arguments = _arguments(spec, where)
    call_id = stable_id(state.salt, "openai-function", name, arguments, str(state.calls))
    state.calls += 1
    state.add(call_id, name)
    return {
        "type": "tool-call",
        "id": call_id,
        "name": name,
        "arguments": arguments,
        "meta": {"openai_legacy": True, "generated_id": True},
    }


def _result_content_in(content: Any, where: str) -> list[dict]:
    return [] if content is None else _content_in(content, where)


def _tool_in(raw: dict, where: str) -> dict:
    call_id = raw.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        fail(
            f"{where}.tool_call_id",
            "a tool message needs tool_call_id, the id of the assistant tool call it answers",
        )
    content = _result_content_in(raw.get("content"), f"{where}.content")
    return {"type": "tool-result", "tool_call_id": call_id, "content": content}


def _function_in(raw: dict, where: str, state: PendingCalls) -> dict:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        fail(f"{where}.name", "a function message needs name, the function it answers")
    content = _result_content_in(raw.get("content"), f"{where}.content")
    call_id = state.take(name)
    if call_id is None:
        body = compact_json(raw.get("content"), f"{where}.content")
        call_id = stable_id(state.salt, "openai-function-result", name, body, str(state.results))
    state.results += 1
    return {
        "type": "tool-result",
        "tool_call_id": call_id,
        "name": name,
        "content": content,
        "meta": {"openai_legacy": True, "generated_id": True},
    }


# --- Out ---


def _collapse(items: list[dict]) -> str | list[dict]:
    """One plain text item is written as a string, the form most callers send."""
    if len(items) == 1 and items[0].get("type") == "text" and len(items[0]) == 2:
        return items[0]["text"]
    return items


def _text_item(text: str) -> dict:
    return {"type": "text", "text": text}


def _user_out(message: Message, where: str) -> list[dict]:
    meta = message.get("meta") or {}
    indexed = list(enumerate(message["parts"]))
    results = [(j, p) for j, p in indexed if p["type"] == "tool-result"]
    rest = [(j, p) for j, p in indexed if p["type"] != "tool-result"]
    name = meta.get("name") if not rest else None
    out = [_result_out(part, f"{where}.parts[{j}]", name) for j, part in results]
    role = meta.get("original_role")
    role = role if role in ("system", "developer") else "user"
    items = _items_out(rest, where, media=role == "user")
    if items:
        msg: dict[str, Any] = {"role": role, "content": _collapse(items)}
        if "name" in meta:
            msg["name"] = meta["name"]
        out.append(msg)
    return out


def _result_out(part: Mapping[str, Any], where: str, name: str | None) -> dict:
    items: list[dict] = []
    for inner in part["content"]:
        if inner.get("type") == "text":
            items.append({"type": "text", "text": inner["text"], **native_extra(inner, "openai")})
        elif inner.get("type") in ("image", "audio", "file"):
            items.append(_text_item(placeholder(inner)))
    if (part.get("meta") or {}).get("openai_legacy"):
        text = "\n".join(item["text"] for item in items)
        return {
            "role": "function",
            "name": part.get("name") or name or "unknown_tool",
            "content": text,
        }
    msg: dict[str, Any] = {"role": "tool", "tool_call_id": part["tool_call_id"]}
    msg["content"] = _collapse(items) if items else ""
    if name is not None:
        msg["name"] = name
    return msg


def _items_out(
    indexed: Sequence[tuple[int, Mapping[str, Any]]], where: str, *, media: bool
) -> list[dict]:
    items: list[dict] = []
    for j, part in indexed:
        kind = part["type"]
        if kind == "text":
            if (part.get("meta") or {}).get("refusal"):
                items.append({"type": "refusal", "refusal": part["text"]})
            else:
                items.append({**_text_item(part["text"]), **native_extra(part, "openai")})
        elif kind == "thinking":
            items.append(_text_item(part["text"]))
        elif kind in ("image", "audio", "file"):
            items.append(_media_out(part, f"{where}.parts[{j}]", media))
        elif kind == "opaque" and part.get("source_format") == "openai":
            items.append(part["value"])
        # tool-call parts are written by the caller; redacted thinking and other formats'
        # opaque parts have no OpenAI form and are dropped.
    return items


def _media_out(part: Mapping[str, Any], where: str, media: bool) -> dict:
    source = require_inline(part, where)
    kind = part["type"]
    inline = source["kind"] == "base64"
    if not media or not (inline or (kind == "image" and is_http_url(source["url"]))):
        return _text_item(placeholder(part))
    extra = native_extra(part, "openai")
    if kind == "image":
        spec = {"url": data_url(source) if inline else source["url"]}
        if "detail" in (part.get("meta") or {}):
            spec["detail"] = part["meta"]["detail"]
        return {"type": "image_url", "image_url": spec, **extra}
    if kind == "audio":
        media_type = source.get("media_type") or "audio/wav"
        audio_format = _AUDIO_FORMAT.get(media_type) or media_type.split("/")[-1]
        spec = {"data": source["data"], "format": audio_format}
        return {"type": "input_audio", "input_audio": spec, **extra}
    spec = {"file_data": data_url(source)}
    filename = part.get("filename") or part.get("title")
    if filename:
        spec["filename"] = filename
    return {"type": "file", "file": spec, **extra}


def _assistant_out(message: Message, where: str) -> list[dict]:
    parts = list(enumerate(message["parts"]))
    calls = [p for _, p in parts if p["type"] == "tool-call"]
    items = _items_out([(j, p) for j, p in parts if p["type"] != "tool-call"], where, media=False)
    if not items and not calls:
        return []
    msg: dict[str, Any] = {"role": "assistant"}
    if len(items) == 1 and items[0]["type"] == "refusal":
        msg["content"] = None
        msg["refusal"] = items[0]["refusal"]
    else:
        msg["content"] = _collapse(items) if items else None
    if len(calls) == 1 and (calls[0].get("meta") or {}).get("openai_legacy"):
        msg["function_call"] = {"name": calls[0]["name"], "arguments": calls[0]["arguments"]}
    elif calls:
        msg["tool_calls"] = [_call_out(call) for call in calls]
    name = (message.get("meta") or {}).get("name")
    if name is not None:
        msg["name"] = name
    return [msg]


def _call_out(part: Mapping[str, Any]) -> dict:
    if (part.get("meta") or {}).get("openai_type") == "custom":
        custom = {"name": part["name"], "input": part["arguments"]}
        return {"id": part["id"], "type": "custom", "custom": custom}
    function = {"name": part["name"], "arguments": part["arguments"]}
    return {"id": part["id"], "type": "function", "function": function}
