"""The `jobs` table: the one module that writes it (enqueue, claim, complete, defer...).

A job is `queued` until a worker claims it (`running`, with a `holder` and a `lease_until`
the worker renews), then `done`, or `failed` after too many attempts. Rules:

- Enqueue is idempotent by `dedup_key`: a queued job with the key absorbs the request. A done
  or failed job is re-queued only when asked (`requeue=True`); a running one is then marked to
  run once more when it completes, so work that arrived mid-run is not stranded.
- Claiming is atomic (BEGIN IMMEDIATE) and counts an attempt. It first recovers running jobs
  whose lease expired (their worker died): they become claimable again, or failed when they
  used up their attempts (a job that kills its worker every time must not loop forever).
- Only the holder can complete, fail or defer a job, and only while it still holds it.
- `defer` puts a job back with a later `run_after` and the reason in `error` (prefixed
  "deferred: "), without counting an attempt.

The worker's policy (lease length, backoff, which handler, fencing) is in worker/jobs.py.
Stdlib only: triggers on the hook path enqueue through this module.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from acontext_mcp.store.db import atomic, dumps

DEFERRED = "deferred: "
RERUN = "_rerun"  # payload flag: enqueued again while running; complete() re-queues it
MAX_ERROR = 2000
DEFAULT_MAX_ATTEMPTS = 5

Outcome = Literal["inserted", "absorbed", "requeued", "rerun"]


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    dedup_key: str | None
    status: str
    attempts: int
    run_after: float
    lease_until: float | None
    holder: str | None
    error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        payload = json.loads(row["payload"] or "{}")
        payload.pop(RERUN, None)
        return cls(
            id=row["id"],
            kind=row["kind"],
            payload=payload,
            dedup_key=row["dedup_key"],
            status=row["status"],
            attempts=row["attempts"],
            run_after=row["run_after"],
            lease_until=row["lease_until"],
            holder=row["holder"],
            error=row["error"],
        )


def get(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return Job.from_row(row) if row else None


def status_by_key(conn: sqlite3.Connection, dedup_key: str) -> str | None:
    """The status of the job with this dedup key, None when there is none."""
    row = conn.execute("SELECT status FROM jobs WHERE dedup_key = ?", (dedup_key,)).fetchone()
    return None if row is None else str(row[0])


def put(
    conn: sqlite3.Connection,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedup_key: str | None = None,
    run_after: float | None = None,
    requeue: bool = False,
) -> tuple[int, Outcome]:
    """Queue a job; returns its id and what happened (see the module docstring).

    With `requeue` and an explicit `run_after`, a queued job with the key is moved up to it
    (a deferred job runs now when flushed); without, its run_after is left alone. A running
    job asked again is flagged to re-queue on `complete` ("rerun"; "absorbed" when it
    already was).
    """
    now = time.time()
    when = now if run_after is None else run_after
    body = dumps(payload or {})
    with atomic(conn):
        if dedup_key is not None:
            row = conn.execute(
                "SELECT id, status, payload FROM jobs WHERE dedup_key = ?", (dedup_key,)
            ).fetchone()
            if row is not None:
                job_id = int(row["id"])
                if row["status"] == "queued" and requeue and run_after is not None:
                    conn.execute(  # asked for sooner (an explicit flush): move it up
                        "UPDATE jobs SET run_after = MIN(run_after, ?), updated_at = ? "
                        "WHERE id = ?",
                        (when, now, job_id),
                    )
                if row["status"] == "queued" or not requeue:
                    return job_id, "absorbed"
                if row["status"] == "running":
                    if RERUN in json.loads(row["payload"] or "{}"):
                        return job_id, "absorbed"
                    conn.execute(
                        f"UPDATE jobs SET payload = json_set(payload, '$.{RERUN}', 1), "
                        "updated_at = ? WHERE id = ?",
                        (now, job_id),
                    )
                    return job_id, "rerun"
                conn.execute(
                    "UPDATE jobs SET status = 'queued', payload = ?, attempts = 0, run_after = ?, "
                    "lease_until = NULL, holder = NULL, error = NULL, updated_at = ? WHERE id = ?",
                    (body, when, now, job_id),
                )
                return job_id, "requeued"
        cur = conn.execute(
            "INSERT INTO jobs (kind, payload, dedup_key, status, attempts, run_after, "
            "created_at, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)",
            (kind, body, dedup_key, when, now, now),
        )
        return int(cur.lastrowid or 0), "inserted"


def enqueue(
    conn: sqlite3.Connection,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedup_key: str | None = None,
    run_after: float | None = None,
    requeue: bool = False,
) -> int:
    """`put`, returning only the job id."""
    job_id, _ = put(conn, kind, payload, dedup_key=dedup_key, run_after=run_after, requeue=requeue)
    return job_id


def recover_expired(
    conn: sqlite3.Connection, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, now: float | None = None
) -> int:
    """Running jobs whose lease passed become claimable again (or failed, out of attempts)."""
    now = time.time() if now is None else now
    with atomic(conn):
        cur = conn.execute(
            "UPDATE jobs SET status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END, "
            "error = 'lease of ' || COALESCE(holder, '?') || ' expired (worker died mid-job?)', "
            "holder = NULL, lease_until = NULL, run_after = ?, updated_at = ? "
            "WHERE status = 'running' AND lease_until < ?",
            (max_attempts, now, now, now),
        )
        return cur.rowcount


def claim(
    conn: sqlite3.Connection,
    holder: str,
    *,
    kinds: Iterable[str],
    lease_s: float,
    job_id: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job | None:
    """Atomically take the next ready job of one of `kinds` (oldest run_after first), or the
    queued job `job_id` whatever its run_after (an explicit flush). None when there is none."""
    kinds = sorted(set(kinds))
    if not kinds:
        return None
    now = time.time()
    marks = ",".join("?" * len(kinds))
    with atomic(conn):
        recover_expired(conn, max_attempts=max_attempts, now=now)
        if job_id is None:
            row = conn.execute(
                f"SELECT id FROM jobs WHERE status = 'queued' AND run_after <= ? "
                f"AND kind IN ({marks}) ORDER BY run_after, id LIMIT 1",
                (now, *kinds),
            ).fetchone()
        else:
            row = conn.execute(
                f"SELECT id FROM jobs WHERE id = ? AND status = 'queued' AND kind IN ({marks})",
                (job_id, *kinds),
            ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE jobs SET status = 'running', holder = ?, lease_until = ?, "
            f"attempts = attempts + 1, payload = json_remove(payload, '$.{RERUN}'), "
            "updated_at = ? WHERE id = ?",
            (holder, now + lease_s, now, row["id"]),
        )
        job = get(conn, row["id"])
    return job


def held(conn: sqlite3.Connection, job: Job) -> sqlite3.Row | None:
    """The job's row while `job.holder` still holds it running, else None (the fence)."""
    return conn.execute(
        "SELECT * FROM jobs WHERE id = ? AND status = 'running' AND holder = ?",
        (job.id, job.holder),
    ).fetchone()


