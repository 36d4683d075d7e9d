"""The `disks` table: one row per named disk (its one writer). disk/ owns the files."""

from __future__ import annotations

import sqlite3
import time

from acontext_mcp.store.db import atomic


def disk_id(conn: sqlite3.Connection, name: str) -> int | None:
    """Id of disk `name`, None when it has no row."""
    row = conn.execute("SELECT id FROM disks WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row["id"])


def add_disk(conn: sqlite3.Connection, name: str) -> int:
    """Id of disk `name`, creating its row if needed (safe under concurrent callers)."""
    found = disk_id(conn, name)
    if found is not None:
        return found
    with atomic(conn):
        conn.execute(
            "INSERT INTO disks (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, time.time()),
        )
        return int(conn.execute("SELECT id FROM disks WHERE name = ?", (name,)).fetchone()["id"])


def disk_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every disk's name, meta and created_at, by name."""
    return conn.execute("SELECT name, meta, created_at FROM disks ORDER BY name").fetchall()
