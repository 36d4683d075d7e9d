"""Keeps the message search index (m013's `message_search`) caught up while the dashboard runs.

Capture does not index: an FTS insert in every turn's transaction costs store_turn about a
third of its throughput (bench/bench_search_index_cost.py). The dashboard indexes what is
new instead, in short write transactions of BATCH messages (hooks wait at most one batch for
the write lock): a little at once when a search is asked (so fresh turns are found), the
rest in one background thread per data home that ends when it has caught up. A read-only
data home is searched as far as it is indexed.
"""

from __future__ import annotations

import logging
import threading
import time

from acontext_mcp.config import Settings
from acontext_mcp.store.readonly import home_is_read_only
from acontext_mcp.store.ui_sessions import index_pending

log = logging.getLogger("acontext.ui")

BATCH = 2000  # messages per write transaction
PAUSE_S = 0.02  # between batches: writers get the lock

_lock = threading.Lock()
_running: dict[str, threading.Thread] = {}


def catch_up(settings: Settings, *, budget_s: float) -> bool:
    """Index new messages for at most about `budget_s` seconds; True when caught up."""
    if home_is_read_only(settings):
        return False
    from acontext_mcp.store.db import connect

    deadline = time.monotonic() + budget_s
    conn = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        while True:
            done = index_pending(conn, BATCH)
            if done < BATCH:
                return True
            if time.monotonic() >= deadline:
                return False
    finally:
        conn.close()


def start(settings: Settings) -> bool:
    """Catch the index up in a background thread (one per data home); True if one runs."""
    if home_is_read_only(settings):
        return False
    key = str(settings.db_path)
    with _lock:
        thread = _running.get(key)
        if thread is not None and thread.is_alive():
            return True
        thread = threading.Thread(
            target=_run, args=(settings,), name="acontext-ui-search-index", daemon=True
        )
        _running[key] = thread
        thread.start()
    return True


def _run(settings: Settings) -> None:
    started, total = time.monotonic(), 0
    try:
        from acontext_mcp.store.db import connect

        conn = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
        try:
            while (done := index_pending(conn, BATCH)) > 0:
                total += done
                time.sleep(PAUSE_S)
        finally:
            conn.close()
    except Exception:  # the page says the index is behind; the log says why
        log.exception("indexing messages for search stopped after %d", total)
        return
    if total:
        log.info("indexed %d messages for search in %.1f s", total, time.monotonic() - started)
