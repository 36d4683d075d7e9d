"""Connections and transactions.

Every connection runs in autocommit mode (`isolation_level=None`) so that transactions are
explicit: `atomic()` opens `BEGIN IMMEDIATE` at the outer level (take the write lock up front,
so two writers never deadlock upgrading a read lock) and a savepoint when nested.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.private import create_private_file, private_mkdir
from acontext_mcp.store.integrity import StoreDamaged, check_at_start, known_damage

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

PAGE_SIZE = 16384


class StoreConnection(sqlite3.Connection):
    """A store connection; `damage` says why it must not write (see store/integrity.py)."""

    damage: str | None = None


def connect(path: Path | str, *, busy_timeout_ms: int = 10_000) -> sqlite3.Connection:
    """Open a connection with WAL, foreign keys and a busy timeout; rows behave like dicts.
    A database known to be damaged opens read-only: reads still try, `atomic` refuses."""
    if str(path) != ":memory:":
        # Owner-only from the start: SQLite gives the -wal and -shm files the db file's mode.
        private_mkdir(Path(path).parent)
        create_private_file(Path(path))
    conn = sqlite3.connect(
        str(path),
        timeout=busy_timeout_ms / 1000,
        isolation_level=None,
        check_same_thread=False,
        factory=StoreConnection,
    )
    conn.row_factory = sqlite3.Row
    # 16 KB pages for a new database (an existing one keeps its own until `forget --vacuum`):
    # rows of 1-3 KB leave a fifth of a 4 KB page empty, a twentieth of a 16 KB one.
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    mode = _switch_to_wal(conn, busy_timeout_ms)
    if str(path) != ":memory:" and mode.lower() != "wal":
        conn.close()
        raise sqlite3.OperationalError(f"could not switch {path} to WAL mode (got {mode})")
    # WAL + NORMAL is durable across application crashes; only power loss can drop the
    # last transactions, never corrupt the file.
    conn.execute("PRAGMA synchronous = NORMAL")
    if str(path) != ":memory:":
        honour_damage(conn, Path(path))
    return conn


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> str:
    """`PRAGMA journal_mode = WAL`, retried within the busy timeout: while another process
    creates the same new database, SQLite answers the switch "database is locked" at once,
    without waiting in its busy handler (two `acontext-mcp ui`, or two hooks, starting on a
    fresh data home)."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    delay = 0.005
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def honour_damage(conn: sqlite3.Connection, path: Path) -> None:
    """Make `conn` read-only if `path` is known to be damaged (one failed open() if not)."""
    if getattr(conn, "damage", None) is None and (damage := known_damage(path)):
        conn.damage = damage  # type: ignore[attr-defined]
        conn.execute("PRAGMA query_only = ON")  # also stops writes made outside `atomic`


def open_db(settings: Settings) -> sqlite3.Connection:
    """Connect to the data home's database and bring its schema up to date."""
    from acontext_mcp.store.migrations import migrate

    settings.ensure_dirs()
    conn = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        upgraded = migrate(conn)
    except BaseException:
        conn.close()
        raise
    if upgraded:
        # A fresh connection after an upgrade: one that ran ALTER TABLE ... RENAME (m010)
        # keeps state that makes a later wal_checkpoint fail with "database table is locked".
        conn.close()
        conn = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    return conn


@contextmanager
def atomic(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One transaction (or a savepoint inside one). Rolls back on any exception, re-raising it."""
    if conn.in_transaction:
        name = "sp_" + os.urandom(4).hex()  # not `secrets`: hooks skip importing it
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            # SQLITE_FULL, IOERR or NOMEM may have rolled back the whole transaction, and
            # the savepoint with it: then re-raise the cause, not `no such savepoint`.
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    damage = getattr(conn, "damage", None)  # set on our Connection subclass only
    if damage:
        raise StoreDamaged(damage)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # Rolling back can itself fail (e.g. the connection is gone); keep the original error.
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# One encoder for every row: json.dumps builds a new JSONEncoder on each call with options.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def dumps(value: Any) -> str:
    """Compact, stable JSON for storage columns."""
    return _ENCODER.encode(value)


def loads(value: str | bytes | None, default: Any = None) -> Any:
    return default if value is None else json.loads(value)


class ConnectionPool:
    """Connections for a threaded server: each borrower gets its own, reused afterwards.

    SQLite connections are not safe to share between concurrent threads; one per borrower,
    with WAL, lets readers run beside a writer. The pool quick_checks the file when it opens
    (see `integrity.check_at_start`); damage found then, or by anyone else later, makes every
    connection read-only from its next borrowing.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._closed = False
        self.read_only = False
        try:
            check_at_start(settings.db_path)  # before anything writes (or migrates)
            first = open_db(settings)  # migrates once, up front
        except (sqlite3.OperationalError, OSError):
            from acontext_mcp.store.readonly import home_is_read_only, open_read_only

            if not home_is_read_only(settings):
                raise
            first, self.read_only = open_read_only(settings), True  # reads still answer
        self._all.append(first)
        self._idle.append(first)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise RuntimeError("connection pool is closed")
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._open()
            self._all.append(conn)
        honour_damage(conn, self._settings.db_path)
        try:
            yield conn
        finally:
            if conn.in_transaction:  # never hand on a connection mid-transaction
                conn.execute("ROLLBACK")
            self._idle.append(conn)

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            from acontext_mcp.store.readonly import open_read_only

            return open_read_only(self._settings)
        return connect(self._settings.db_path, busy_timeout_ms=self._settings.busy_timeout_ms)

    def close(self) -> None:
        self._closed = True
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._idle.clear()


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back an open transaction, if any (a handler that raised mid-transaction)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
