"""Anthropic Messages API messages <-> the internal form (see parts.py).

In: roles user and assistant (a `system` message is taken as user text with
meta.original_role, like OpenAI's); content a string or blocks. cache_control and citations go
to part meta, other unmapped block keys to meta["anthropic_extra"]; tool_use input becomes
compact JSON text; text documents are stored base64 with media_type text/plain; unknown block
types, and images or documents whose source is a file id or content list, are kept verbatim as
opaque parts. Out, normalized to stay valid Messages API input:
- roles are user/assistant only, so an original_role of system or developer is written as user;
- tool_use input is an object again; arguments that are not a JSON object become {"_raw": text};
- tool_result blocks come first in a user message, as the API requires;
- thinking without a signature (from other formats) becomes text; audio, images other than
  JPEG/PNG/GIF/WebP and files other than PDF/plain text become a placeholder such as
  "[file: video/mp4]";
- empty text blocks are dropped, and a message left with nothing is dropped;
- message content is always a list of blocks (the form the API answers with), so a string
  comes back as one text block; tool_result content that is one plain text block is written
  as a string (the form callers mostly send); meta["id"] is not written;
- a document's title falls back to the file's filename; other formats' opaque parts are dropped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from acontext_mcp.formats._common import (
    args_object,
    compact_json,
    extras,
    fail,
    is_http_url,
    native_extra,
    placeholder,
    require_inline,
    text_value,
    with_meta,
)
from acontext_mcp.formats.parts import Message

_ROLES = ("user", "assistant", "system")
_META_KEYS = ("cache_control", "citations")
_KNOWN = {
    "text": ("type", "text"),
    "image": ("type", "source"),
    "document": ("type", "source", "title"),
    "tool_use": ("type", "id", "name", "input"),
    "tool_result": ("type", "tool_use_id", "content", "is_error"),
    "thinking": ("type", "thinking", "signature"),
    "redacted_thinking": ("type", "data"),
}
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_DOCUMENT_TYPES = ("application/pdf", "text/plain")
_NESTED = ("text", "image", "document")  # what a tool_result may hold, besides opaque blocks


def to_internal(messages: list[dict]) -> list[Message]:
    """Normalize Messages API messages; unknown block types survive as opaque parts."""
    if not isinstance(messages, list):
        fail("messages", "must be a list of message objects")
    return [_message_in(raw, f"messages[{i}]") for i, raw in enumerate(messages)]


def from_internal(messages: list[Message]) -> list[dict]:
    """Messages API messages for the internal ones (normalizations in the module doc)."""
    out: list[dict] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        blocks = []
        for j, part in enumerate(message["parts"]):
            block = _block_out(part, f"{where}.parts[{j}]")
            if block is not None:
                blocks.append(block)
        if message["role"] == "user":
            blocks.sort(key=lambda block: block.get("type") != "tool_result")  # stable
        if blocks:
            out.append({"role": message["role"], "content": blocks})
    return out


# --- In ---


def _message_in(raw: Any, where: str) -> Message:
    if not isinstance(raw, dict):
        fail(where, "must be an object with a role and content")
    role = raw.get("role")
    if role is None:
        fail(where, "missing role; use user or assistant")
    if role not in _ROLES:
        fail(f"{where}.role", f"unknown role {role!r}; use user or assistant")
    content = raw.get("content")
    if isinstance(content, str):
        parts = [{"type": "text", "text": content}]
    elif isinstance(content, list):
        parts = [_block_in(block, f"{where}.content[{j}]") for j, block in enumerate(content)]
    else:
        fail(f"{where}.content", "must be a string or a list of content blocks")
    meta: dict[str, Any] = {}
    if isinstance(raw.get("id"), str):
        meta["id"] = raw["id"]
    if role == "system":
        meta["original_role"] = "system"
    role_out = "assistant" if role == "assistant" else "user"
    return with_meta({"role": role_out, "parts": parts}, meta)  # type: ignore[return-value]


def _block_in(block: Any, where: str, *, nested: bool = False) -> dict:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        fail(where, 'must be an object with a string type, e.g. {"type": "text", "text": "..."}')
    kind = block["type"]
    known = _KNOWN.get(kind)
    part = None
    if known is not None and (kind in _NESTED or not nested):
        part = _BUILDERS[kind](block, where)
    if part is None:
        return {"type": "opaque", "source_format": "anthropic", "value": block}
    meta = {key: block[key] for key in _META_KEYS if key in block}
    extra = extras(block, (*known, *_META_KEYS))  # type: ignore[misc]
    if extra:
        meta["anthropic_extra"] = extra
    return with_meta(part, meta)


def _text_in(block: dict, where: str) -> dict:
    return {"type": "text", "text": text_value(block, "text", where)}


def _source_in(block: dict, where: str, *, document: bool) -> dict | None:
    source = block.get("source")
    if not isinstance(source, dict):
        fail(where, "source must be an object with a type (base64 or url)")
    kind = source.get("type")
    here = f"{where}.source"
    if kind == "base64":
        media_type = text_value(source, "media_type", here)
        return {
            "kind": "base64",
            "media_type": media_type,
            "data": text_value(source, "data", here),
        }
    if kind == "url":
        return {"kind": "url", "url": text_value(source, "url", here)}
    if document and kind == "text":
        data = base64.b64encode(text_value(source, "data", here).encode()).decode("ascii")
        media_type = source.get("media_type") or "text/plain"
        return {"kind": "base64", "media_type": media_type, "data": data}
    return None  # file ids, content lists: kept verbatim as an opaque part


def _image_in(block: dict, where: str) -> dict | None:
    source = _source_in(block, where, document=False)
    return None if source is None else {"type": "image", "source": source}


def _document_in(block: dict, where: str) -> dict | None:
    source = _source_in(block, where, document=True)
    if source is None:
        return None
    part: dict[str, Any] = {"type": "file", "source": source}
    if block.get("title") is not None:
        part["title"] = text_value(block, "title", where)
    return part


def _tool_use_in(block: dict, where: str) -> dict:
    call_id = block.get("id")
    if not isinstance(call_id, str) or not call_id:
        fail(where, "tool_use id must be a non-empty string")
    name = text_value(block, "name", where)
    if not isinstance(block.get("input"), dict):
        fail(where, "tool_use input must be an object")
    arguments = compact_json(block["input"], f"{where}.input")
    return {"type": "tool-call", "id": call_id, "name": name, "arguments": arguments}


def _tool_result_in(block: dict, where: str) -> dict:
    call_id = block.get("tool_use_id")
    if not isinstance(call_id, str) or not call_id:
        fail(where, "tool_result needs tool_use_id, the id of the tool_use block it answers")
    content = block.get("content")
    if content is None:
        inner = []
    elif isinstance(content, str):
        inner = [{"type": "text", "text": content}]
    elif isinstance(content, list):
        here = f"{where}.content"
        inner = [_block_in(item, f"{here}[{k}]", nested=True) for k, item in enumerate(content)]
    else:
        fail(f"{where}.content", "must be a string or a list of text/image blocks")
    part: dict[str, Any] = {"type": "tool-result", "tool_call_id": call_id, "content": inner}
    if "is_error" in block:
        if not isinstance(block["is_error"], bool):
            fail(f"{where}.is_error", "must be true or false")
        part["is_error"] = block["is_error"]
    return part


def _thinking_in(block: dict, where: str) -> dict:
    part = {"type": "thinking", "text": text_value(block, "thinking", where)}
    if block.get("signature") is not None:
        part["signature"] = text_value(block, "signature", where)
    return part


def _redacted_in(block: dict, where: str) -> dict:
    return {"type": "redacted_thinking", "data": text_value(block, "data", where)}


_BUILDERS: dict[str, Callable[[dict, str], dict | None]] = {
    "text": _text_in,
    "image": _image_in,
    "document": _document_in,
    "tool_use": _tool_use_in,
    "tool_result": _tool_result_in,
    "thinking": _thinking_in,
    "redacted_thinking": _redacted_in,
}


# --- Out ---


def _collapse(blocks: list[dict]) -> str | list[dict]:
    """Tool-result content of one plain text block is written as a string."""
    if len(blocks) == 1 and blocks[0].get("type") == "text" and len(blocks[0]) == 2:
        return blocks[0]["text"]
    return blocks


def _native(part: Mapping[str, Any]) -> dict:
    meta = part.get("meta") or {}
    out = {key: meta[key] for key in _META_KEYS if key in meta}
    out.update(native_extra(part, "anthropic"))
    return out


def _block_out(part: Mapping[str, Any], where: str, *, keep_empty: bool = False) -> dict | None:
    kind = part["type"]
    if kind == "text":
        if not part["text"] and not keep_empty and not _native(part):
            return None  # the API refuses empty text blocks
        block = {"type": "text", "text": part["text"]}
    elif kind == "thinking":
        if "signature" not in part:  # only Anthropic-signed thinking may go back as thinking
            return {"type": "text", "text": part["text"]} if part["text"] else None
        block = {"type": "thinking", "thinking": part["text"], "signature": part["signature"]}
    elif kind == "redacted_thinking":
        block = {"type": "redacted_thinking", "data": part["data"]}
    elif kind in ("image", "file"):
        block = _media_out(part, where)
    elif kind == "audio":
        return {"type": "text", "text": placeholder(part)}
    elif kind == "tool-call":
        block = {"type": "tool_use", "id": part["id"], "name": part["name"]}
        block["input"] = args_object(part["arguments"])
    elif kind == "tool-result":
        block = _result_out(part, where)
    elif kind == "opaque" and part.get("source_format") == "anthropic":
        return part["value"]
    else:
        return None
    return {**block, **_native(part)}


def _media_out(part: Mapping[str, Any], where: str) -> dict:
    source = require_inline(part, where)
    media_type = source.get("media_type")
    accepted = _IMAGE_TYPES if part["type"] == "image" else _DOCUMENT_TYPES
    url = source["kind"] == "url"
    if (media_type and media_type not in accepted) or (url and not is_http_url(source["url"])):
        return {"type": "text", "text": placeholder(part)}  # e.g. video, or a gs:// URI
    if url:
        wire: dict[str, Any] = {"type": "url", "url": source["url"]}
    elif part["type"] == "file" and media_type == "text/plain":
        try:
            text = base64.b64decode(source["data"]).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            fail(f"{where}.source.data", "must be valid base64")
        wire = {"type": "text", "media_type": "text/plain", "data": text}
    else:
        default = "image/png" if part["type"] == "image" else "application/pdf"
        wire = {"type": "base64", "media_type": media_type or default, "data": source["data"]}
    if part["type"] == "image":
        return {"type": "image", "source": wire}
    block: dict[str, Any] = {"type": "document", "source": wire}
    title = part.get("title") or part.get("filename")
    if title:
        block["title"] = title
    return block


def _result_out(part: Mapping[str, Any], where: str) -> dict:
    content = []
    for k, inner in enumerate(part["content"]):
        block = _block_out(inner, f"{where}.content[{k}]", keep_empty=True)
        if block is not None:
            content.append(block)
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": part["tool_call_id"]}
    if content:
        out["content"] = _collapse(content)
    if "is_error" in part:
        out["is_error"] = part["is_error"]
    return out
