"""Peek into a SQLite file: open it for reading only, never creating it.

For the prompt hook, which reads the skills index (skills-index.db) and the store before it
answers and must neither create, migrate nor switch journal modes while the user waits
(store/readonly.py is the full read-only store, for a data home that cannot be written).
Standard library only."""

from __future__ import annotations

from acontext_mcp.csqlite import sqlite3


def connect_readonly(path: str, *, timeout: float = 1.0) -> sqlite3.Connection | None:
    """A read-only connection to `path`, or None when there is no such database."""
    uri = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    try:
        return sqlite3.connect(f"file:{uri}?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error:
        return None
