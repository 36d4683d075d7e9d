"""Forgetting sessions: everything stored about them goes, in one transaction.

What goes: the sessions and their subagent sessions; by `ON DELETE CASCADE` their messages,
tasks, task links, session events, learnings, skill uses and space attachments; queued or
running jobs whose payload names them; the cursors keyed by them that point into their rows
(Stop's provisional messages, the todo tracker, task-agent attempts); the blob rows no
remaining message references, and after the commit their files. Deleted pages are zeroed
(`secure_delete`) and the WAL is checkpointed and emptied, so the forgotten text lingers in
neither file; `vacuum()` also gives the free pages back to the file system.

What stays, on purpose:
- Transcript cursors (`transcript:<session>:<path>`). Trigger: a forgotten session's transcript
  is read again (its next hook, `import claude-code`). Why: without the cursor the reader
  starts at byte 0 and stores the forgotten past again. Outcome: only what the transcript
  gains after the forget is captured, into a fresh session row of the same id.
- For agents that resend the whole history each time (OpenClaw), the forgotten messages'
  dedup keys, in a `forgotten:<session>` cursor, for the same reason.
- LLM usage rows, unlinked (`session_id` set NULL): they hold no conversation text, and the
  daily token budget and `acontext-mcp usage` count them.
- Skills learned from the sessions: they live in the skills git repository, which forget
  never rewrites; the plan names the commits so `acontext-mcp skills revert` can undo them.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, InvalidInput, NotFound
from acontext_mcp.job_kinds import LEARN_SPACE, LEARN_TASK
from acontext_mcp.store import jobs as job_table
from acontext_mcp.store import prepared
from acontext_mcp.store.blobs import blob_path, blob_refs
from acontext_mcp.store.cleanup import names_session, session_tree
from acontext_mcp.store.cursors import OPENCLAW_SKIPPED_PREFIX, get_cursor, set_cursor
from acontext_mcp.store.db import PAGE_SIZE, atomic, dumps, loads

KEPT_CURSOR_PREFIX = "transcript:"
TOMBSTONE_PREFIX = "forgotten:"  # + session id: dedup keys a resending agent must not restore
RESENDING_AGENTS = ("openclaw",)  # hand over the whole history at every event, no cursor
_BLOB_PARTS = """parts LIKE '%"kind":"blob"%'"""  # stored JSON is compact: see db.dumps
_CASCADED = (
    ("messages", "messages"),
    ("tasks", "tasks"),
    ("events", "session_events"),
    ("learnings", "learnings"),
    ("skill_uses", "skill_uses"),
)


# --- Choosing sessions ---


def parse_before(text: str) -> float:
    """`--before` as a timestamp: an ISO date or date-time, local time unless it has an offset."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"--before {text!r} is not an ISO date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)"
        ) from exc
    return when.timestamp()  # naive means local time


def select_sessions(
    conn: sqlite3.Connection,
    *,
    session_ids: list[str] | None = None,
    project_dir: str | None = None,
    before: float | None = None,
    everything: bool = False,
) -> list[str]:
    """The sessions to forget, subagents included, sorted. Named sessions must exist; filters
    combine (a session of that project AND last active before that time)."""
    if session_ids:
        if project_dir is not None or before is not None or everything:
            raise InvalidInput("name sessions or use --project/--before/--all, not both")
        missing = [
            s
            for s in session_ids
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (s,)).fetchone() is None
        ]
        if missing:
            raise NotFound(
                f"no session {', '.join(map(repr, missing))}: `acontext-mcp sessions` lists them"
            )
        return sorted(session_tree(conn, session_ids))
    if project_dir is None and before is None and not everything:
        raise InvalidInput("say what to forget: SESSION ids, --project DIR, --before DATE or --all")
    where: list[str] = ["1 = 1"]
    args: list[str | float] = []
    if project_dir is not None:
        where.append("project_dir = ?")
        args.append(project_dir)
    if before is not None:
        where.append("updated_at < ?")
        args.append(before)
    rows = conn.execute(f"SELECT id FROM sessions WHERE {' AND '.join(where)}", args).fetchall()
    return sorted(session_tree(conn, [r[0] for r in rows]))