def renew(conn: sqlite3.Connection, job: Job, lease_s: float) -> bool:
    """Extend the job's lease; False when it is no longer this holder's."""
    now = time.time()
    with atomic(conn):
        cur = conn.execute(
            "UPDATE jobs SET lease_until = ?, updated_at = ? "
            "WHERE id = ? AND status = 'running' AND holder = ?",
            (now + lease_s, now, job.id, job.holder),
        )
        return cur.rowcount == 1


def complete(conn: sqlite3.Connection, job: Job) -> bool:
    """Mark the job done (or queued again if it was re-enqueued while running). False, and
    nothing changes, when the job is no longer held by `job.holder`."""
    now = time.time()
    with atomic(conn):
        row = held(conn, job)
        if row is None:
            return False
        if RERUN in json.loads(row["payload"] or "{}"):
            conn.execute(
                "UPDATE jobs SET status = 'queued', attempts = 0, run_after = ?, holder = NULL, "
                f"lease_until = NULL, error = NULL, payload = json_remove(payload, '$.{RERUN}'), "
                "updated_at = ? WHERE id = ?",
                (now, now, job.id),
            )
        else:
            conn.execute(
                "UPDATE jobs SET status = 'done', holder = NULL, lease_until = NULL, "
                "error = NULL, updated_at = ? WHERE id = ?",
                (now, job.id),
            )
        return True


def fail(
    conn: sqlite3.Connection,
    job: Job,
    error: str,
    *,
    max_attempts: int,
    retry_after: Callable[[int], float],
) -> str | None:
    """Record a failed attempt: queued again `retry_after(attempts)` seconds from now, or
    `failed` once the job used `max_attempts`. None when the job is no longer held."""
    now = time.time()
    with atomic(conn):
        row = held(conn, job)
        if row is None:
            return None
        attempts = int(row["attempts"])
        status = "failed" if attempts >= max_attempts else "queued"
        conn.execute(
            "UPDATE jobs SET status = ?, run_after = ?, error = ?, holder = NULL, "
            "lease_until = NULL, updated_at = ? WHERE id = ?",
            (status, now + retry_after(attempts), error[:MAX_ERROR], now, job.id),
        )
        return status


