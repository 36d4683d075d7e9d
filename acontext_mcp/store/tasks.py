"""Tasks: what the user asked for in a session, in order, with status and evidence.

Written by the task agent (observe/) and by deterministic tracking of the agent's own todo
tools; read by list_tasks, session summaries and the SessionStart brief.
"""

from __future__ import annotations

import heapq
import sqlite3
import time
from collections.abc import Sequence
from itertools import islice

from acontext_mcp import job_kinds
from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.store.db import atomic, dumps, loads
from acontext_mcp.store.pages import clamp_limit, decode_cursor, encode_cursor
from acontext_mcp.store.sessions import SEQ_OF
from acontext_mcp.text import clip

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:  # nor store.jobs (it imports dataclasses): imported where it is used
    from typing import Any

TASK_STATUSES = ("pending", "running", "success", "failed")
PAGE_MAX = 500  # tasks per page
# How a finished task went, from captured evidence (see migrations.m006_task_outcomes).
OUTCOMES = ("verified_success", "verified_failure", "unverified", "abandoned")


def _check_status(status: str) -> str:
    if status not in TASK_STATUSES:
        raise InvalidInput(f"task status must be one of {', '.join(TASK_STATUSES)}; got {status!r}")
    return status


def row_to_task(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["progresses"] = loads(out["progresses"], [])
    out["user_preferences"] = loads(out["user_preferences"], [])
    return out


def insert_task(
    conn: sqlite3.Connection,
    session_id: str,
    description: str,
    *,
    after_order: int | None = None,
    status: str = "pending",
) -> dict[str, Any]:
    """Insert a task after `after_order` (0 = first; None = last), shifting later ones."""
    description = description.strip()
    if not description:
        raise InvalidInput("task description must not be empty")
    _check_status(status)
    now = time.time()
    with atomic(conn):
        last = conn.execute(
            'SELECT COALESCE(MAX("order"), 0) FROM tasks WHERE session_id = ?', (session_id,)
        ).fetchone()[0]
        order = last + 1 if after_order is None else max(1, min(after_order + 1, last + 1))
        # Shift in two steps so the UNIQUE(session_id, order) index never sees a collision.
        conn.execute(
            'UPDATE tasks SET "order" = -("order" + 1) WHERE session_id = ? AND "order" >= ?',
            (session_id, order),
        )
        conn.execute(
            'UPDATE tasks SET "order" = -"order" WHERE session_id = ? AND "order" < 0',
            (session_id,),
        )
        cur = conn.execute(
            'INSERT INTO tasks (session_id, "order", description, status, created_at, '
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (session_id, order, description, status, now, now),
        )
        return row_to_task(cur.fetchone())


def get_task(conn: sqlite3.Connection, session_id: str, order: int) -> dict[str, Any]:
    row = conn.execute(
        'SELECT * FROM tasks WHERE session_id = ? AND "order" = ?', (session_id, order)
    ).fetchone()
    if row is None:
        raise NotFound(f"session {session_id!r} has no task {order}")
    return row_to_task(row)


def update_task(
    conn: sqlite3.Connection,
    session_id: str,
    order: int,
    *,
    status: str | None = None,
    description: str | None = None,
    add_progress: str | None = None,
    add_preference: str | None = None,
) -> dict[str, Any]:
    """Change a task; each call is one transaction."""
    with atomic(conn):
        task = get_task(conn, session_id, order)
        _apply(conn, task, status, description, add_progress, add_preference)
    return get_task(conn, session_id, order)


def _apply(
    conn: sqlite3.Connection,
    task: dict[str, Any],
    status: str | None,
    description: str | None,
    add_progress: str | None,
    add_preference: str | None,
) -> None:
    if status is not None:
        task["status"] = _check_status(status)
    if description is not None and description.strip():
        task["description"] = description.strip()
    if add_progress and add_progress.strip():
        task["progresses"].append(add_progress.strip())
    if add_preference and add_preference.strip():
        task["user_preferences"].append(add_preference.strip())
    conn.execute(
        "UPDATE tasks SET status = ?, description = ?, progresses = ?, user_preferences = ?, "
        "updated_at = ? WHERE id = ?",
        (
            task["status"],
            task["description"],
            dumps(task["progresses"]),
            dumps(task["user_preferences"]),
            time.time(),
            task["id"],
        ),
    )


def set_outcome(conn: sqlite3.Connection, task_id: int, outcome: str | None) -> None:
    """Settle (or, with None, unsettle) a task's outcome."""
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput(f"task outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}")
    conn.execute("UPDATE tasks SET outcome = ? WHERE id = ?", (outcome, task_id))


def add_evidence(
    conn: sqlite3.Connection,
    task_id: int,
    kind: str,
    result: str,
    *,
    command: str | None = None,
    detail: str | None = None,
    message_id: int | None = None,
) -> int:
    """Record one observed signal about a task; returns its row id."""
    cur = conn.execute(
        "INSERT INTO task_evidence (task_id, kind, result, command, detail, message_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (task_id, kind, result, command, detail, message_id, time.time()),
    )
    return int(cur.lastrowid or 0)


def task_evidence(conn: sqlite3.Connection, task_id: int) -> list[dict[str, Any]]:
    """A task's evidence, oldest first: kind, result, command, detail, message_id."""
    rows = conn.execute(
        "SELECT kind, result, command, detail, message_id, created_at FROM task_evidence "
        "WHERE task_id = ? ORDER BY id",
        (task_id,),
    ).fetchall()
    return [dict(r) for r in rows]


EVIDENCE_SHOWN = 12  # per task in a listing: the latest ones
EVIDENCE_TEXT = 120  # command and detail characters in a listing


def compact_evidence(conn: sqlite3.Connection, task_ids: Sequence[int]) -> dict[int, list[Any]]:
    """For a listing: each task's latest EVIDENCE_SHOWN evidence rows, oldest first, as
    {kind, result, command, message_id, detail} with command and detail clipped."""
    out: dict[int, list[Any]] = {i: [] for i in task_ids}
    rows: list[sqlite3.Row] = []
    for task_id in out:  # one index range per task (task_evidence_task): nothing to sort
        latest = conn.execute(
            "SELECT task_id, kind, result, command, detail, message_id FROM task_evidence "
            "WHERE task_id = ? ORDER BY id DESC LIMIT ?",
            (task_id, EVIDENCE_SHOWN),
        ).fetchall()
        rows += reversed(latest)
    for r in rows:
        item = {"kind": r["kind"], "result": r["result"]}
        for key in ("command", "message_id", "detail"):
            value = r[key]
            if value is not None:
                item[key] = clip(value, EVIDENCE_TEXT) if isinstance(value, str) else value
        out[r["task_id"]].append(item)
    return out


def get_task_by_id(conn: sqlite3.Connection, task_id: int) -> dict[str, Any] | None:
    """A task by its row id (stable while orders shift), or None."""
    row = conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
    return None if row is None else row_to_task(row)


def update_task_by_id(
    conn: sqlite3.Connection,
    task_id: int,
    *,
    status: str | None = None,
    description: str | None = None,
    add_progress: str | None = None,
    add_preference: str | None = None,
) -> dict[str, Any]:
    """`update_task` addressed by row id; one transaction (a savepoint inside a caller's)."""
    with atomic(conn):
        task = get_task_by_id(conn, task_id)
        if task is None:
            raise NotFound(f"no task with id {task_id}")
        _apply(conn, task, status, description, add_progress, add_preference)
    return get_task_by_id(conn, task_id)  # type: ignore[return-value]


def find_task_by_description(
    conn: sqlite3.Connection, session_id: str, description: str
) -> dict[str, Any] | None:
    """The session's task with this description (exact after trimming, else ignoring case
    and inner whitespace); the first in order when several match. None when none does."""
    wanted = description.strip()
    if not wanted:
        return None
    row = conn.execute(
        'SELECT * FROM tasks WHERE session_id = ? AND description = ? ORDER BY "order" LIMIT 1',
        (session_id, wanted),
    ).fetchone()
    if row is not None:
        return row_to_task(row)
    folded = " ".join(wanted.split()).casefold()
    for row in conn.execute(
        'SELECT * FROM tasks WHERE session_id = ? ORDER BY "order"', (session_id,)
    ):
        if " ".join(row["description"].split()).casefold() == folded:
            return row_to_task(row)
    return None


def current_task(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    """The task work is happening on: the most recently updated `running` task, else the
    last task in order; None when the session has no tasks."""
    row = conn.execute(
        "SELECT * FROM tasks WHERE session_id = ? AND status = 'running' "
        "ORDER BY updated_at DESC, id DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    if row is None:
        row = conn.execute(
            'SELECT * FROM tasks WHERE session_id = ? ORDER BY "order" DESC LIMIT 1',
            (session_id,),
        ).fetchone()
    return None if row is None else row_to_task(row)


def link_messages(conn: sqlite3.Connection, task_id: int, message_ids: list[int]) -> int:
    """Record which stored messages a task came from; returns how many links are new."""
    added = 0
    for message_id in dict.fromkeys(message_ids):
        cur = conn.execute(
            "INSERT OR IGNORE INTO task_messages (task_id, message_id) VALUES (?, ?)",
            (task_id, message_id),
        )
        added += cur.rowcount
    return added


LEARN_JOB_KIND = job_kinds.LEARN_TASK


def queue_learning(conn: sqlite3.Connection, task_id: int, session_id: str) -> bool:
    """Queue a finished (success/failed) task for skill learning (dedup key `learn:<task_id>`).

    A task is learned once: a queued job absorbs the request, and a done job is queued again
    only when it produced no learning (the task had been reopened by the time it ran). A
    running job is flagged to run once more when it completes: the run may have read the task
    while it was reopened, and this finish must not be lost. True when (re)queued or flagged.
    """
    from acontext_mcp.store import jobs  # here: the brief reads tasks; jobs imports dataclasses

    key = f"learn:{task_id}"
    with atomic(conn):
        status = jobs.status_by_key(conn, key)
        if status == "failed":
            return False
        if (
            status == "done"
            and conn.execute(
                "SELECT 1 FROM learnings WHERE task_id = ? AND kind != 'preferences'", (task_id,)
            ).fetchone()
        ):
            return False
        _, outcome = jobs.put(
            conn,
            LEARN_JOB_KIND,
            {"task_id": task_id, "session_id": session_id},
            dedup_key=key,
            requeue=True,
        )
    return outcome != "absorbed"


def list_tasks(
    conn: sqlite3.Connection,
    *,
    session_id: str | None = None,
    status: Sequence[str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One session's tasks in order, or tasks across sessions newest-updated first; each
    with its `outcome` and a compact `evidence` list (compact_evidence).

    Across sessions every query walks an index in (updated_at, id) order (tasks_updated, or
    tasks_status per status) and stops after a page, so a page costs the same at any store size.
    """
    limit = clamp_limit(limit, default=50, maximum=PAGE_MAX)
    where, args = ["1 = 1"], []
    for s in status or []:
        _check_status(s)
    after = decode_cursor(cursor, kind="tasks")
    if session_id is not None:
        if status:
            where.append(f"status IN ({','.join('?' * len(status))})")
            args += list(status)
        where.append("session_id = ?")
        args.append(session_id)
        if after is not None:
            where.append('"order" > ?')
            args.append(after["o"])
        rows = conn.execute(
            f'SELECT * FROM tasks WHERE {" AND ".join(where)} ORDER BY "order" LIMIT ?',
            [*args, limit + 1],
        ).fetchall()
    else:
        if after is not None:
            where.append("(updated_at, id) < (?, ?)")  # a row value: an index range, not a scan
            args += [after["u"], after["i"]]
        rows = _newest_tasks(conn, where, args, list(dict.fromkeys(status or [])), limit + 1)
    tasks = [row_to_task(r) for r in rows[:limit]]
    evidence = compact_evidence(conn, [t["id"] for t in tasks])
    for t in tasks:
        t["evidence"] = evidence[t["id"]]
    next_cursor = None
    if len(rows) > limit:
        last = tasks[-1]
        state = (
            {"k": "tasks", "o": last["order"]}
            if session_id is not None
            else {"k": "tasks", "u": last["updated_at"], "i": last["id"]}
        )
        next_cursor = encode_cursor(state)
    return {"tasks": tasks, "next_cursor": next_cursor}


def _newest_tasks(
    conn: sqlite3.Connection, where: list[str], args: list[Any], statuses: list[str], n: int
) -> list[sqlite3.Row]:
    """The first `n` tasks matching `where`, newest-updated first, in any of `statuses` (all
    when empty). Several statuses are one ordered query each, merged here: an IN list would
    make SQLite sort every matching task in a temporary B-tree."""
    sql = f"SELECT * FROM tasks WHERE {' AND '.join(where)}"
    order = " ORDER BY updated_at DESC, id DESC LIMIT ?"
    if not statuses:
        return conn.execute(sql + order, [*args, n]).fetchall()
    runs = [
        conn.execute(sql + " AND status = ?" + order, [*args, s, n]).fetchall() for s in statuses
    ]
    if len(runs) == 1:
        return runs[0]
    merged = heapq.merge(*runs, key=lambda r: (r["updated_at"], r["id"]), reverse=True)
    return list(islice(merged, n))


def recent_tasks_for_project(
    conn: sqlite3.Connection, project_dir: str | None, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Tasks of the sessions held in one project directory (all projects when None),
    most recently updated first, each with its session id."""
    sql = "SELECT t.* FROM tasks t JOIN sessions s ON s.id = t.session_id"
    args: list[Any] = []
    if project_dir is not None:
        sql += " WHERE s.project_dir = ?"
        args.append(project_dir)
    rows = conn.execute(sql + " ORDER BY t.updated_at DESC, t.id DESC LIMIT ?", [*args, limit])
    return [row_to_task(r) for r in rows]


def session_tasks(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """All tasks of a session, in order."""
    rows = conn.execute(
        'SELECT * FROM tasks WHERE session_id = ? ORDER BY "order"', (session_id,)
    ).fetchall()
    return [row_to_task(r) for r in rows]


def task_outline(conn: sqlite3.Connection, session_id: str) -> list[sqlite3.Row]:
    """id, order, status and description of a session's tasks, in order."""
    return conn.execute(
        'SELECT id, "order", status, description FROM tasks WHERE session_id = ? ORDER BY "order"',
        (session_id,),
    ).fetchall()


def count_tasks(conn: sqlite3.Connection, session_id: str) -> int:
    return int(
        conn.execute("SELECT COUNT(*) FROM tasks WHERE session_id = ?", (session_id,)).fetchone()[0]
    )


def task_ids(conn: sqlite3.Connection, session_id: str, statuses: tuple[str, ...]) -> list[int]:
    """Ids of the session's tasks in one of `statuses`, in task order."""
    marks = ",".join("?" * len(statuses))
    rows = conn.execute(
        f'SELECT id FROM tasks WHERE session_id = ? AND status IN ({marks}) ORDER BY "order"',
        (session_id, *statuses),
    ).fetchall()
    return [r[0] for r in rows]


def task_description(conn: sqlite3.Connection, task_id: int) -> str | None:
    row = conn.execute("SELECT description FROM tasks WHERE id = ?", (task_id,)).fetchone()
    return row[0] if row else None


def task_linked_to(conn: sqlite3.Connection, session_id: str, message_id: int) -> int | None:
    """The id of the session's first task (in order) linked to this message, or None."""
    row = conn.execute(
        "SELECT t.id FROM task_messages tm JOIN tasks t ON t.id = tm.task_id "
        'WHERE tm.message_id = ? AND t.session_id = ? ORDER BY t."order" LIMIT 1',
        (message_id, session_id),
    ).fetchone()
    return None if row is None else int(row[0])


def linked_message_ids(conn: sqlite3.Connection, task_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT message_id FROM task_messages WHERE task_id = ? ORDER BY message_id", (task_id,)
    ).fetchall()
    return [r[0] for r in rows]


_MESSAGE_COLUMNS = "m.id, m.position, m.role, m.parts, m.meta, m.created_at"


def _ends(conn: sqlite3.Connection, sql: str, args: list[Any], rows: int) -> list[sqlite3.Row]:
    """The first and last `rows` messages matched by `sql` (a query over `messages m` that
    ends in its WHERE clause), in position order."""
    head = conn.execute(sql + " ORDER BY m.position LIMIT ?", [*args, rows]).fetchall()
    tail = conn.execute(sql + " ORDER BY m.position DESC LIMIT ?", [*args, rows]).fetchall()
    seen: dict[int, sqlite3.Row] = {r["id"]: r for r in head}
    for r in tail:
        seen.setdefault(r["id"], r)
    return sorted(seen.values(), key=lambda r: r["position"])


def task_message_rows(
    conn: sqlite3.Connection, task: dict[str, Any], *, rows: int, fallback: int
) -> list[sqlite3.Row]:
    """The messages a task was worked in (id, position, role, parts, meta), in order: its
    linked messages; without links, the session's messages after the previous tasks' last
    linked message and before the next tasks' first one; failing that, the session's last
    `fallback` messages. At most `rows` from each end; disabled (capture off) ones left out."""
    linked = _ends(
        conn,
        f"SELECT {_MESSAGE_COLUMNS} FROM task_messages tm JOIN messages m ON m.id = tm.message_id "
        "WHERE tm.task_id = ? AND m.status != 'disabled'",
        [task["id"]],
        rows,
    )
    if linked:
        return linked
    sid, order = task["session_id"], task["order"]
    bound = (
        "SELECT {fn}(m.position) FROM task_messages tm JOIN messages m ON m.id = tm.message_id "
        'JOIN tasks t ON t.id = tm.task_id WHERE t.session_id = ? AND t."order" {op} ?'
    )
    after = conn.execute(bound.format(fn="MAX", op="<"), (sid, order)).fetchone()[0]
    before = conn.execute(bound.format(fn="MIN", op=">"), (sid, order)).fetchone()[0]
    base = (
        f"SELECT {_MESSAGE_COLUMNS} FROM messages m "
        f"WHERE m.session_seq = {SEQ_OF} AND m.status != 'disabled'"
    )
    if after is not None or before is not None:
        sql, args = base, [sid]
        if after is not None:
            sql += " AND m.position > ?"
            args.append(after)
        if before is not None:
            sql += " AND m.position < ?"
            args.append(before)
        window = _ends(conn, sql, args, rows)
        if window:
            return window
    last = conn.execute(base + " ORDER BY m.position DESC LIMIT ?", (sid, fallback)).fetchall()
    return list(reversed(last))
