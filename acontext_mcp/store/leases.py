"""The `leases` table: named leases, at most one live holder per name (its one writer).

A holder renews its lease well before it expires; one that dies simply stops renewing, and
once `until` passes anyone may take the lease. Times are wall-clock seconds (time.time()):
leases are shared between processes. Stdlib only: hooks check the lease.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from acontext_mcp.store.db import atomic

WORKER = "worker"


def acquire(conn: sqlite3.Connection, holder: str, ttl_s: float, *, name: str = WORKER) -> bool:
    """Take (or re-take) the lease unless another holder's lease is still live."""
    now = time.time()
    with atomic(conn):
        row = conn.execute("SELECT holder, until FROM leases WHERE name = ?", (name,)).fetchone()
        if row is not None and row["holder"] != holder and row["until"] > now:
            return False
        conn.execute(
            "INSERT INTO leases (name, holder, until, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until, "
            "updated_at = excluded.updated_at",
            (name, holder, now + ttl_s, now),
        )
        return True


def renew(conn: sqlite3.Connection, holder: str, ttl_s: float, *, name: str = WORKER) -> bool:
    """Extend the lease; False when `holder` no longer has it (it expired and was taken)."""
    now = time.time()
    with atomic(conn):
        cur = conn.execute(
            "UPDATE leases SET until = ?, updated_at = ? WHERE name = ? AND holder = ?",
            (now + ttl_s, now, name, holder),
        )
        return cur.rowcount == 1


def release(conn: sqlite3.Connection, holder: str, *, name: str = WORKER) -> bool:
    """Give the lease up (only if `holder` still has it)."""
    with atomic(conn):
        cur = conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
        return cur.rowcount == 1


def current(conn: sqlite3.Connection, *, name: str = WORKER) -> dict[str, Any] | None:
    """The live lease {holder, until, updated_at}, or None when free or expired."""
    row = conn.execute(
        "SELECT holder, until, updated_at FROM leases WHERE name = ? AND until > ?",
        (name, time.time()),
    ).fetchone()
    return dict(row) if row else None
