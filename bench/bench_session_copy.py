"""Session copy and the list_sessions configs filter on a real SQLite file.

Each run fills a fresh data home with one session of `--turns` realistic OpenAI turns (four
1-2 KB messages each; one 20 KB image, stored as a blob), one task per 10 turns linked to its
turns' messages, and one event per turn, plus `--others` small sessions, every tenth with a
`source: bot` config. Then it times (a) `copy_session` of the big session (one transaction:
messages, tasks, links, events, tracker cursor), (b) `list_sessions(configs={"source":
"bot"})` first page and (c) the same listing unfiltered. Prints the median, min and max.

    python bench/bench_session_copy.py [--turns 1000] [--others 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from pathlib import Path

from _support import median, turns

from acontext_mcp.app.sessions import copy_session
from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.events import add_event
from acontext_mcp.store.messages import store_messages
from acontext_mcp.store.sessions import ensure_session, list_sessions
from acontext_mcp.store.tasks import insert_task, link_messages
from acontext_mcp.store.turns import store_turn


def one_run(root: Path, n_turns: int, others: int) -> dict[str, float]:
    settings = Settings(home=root / "home", skills_dir=root / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    try:
        ids: list[int] = []
        for i, turn in enumerate(turns(n_turns)):
            ids += store_turn(conn, settings, turn, session_id="big")["message_ids"]
            add_event(conn, "big", "note", {"turn": i})
            if i % 10 == 9:
                task = insert_task(conn, "big", f"task {i // 10}", status="success")
                link_messages(conn, task["id"], ids[-40:])
        image = base64.b64encode(bytes(range(256)) * 80).decode()
        shot = {
            "role": "user",
            "parts": [{"type": "image", "source": {"kind": "base64", "data": image}}],
        }
        store_messages(conn, settings, "big", [shot], fmt="acontext")  # type: ignore[list-item]
        for s in range(others):
            configs = {"source": "bot"} if s % 10 == 0 else {"source": "human"}
            ensure_session(conn, f"other-{s}", configs=configs)
        started = time.perf_counter()
        out = copy_session(conn, "big")
        copied = time.perf_counter() - started
        assert out["messages"] == len(ids) + 1
        started = time.perf_counter()
        page = list_sessions(conn, configs={"source": "bot"})
        filtered = time.perf_counter() - started
        assert len(page["sessions"]) == 20
        started = time.perf_counter()
        list_sessions(conn)
        plain = time.perf_counter() - started
        return {
            "messages": float(out["messages"]),
            "copy_s": copied,
            "filter_ms": filtered * 1000,
            "plain_ms": plain * 1000,
        }
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--others", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(one_run(Path(tmp), args.turns, args.others))
    messages = int(results[0]["messages"])
    for key, label in (
        ("copy_s", f"copy_session ({messages} messages)"),
        ("filter_ms", f"list_sessions configs filter ({args.others + 1} sessions), ms"),
        ("plain_ms", "list_sessions unfiltered, ms"),
    ):
        values = [r[key] for r in results]
        print(f"{label}: median {median(values):.3f}  min {min(values):.3f}  max {max(values):.3f}")
    copy_rate = messages / median([r["copy_s"] for r in results])
    print(f"copy rate: {copy_rate:,.0f} messages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
