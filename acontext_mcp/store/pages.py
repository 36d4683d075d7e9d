"""Opaque pagination cursors: base64url JSON, so clients cannot depend on their shape."""

from __future__ import annotations

import base64
import json

from acontext_mcp.errors import InvalidInput

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (see hooks/run.py)
if TYPE_CHECKING:
    from typing import Any


def encode_cursor(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, kind: str) -> dict[str, Any] | None:
    """Decode a cursor made by `encode_cursor` for the same kind of list; None = first page."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "cursor is not valid: pass the next_cursor value from the previous page unchanged, "
            "or omit it for the first page"
        ) from exc
    if not isinstance(value, dict) or value.get("k") != kind:
        raise InvalidInput(f"cursor belongs to another list: pass a next_cursor from {kind}")
    return value


def clamp_limit(limit: int | None, *, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1 (got {limit})")
    return min(limit, maximum)
