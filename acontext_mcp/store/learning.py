"""Learning state in the store: spaces, session attachments, distilled learnings, status.

A learning space is a named set of skills. Each session is attached to one space, ever (the
first learning attaches it); its finished tasks are distilled into `learnings` rows that the
space's skill learner consumes in batches. A skill created by a space's learner belongs to that
space; a skill that belongs to no space (the defaults, the user's own) is shared by all.

Status of a session's learning is derived, not stored, so it can never drift from the work:
`running` while one of its learnings or learn jobs runs, `pending` while any waits, `failed`
when the last attempt of any failed, `completed` when everything finished, `idle` when nothing
was ever queued (no finished task yet).

Standard library only, like the rest of the store.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from typing import Any

from acontext_mcp import job_kinds
from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.privacy.redact import redact_text, redact_value
from acontext_mcp.store.db import atomic
from acontext_mcp.store.tasks import LEARN_JOB_KIND

DEFAULT_SPACE = "default"
LEARN_TASK = LEARN_JOB_KIND
LEARN_SPACE = job_kinds.LEARN_SPACE
KINDS = ("skip", "success", "factual", "failure", "preferences")
MAX_ATTEMPTS = 3
_SPACE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,63}$")


def check_space_name(name: str) -> str:
    """Space names follow skill-name rules: lowercase letters, digits, single hyphens."""
    if not isinstance(name, str) or not _SPACE_NAME.match(name):
        raise InvalidInput(
            f"invalid space name {name!r}: use 1-64 lowercase letters, digits and single "
            "hyphens, e.g. `web-app`"
        )
    return name


# --- spaces ---------------------------------------------------------------------------------


def ensure_space(conn: sqlite3.Connection, name: str, description: str = "") -> dict[str, Any]:
    """The space, created when missing (idempotent)."""
    check_space_name(name)
    conn.execute(
        "INSERT OR IGNORE INTO learning_spaces (name, description, created_at) VALUES (?, ?, ?)",
        (name, description.strip(), time.time()),
    )
    return get_space(conn, name)


def get_space(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM learning_spaces WHERE name = ?", (name,)).fetchone()
    if row is None:
        known = ", ".join(r[0] for r in conn.execute("SELECT name FROM learning_spaces"))
        raise NotFound(f"no learning space {name!r} (known: {known}); create it first")
    out = dict(row)
    out["skills"] = sorted(space_skills(conn, name))
    out["sessions"] = conn.execute(
        "SELECT COUNT(*) FROM space_sessions WHERE space = ?", (name,)
    ).fetchone()[0]
    return out


def list_spaces(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    names = [r[0] for r in conn.execute("SELECT name FROM learning_spaces ORDER BY name")]
    return [get_space(conn, n) for n in names]


def space_skills(conn: sqlite3.Connection, space: str) -> set[str]:
    """Skills that belong to `space` (created by its learner or moved into it)."""
    rows = conn.execute("SELECT skill FROM space_skills WHERE space = ?", (space,))
    return {r[0] for r in rows}


def skill_owners(conn: sqlite3.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT skill, space FROM space_skills")}


def visible_skills(conn: sqlite3.Connection, space: str, names: list[str]) -> set[str]:
    """The skills of `names` a space's learner sees: its own and the shared ones."""
    owners = skill_owners(conn)
    return {n for n in names if owners.get(n, space) == space}


def link_skill(conn: sqlite3.Connection, space: str, skill: str) -> None:
    """Give `skill` to `space` (a skill belongs to at most one space)."""
    conn.execute(
        "INSERT INTO space_skills (skill, space, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT(skill) DO UPDATE SET space = excluded.space",
        (skill, space, time.time()),
    )


def unlink_skill(conn: sqlite3.Connection, skill: str) -> bool:
    """Make `skill` shared again; True when it belonged to a space."""
    return conn.execute("DELETE FROM space_skills WHERE skill = ?", (skill,)).rowcount == 1


# --- sessions -------------------------------------------------------------------------------


