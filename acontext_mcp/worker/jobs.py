"""Jobs as the worker sees them: backoff, fencing for handlers, the job a handler runs.

The `jobs` table and its rules (enqueue with requeue, claim, complete, defer...) belong to
store/jobs.py, its one writer; this module re-exports those operations so callers keep one
import, and adds the worker's policy on top:

- A failed attempt is retried after a backoff (`backoff`), doubling up to an hour.
- Only the holder can complete, fail or defer a job, and only while it still holds it. A
  worker whose lease expired and whose job was taken over cannot also finish it. Handlers that
  commit effects as they go use `fenced(conn)` so each commit also checks the job is still
  theirs: no job is applied twice.

Stdlib only: triggers on the hook path enqueue through this module.
"""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from acontext_mcp.store import jobs as _table
from acontext_mcp.store.db import atomic
from acontext_mcp.store.jobs import (
    DEFAULT_MAX_ATTEMPTS,
    DEFERRED,
    MAX_ERROR,
    RERUN,
    Job,
    claim,
    complete,
    defer,
    enqueue,
    get,
    hasten,
    ready_count,
    recover_expired,
    release,
    renew,
    summary,
)

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RETRY_S",
    "DEFERRED",
    "MAX_BACKOFF_S",
    "MAX_ERROR",
    "RERUN",
    "Job",
    "LeaseLost",
    "backoff",
    "claim",
    "complete",
    "current",
    "defer",
    "enqueue",
    "fail",
    "fenced",
    "get",
    "hasten",
    "ready_count",
    "recover_expired",
    "release",
    "renew",
    "running",
    "summary",
]

DEFAULT_RETRY_S = 30.0
MAX_BACKOFF_S = 3600.0


class LeaseLost(Exception):
    """The job is no longer held by this worker (its lease expired and it was taken over)."""


_current: contextvars.ContextVar[Job | None] = contextvars.ContextVar("acontext_job", default=None)


def backoff(attempts: int, retry_s: float = DEFAULT_RETRY_S) -> float:
    """Seconds before attempt `attempts + 1`: retry_s, doubling, at most an hour."""
    return float(min(MAX_BACKOFF_S, retry_s * 2 ** max(0, attempts - 1)))


def fail(
    conn: sqlite3.Connection,
    job: Job,
    error: str,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_s: float = DEFAULT_RETRY_S,
) -> str | None:
    """Record a failed attempt: queued again after a backoff, or `failed` once the job used
    `max_attempts`. Returns the new status, or None when the job is no longer held."""
    return _table.fail(
        conn, job, error, max_attempts=max_attempts, retry_after=lambda n: backoff(n, retry_s)
    )


# --- Fencing for handlers ---


@contextmanager
def running(job: Job) -> Iterator[Job]:
    """Make `job` the current job of this thread/context while its handler runs."""
    token = _current.set(job)
    try:
        yield job
    finally:
        _current.reset(token)


def current() -> Job | None:
    """The job whose handler is running in this context, if any."""
    return _current.get()


@contextmanager
def fenced(conn: sqlite3.Connection, job: Job | None = None) -> Iterator[sqlite3.Connection]:
    """One transaction that commits only if the job (default: the current one) is still held
    by its worker; raises LeaseLost otherwise (and rolls back). Outside a job: plain atomic."""
    job = job or current()
    with atomic(conn):
        if job is not None and _table.held(conn, job) is None:
            raise LeaseLost(f"job {job.id} is no longer held by {job.holder}")
        yield conn
