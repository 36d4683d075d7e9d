"""Reading a data home that cannot be written (a read-only mount, a write-protected folder).

A WAL database normally needs its `-shm` and `-wal` files beside it, which a read-only folder
cannot hold, so a plain open fails with `unable to open database file`. Here the database is
opened `mode=ro` (works when those files exist) and else `immutable=1` (nothing can change the
file while its folder is read-only). Reads then answer; writes fail with SQLITE_READONLY, which
the edges report as "the data home is read-only".
"""

from __future__ import annotations

import os
import sqlite3

from acontext_mcp.config import Settings
from acontext_mcp.errors import READ_ONLY, StorageReadOnly


def home_is_read_only(settings: Settings) -> bool:
    """True when the data home exists but this process may not create files in it."""
    return settings.home.is_dir() and not os.access(settings.home, os.W_OK)


def open_read_only(settings: Settings) -> sqlite3.Connection:
    """A read-only connection to an up-to-date database in a read-only data home."""
    from acontext_mcp.store.migrations import MIGRATIONS, migrate

    if not settings.db_path.is_file():
        raise StorageReadOnly(f"{READ_ONLY} (and it holds no database yet)")
    uri = settings.db_path.absolute().as_uri()
    failure: sqlite3.Error | None = None
    for query in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(
            f"{uri}?{query}",
            uri=True,
            timeout=settings.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                migrate(conn)  # raises SchemaTooNew with its message
            if version < len(MIGRATIONS):
                raise StorageReadOnly(
                    f"{READ_ONLY}; its database also needs an upgrade, which needs writing"
                )
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            failure = exc
        except BaseException:
            conn.close()
            raise
    raise StorageReadOnly(f"{READ_ONLY} (and its database cannot be read: {failure})")
