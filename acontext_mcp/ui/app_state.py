"""What every page handler reads from the app: its Settings (kept apart from app.py, which
imports the pages)."""

from __future__ import annotations

from starlette.requests import Request

from acontext_mcp.config import Settings


def settings_of(request: Request) -> Settings:
    """The Settings the app was built with (pages read their data home through it)."""
    settings: Settings = request.app.state.settings
    return settings
