"""Helpers the three converters share: errors that name a path, JSON text, stable ids, media.

Native keys a converter does not map are kept in `meta["<format>_extra"]` and restored only
when converting back to that same format, so they never leak into another provider's payload.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import deque
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import unquote_to_bytes

from acontext_mcp.errors import InvalidInput


def fail(where: str, problem: str) -> NoReturn:
    """Raise InvalidInput naming the exact place, so a model can fix that one field."""
    raise InvalidInput(f"{where}: {problem}")


# Built once: json.dumps with options builds a new encoder on every call (each tool call).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any, where: str = "value") -> str:
    """JSON text as tool-call arguments carry it: compact, non-ASCII kept as is."""
    try:
        return _COMPACT.encode(value)
    except (TypeError, ValueError) as exc:
        fail(where, f"must be JSON-serializable ({exc})")


def canonical_json(value: Any) -> str:
    """Key-sorted compact JSON: equal values give equal text, whatever the key order."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def stable_id(*pieces: str) -> str:
    """A deterministic tool-call id for input that has none: same pieces, same id."""
    joined = "\x1f".join(pieces).encode("utf-8", "surrogatepass")
    return "call_" + hashlib.sha256(joined).hexdigest()[:24]


def args_object(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as an object; text that is not a JSON object becomes {"_raw": text}."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_raw": arguments}


class PendingCalls:
    """Tool calls still waiting for a result, matched first in, first out by tool name.

    Formats without call ids (Gemini, OpenAI's legacy `function` role) pair a result with the
    oldest unanswered call of the same name, including calls stored by earlier requests. One
    instance lives for one conversion and also counts calls and results for generated ids,
    which carry `meta.generated_id` so the store does not treat them as provider identities.
    """

    def __init__(self, open_calls: list[tuple[str, str]] | None = None, salt: str = "") -> None:
        self._queues: dict[str, deque[str]] = {}
        # Generated ids are only unique within what the salt covers: the store passes the
        # session and position, so equal calls in later turns get distinct ids.
        self.salt = salt
        self.calls = 0  # ordinals of calls and results seen so far, for generated ids
        self.results = 0
        for index, pair in enumerate(open_calls or ()):
            if not (
                isinstance(pair, (tuple, list))
                and len(pair) == 2
                and all(isinstance(item, str) for item in pair)
            ):
                fail(f"open_calls[{index}]", "must be an (id, name) pair of strings")
            self.add(pair[0], pair[1])

    def add(self, call_id: str, name: str) -> None:
        self._queues.setdefault(name, deque()).append(call_id)

    def take(self, name: str) -> str | None:
        queue = self._queues.get(name)
        return queue.popleft() if queue else None

    def discard(self, call_id: str) -> None:
        for queue in self._queues.values():
            if call_id in queue:
                queue.remove(call_id)
                return


# --- Media ---


def media_kind(media_type: str | None) -> str:
    """Which internal part a MIME type belongs in: image, audio, or file (everything else)."""
    if media_type and media_type.startswith("image/"):
        return "image"
    if media_type and media_type.startswith("audio/"):
        return "audio"
    return "file"


def is_http_url(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def parse_data_url(url: str, where: str, field: str) -> tuple[str, str]:
    """(media_type, base64 data) from a data: URL; non-base64 payloads are re-encoded."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        fail(where, f"{field} is a data: URL without a comma before its payload")
    params = header.split(";")
    media_type = params[0].strip() or "text/plain"
    if any(param.strip().lower() == "base64" for param in params[1:]):
        return media_type, payload
    return media_type, base64.b64encode(unquote_to_bytes(payload)).decode("ascii")


def data_url(source: dict[str, Any]) -> str:
    media_type = source.get("media_type") or "application/octet-stream"
    return f"data:{media_type};base64,{source['data']}"


def require_inline(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The part's source, refusing blob references (the store resolves them before converting)."""
    source = part["source"]
    if source.get("kind") == "blob":
        fail(where, "source.kind 'blob' must be resolved to base64 before conversion")
    return source


def placeholder(part: Mapping[str, Any]) -> str:
    """Short text standing in for media a target format cannot carry, e.g. "[image: image/png]"."""
    source = part.get("source") or {}
    label = source.get("url") if source.get("kind") == "url" else source.get("media_type")
    return f"[{part['type']}: {label}]" if label else f"[{part['type']}]"


# --- Small dict helpers ---


def extras(raw: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key not in known}


def with_meta(part: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Attach meta only when it has something, so plain parts stay plain."""
    if meta:
        part["meta"] = meta
    return part


def native_extra(part: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    """Keys this format kept on the way in (see the module docstring); {} for other formats."""
    return dict((part.get("meta") or {}).get(f"{fmt}_extra") or {})


def text_value(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        fail(where, f"{key} must be a string")
    return value
