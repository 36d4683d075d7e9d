"""SessionStart answers prepared ahead of time, and the check that one still holds.

Claude Code waits for SessionStart's answer (the brief, `reloadSkills`). Building it live
means importing the config, the store, the skill sync and the brief (pathlib, re, sqlite3's
package: most of the 3x budget of bench/bench_session_start.py before any work). So the
detached children of the hooks (after capture, after a worker's jobs: hooks/session_start.py)
prepare the answer a session starting in that project would get, and record what it depends
on; SessionStart answers from it when nothing of that changed, with `os`, `_json` and
`_sqlite3` alone, and builds the answer live otherwise.

What an answer depends on, and how a change is seen:
- the store: the project's `store_clock` (m014), moved by triggers on every change to the
  rows of its sessions the brief reads (another project's session does not move it), and
  the cursors the answer compares with (which skills the last session saw, which clashes it
  was told about);
- files (stat_rows.py): the skill folders the brief reads (the runbooks, the user's facts,
  any skill the agent does not list itself), whole; every skill's SKILL.md (what the agent
  lists: a skill added, removed or described anew is synced before the answer, which then
  asks for a rescan); the names in every sync target (our copies, a folder in the way); the
  sync manifests, the user config, the install records, the package's own answering
  modules. The other files of a skill the agent lists are not watched: the answer does not
  read them, and the detached child's sync brings their copies up to date right after it;
- the environment variables that name those places or shape the answer.

A prepared answer with a row changed within stat_rows.FRESH_SECONDS is never written (its
stat cannot vouch for it: the worker waits and tries again, a hook leaves it to its next
event), and one naming the session asking among its
recent sessions is not used (the brief leaves the asking session out). Files live under
`<data home>/answers/`, one per agent and project, owner-only: they hold brief text, so
forgetting sessions removes them all (`drop_all`).
"""

from __future__ import annotations

import os
import time

from acontext_mcp import wirejson
from acontext_mcp.stat_rows import FRESH_SECONDS, fresh, listings, stat_row, stat_tree

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this
if TYPE_CHECKING:
    from typing import Any

    from acontext_mcp.csqlite import sqlite3

VERSION = 1
FOLDER = "answers"
KEEP = 32  # prepared answers kept per data home (the projects most recently prepared)
DB_FILE = "acontext.db"  # config.Settings.db_path's name
# Environment variables that name the places an answer reads or shape it; every ACONTEXT_
# variable too, but these: how a hook or worker runs, and the data home (the answer is found
# under it, so it is the same home; the worker is started with it set even where the user
# left it unset: worker/triggers.spawn_worker).
ENV_NAMES = ("HOME", "TZ", "CLAUDE_CONFIG_DIR", "OPENCLAW_HOME", "OPENCLAW_STATE_DIR",
             "OPENCLAW_CONFIG_PATH")  # fmt: skip
ENV_IGNORED = ("ACONTEXT_HOOK_INLINE", "ACONTEXT_WORKER", "ACONTEXT_MCP_BIN", "ACONTEXT_HOME")
CLOCK_SQL = "SELECT changes FROM store_clock WHERE scope = ?"
CURSOR_SQL = "SELECT value FROM cursors WHERE key = ?"
NEVER = 1 << 62  # a stat_rows cutoff no change is after (`snapshot`'s "own" entries)


def folder(home: str) -> str:
    return os.path.join(home, FOLDER)


def path_for(home: str, agent: str, project_dir: str | None) -> str:
    """`<home>/answers/<agent>-<FNV-1a 64 of the project dir, hex>.json`. A file records its
    project, so two projects of one name are told apart (`load`); a hash module would cost
    the hook its import."""
    digest = 0xCBF29CE484222325
    for byte in (project_dir or "").encode("utf-8", "surrogatepass"):
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(folder(home), f"{agent}-{digest:016x}.json")


def environment() -> dict[str, str]:
    """The variables an answer depends on (ENV_NAMES, ACONTEXT_*), as set now."""
    return {
        name: value
        for name, value in os.environ.items()
        if name in ENV_NAMES or (name.startswith("ACONTEXT_") and not name.startswith(ENV_IGNORED))
    }


# --- The store's part ---


def clock_scope(project_dir: str | None) -> str:
    """The store clock a project's brief depends on: its own, or every change ('*') for a
    session without a project (its brief reads all of them)."""
    return project_dir if project_dir else "*"


def store_state(
    conn: sqlite3.Connection, project_dir: str | None, cursor_keys: list[str]
) -> list[Any]:
    """[the project's clock (None before its first change), then each cursor's stored text
    (None when unset)], read on `conn`."""
    row = conn.execute(CLOCK_SQL, (clock_scope(project_dir),)).fetchone()
    state: list[Any] = [None if row is None else row[0]]
    for key in cursor_keys:
        row = conn.execute(CURSOR_SQL, (key,)).fetchone()
        state.append(None if row is None else row[0])
    return state


def _store_state_now(
    home: str, project_dir: str | None, cursor_keys: list[str]
) -> list[Any] | None:
    """`store_state` on a read-only connection of its own (store/peek.py); None when the
    store cannot say (missing, locked past a short wait, older than m014)."""
    from acontext_mcp.csqlite import sqlite3
    from acontext_mcp.store.peek import connect_readonly

    conn = connect_readonly(os.path.join(home, DB_FILE), timeout=0.2)
    if conn is None:
        return None
    try:
        return store_state(conn, project_dir, cursor_keys)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


