"""The dashboard's Sessions and Tasks pages at 10k / 1M messages: server time per page.

Fills (or reuses, with `--keep DIR`) the same data homes as bench_scale.py (store_turn, 200
messages a session, five tasks each, 20 projects, three agents), upgrades them, catches the
message search index up (timed: the one-off cost after an upgrade, in messages/s), then
requests each page through the real app (build_app with its guard; httpx2's ASGI transport,
so no socket or browser time is counted) and prints the median ms of `--runs` requests.
The issue's budget is 200 ms a page at 1M messages.

    python bench/bench_ui_sessions.py [--keep DIR] [--runs 7] [--sizes 10000 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from bench_scale import PROJECTS, home_for, upgrade

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.pages import encode_cursor
from acontext_mcp.store.ui_sessions import index_pending, search_backlog
from acontext_mcp.ui.app import build_app
from acontext_mcp.ui.search_index import BATCH

TOKEN = "bench-token-0123456789abcdef"
HOST = "127.0.0.1:8000"
BUDGET_MS = 200.0


def catch_up(settings: Settings) -> tuple[int, float]:
    """Index the whole backlog as the dashboard does (BATCH a transaction); (messages, s)."""
    conn = open_db(settings)
    try:
        total, started = 0, time.perf_counter()
        while (done := index_pending(conn, BATCH)) > 0:
            total += done
        return total, time.perf_counter() - started
    finally:
        conn.close()


def pages(settings: Settings) -> dict[str, str]:
    """The URLs to time, picked from what the store holds."""
    conn = open_db(settings)
    try:
        assert search_backlog(conn) == 0
        n = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        deep = conn.execute(
            "SELECT updated_at, rowid FROM sessions ORDER BY updated_at DESC, rowid DESC "
            "LIMIT 1 OFFSET ?",
            (int(n * 0.9),),
        ).fetchone()
        sid, seq = conn.execute(
            "SELECT id, seq FROM sessions ORDER BY updated_at LIMIT 1 OFFSET ?", (n // 2,)
        ).fetchone()
        last = conn.execute(
            "SELECT MAX(position) FROM messages WHERE session_seq = ?", (seq,)
        ).fetchone()[0]
        mid = conn.execute(
            "SELECT id FROM messages WHERE session_seq = ? AND position = ?", (seq, last // 2)
        ).fetchone()[0]
        task = conn.execute("SELECT id FROM tasks ORDER BY id LIMIT 1 OFFSET ?", (n,)).fetchone()[0]
        oldest = conn.execute("SELECT MIN(updated_at) FROM sessions").fetchone()[0]
        rare = conn.execute(  # a tool-call id's number: in one message or two
            "SELECT json_extract(parts, '$[0].tool_call_id') FROM messages "
            "WHERE role = 'user' AND parts LIKE '%tool-result%' LIMIT 1 OFFSET ?",
            (n,),
        ).fetchone()[0]
        tdeep = conn.execute(
            "SELECT updated_at, id FROM tasks ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET ?",
            (n * 4,),
        ).fetchone()
    finally:
        conn.close()
    day = time.strftime("%Y-%m-%d", time.localtime(oldest))
    today = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    rare_word = rare.split("_")[1]
    return {
        "sessions (newest)": "/sessions",
        "sessions (page at 90% depth)": "/sessions?before="
        + encode_cursor({"k": "sessions", "v": list(deep)}),
        "sessions ?project=": f"/sessions?project={PROJECTS[7]}",
        "sessions ?agent=openclaw": "/sessions?agent=openclaw",
        "sessions ?since=&until= (one day)": f"/sessions?since={day}&until={day}",
        "search: a common word": "/sessions?q=records",
        "search: two common words": "/sessions?q=records+loaded",
        "search: a rare token": f"/sessions?q={rare_word}",
        "search: common word + project": f"/sessions?q=records&project={PROJECTS[7]}",
        "search: common word + project without it": "/sessions?q=records&project=/nowhere",
        "search: common word + since today (none)": f"/sessions?q=records&since={today}",
        "transcript: first page": f"/sessions/{sid}",
        "transcript: from=100": f"/sessions/{sid}?from=100",
        "transcript: upto=last": f"/sessions/{sid}?upto={last}",
        "message link (redirect)": f"/messages/{mid}",
        "tasks (newest)": "/tasks",
        "tasks (deep page)": "/tasks?before=" + encode_cursor({"k": "tasks", "v": list(tdeep)}),
        "tasks ?status=failed": "/tasks?status=failed",
        "tasks ?outcome=verified_success (none held)": "/tasks?outcome=verified_success",
        "task": f"/tasks/{task}",
    }


async def _time(settings: Settings, urls: dict[str, str], runs: int) -> dict[str, float]:
    app = build_app(settings, token=TOKEN, allowed_hosts={HOST})
    transport = httpx2.ASGITransport(app=app)
    out: dict[str, float] = {}
    async with httpx2.AsyncClient(transport=transport, base_url=f"http://{HOST}") as client:
        login = await client.get(f"/?token={TOKEN}")
        assert login.status_code == 303, login.text
        for name, url in urls.items():
            samples = []
            for i in range(runs + 1):
                t0 = time.perf_counter()
                answer = await client.get(url)
                elapsed = time.perf_counter() - t0
                assert answer.status_code in (200, 303), (url, answer.status_code, answer.text)
                if i:  # the first warms the page cache
                    samples.append(elapsed)
            out[name] = statistics.median(samples) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build homes here once, reuse them after")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        results: dict[int, dict[str, float]] = {}
        for size in args.sizes:
            settings, _ = home_for(root, size)
            took = upgrade(settings)
            if took is not None:
                print(f"{size:>9,} messages: schema upgrade {took:.2f} s")
            indexed, secs = catch_up(settings)
            if indexed:
                print(
                    f"{size:>9,} messages: search index caught up on {indexed:,} messages "
                    f"in {secs:.1f} s ({indexed / secs:,.0f}/s)"
                )
            results[size] = anyio.run(_time, settings, pages(settings), args.runs)
    names = list(next(iter(results.values())))
    width = max(len(n) for n in names)
    print(f"\n{'page (median ms, server side)':<{width}}" + "".join(f"{s:>12,}" for s in results))
    for name in names:
        row: list[Any] = [results[s][name] for s in results]
        flag = "  OVER BUDGET" if max(row) > BUDGET_MS else ""
        print(f"{name:<{width}}" + "".join(f"{v:>12.1f}" for v in row) + flag)


if __name__ == "__main__":
    main()
