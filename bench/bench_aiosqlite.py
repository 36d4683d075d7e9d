"""Would aiosqlite make the MCP server's reads faster? get_messages three ways, side by side.

(a) today's design: the sync `get_messages` tool; MCPServer runs sync tools in anyio worker
    threads (`anyio.to_thread.run_sync`), each borrowing its own `sqlite3` connection from
    `store.db.ConnectionPool` and calling the store's one API (`turns.read_messages`);
(b) a prototype: an async `get_messages_aio` tool on the same server that awaits the same two
    SELECTs through aiosqlite (one aiosqlite connection, and so one thread, per concurrent
    borrower, opened by the store's own `connect`), then converts the rows on the event loop.
    It has to copy `messages.list_messages` and `turns.read_messages` to do so: a second store
    API, which is the other half of the decision;
(c) the control for (b): the same async tool, but the SELECTs run in a worker thread on a
    `ConnectionPool` sqlite3 connection. What (b) and (c) share (rows converted on the event
    loop instead of in 32 threads) is not aiosqlite's doing; only b/c is.

A data home holds `--sessions` sessions of `--turns` realistic turns each (4 messages of 1-2 KB).
Each run makes `--calls` tool calls through `mcp.Client(build_server(settings))` in-process,
`--concurrency` at a time, each reading one page of `--limit` messages (openai format) of a
session picked round-robin; then the same with store_turn writers running beside the readers
(`--writers` concurrent store_turn calls of one turn each, through the sync tool, in every
case). Prints the median (and best) of `--runs` interleaved runs of calls/s, b/a, c/a, b/c,
after where one call's time goes: the two SELECTs, `turns.read_messages`, and the whole tool
call through mcp.Client.

    python bench/bench_aiosqlite.py [--sessions 8] [--turns 50] [--calls 400] [--limit 50]
                                    [--concurrency 1 8 32] [--writers 4] [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from _support import turns
from mcp import Client
from mcp.server import MCPServer

from acontext_mcp.config import Settings
from acontext_mcp.formats import convert
from acontext_mcp.server import MessagePage, build_server
from acontext_mcp.store import turns as turn_store
from acontext_mcp.store.db import ConnectionPool, connect, open_db
from acontext_mcp.store.messages import row_to_message

try:
    import aiosqlite  # not a dependency of acontext-mcp: README.md, Dependencies, says why
except ModuleNotFoundError:
    raise SystemExit("this comparison needs aiosqlite: .venv/bin/pip install aiosqlite") from None

SQL_SESSION = "SELECT 1 FROM sessions WHERE id = ?"
SQL_PAGE = (
    "SELECT * FROM messages WHERE "
    "session_seq = (SELECT seq FROM sessions WHERE id = ?) AND position > ? "
    "ORDER BY position LIMIT ?"
)


class AioPool:
    """One aiosqlite connection per concurrent borrower, reused: the ConnectionPool's shape."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[aiosqlite.Connection] = []
        self._all: list[aiosqlite.Connection] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._idle:
            conn = self._idle.pop()
        else:
            path, ms = self._settings.db_path, self._settings.busy_timeout_ms
            conn = await aiosqlite.Connection(lambda: connect(path, busy_timeout_ms=ms), 64)
            self._all.append(conn)
        try:
            yield conn
        finally:
            self._idle.append(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()


def add_prototypes(
    server: MCPServer, settings: Settings, pool: AioPool, sync_pool: ConnectionPool
) -> None:
    """Register (b) and (c): `turns.read_messages` for the openai format, the SELECTs awaited
    through aiosqlite, or through a worker thread with today's sqlite3 pool."""

    @server.tool()
    async def get_messages_aio(session_id: str, limit: int = 50) -> MessagePage:
        async with pool.connection() as db:
            if not await db.execute_fetchall(SQL_SESSION, (session_id,)):
                raise ValueError(f"no session {session_id!r}")
            rows: list[Any] = list(await db.execute_fetchall(SQL_PAGE, (session_id, -1, limit)))
        return page(settings, session_id, rows)

    @server.tool()
    async def get_messages_sql_thread(session_id: str, limit: int = 50) -> MessagePage:
        def select() -> list[Any]:
            with sync_pool.connection() as conn:
                if conn.execute(SQL_SESSION, (session_id,)).fetchone() is None:
                    raise ValueError(f"no session {session_id!r}")
                return conn.execute(SQL_PAGE, (session_id, -1, limit)).fetchall()

        return page(settings, session_id, await anyio.to_thread.run_sync(select))


def page(settings: Settings, session_id: str, rows: list[Any]) -> MessagePage:
    """Rows to an openai-format page, on the event loop."""
    out: list[Any] = []
    ids: list[int] = []
    for row in rows:
        item = row_to_message(settings, row, inline=False)
        converted = convert.from_internal([item["message"]], "openai")
        out.extend(converted)
        ids.extend([item["id"]] * len(converted))
    return MessagePage(session_id=session_id, format="openai", messages=out, message_ids=ids)


def fill(settings: Settings, sessions: int, per_session: int) -> list[str]:
    conn = open_db(settings)
    try:
        ids = []
        for s in range(sessions):
            sid = None
            for turn in turns(per_session, seed=s):
                sid = turn_store.store_turn(conn, settings, turn, session_id=sid)["session_id"]
            ids.append(sid)
        return ids
    finally:
        conn.close()


async def one_run(
    settings: Settings,
    sids: list[str],
    tool: str,
    args: argparse.Namespace,
    concurrency: int,
    writers: int,
    writes: list[list[dict[str, Any]]],
) -> tuple[float, int]:
    """Calls per second of `args.calls` reads, `concurrency` at a time; and messages read."""
    server = build_server(settings)
    pool, sync_pool = AioPool(settings), ConnectionPool(settings)
    add_prototypes(server, settings, pool, sync_pool)
    read = 0
    writes = list(writes)  # each run stores its own copies, into new sessions
    done = anyio.Event()
    try:
        async with Client(server) as client:
            # warm: open both pools (the writers use the sync one), load the modules
            await client.call_tool("get_messages", {"session_id": sids[0], "limit": 1})
            for sid in sids:
                await client.call_tool(tool, {"session_id": sid, "limit": 1})
            queue = list(range(args.calls))

            async def reader() -> None:
                nonlocal read
                while queue:
                    i = queue.pop()
                    call = {"session_id": sids[i % len(sids)], "limit": args.limit}
                    result = await client.call_tool(tool, call)
                    if result.is_error:
                        raise RuntimeError(result.content[0].text)
                    read += len(result.structured_content["message_ids"])

            async def writer() -> None:
                sid = None
                while not done.is_set():
                    call: dict[str, Any] = {"messages": writes.pop()}
                    if sid:
                        call["session_id"] = sid
                    result = await client.call_tool("store_turn", call)
                    if result.is_error:
                        raise RuntimeError(result.content[0].text)
                    sid = result.structured_content["session_id"]

            async with anyio.create_task_group() as writing:
                for _ in range(writers):
                    writing.start_soon(writer)
                started = time.perf_counter()
                async with anyio.create_task_group() as reading:
                    for _ in range(concurrency):
                        reading.start_soon(reader)
                seconds = time.perf_counter() - started
                done.set()
    finally:
        await pool.close()
        sync_pool.close()
    return args.calls / seconds, read


def split(settings: Settings, sids: list[str], args: argparse.Namespace) -> None:
    """Where one get_messages call's time goes, in-process and one call at a time: the part
    aiosqlite could take off the event loop (the SQL) beside the rest (rows to messages,
    conversion, the tool's pydantic result, the MCP round trip)."""

    def median_ms(fn: Callable[[], object], runs: int = 200) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    conn = connect(settings.db_path)
    sid = sids[0]
    try:
        sql = median_ms(
            lambda: (
                conn.execute(SQL_SESSION, (sid,)).fetchall(),
                conn.execute(SQL_PAGE, (sid, -1, args.limit)).fetchall(),
            )
        )
        domain = median_ms(
            lambda: turn_store.read_messages(
                conn, settings, sid, limit=args.limit, inline_binary=False
            )
        )
    finally:
        conn.close()

    async def through_client() -> float:
        async with Client(build_server(settings)) as client:
            call = {"session_id": sid, "limit": args.limit}
            await client.call_tool("get_messages", call)
            times = []
            for _ in range(200):
                started = time.perf_counter()
                await client.call_tool("get_messages", call)
                times.append(time.perf_counter() - started)
            return statistics.median(times) * 1000

    tool = anyio.run(through_client)
    print(f"one get_messages call of {args.limit} messages, median of 200, in ms:")
    print(
        f"  the two SELECTs {sql:.3f} | turns.read_messages {domain:.3f} | "
        f"the tool through mcp.Client {tool:.3f} | SQL share {sql / tool:.0%}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--turns", type=int, default=50, help="turns per session (4 messages)")
    parser.add_argument("--calls", type=int, default=400, help="get_messages calls per run")
    parser.add_argument("--limit", type=int, default=50, help="messages per page")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--writers", type=int, default=4, help="store_turn callers beside")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"aiosqlite {aiosqlite.__version__}; {args.sessions} sessions x {args.turns * 4} "
        f"messages, {args.calls} get_messages calls of {args.limit} per run, median of {args.runs}"
    )
    with tempfile.TemporaryDirectory(prefix="acontext-bench-") as tmp:
        home = Path(tmp) / "home"
        settings = Settings(home=home, skills_dir=home / "skills")
        settings.ensure_dirs()
        sids = fill(settings, args.sessions, args.turns)
        writes = turns(3000, seed=99)
        split(settings, sids, args)
        tools = ["get_messages", "get_messages_aio", "get_messages_sql_thread"]
        print(f"\ncalls/s, median (best) of {args.runs}; ratios of the medians")
        print(
            f"{'load':24} {'(a) today':>15} {'(b) aiosqlite':>15} {'(c) SQL thread':>15} "
            f"{'b/a':>5} {'c/a':>5} {'b/c':>5}"
        )
        for writers in sorted({0, args.writers}):
            for concurrency in args.concurrency:
                rates: dict[str, list[float]] = {tool: [] for tool in tools}
                for _ in range(args.runs):  # interleaved, so drift hits all alike
                    for tool, got in rates.items():
                        rate, read = anyio.run(
                            one_run, settings, sids, tool, args, concurrency, writers, writes
                        )
                        assert read >= args.calls * args.limit, (tool, read)
                        got.append(rate)
                a, b, c = (statistics.median(v) for v in rates.values())
                cells = " ".join(
                    f"{statistics.median(v):7,.0f} ({max(v):5,.0f})" for v in rates.values()
                )
                load = f"{concurrency} readers" + (f" + {writers} writers" if writers else "")
                print(f"{load:24} {cells} {b / a:5.2f} {c / a:5.2f} {b / c:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
