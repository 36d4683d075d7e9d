"""store_turn throughput (messages/s) down three paths, each against a real SQLite file.

(a) the domain function `acontext_mcp.store.turns.store_turn` on one connection: the baseline;
(b) in-process through `mcp.Client(build_server(settings))` (2026 mode, direct dispatch);
(c) over real stdio through `mcp.Client(StdioServerParameters(...))` to `acontext-mcp serve`.

Each run stores the same realistic OpenAI turns (user, assistant with a tool call, tool result,
assistant; 1-2 KB each) into one new session in a fresh data home; start-up is not timed.
Prints the median of the runs and each path's ratio to (a).

    python bench/bench_store_turn.py [--turns 250] [--runs 5]
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from _support import SERVE, median, turns
from mcp import Client, StdioServerParameters

from acontext_mcp.config import Settings
from acontext_mcp.server import build_server
from acontext_mcp.store import turns as turn_store
from acontext_mcp.store.db import open_db

Turns = list[list[dict[str, Any]]]


def _settings(root: Path) -> Settings:
    settings = Settings(home=root / "home", skills_dir=root / "home" / "skills")
    settings.ensure_dirs()
    return settings


def run_domain(root: Path, batch: Turns) -> float:
    settings = _settings(root)
    conn = open_db(settings)
    try:
        started = time.perf_counter()
        sid = None
        for turn in batch:
            sid = turn_store.store_turn(conn, settings, turn, session_id=sid)["session_id"]
        return time.perf_counter() - started
    finally:
        conn.close()


async def _through(client: Client, batch: Turns) -> float:
    await client.call_tool("store_turn", {"messages": batch[0][:1]})  # open the store first
    started = time.perf_counter()
    sid = None
    for turn in batch:
        args: dict[str, Any] = {"messages": turn}
        if sid:
            args["session_id"] = sid
        result = await client.call_tool("store_turn", args)
        if result.is_error:
            raise RuntimeError(result.content[0].text)
        sid = result.structured_content["session_id"]
    return time.perf_counter() - started


async def run_inprocess(root: Path, batch: Turns) -> float:
    async with Client(build_server(_settings(root))) as client:
        return await _through(client, batch)


async def run_stdio(root: Path, batch: Turns) -> float:
    params = StdioServerParameters(
        command=SERVE[0], args=SERVE[1:], env={"ACONTEXT_HOME": str(root / "home")}
    )
    async with Client(params) as client:
        return await _through(client, batch)


def measure(fn: Callable[[Path, Turns], Any], batch: Turns, runs: int) -> list[float]:
    """Messages per second of `runs` runs, each in a fresh data home."""
    rates: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="acontext-bench-") as tmp:
            if inspect.iscoroutinefunction(fn):
                seconds = anyio.run(fn, Path(tmp), batch)
            else:
                seconds = fn(Path(tmp), batch)
        rates.append(sum(len(t) for t in batch) / seconds)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=250, help="turns per run (4 messages each)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    batch = turns(args.turns)
    messages = sum(len(t) for t in batch)
    size = sum(len(str(m)) for t in batch for m in t) / messages
    print(f"{messages} messages per run ({size / 1024:.1f} KB each on average), {args.runs} runs")
    print(f"python {sys.version.split()[0]}\n")

    paths = [
        ("(a) domain function", run_domain),
        ("(b) in-process mcp.Client", run_inprocess),
        ("(c) stdio mcp.Client", run_stdio),
    ]
    baseline = None
    print(f"{'path':28} {'median msg/s':>13} {'min':>8} {'max':>8} {'vs (a)':>8}")
    for label, fn in paths:
        rates = measure(fn, batch, args.runs)
        mid = median(rates)
        baseline = baseline or mid
        print(
            f"{label:28} {mid:13,.0f} {min(rates):8,.0f} {max(rates):8,.0f} {mid / baseline:8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