# --- The files' part ---


def snapshot(watch: list[list[Any]], last: list[list[Any]] | None = None) -> list[list[Any]]:
    """The rows of everything `watch` names, in order: per entry, a header row [section,
    kind] (the only rows of two items), then its rows. A watch entry is [kind, path] or
    [kind, path, "own"], the kind one of:

    - "tree": the stat rows of the folder and everything under it (links not followed);
    - "file": the stat row of that one entry (a link's has its target's stat);
    - "names": the folder's entry names, sorted (one row; a folder's own stat would move
      with every copy our sync renames into it);
    - "skills": per visible entry of a skills folder, in name order, the stat row of its
      SKILL.md (what an agent lists), named by the entry;
    - "isdir": whether it is a folder.

    A row of an entry changed within FRESH_SECONDS is marked fresh (it vouches for nothing),
    unless the entry is "own": written only by our sync, always by renaming a new file into
    place (a new inode each time), so a prepare right after a sync need not wait. `last`, a
    stored snapshot of the same list, spares listing folders that did not change."""
    recent = time.time_ns() - int(FRESH_SECONDS * 1e9)
    rows: list[list[Any]] = []
    sections = tuple(f"w{i}" for i in range(len(watch)))
    known = listings(last, sections) if last else {}
    for section, (kind, path, *rest) in zip(sections, watch, strict=True):
        rows.append([section, kind])
        cutoff = NEVER if rest and rest[0] == "own" else recent
        if kind == "isdir":
            rows.append([path, os.path.isdir(path), kind])
        elif kind == "names":
            try:
                with os.scandir(path) as entries:
                    rows.append([path, sorted(e.name for e in entries), kind])
            except OSError:
                rows.append([path, "missing", None])
        elif kind == "skills":
            try:
                with os.scandir(path) as entries:
                    names = sorted(e.name for e in entries if not e.name.startswith("."))
            except OSError:
                rows.append([path, "missing", None])
                continue
            for name in names:
                if stat_row(f"{path}/{name}/SKILL.md", name, cutoff, rows) is None:
                    rows.append([name, "missing", None])
        elif kind == "file":
            if stat_row(path, ".", cutoff, rows) is None:
                rows.append([path, "missing", None])
        elif not stat_tree(path, ".", cutoff, rows, known, section):
            rows.append([path, "missing", None])
    return rows


# --- Prepared answers ---


def load(home: str, agent: str, project_dir: str | None) -> dict[str, Any] | None:
    """The prepared answer for `agent` in `project_dir`, or None (none, unreadable, another
    version, or another project's under a colliding name)."""
    try:
        fd = os.open(path_for(home, agent, project_dir), os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        data = wirejson.loads(b"".join(chunks))
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or data.get("version") != VERSION
        or data.get("agent") != agent
        or data.get("project_dir") != project_dir
    ):
        return None
    return data


def check(data: dict[str, Any], home: str, session_id: str | None) -> bool:
    """Whether `data` (from `load`) is still the answer: the session asking is not one its
    brief lists, and the environment, the store and the files are as they were. The cheap
    checks go first."""
    if session_id and session_id in (data.get("sessions") or ()):
        return False
    if data.get("env") != environment():
        return False
    keys, state = data.get("cursor_keys"), data.get("store")
    now = _store_state_now(home, data.get("project_dir"), keys) if isinstance(keys, list) else None
    if now is None or now != state:
        return False
    watch, rows = data.get("watch"), data.get("rows")
    if not isinstance(watch, list) or not isinstance(rows, list) or fresh(rows):
        return False
    return snapshot(watch, rows) == rows


def save(home: str, data: dict[str, Any]) -> None:
    """Write a prepared answer (atomically, owner-only), and drop the oldest beyond KEEP."""
    from pathlib import Path

    from acontext_mcp.fsio import replace_file

    where = folder(home)
    os.makedirs(where, 0o700, exist_ok=True)
    target = Path(path_for(home, data["agent"], data["project_dir"]))
    body = wirejson.dumps({**data, "version": VERSION}, ensure_ascii=False).encode("utf-8")
    replace_file(target, body, prefix=f".{target.name}.tmp-")
    _prune(where)


def _prune(where: str) -> None:
    try:
        with os.scandir(where) as entries:
            found = [
                (e.stat().st_mtime_ns, e.path)
                for e in entries
                if e.name.endswith(".json") and not e.name.startswith(".")
            ]
    except OSError:
        return
    for _, path in sorted(found, reverse=True)[KEEP:]:
        _unlink(path)


def drop_all(home: str) -> int:
    """Remove every prepared answer: they hold brief text, which forgetting must not leave
    behind. Returns how many were removed."""
    try:
        with os.scandir(folder(home)) as entries:
            paths = [e.path for e in entries if e.is_file(follow_symlinks=False)]
    except OSError:
        return 0
    return sum(_unlink(path) for path in paths)


def _unlink(path: str) -> bool:
    """Remove a file; False when it could not be (gone already, or not ours to remove).
    (Not contextlib.suppress: the hook that reads these does not import contextlib.)"""
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