def session_space(conn: sqlite3.Connection, session_id: str) -> str | None:
    row = conn.execute(
        "SELECT space FROM space_sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    return row[0] if row else None


def attach_session(
    conn: sqlite3.Connection, session_id: str, space: str, *, explicit: bool = False
) -> str:
    """Attach a session to `space` unless it already is attached; returns its space.

    With `explicit` (the user named a space), a session already attached elsewhere is an
    error: a session learns into one space, ever, so its learnings never split.
    """
    with atomic(conn):
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
            raise NotFound(f"no session {session_id!r}")
        current = session_space(conn, session_id)
        if current is not None:
            if explicit and current != space:
                raise InvalidInput(
                    f"session {session_id} already learns into space {current!r}; a session "
                    "is attached to one space, ever"
                )
            return current
        ensure_space(conn, space)
        conn.execute(
            "INSERT INTO space_sessions (session_id, space, attached_at) VALUES (?, ?, ?)",
            (session_id, space, time.time()),
        )
        return space


# --- learnings ------------------------------------------------------------------------------


def add_learning(
    conn: sqlite3.Connection,
    *,
    session_id: str,
    task_id: int | None,
    space: str,
    kind: str,
    text: str,
    outcome: str | None = None,
    lesson: str | None = None,
    llm_calls: int = 0,
    input_tokens: int = 0,
    output_tokens: int = 0,
) -> int | None:
    """Record a distilled learning (status `distilled`, or `skipped` for kind `skip`).

    `outcome` is the task's settled outcome (store.tasks.OUTCOMES) at distillation time; the
    review policy decides by it. `lesson` is the structured entry as JSON (learn/entries.py),
    the counts what the distillation cost. A task is learned once: a second learning for the
    same task is ignored (returns None). The text and the lesson are a model's (distillation)
    and are redacted like captured text: a model can copy a secret from what it was shown.
    """
    text = redact_text(text)[0]
    if lesson is not None:
        try:  # redact the parsed values: a secret JSON-escaped in the text would slip past
            lesson = json.dumps(redact_value(json.loads(lesson))[0], ensure_ascii=False)
        except ValueError:
            lesson = redact_text(lesson)[0]
    if kind not in KINDS:
        raise InvalidInput(f"unknown learning kind {kind!r}")
    now = time.time()
    status = "skipped" if kind == "skip" else "distilled"
    cur = conn.execute(
        "INSERT OR IGNORE INTO learnings (session_id, task_id, space, kind, status, text, "
        "outcome, lesson, llm_calls, input_tokens, output_tokens, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session_id, task_id, space, kind, status, text, outcome, lesson,
            llm_calls, input_tokens, output_tokens, now, now,
        ),
    )  # fmt: skip
    return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


