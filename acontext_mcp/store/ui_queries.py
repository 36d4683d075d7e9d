"""The dashboard's shared reads: a short read snapshot, and the overview's and disks' queries.

The dashboard reads the data home while hooks and the worker write it. Each page opens its
own connection and reads inside one short transaction (`read_snapshot`): WAL readers never
block writers, the page sees one consistent moment, and no lock outlives the request.
Page-specific readers live beside this file as `store/ui_<page>.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from acontext_mcp.config import Settings


@contextmanager
def read_snapshot(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A query-only connection inside one read transaction, closed on exit."""
    from acontext_mcp.store.db import connect
    from acontext_mcp.store.readonly import home_is_read_only, open_read_only

    if home_is_read_only(settings):
        conn = open_read_only(settings)
    else:
        conn = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
        conn.execute("PRAGMA query_only = ON")
    try:
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")  # nothing was written: end the snapshot
    finally:
        conn.close()
