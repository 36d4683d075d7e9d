"""What the damage checks cost: `PRAGMA quick_check` (run by the MCP server when it opens the
store, and by doctor above 256 MB) and `PRAGMA integrity_check` (doctor up to 256 MB), on a
real store grown with realistic turns through `store_turn` to each size asked for.

Prints the file size, the median of the runs for each check (a fresh connection each run, so
what a server start pays; the OS page cache is warm after the first run, as it is for a store
in daily use), and the ratio between the two.

    python bench/bench_integrity.py [--mb 64 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _support import median, turns

from acontext_mcp.config import Settings
from acontext_mcp.store import integrity
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn


def grow(settings: Settings, mb: int) -> None:
    """Store realistic turns (new sessions of 50 turns) until the file reaches `mb` MB."""
    conn = open_db(settings)
    batch = turns(50)
    try:
        while settings.db_path.stat().st_size < mb * 1024 * 1024:
            for _ in range(20):
                sid = None
                for turn in batch:
                    sid = store_turn(conn, settings, turn, session_id=sid)["session_id"]
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def timed(db: Path, quick: bool, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _, problems = integrity.check(db, quick=quick)
        times.append(time.perf_counter() - started)
        assert not problems, problems
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; median of {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        settings = Settings(home=home, skills_dir=home / "skills")
        for mb in sorted(args.mb):
            started = time.perf_counter()
            grow(settings, mb)
            size = settings.db_path.stat().st_size / 1024 / 1024
            quick = timed(settings.db_path, True, args.runs)
            full = timed(settings.db_path, False, args.runs)
            print(
                f"{size:7.1f} MB (filled in {time.perf_counter() - started:.0f} s): "
                f"quick_check {quick * 1000:7.0f} ms, integrity_check {full * 1000:7.0f} ms "
                f"({full / quick:.1f}x)"
            )


if __name__ == "__main__":
    main()