def add_cost(
    conn: sqlite3.Connection, ids: list[int], *, calls: float, input_tokens: int, output_tokens: int
) -> None:
    """Share a learner run's calls and tokens equally among the learnings it recorded."""
    if not ids:
        return
    n = len(ids)
    conn.execute(
        "UPDATE learnings SET llm_calls = llm_calls + ?, input_tokens = input_tokens + ?, "
        f"output_tokens = output_tokens + ? WHERE id IN ({','.join('?' * n)})",
        [round(calls / n), input_tokens // n, output_tokens // n, *ids],
    )


def learning_for_task(conn: sqlite3.Connection, task_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT * FROM learnings WHERE task_id = ? AND kind != 'preferences'", (task_id,)
    ).fetchone()
    return dict(row) if row else None


def reset_failed(conn: sqlite3.Connection, task_id: int) -> bool:
    """Forget a failed learning so the task can be distilled again (an explicit retry)."""
    cur = conn.execute(
        "DELETE FROM learnings WHERE task_id = ? AND status = 'failed' AND kind != 'preferences'",
        (task_id,),
    )
    return cur.rowcount == 1


def release_running(conn: sqlite3.Connection, space: str) -> int:
    """Learnings a dead learner left `running` go back to `distilled`. Only for the caller
    that holds the space's learner lock."""
    cur = conn.execute(
        "UPDATE learnings SET status = 'distilled', updated_at = ? "
        "WHERE space = ? AND status = 'running'",
        (time.time(), space),
    )
    return cur.rowcount


def claim_learnings(conn: sqlite3.Connection, space: str, limit: int) -> list[dict[str, Any]]:
    """The space's oldest distilled learnings, marked running (one attempt each)."""
    with atomic(conn):
        rows = conn.execute(
            "SELECT * FROM learnings WHERE space = ? AND status = 'distilled' ORDER BY id LIMIT ?",
            (space, limit),
        ).fetchall()
        ids = [r["id"] for r in rows]
        if ids:
            conn.execute(
                "UPDATE learnings SET status = 'running', attempts = attempts + 1, "
                f"updated_at = ? WHERE id IN ({','.join('?' * len(ids))})",
                [time.time(), *ids],
            )
    return [dict(r) | {"attempts": r["attempts"] + 1} for r in rows]


def finish_learnings(
    conn: sqlite3.Connection, ids: list[int], *, commit_sha: str | None, note: str | None = None
) -> None:
    """Mark learnings learned (commit_sha None: the learner found nothing worth changing)."""
    if not ids:
        return
    conn.execute(
        "UPDATE learnings SET status = 'learned', commit_sha = ?, error = ?, updated_at = ? "
        f"WHERE id IN ({','.join('?' * len(ids))})",
        [commit_sha, note, time.time(), *ids],
    )


def return_learnings(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Claimed learnings this run leaves for the next one: back to `distilled`, the attempt
    given back (a batch split by the review policy)."""
    if not ids:
        return
    conn.execute(
        "UPDATE learnings SET status = 'distilled', attempts = MAX(attempts - 1, 0), "
        f"updated_at = ? WHERE id IN ({','.join('?' * len(ids))})",
        [time.time(), *ids],
    )


def propose_learnings(conn: sqlite3.Connection, ids: list[int], proposal: str) -> None:
    """Mark learnings learned into a proposal that waits for review (no main commit yet)."""
    if not ids:
        return
    conn.execute(
        "UPDATE learnings SET status = 'learned', proposal = ?, review = 'pending', "
        f"commit_sha = NULL, error = NULL, updated_at = ? WHERE id IN ({','.join('?' * len(ids))})",
        [proposal, time.time(), *ids],
    )


def review_proposal(
    conn: sqlite3.Connection,
    proposal: str,
    review: str,
    *,
    commit_sha: str | None = None,
    note: str | None = None,
) -> int:
    """Record the review of a proposal on its learnings (`accepted` with the main commit, or
    `rejected` with the reason in `note`); returns how many learnings it held."""
    if review not in ("accepted", "rejected"):
        raise InvalidInput(f"a proposal is accepted or rejected, not {review!r}")
    cur = conn.execute(
        "UPDATE learnings SET review = ?, commit_sha = COALESCE(?, commit_sha), error = ?, "
        "updated_at = ? WHERE proposal = ?",
        (review, commit_sha, note, time.time(), proposal),
    )
    return cur.rowcount


def relearn_proposal(conn: sqlite3.Connection, proposal: str) -> list[str]:
    """The learnings of a rejected proposal wait again for the learner (fresh attempts), to be
    learned against the skills as they are now; returns their spaces."""
    spaces = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT space FROM learnings WHERE proposal = ? ORDER BY space", (proposal,)
        )
    ]
    conn.execute(
        "UPDATE learnings SET status = 'distilled', proposal = NULL, review = NULL, "
        "commit_sha = NULL, attempts = 0, error = NULL, updated_at = ? WHERE proposal = ?",
        (time.time(), proposal),
    )
    return spaces


def release_learnings(
    conn: sqlite3.Connection,
    ids: list[int],
    error: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    count_attempt: bool = True,
) -> list[int]:
    """Back to `distilled` after a failed run, or `failed` once out of attempts; returns the
    ids that failed for good. `count_attempt=False` (LLM unavailable) gives the attempt back."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    now = time.time()
    with atomic(conn):
        if not count_attempt:
            conn.execute(
                f"UPDATE learnings SET attempts = MAX(attempts - 1, 0) WHERE id IN ({marks})", ids
            )
        failed = [
            r[0]
            for r in conn.execute(
                f"SELECT id FROM learnings WHERE id IN ({marks}) AND attempts >= ?",
                [*ids, max_attempts],
            )
        ]
        conn.execute(
            "UPDATE learnings SET status = CASE WHEN attempts >= ? THEN 'failed' "
            f"ELSE 'distilled' END, error = ?, updated_at = ? WHERE id IN ({marks})",
            [max_attempts, error[:2000], now, *ids],
        )
    return failed


def waiting_count(conn: sqlite3.Connection, space: str) -> int:
    return conn.execute(
        "SELECT COUNT(*) FROM learnings WHERE space = ? AND status = 'distilled'", (space,)
    ).fetchone()[0]


# --- status ---------------------------------------------------------------------------------


def _job_counts(conn: sqlite3.Connection, session_id: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status, COUNT(*) FROM jobs WHERE kind = ? AND "
        "json_extract(payload, '$.session_id') = ? GROUP BY status",
        (LEARN_TASK, session_id),
    )
    return {r[0]: r[1] for r in rows}


def job_counts(conn: sqlite3.Connection, session_ids: list[str]) -> dict[str, dict[str, int]]:
    """`_job_counts` of several sessions in one pass over the jobs (a page of statuses: one
    scan, not one per session)."""
    found: dict[str, dict[str, int]] = {sid: {} for sid in session_ids}
    if not session_ids:
        return found
    marks = ",".join("?" * len(session_ids))
    rows = conn.execute(
        "SELECT json_extract(payload, '$.session_id'), status, COUNT(*) FROM jobs "
        f"WHERE kind = ? AND json_extract(payload, '$.session_id') IN ({marks}) GROUP BY 1, 2",
        (LEARN_TASK, *session_ids),
    )
    for sid, status, count in rows:
        found[sid][status] = count
    return found


def session_status(
    conn: sqlite3.Connection, session_id: str, *, jobs: dict[str, int] | None = None
) -> dict[str, Any]:
    """What learning did and does for one session: status, space, per-task learnings.
    `jobs`: its job counts when the caller read them for many sessions (`job_counts`)."""
    if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
        raise NotFound(f"no session {session_id!r}")
    jobs = _job_counts(conn, session_id) if jobs is None else jobs
    rows = conn.execute(
        "SELECT l.id, l.task_id, l.kind, l.status, l.commit_sha, l.error, l.attempts, "
        "l.proposal, l.review, l.llm_calls, l.input_tokens, l.output_tokens, "
        "t.description FROM learnings l LEFT JOIN tasks t ON t.id = l.task_id "
        "WHERE l.session_id = ? ORDER BY l.id",
        (session_id,),
    ).fetchall()
    states = {r["status"] for r in rows}
    if jobs.get("running") or "running" in states:
        status = "running"
    elif jobs.get("queued") or "distilled" in states:
        status = "pending"
    elif jobs.get("failed") or "failed" in states:
        status = "failed"
    elif rows or jobs.get("done"):
        status = "completed"
    else:
        status = "idle"
    counts = dict(
        conn.execute(
            "SELECT status IN ('success', 'failed'), COUNT(*) FROM tasks WHERE session_id = ? "
            "GROUP BY 1",
            (session_id,),
        ).fetchall()
    )
    finished, unfinished = counts.get(1, 0), counts.get(0, 0)
    learnings = [
        {
            "task_id": r["task_id"],
            "task": r["description"],
            "kind": r["kind"],
            "status": r["status"],
            "llm_calls": r["llm_calls"],
            "tokens": r["input_tokens"] + r["output_tokens"],
            **({"commit": r["commit_sha"]} if r["commit_sha"] else {}),
            **({"proposal": r["proposal"], "review": r["review"]} if r["proposal"] else {}),
            **({"error": r["error"]} if r["error"] else {}),
        }
        for r in rows
    ]
    return {
        "session_id": session_id,
        "space": session_space(conn, session_id),
        "status": status,
        "finished_tasks": finished,
        "unfinished_tasks": unfinished,  # pending or running: learned once they finish
        "jobs": jobs,
        "learnings": learnings,
        "commits": sorted({r["commit_sha"] for r in rows if r["commit_sha"]}),
    }


def recent_statuses(conn: sqlite3.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """Statuses of the sessions with learning activity, most recent first."""
    rows = conn.execute(
        "SELECT session_id FROM ("
        " SELECT session_id, MAX(updated_at) AS at FROM learnings GROUP BY session_id"
        " UNION ALL"
        " SELECT json_extract(payload, '$.session_id'), MAX(updated_at) FROM jobs"
        " WHERE kind = ? GROUP BY json_extract(payload, '$.session_id')"
        ") WHERE session_id IN (SELECT id FROM sessions) "
        "GROUP BY session_id ORDER BY MAX(at) DESC LIMIT ?",
        (LEARN_TASK, limit),
    ).fetchall()
    return [session_status(conn, r[0]) for r in rows]


def status_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many learnings are in each status."""
    return dict(conn.execute("SELECT status, COUNT(*) FROM learnings GROUP BY status").fetchall())
