"""export, forget and import of an export: wall time and messages/s on a real SQLite file.

Each run fills a fresh data home with `--sessions` sessions of `--turns` realistic OpenAI
turns (four 1-2 KB messages each; one 20 KB image per session, stored as a blob), then times:
(a) `write_export` of everything to a file, (b) `forget` of every session (one transaction,
blob files, WAL checkpoint), (c) `restore` of the export (check pass + one transaction per
session), (d) `forget` of one session in the full store (what a user usually does). Prints
the median, min and max of the runs and the export size.

    python bench/bench_forget_export.py [--sessions 50] [--turns 40] [--runs 5]
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

from _support import median, turns

from acontext_mcp.config import Settings
from acontext_mcp.store import forget
from acontext_mcp.store.db import open_db
from acontext_mcp.store.export import write_export
from acontext_mcp.store.messages import store_messages
from acontext_mcp.store.restore import restore
from acontext_mcp.store.turns import store_turn


def one_run(root: Path, sessions: int, per_session: int) -> dict[str, float]:
    settings = Settings(home=root / "home", skills_dir=root / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    try:
        batch = turns(sessions * per_session)
        for s in range(sessions):
            sid = f"bench-{s}"
            for turn in batch[s * per_session : (s + 1) * per_session]:
                store_turn(conn, settings, turn, session_id=sid, project_dir="/work/app")
            png = base64.b64encode(os.urandom(20_000)).decode()
            image = {
                "type": "image",
                "source": {"kind": "base64", "media_type": "image/png", "data": png},
            }
            store_messages(
                conn, settings, sid, [{"role": "user", "parts": [image]}], fmt="acontext"
            )
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        out = root / "export.jsonl"
        t0 = time.perf_counter()
        with open(out, "w", encoding="utf-8") as fh:
            write_export(conn, settings, fh)
        t1 = time.perf_counter()
        forget.forget(conn, settings, forget.select_sessions(conn, everything=True))
        t2 = time.perf_counter()
        restore(conn, settings, out)
        t3 = time.perf_counter()
        forget.forget(conn, settings, ["bench-0"])
        t4 = time.perf_counter()
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] < messages
        return {
            "messages": messages,
            "export_mb": out.stat().st_size / 1e6,
            "export_s": t1 - t0,
            "forget_all_s": t2 - t1,
            "import_s": t3 - t2,
            "forget_one_s": t4 - t3,
        }
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=40, help="turns per session")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(one_run(Path(tmp), args.sessions, args.turns))
    first = results[0]
    print(
        f"python {sys.version.split()[0]}; {args.sessions} sessions, {first['messages']} "
        f"messages, export {first['export_mb']:.1f} MB; {args.runs} runs"
    )
    for key in ("export_s", "forget_all_s", "import_s", "forget_one_s"):
        values = [r[key] for r in results]
        rate = (
            f"  ({first['messages'] / median(values):,.0f} msgs/s)" if key != "forget_one_s" else ""
        )
        print(
            f"{key[:-2]:<12} median {median(values) * 1000:8.1f} ms  "
            f"min {min(values) * 1000:8.1f}  max {max(values) * 1000:8.1f}{rate}"
        )


if __name__ == "__main__":
    main()
