"""`acontext-mcp worker` and `acontext-mcp flush`: background work from a shell."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def worker_status(settings: Settings) -> dict[str, Any]:
    """The lease holder and the jobs that are not done (also for `status`/`doctor`)."""
    from acontext_mcp.store.db import open_db
    from acontext_mcp.worker import jobs, lease

    with closing(open_db(settings)) as conn:
        return {"worker": lease.current(conn), **jobs.summary(conn)}


def _print_status(info: dict[str, Any]) -> None:
    worker = info["worker"]
    if worker:
        print(f"worker   running: {worker['holder']} (lease until {_when(worker['until'])})")
    else:
        print("worker   not running (hooks start one when there is work)")
    c = info["counts"]
    print(
        f"jobs     {c['queued']} ready, {c['running']} running, {c['waiting']} waiting "
        f"({c['deferred']} deferred), {c['failed']} failed, {c['done']} done"
    )
    for job in info["jobs"]:
        what = job["payload"].get("session_id") or json.dumps(job["payload"])[:60]
        line = f"  #{job['id']} {job['state']:<8} {job['kind']} {what} attempts {job['attempts']}"
        if job["state"] == "running":
            line += f", held by {job['holder']} until {_when(job['lease_until'])}"
        elif job["state"] in ("deferred", "waiting"):
            line += f", runs after {_when(job['run_after'])}"
        print(line)
        if job["reason"] and job["state"] != "running":
            print(f"      {job['reason']}")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if args.status:
        info = worker_status(settings)
        if args.json:
            emit_json(info)
        else:
            _print_status(info)
        return 0
    from acontext_mcp.app.handlers import HANDLERS
    from acontext_mcp.logsetup import setup_logging
    from acontext_mcp.worker.loop import run_worker

    setup_logging(settings, stderr=False, name="worker")
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(logging.Formatter("%(asctime)s acontext-mcp worker %(levelname)s %(message)s"))
    logging.getLogger().addHandler(err)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    from acontext_mcp.hooks.session_start import prepare_recent

    try:
        stats = run_worker(
            settings,
            HANDLERS,
            until_idle=args.until_idle,
            idle_exit_s=args.idle,
            stop=stop,
            on_idle=lambda: prepare_recent(settings),  # what the jobs wrote made them stale
        )
    except KeyboardInterrupt:
        return 130
    if args.json:
        emit_json(stats)
    if not stats["lease"]:
        print(
            "acontext-mcp: another worker is running for this data home "
            "(see `acontext-mcp worker --status`)",
            file=sys.stderr,
        )
    return 0


def cmd_flush(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.app.flush import flush_session
    from acontext_mcp.cli.args import session_id
    from acontext_mcp.errors import InvalidInput
    from acontext_mcp.logsetup import setup_logging

    if args.all == bool(args.session):
        raise InvalidInput("name one SESSION, or --all for every session with pending messages")
    setup_logging(settings, name="worker")
    if args.all:
        return _flush_all(args, settings)
    out = flush_session(settings, session_id(settings, args.session), timeout_s=args.timeout)
    if args.json:
        emit_json(out)
    else:
        counts = f"{out['pending_before']} pending before, {out['pending_after']} after"
        print(f"{out['session_id']}: {out['status']} ({counts})")
        if out.get("reason"):
            print(f"  {out['reason']}")
    return 0 if out["status"] in ("done", "deferred") else 1


def _flush_all(args: argparse.Namespace, settings: Settings) -> int:
    """Track every session with pending messages (e.g. after `import`), oldest first, one at a
    time, with a line each. Stops at the first `deferred`: without an LLM the rest would wait
    too (deterministic tracking has run for each session flushed so far)."""
    from acontext_mcp.app.flush import flush_session
    from acontext_mcp.store.batches import sessions_with_pending
    from acontext_mcp.store.db import open_db

    with closing(open_db(settings)) as conn:
        waiting = sessions_with_pending(conn)
    results: list[dict[str, Any]] = []
    for n, sid in enumerate(waiting, 1):
        out = flush_session(settings, sid, timeout_s=args.timeout)
        results.append(out)
        if not args.json:
            counts = f"{out['pending_before']} pending before, {out['pending_after']} after"
            print(f"[{n}/{len(waiting)}] {sid}: {out['status']} ({counts})", flush=True)
        if out["status"] == "deferred":
            if not args.json:
                print(f"  {out.get('reason') or 'the LLM is unavailable'}")
                print(f"stopped: {len(waiting) - n} more session(s) wait; run this again later")
            break
    if args.json:
        emit_json({"sessions": len(waiting), "results": results})
    elif not waiting:
        print("nothing to track: no session has pending messages")
    return 0 if all(r["status"] in ("done", "deferred") for r in results) else 1


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("worker", cmd_worker, "Run the background worker in the foreground, logging to stderr.")
    p.add_argument("--until-idle", action="store_true", help="exit once no job is ready")
    p.add_argument(
        "--idle",
        type=float,
        default=None,
        help="with --until-idle: seconds without work before exiting (ACONTEXT_WORKER_IDLE_S)",
    )
    p.add_argument(
        "--status", action="store_true", help="show the lease holder and unfinished jobs, then exit"
    )
    add_json_option(p)

    p = add("flush", cmd_flush, "Observe a session now (task tracking) and wait for the result.")
    p.add_argument(
        "session",
        nargs="?",
        help="session id or a unique prefix (see `acontext-mcp sessions`)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="every session with pending messages, oldest first (e.g. after `import`)",
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait per session (default 60)"
    )
    add_json_option(p)
