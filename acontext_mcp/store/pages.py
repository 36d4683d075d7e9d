"""Opaque pagination cursors: base64url JSON, so clients cannot depend on their shape."""

from __future__ import annotations

import json

from acontext_mcp.errors import InvalidInput

# Neither typing nor base64 (~0.6 ms with struct and binascii) at import: the SessionStart
# brief imports the store's readers, which import this, and pages through nothing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def encode_cursor(value: dict[str, Any]) -> str:
    import base64

    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, kind: str) -> dict[str, Any] | None:
    """Decode a cursor made by `encode_cursor` for the same kind of list; None = first page."""
    if cursor is None or cursor == "":
        return None
    import base64

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
