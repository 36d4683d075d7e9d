"""Observe a session now (`acontext-mcp flush`, the `flush_session` tool): the worker's flush,
run with the real job handlers."""

from __future__ import annotations

from typing import Any

from acontext_mcp.app.handlers import HANDLERS
from acontext_mcp.config import Settings
from acontext_mcp.worker import flush


def flush_session(
    settings: Settings, session_id: str, timeout_s: float = 60.0, *, hand_on: bool = True
) -> dict[str, Any]:
    """See worker.flush.flush_session."""
    return flush.flush_session(settings, session_id, timeout_s, handlers=HANDLERS, hand_on=hand_on)
