"""The store at scale: every read at 10k / 100k / 1M messages, and bytes per message.

Fills a data home per size through the real write path: `store_turn` (what the MCP tool and
the hooks' capture share) with one transaction per session, as the importer batches, 200
messages per session (1M messages = 5,000 sessions), realistic OpenAI turns (user text,
assistant text with a tool call, the tool result, assistant text; 1-2 KB each, every 25th tool
result 24 KB), and five tasks per session through the task writers (`insert_task`,
`update_task`, `link_messages`) with mixed statuses. Then times each read in-process on a warm
connection (median of `--runs`), each CLI command as a process beside `python -c pass`, and
reports what the store holds per message: the database file (after a WAL checkpoint) against
the messages' own JSON as a client sends them, with where the bytes go (the dbstat table).

    python bench/bench_scale.py [--quick] [--keep DIR] [--runs 5] [--sizes 10000 100000 1000000]

`--keep DIR` builds each size's data home once under DIR and reuses it on later runs
(schema migrations run on open, so a home built by an older release is measured after its
upgrade; the upgrade's duration is printed). `--quick` stops at 100k.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import _WORDS as WORDS
from _support import code, median, openai_turn

from acontext_mcp.config import Settings
from acontext_mcp.store import sessions as session_store
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store import turns
from acontext_mcp.store.db import atomic, connect, open_db
from acontext_mcp.store.migrations import MIGRATIONS, schema_version
from acontext_mcp.store.pages import encode_cursor
from acontext_mcp.store.stats import store_stats

PER_SESSION = 200  # messages: 50 turns of four
TASKS_PER_SESSION = 5
PROJECTS = [f"/work/project-{i:02d}" for i in range(20)]
AGENTS = ("claude-code", "openclaw", "mcp")
STATUSES = ("success", "success", "failed", "running", "pending")
MARK = "bench-scale.json"  # what a kept home holds, written once its fill completed


def _pool(rng: random.Random, size: int = 400) -> list[list[dict[str, Any]]]:
    return [openai_turn(i, rng) for i in range(size)]


def long_output(rng: random.Random, chars: int) -> str:
    """A long tool result (a test run, a grep, a file read): source lines and log lines whose
    paths, numbers, hashes and timings vary, about as compressible as the real thing (zlib
    3-4x, where `code()` alone would give 20x)."""
    lines: list[str] = []
    size = 0
    while size < chars:
        kind = rng.random()
        if kind < 0.4:
            line = f"{rng.randrange(1, 3000):>5}\t{code(rng, 1)}"
        elif kind < 0.7:
            line = (
                f"src/pkg/mod_{rng.randrange(500)}/file_{rng.randrange(90)}.py:"
                f"{rng.randrange(1, 2000)}: {' '.join(rng.choices(WORDS, k=rng.randint(3, 9)))}"
            )
        else:
            line = (
                f"tests/test_{rng.choice(WORDS)}_{rng.randrange(100)}.py::test_{rng.choice(WORDS)}"
                f"_{rng.randrange(1000)} {rng.choice(('PASSED', 'PASSED', 'FAILED', 'SKIPPED'))} "
                f"[{rng.randrange(100):>3}%] {rng.random() * 3:.3f}s {rng.getrandbits(64):016x}"
            )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _turn(pool: list[list[dict[str, Any]]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """A pooled turn with fresh tool-call ids (they are dedup keys); every 25th is long."""
    user, call, result, answer = pool[n % len(pool)]
    call_id = f"call_{n:08d}_{rng.randrange(16**8):08x}"
    tool_call = {**call["tool_calls"][0], "id": call_id}
    content = result["content"]
    if n % 25 == 0:
        content = long_output(rng, 24_000)
    return [
        user,
        {**call, "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": call_id, "content": content},
        answer,
    ]


def fill(settings: Settings, messages: int, seed: int = 11) -> dict[str, Any]:
    """Store `messages` messages (and tasks) through store_turn; returns what was stored."""
    rng = random.Random(seed)
    pool = _pool(rng)
    conn = open_db(settings)
    raw_bytes = raw_pretty = 0
    stored = 0
    started = time.perf_counter()
    n = 0
    try:
        for s in range(messages // PER_SESSION):
            sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))  # as Claude Code names them
            with atomic(conn):  # one transaction per session, as `import` batches
                for _ in range(PER_SESSION // 4):
                    turn = _turn(pool, n, rng)
                    n += 1
                    raw_bytes += sum(len(json.dumps(m, separators=(",", ":"))) for m in turn)
                    raw_pretty += sum(len(json.dumps(m)) for m in turn)
                    out = turns.store_turn(
                        conn,
                        settings,
                        turn,
                        session_id=sid,
                        agent=AGENTS[s % len(AGENTS)],
                        project_dir=PROJECTS[s % len(PROJECTS)],
                    )
                    stored += out["stored"]
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM messages WHERE "
                        "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
                        (sid,),
                    )
                ]
                for t in range(TASKS_PER_SESSION):
                    task = task_store.insert_task(conn, sid, f"task {t} of {sid}: fix the loader")
                    task_store.update_task(
                        conn,
                        sid,
                        task["order"],
                        status=STATUSES[(s + t) % len(STATUSES)],
                        add_progress="ran the tests",
                    )
                    span = PER_SESSION // TASKS_PER_SESSION
                    task_store.link_messages(conn, task["id"], ids[t * span : t * span + 8])
            if s % 250 == 249:
                done = (s + 1) * PER_SESSION
                rate = done / (time.perf_counter() - started)
                print(f"    filled {done:,} messages ({rate:,.0f}/s)", file=sys.stderr)
    finally:
        conn.close()
    return {
        "messages": stored,
        "sessions": messages // PER_SESSION,
        "raw_json_bytes": raw_bytes,
        "raw_json_bytes_default_separators": raw_pretty,
        "fill_s": time.perf_counter() - started,
    }


def home_for(root: Path, messages: int) -> tuple[Settings, dict[str, Any]]:
    """The data home holding `messages` messages under `root`, filled on first use."""
    home = root / f"m{messages}"
    settings = Settings(home=home / "home", skills_dir=home / "skills")
    mark = home / MARK
    if mark.exists():
        info = json.loads(mark.read_text())
        info["reused"] = True
        return settings, info
    if home.exists():
        raise SystemExit(f"{home} holds an unfinished fill: remove it and run again")
    settings.ensure_dirs()
    info = fill(settings, messages)
    mark.write_text(json.dumps(info))
    info["reused"] = False
    return settings, info


def upgrade(settings: Settings) -> float | None:
    """Bring a kept home's schema up to date, timed (None when it already was)."""
    conn = connect(settings.db_path)
    try:
        if schema_version(conn) == len(MIGRATIONS):
            return None
    finally:
        conn.close()
    t0 = time.perf_counter()
    open_db(settings).close()
    return time.perf_counter() - t0


