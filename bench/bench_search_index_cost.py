"""What the message search index (m013) costs capture: store_turn messages/s three ways.

(a) no search triggers at all (the store before m013);
(b) as shipped: triggers only for rows the dashboard has already indexed, so a new message
    costs one extra lookup of the mark (`message_search_state`);
(c) indexing while capturing: an FTS insert in every turn's transaction (the design m013
    does not use), for comparison.
Each run stores the same realistic OpenAI turns (bench/_support.py, 4 messages of 1-2 KB)
into one session of a fresh data home, one transaction a turn as the hooks do; the modes
interleave, median of the runs. Also times deleting those messages (forget's path) once
they are indexed.

    python bench/bench_search_index_cost.py [--turns 250] [--runs 7]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _support import turns

from acontext_mcp.config import Settings
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.store.migrations import SEARCH_TEXT_SQL
from acontext_mcp.store.turns import store_turn
from acontext_mcp.store.ui_sessions import index_pending

MODES = ("no search triggers", "as shipped", "index while capturing")


def _prepare(conn: sqlite3.Connection, mode: str) -> None:
    if mode == "no search triggers":
        for t in ("insert", "delete", "update"):
            conn.execute(f"DROP TRIGGER message_search_{t}")
    elif mode == "index while capturing":
        conn.execute("DROP TRIGGER message_search_insert")
        conn.execute(
            "CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN "
            "INSERT INTO message_search (rowid, body) VALUES "
            f"(NEW.id, {SEARCH_TEXT_SQL.format(col='NEW.parts')}); END"
        )


def run(mode: str, batch: list[list[dict[str, Any]]]) -> tuple[float, float]:
    """(messages/s stored, ms to delete them all once indexed)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        conn = open_db(settings)
        try:
            _prepare(conn, mode)
            started = time.perf_counter()
            sid = None
            for turn in batch:
                sid = store_turn(conn, settings, turn, session_id=sid)["session_id"]
            rate = 4 * len(batch) / (time.perf_counter() - started)
            if mode != "index while capturing":
                while index_pending(conn, 2000):
                    pass
            started = time.perf_counter()
            with atomic(conn):
                conn.execute("DELETE FROM messages")
            return rate, (time.perf_counter() - started) * 1000
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=250)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    batch = turns(args.turns)
    rates: dict[str, list[float]] = {m: [] for m in MODES}
    deletes: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.runs):
        for mode in MODES:
            rate, delete_ms = run(mode, batch)
            rates[mode].append(rate)
            deletes[mode].append(delete_ms)
    base = statistics.median(rates[MODES[0]])
    print(f"store_turn, {4 * args.turns} messages a run, median of {args.runs}:")
    for mode in MODES:
        rate = statistics.median(rates[mode])
        print(
            f"  {mode:<24} {rate:>8,.0f} messages/s ({rate / base:.2f}x)   "
            f"delete all: {statistics.median(deletes[mode]):>6.1f} ms"
        )


if __name__ == "__main__":
    main()
