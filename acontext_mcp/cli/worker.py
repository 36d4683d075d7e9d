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
    try:
        stats = run_worker(
            settings, HANDLERS, until_idle=args.until_idle, idle_exit_s=args.idle, stop=stop
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
    from acontext_mcp.logsetup import setup_logging

    setup_logging(settings, name="worker")
    out = flush_session(settings, args.session, timeout_s=args.timeout)
    if args.json:
        emit_json(out)
    else:
        counts = f"{out['pending_before']} pending before, {out['pending_after']} after"
        print(f"{out['session_id']}: {out['status']} ({counts})")
        if out.get("reason"):
            print(f"  {out['reason']}")
    return 0 if out["status"] in ("done", "deferred") else 1


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
    p.add_argument("session", help="session id (see `acontext-mcp sessions`)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    add_json_option(p)