# --- A learner at work ---


class LearnerBusy(AcontextError):
    """A session to forget is what a learner run is working on right now."""


def learner_busy(conn: sqlite3.Connection, ids: list[str]) -> dict[str, str]:
    """{session id: what works on it} for the sessions a learner run is working on now: a
    `learn_task` job of theirs running on a live lease, or learnings of theirs claimed by a
    `learn_space` run on a live lease. A dead worker's lease has expired: it blocks nothing."""
    now = time.time()
    busy: dict[str, str] = {}
    wanted = dumps(sorted(ids))
    for sid, job_id in conn.execute(
        "SELECT json_extract(payload, '$.session_id'), id FROM jobs WHERE kind = ? "
        "AND status = 'running' AND COALESCE(lease_until, 0) > ? AND json_valid(payload) "
        "AND json_extract(payload, '$.session_id') IN (SELECT value FROM json_each(?))",
        (LEARN_TASK, now, wanted),
    ):
        busy.setdefault(sid, f"distilling its tasks (job {job_id})")
    for sid, space in conn.execute(
        "SELECT DISTINCT l.session_id, l.space FROM learnings l JOIN jobs j ON j.kind = ? "
        "AND j.status = 'running' AND COALESCE(j.lease_until, 0) > ? AND json_valid(j.payload) "
        "AND json_extract(j.payload, '$.space') = l.space WHERE l.status = 'running' "
        "AND l.session_id IN (SELECT value FROM json_each(?))",
        (LEARN_SPACE, now, wanted),
    ):
        busy.setdefault(sid, f"the skill learner of space {space!r}")
    return busy


def refuse_if_learning(conn: sqlite3.Connection, ids: list[str]) -> None:
    """Raise LearnerBusy naming the sessions a learner run is working on (see learner_busy).

    Trigger: forgetting or deleting sessions. Why: the run would write lessons (and commit
    them) from a session that no longer exists, and its rows would vanish under it.
    Outcome: nothing is removed; the message says to wait and retry."""
    busy = learner_busy(conn, ids)
    if busy:
        shown = "; ".join(f"{sid} ({what})" for sid, what in sorted(busy.items())[:3])
        raise LearnerBusy(
            f"nothing removed: a learner run is in progress on {shown}. Wait for it to finish "
            "(`acontext-mcp learn` or the learning_status tool shows it) and retry"
        )


# --- Plan and forget ---