def defer(conn: sqlite3.Connection, job: Job, until: float, reason: str) -> bool:
    """Put the job back until `until` without counting the attempt (LLM unavailable)."""
    now = time.time()
    with atomic(conn):
        cur = conn.execute(
            "UPDATE jobs SET status = 'queued', attempts = MAX(attempts - 1, 0), run_after = ?, "
            "error = ?, holder = NULL, lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND status = 'running' AND holder = ?",
            (until, (DEFERRED + reason)[:MAX_ERROR], now, job.id, job.holder),
        )
        return cur.rowcount == 1


def release(conn: sqlite3.Connection, job: Job) -> bool:
    """Hand a held job back untouched (the worker is stopping): queued, attempt not counted."""
    now = time.time()
    with atomic(conn):
        cur = conn.execute(
            "UPDATE jobs SET status = 'queued', attempts = MAX(attempts - 1, 0), run_after = ?, "
            "holder = NULL, lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND status = 'running' AND holder = ?",
            (now, now, job.id, job.holder),
        )
        return cur.rowcount == 1


def hasten(conn: sqlite3.Connection, job_id: int, reason_prefix: str) -> bool:
    """Make a queued job deferred for a reason starting with `reason_prefix` ready now."""
    now = time.time()
    with atomic(conn):
        cur = conn.execute(
            "UPDATE jobs SET run_after = ?, updated_at = ? WHERE id = ? AND status = 'queued' "
            "AND run_after > ? AND substr(error, 1, ?) = ?",
            (now, now, job_id, now, len(DEFERRED + reason_prefix), DEFERRED + reason_prefix),
        )
        return cur.rowcount == 1


# --- Reporting ---


def ready_count(conn: sqlite3.Connection, kinds: Iterable[str], now: float | None = None) -> int:
    """Jobs of `kinds` a worker could run now (queued and due, or running on a dead lease)."""
    kinds = sorted(set(kinds))
    if not kinds:
        return 0
    now = time.time() if now is None else now
    marks = ",".join("?" * len(kinds))
    row = conn.execute(
        f"SELECT COUNT(*) FROM jobs WHERE kind IN ({marks}) AND ("
        "(status = 'queued' AND run_after <= ?) OR (status = 'running' AND lease_until < ?))",
        (*kinds, now, now),
    ).fetchone()
    return int(row[0])


def summary(conn: sqlite3.Connection, *, limit: int = 50) -> dict[str, Any]:
    """Counts by state and the jobs that are not done: queued (ready now), waiting (deferred
    or backing off, with the reason), running (holder, lease) and failed (last error)."""
    now = time.time()
    counts = {"queued": 0, "waiting": 0, "deferred": 0, "running": 0, "done": 0, "failed": 0}
    for row in conn.execute(
        "SELECT status, run_after > ? AS later, error LIKE ? AS deferred, COUNT(*) FROM jobs "
        "GROUP BY 1, 2, 3",
        (now, DEFERRED + "%"),
    ):
        status, later, deferred, n = row[0], row[1], row[2], row[3]
        if status == "queued" and later:
            counts["waiting"] += n
            if deferred:
                counts["deferred"] += n
        else:
            counts[status] = counts.get(status, 0) + n
    jobs = []
    for row in conn.execute(
        "SELECT * FROM jobs WHERE status != 'done' ORDER BY status = 'failed', run_after, id "
        "LIMIT ?",
        (limit,),
    ):
        job = Job.from_row(row)
        state = job.status
        if state == "queued" and job.run_after > now:
            state = "deferred" if (job.error or "").startswith(DEFERRED) else "waiting"
        jobs.append(
            {
                "id": job.id,
                "kind": job.kind,
                "payload": job.payload,
                "state": state,
                "attempts": job.attempts,
                "run_after": job.run_after,
                "holder": job.holder,
                "lease_until": job.lease_until,
                "reason": job.error,
            }
        )
    return {"counts": counts, "jobs": jobs}


def delete_for_sessions(conn: sqlite3.Connection, session_ids: list[str]) -> int:
    """Drop the jobs whose payload names one of these sessions (forget, cleanup)."""
    return conn.execute(
        "DELETE FROM jobs WHERE json_valid(payload) "
        "AND json_extract(payload, '$.session_id') IN (SELECT value FROM json_each(?))",
        (dumps(list(session_ids)),),
    ).rowcount