def timed(fn: Callable[[], Any], runs: int) -> float:
    """Median ms of at least `runs` calls; cheap calls repeat for 0.3 s (at most 300 times),
    so a busy machine's noise averages out."""
    fn()  # warm: the first call pays imports and the page cache
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs or (time.perf_counter() - started < 0.3 and len(samples) < 300):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return median(samples) * 1000


def cli_timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - t0)
    return median(samples[1:]) * 1000


def _status(settings: Settings) -> None:
    from acontext_mcp.cli.browse import cmd_status

    with contextlib.redirect_stdout(io.StringIO()):
        cmd_status(argparse.Namespace(json=True), settings)


def _doctor_store(settings: Settings) -> None:
    from acontext_mcp.setup.doctor import _check_store
    from acontext_mcp.setup.doctor_report import Report

    _check_store(Report(), settings)


def reads(settings: Settings, runs: int) -> dict[str, float]:
    """Median ms of each read, in-process, on one warm connection."""
    conn = open_db(settings)
    try:
        sid = conn.execute("SELECT id FROM sessions ORDER BY id LIMIT 1 OFFSET 7").fetchone()[0]
        count = conn.execute(
            "SELECT MAX(position) + 1 FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = ?)",
            (sid,),
        ).fetchone()[0]
        last_page = encode_cursor({"k": "messages", "s": sid, "p": count - 51})
        page2 = task_store.list_tasks(conn)["next_cursor"]
        ops: dict[str, Callable[[], Any]] = {
            "stats": lambda: store_stats(conn, settings),
            "status (cmd_status)": lambda: _status(settings),
            "list_sessions": lambda: session_store.list_sessions(conn),
            "list_sessions --project": lambda: session_store.list_sessions(
                conn, project_dir=PROJECTS[3]
            ),
            "list_tasks (all sessions)": lambda: task_store.list_tasks(conn),
            "list_tasks page 2": lambda: task_store.list_tasks(conn, cursor=page2),
            "list_tasks status=running": lambda: task_store.list_tasks(conn, status=["running"]),
            "list_tasks status=success,failed": lambda: task_store.list_tasks(
                conn, status=["success", "failed"]
            ),
            "list_tasks one session": lambda: task_store.list_tasks(conn, session_id=sid),
            "brief: recent sessions": lambda: session_store.recent_project_sessions(
                conn, PROJECTS[3], exclude=None
            ),
            "brief: recent tasks": lambda: task_store.recent_tasks_for_project(conn, PROJECTS[3]),
            "get_messages first page": lambda: turns.read_messages(conn, settings, sid),
            "get_messages last page": lambda: turns.read_messages(
                conn, settings, sid, cursor=last_page
            ),
            "doctor store checks": lambda: _doctor_store(settings),
        }
        return {name: timed(fn, runs) for name, fn in ops.items()}
    finally:
        conn.close()