def _load_ids(conn: sqlite3.Connection, ids: list[str]) -> None:
    """The ids into a temp table: any number of sessions, no SQL variable limit."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS forget_ids (id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.forget_ids")
    conn.executemany("INSERT OR IGNORE INTO temp.forget_ids (id) VALUES (?)", [(i,) for i in ids])


_IN = "IN (SELECT id FROM temp.forget_ids)"
_SEQ_IN = f"IN (SELECT seq FROM sessions WHERE id {_IN})"  # their messages' session_seq


def _cursor_keys(conn: sqlite3.Connection, ids: list[str]) -> tuple[list[str], int]:
    """(keys to delete, transcript cursors kept) among the cursors naming these sessions."""
    wanted = set(ids)
    drop: list[str] = []
    kept = 0
    for (key,) in conn.execute("SELECT key FROM cursors"):
        if not names_session(key, wanted):
            continue
        if key.startswith(KEPT_CURSOR_PREFIX):
            kept += 1
        elif not key.startswith((TOMBSTONE_PREFIX, OPENCLAW_SKIPPED_PREFIX)):
            drop.append(key)
    return drop, kept


def _referenced(conn: sqlite3.Connection, where: str) -> set[str]:
    found: set[str] = set()
    for (parts,) in conn.execute(f"SELECT parts FROM messages WHERE {_BLOB_PARTS} AND {where}"):
        found |= blob_refs(loads(parts, []))
    return found


def _blobs_freed(conn: sqlite3.Connection) -> set[str]:
    """Blobs the forgotten messages reference that no other message does."""
    mine = _referenced(conn, f"session_seq {_SEQ_IN}")
    if not mine:
        return set()
    return mine - _referenced(conn, f"session_seq NOT {_SEQ_IN}")


def _counts(conn: sqlite3.Connection, ids: list[str], freed: set[str]) -> dict[str, Any]:
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    counts: dict[str, Any] = {"sessions": one(f"SELECT COUNT(*) FROM sessions WHERE id {_IN}")}
    for kind, table in _CASCADED:
        where = f"session_seq {_SEQ_IN}" if table == "messages" else f"session_id {_IN}"
        counts[kind] = one(f"SELECT COUNT(*) FROM {table} WHERE {where}")
    counts["jobs"] = one(
        f"SELECT COUNT(*) FROM jobs WHERE json_valid(payload) "
        f"AND json_extract(payload, '$.session_id') {_IN}"
    )
    drop, kept = _cursor_keys(conn, ids)
    counts["cursors"] = len(drop)
    counts["transcript_cursors_kept"] = kept
    counts["message_keys_kept"] = one(
        f"SELECT COUNT(*) FROM messages m JOIN sessions s ON s.seq = m.session_seq "
        f"WHERE s.id {_IN} AND s.agent IN ({', '.join(map(repr, RESENDING_AGENTS))})"
    )
    counts["llm_calls_unlinked"] = one(f"SELECT COUNT(*) FROM llm_calls WHERE session_id {_IN}")
    counts["blobs"] = len(freed)
    size = "SELECT COALESCE(SUM(size), 0) FROM blobs WHERE sha256 = ?"
    counts["blob_bytes"] = sum(conn.execute(size, (sha,)).fetchone()[0] for sha in freed)
    counts["skill_commits"] = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT commit_sha FROM learnings WHERE session_id {_IN} "
            "AND commit_sha IS NOT NULL ORDER BY commit_sha"
        )
    ]
    return counts


def plan(conn: sqlite3.Connection, ids: list[str]) -> dict[str, Any]:
    """What `forget` would remove (counts), read in one snapshot, writing nothing."""
    conn.execute("BEGIN")
    try:
        _load_ids(conn, ids)
        return {"session_ids": ids, **_counts(conn, ids, _blobs_freed(conn))}
    finally:
        conn.execute("ROLLBACK")


def forget(conn: sqlite3.Connection, settings: Settings, ids: list[str]) -> dict[str, Any]:
    """Remove the sessions (and their subagents) with everything keyed by them, in one
    transaction; then delete the blob files that no message references any more, and the
    prepared SessionStart answers (store/prepared.py).
    Returns the counts of what was removed (see `plan`). Refuses (LearnerBusy) while a
    learner run works on one of them."""
    secure = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left readable
    try:
        with atomic(conn):
            ids = sorted(session_tree(conn, ids))  # a subagent may have appeared since the plan
            refuse_if_learning(conn, ids)
            _load_ids(conn, ids)
            freed = _blobs_freed(conn)
            counts = _counts(conn, ids, freed)
            _bury_keys(conn)
            drop, _kept = _cursor_keys(conn, ids)
            conn.executemany("DELETE FROM cursors WHERE key = ?", [(k,) for k in drop])
            job_table.delete_for_sessions(conn, ids)
            conn.execute(f"UPDATE llm_calls SET session_id = NULL WHERE session_id {_IN}")
            conn.execute(f"DELETE FROM sessions WHERE id {_IN}")  # the rest cascades
            conn.executemany("DELETE FROM blobs WHERE sha256 = ?", [(s,) for s in sorted(freed)])
            conn.execute("DELETE FROM temp.forget_ids")
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(secure)}")
    counts["blob_files_removed"] = remove_blob_files(conn, settings, freed)
    # SessionStart answers prepared ahead hold brief text (their requests, their tasks):
    # stale now (the store clock moved), and not to be left on disk.
    counts["prepared_answers_removed"] = prepared.drop_all(str(settings.home))
    counts["wal_busy"] = checkpoint(conn)
    return {"session_ids": ids, **counts}


def _bury_keys(conn: sqlite3.Connection) -> None:
    """Keep the dedup keys of forgotten messages from agents that resend whole histories.

    Trigger: forgetting an OpenClaw session, which has no transcript cursor: every agent_end
    hands over the session's whole history. Why: its next event would store the forgotten
    messages again. Outcome: a `forgotten:<session>` cursor lists their keys (digests, no
    text); the hook treats them as stored (`forgotten_keys`). A later forget adds to it.
    """
    rows = conn.execute(
        f"SELECT s.id, m.dedup_key FROM messages m JOIN sessions s ON s.seq = m.session_seq "
        f"WHERE s.id {_IN} AND s.agent IN ({','.join('?' * len(RESENDING_AGENTS))})",
        RESENDING_AGENTS,
    ).fetchall()
    buried: dict[str, set[str]] = {}
    for sid, key in rows:
        buried.setdefault(sid, set()).add(key)
    for sid, keys in buried.items():
        old = get_cursor(conn, TOMBSTONE_PREFIX + sid) or []
        set_cursor(conn, TOMBSTONE_PREFIX + sid, sorted(keys.union(old)))


def forgotten_keys(conn: sqlite3.Connection, session_id: str, keys: list[str]) -> set[str]:
    """Those of `keys` that were forgotten in this session (one primary-key lookup)."""
    buried = get_cursor(conn, TOMBSTONE_PREFIX + session_id)
    return set(keys).intersection(buried) if buried else set()


def remove_blob_files(conn: sqlite3.Connection, settings: Settings, shas: set[str]) -> int:
    """Delete the files of blobs whose rows are gone; returns how many files went.

    Trigger: after the forget committed. Why: a writer storing the same bytes meanwhile
    re-inserts the row in its own transaction (files are written inside it). Outcome: under
    the write lock, a file goes only while its row is still absent.
    """
    removed = 0
    if not shas:
        return 0
    with atomic(conn):
        for sha in sorted(shas):
            if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha,)).fetchone():
                continue
            path = blob_path(settings, sha)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when empty
    return removed


# --- Leaving no copies ---


def checkpoint(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the database and empty it; True when a reader kept it from emptying.

    Trigger: a forget committed. Why: the WAL still holds earlier versions of the forgotten
    pages, and the database file holds them until the zeroed pages are copied over.
    Outcome: neither file keeps the forgotten text (free pages are zeroed by secure_delete).
    """
    return bool(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])


