"""The background worker: one per data home, runs jobs by kind, exits when idle.

`run_worker` takes the `worker` lease (or returns at once when another live worker holds it),
renews it and the current job's lease from a heartbeat thread, and runs ready jobs through
the handlers it is handed (the product's registry is acontext_mcp/app/handlers.py, above
this layer; the worker imports no handler by name). A handler gets `(conn, settings,
payload)` and returns a dict for the log. What its outcome does to the job:

- returns: the job is done (`jobs.complete`, fenced by the holder);
- raises `acontext_mcp.llm.LLMUnavailable`: the job is deferred (ACONTEXT_WORKER_DEFER_S, a
  fifth of it when the provider kept failing), the reason kept for `worker --status`;
- raises `jobs.LeaseLost`: another worker took the job over; nothing more is written;
- raises anything else: a failed attempt, retried with backoff up to
  ACONTEXT_WORKER_MAX_ATTEMPTS, then `failed`.

Jobs of kinds without a handler stay queued. Logs go to <home>/logs/worker.log.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from acontext_mcp import job_kinds
from acontext_mcp.config import Settings, env_number
from acontext_mcp.llm import LLMUnavailable
from acontext_mcp.store.db import rollback
from acontext_mcp.worker import jobs, lease

log = logging.getLogger("acontext.worker")

Handler = Callable[[sqlite3.Connection, Settings, dict[str, Any]], dict[str, Any]]

DEFAULT_LEASE_S = 30.0
DEFAULT_IDLE_S = 5.0
DEFAULT_DEFER_S = 600.0
OBSERVE = job_kinds.OBSERVE_SESSION


def env_float(name: str, default: float) -> float:
    return env_number(name, default, cast=float)


def lease_seconds() -> float:
    return env_float("ACONTEXT_WORKER_LEASE_S", DEFAULT_LEASE_S)


def idle_seconds() -> float:
    return env_float("ACONTEXT_WORKER_IDLE_S", DEFAULT_IDLE_S)


def defer_seconds() -> float:
    return env_float("ACONTEXT_WORKER_DEFER_S", DEFAULT_DEFER_S)


def max_attempts() -> int:
    return int(env_float("ACONTEXT_WORKER_MAX_ATTEMPTS", jobs.DEFAULT_MAX_ATTEMPTS))


# --- The worker ---


class Worker:
    """One holder of the worker lease: runs jobs on its connection, heartbeats on another."""

    def __init__(
        self,
        settings: Settings,
        conn: sqlite3.Connection,
        handlers: dict[str, Handler],
        *,
        holder: str | None = None,
        lease_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.conn = conn
        self.holder = holder or lease.new_holder()
        self.lease_s = lease_s or lease_seconds()
        self.handlers = handlers
        self.max_attempts = max_attempts()
        self.defer_s = defer_seconds()
        self.job: jobs.Job | None = None
        self.lost = threading.Event()
        self._stop_beat = threading.Event()
        self._beat: threading.Thread | None = None

    # lease and heartbeat

    def acquire(self) -> bool:
        return lease.acquire(self.conn, self.holder, self.lease_s)

    def start_heartbeat(self) -> None:
        self._beat = threading.Thread(target=self._heartbeat, name="worker-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        from acontext_mcp.store.db import connect

        beat = connect(self.settings.db_path, busy_timeout_ms=self.settings.busy_timeout_ms)
        try:
            while not self._stop_beat.wait(self.lease_s / 3):
                try:
                    if not lease.renew(beat, self.holder, self.lease_s):
                        log.warning("worker lease lost (expired and taken over); stopping")
                        self.lost.set()
                    job = self.job
                    if job is not None and not jobs.renew(beat, job, self.lease_s):
                        log.warning("job #%s is no longer ours", job.id)
                except sqlite3.Error as exc:  # busy or locked: try again next beat
                    log.warning("heartbeat failed: %s", exc)
        finally:
            beat.close()

    def stop(self) -> None:
        self._stop_beat.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        try:
            lease.release(self.conn, self.holder)
        except sqlite3.Error as exc:
            log.warning("could not release the worker lease: %s", exc)

    # jobs

    def claim(self, job_id: int | None = None) -> jobs.Job | None:
        return jobs.claim(
            self.conn,
            self.holder,
            kinds=self.handlers,
            lease_s=self.lease_s,
            job_id=job_id,
            max_attempts=self.max_attempts,
        )

    def run_job(self, job: jobs.Job) -> dict[str, Any]:
        """Run one claimed job to its outcome; returns {outcome, result?, reason?}."""
        started = time.monotonic()
        handler = self.handlers[job.kind]
        self.job = job
        outcome: dict[str, Any]
        try:
            with jobs.running(job):
                result = handler(self.conn, self.settings, job.payload)
        except jobs.LeaseLost as exc:
            self._rollback()
            outcome = {"outcome": "lost", "reason": str(exc)}
        except LLMUnavailable as exc:
            self._rollback()
            reason = f"{type(exc).__name__}: {exc}"
            wait = self.defer_s / 5 if type(exc).__name__ == "ProviderFailed" else self.defer_s
            jobs.defer(self.conn, job, time.time() + wait, reason)
            outcome = {"outcome": "deferred", "reason": reason, "retry_in_s": wait}
        except Exception as exc:
            self._rollback()
            reason = f"{type(exc).__name__}: {exc}"
            status = jobs.fail(self.conn, job, reason, max_attempts=self.max_attempts)
            outcome = {"outcome": "failed" if status == "failed" else "retry", "reason": reason}
            log.exception("job #%s %s raised", job.id, job.kind)
        except BaseException:
            self._rollback()
            jobs.release(self.conn, job)  # interrupted: hand it back, not an attempt
            raise
        else:
            done = jobs.complete(self.conn, job)
            outcome = {"outcome": "done" if done else "lost", "result": result}
        finally:
            self.job = None
        ms = 1000 * (time.monotonic() - started)
        level = logging.INFO if outcome["outcome"] == "done" else logging.WARNING
        log.log(
            level,
            "job #%s %s %s: %s in %.1fms",
            job.id,
            job.kind,
            outcome["outcome"],
            outcome.get("reason") or outcome.get("result"),
            ms,
        )
        return outcome

    def _rollback(self) -> None:
        rollback(self.conn)


def run_worker(
    settings: Settings,
    handlers: dict[str, Handler],
    *,
    until_idle: bool = True,
    idle_exit_s: float | None = None,
    lease_s: float | None = None,
    stop: threading.Event | None = None,
    poll_s: float = 0.1,
    max_poll_s: float = 2.0,
    on_idle: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run jobs of the kinds in `handlers` until idle for `idle_exit_s` (until_idle) or until
    `stop` is set. `on_idle` runs each time the queue empties after jobs ran (the CLI's
    worker prepares the next sessions' answers then, hooks/session_start.py); what it
    raises is logged.

    Returns {"lease": bool, "holder", "ran", "outcomes": {outcome: count}}; lease False means
    another live worker holds the data home's lease and nothing ran.
    """
    from acontext_mcp.store.db import open_db

    idle_exit_s = idle_seconds() if idle_exit_s is None else idle_exit_s
    stop = stop or threading.Event()
    conn = open_db(settings)
    worker = Worker(settings, conn, handlers, lease_s=lease_s)
    stats: dict[str, Any] = {"lease": False, "holder": worker.holder, "ran": 0, "outcomes": {}}
    try:
        if not worker.acquire():
            other = lease.current(conn)
            log.info("another worker holds the lease (%s); exiting", other and other["holder"])
            return stats
        stats["lease"] = True
        log.info("worker %s started (kinds: %s)", worker.holder, ", ".join(sorted(worker.handlers)))
        worker.start_heartbeat()
        try:
            idle_since = time.monotonic()
            wait = poll_s
            ran_since_idle = False
            while not stop.is_set() and not worker.lost.is_set():
                job = worker.claim()
                if job is None:
                    if ran_since_idle and on_idle is not None:
                        ran_since_idle = False
                        try:
                            on_idle()
                        except Exception:
                            log.exception("the worker's idle step failed")
                        continue  # it took a while: look at the queue again first
                    if until_idle and time.monotonic() - idle_since >= idle_exit_s:
                        break
                    stop.wait(wait)
                    wait = min(max_poll_s, wait * 1.5)
                    continue
                outcome = worker.run_job(job)["outcome"]
                ran_since_idle = True
                stats["ran"] += 1
                stats["outcomes"][outcome] = stats["outcomes"].get(outcome, 0) + 1
                idle_since = time.monotonic()
                wait = poll_s
        finally:
            worker.stop()
        log.info(
            "worker %s exiting after %d jobs %s", worker.holder, stats["ran"], stats["outcomes"]
        )
        return stats
    finally:
        conn.close()