def cli_reads(settings: Settings, runs: int) -> dict[str, float]:
    env = {**os.environ, "ACONTEXT_HOME": str(settings.home), "HOME": str(settings.home)}
    env["ACONTEXT_SKILLS_DIR"] = str(settings.skills_dir)
    conn = open_db(settings)
    sid = conn.execute("SELECT id FROM sessions ORDER BY id LIMIT 1").fetchone()[0]
    conn.close()
    py = [sys.executable]
    cli = [*py, "-m", "acontext_mcp"]
    commands = {
        "python -c pass": [*py, "-c", "pass"],
        "cli status": [*cli, "status"],
        "cli sessions": [*cli, "sessions"],
        "cli tasks": [*cli, "tasks"],
        "cli messages SESSION": [*cli, "messages", sid],
    }
    return {name: cli_timed(argv, env, runs) for name, argv in commands.items()}


def footprint(settings: Settings, info: dict[str, Any]) -> dict[str, Any]:
    """Bytes per message of the database against the raw JSON, and where they go."""
    conn = connect(settings.db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute(
            "SELECT name, SUM(pgsize), SUM(payload), SUM(unused), COUNT(*) FROM dbstat "
            "GROUP BY name ORDER BY SUM(pgsize) DESC"
        ).fetchall()
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        conn.close()
    size = sum(
        p.stat().st_size
        for p in settings.db_path.parent.glob(settings.db_path.name + "*")
        if p.is_file()
    )
    blobs = sum(f.stat().st_size for f in (settings.home / "blobs").rglob("*") if f.is_file())
    return {
        "messages": messages,
        "db_bytes": size,
        "blob_bytes": blobs,
        "per_message": size / messages,
        "raw_per_message": info["raw_json_bytes"] / info["messages"],
        "raw_default_per_message": info["raw_json_bytes_default_separators"] / info["messages"],
        "objects": [
            {"name": r[0], "bytes": r[1], "payload": r[2], "unused": r[3], "pages": r[4]}
            for r in rows
        ],
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--keep", type=Path, help="build data homes here once and reuse them")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI process timings")
    args = parser.parse_args()
    sizes = [s for s in args.sizes if s <= 100_000] if args.quick else args.sizes
    print(f"Python {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version}")
    root_ctx = (
        contextlib.nullcontext(str(args.keep))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="acontext-scale-")
    )
    results: dict[int, dict[str, Any]] = {}
    with root_ctx as root:
        for size in sizes:
            settings, info = home_for(Path(root), size)
            up = upgrade(settings)
            how = "reused" if info["reused"] else "filled"
            print(
                f"\n{size:,} messages in {info['sessions']:,} sessions: {how}"
                f" (fill {info['fill_s']:.0f} s, {info['messages'] / info['fill_s']:,.0f}/s)"
                + (f"; schema upgrade {up:.1f} s" if up is not None else "")
            )
            ops = reads(settings, args.runs)
            if not args.no_cli:
                ops.update(cli_reads(settings, args.runs))
            results[size] = {"ops": ops, "bytes": footprint(settings, info)}
    names = list(results[sizes[0]]["ops"])
    head = "".join(f"{s:>12,}" for s in sizes)
    print(f"\nmedian ms (>= {args.runs} runs){'':<19}{head}   last/first")
    for name in names:
        row = [results[s]["ops"][name] for s in sizes]
        cells = "".join(f"{v:>12.2f}" for v in row)
        print(f"  {name:<40}{cells}   {_ratio(row[-1], row[0])}")
    if not args.no_cli:
        base = [results[s]["ops"]["python -c pass"] for s in sizes]
        print("CLI runs / python -c pass")
        for name in names:
            if name.startswith("cli "):
                row = [results[s]["ops"][name] / b for s, b in zip(sizes, base, strict=True)]
                print(f"  {name:<40}" + "".join(f"{v:>11.1f}x" for v in row))
    print("\nbytes per message")
    for size in sizes:
        b = results[size]["bytes"]
        print(
            f"  {size:>9,}: store {b['per_message']:,.0f} B (db {b['db_bytes'] / 1e6:,.1f} MB), "
            f"raw JSON {b['raw_per_message']:,.0f} B compact / "
            f"{b['raw_default_per_message']:,.0f} B json.dumps default: "
            f"{b['per_message'] / b['raw_per_message']:.2f}x compact raw; "
            f"blobs {b['blob_bytes'] / 1e6:.1f} MB"
        )
    last = results[sizes[-1]]["bytes"]
    print(f"where the bytes go at {sizes[-1]:,} (dbstat), per message:")
    for obj in last["objects"]:
        if obj["bytes"] / last["messages"] >= 1:
            print(
                f"  {obj['name']:<36} {obj['bytes'] / last['messages']:>8.1f} B "
                f"(payload {obj['payload'] / last['messages']:.1f}, "
                f"unused {obj['unused'] / last['messages']:.1f}, {obj['pages']:,} pages)"
            )


if __name__ == "__main__":
    main()