def _size(settings: Settings) -> int:
    db = settings.db_path
    total = 0
    for suffix in ("", "-wal"):
        path = Path(str(db) + suffix)
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def vacuum(conn: sqlite3.Connection, settings: Settings) -> dict[str, Any]:
    """Rewrite the database without free pages and empty the WAL; returns sizes before and
    after, whether a reader kept the WAL from being emptied (`wal_busy`), and the page size.

    A store written by an earlier release gets today's pages (db.PAGE_SIZE) on the way when no
    other process has the database open (SQLite changes the page size only outside WAL mode).
    """
    before = _size(settings)
    checkpoint(conn)
    if not _vacuum_to_page_size(conn):
        conn.execute("VACUUM")
    busy = checkpoint(conn)
    return {
        "bytes_before": before,
        "bytes_after": _size(settings),
        "wal_busy": busy,
        "page_size": conn.execute("PRAGMA page_size").fetchone()[0],
    }


def _vacuum_to_page_size(conn: sqlite3.Connection) -> bool:
    """VACUUM into db.PAGE_SIZE pages when the store's pages are another size; False when it
    did not (the size is right already, or another connection keeps the store in WAL mode)."""
    if conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE:
        return False
    wait = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 200")  # an agent at work will not let go: do not wait
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError:  # another process holds the database open
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(wait)}")
    try:
        if str(mode).lower() != "delete":
            return False
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("VACUUM")
        return True
    finally:
        conn.execute("PRAGMA journal_mode = WAL")
