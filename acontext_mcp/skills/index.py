"""Full-text index of the skills directory: SQLite FTS5 in `<home>/skills-index.db`.

The index is a cache of the files, kept apart from the main store so it can be deleted and
rebuilt at any time: a corrupt file or an older schema is simply rebuilt. `refresh` is
incremental (a file is re-read only when its mtime or size changed; removed files are dropped).

One row per text file of a skill. The `name` and `description` columns are filled on the
`SKILL.md` row only, so a skill's metadata counts once; every row carries its path (the skill's
folder first) and content. Words are stemmed (porter over unicode61: "tests" finds "testing").
Ranking is bm25 with name and description weighted above path and content, times a factor per
file: dated logs (a diary day) weigh less, so a runbook or a fact answers a "how do I ..."
before a diary day that mentions the same words. User queries never reach FTS5 syntax: they are
cut into words, stop words ("how", "do", "the") are dropped, and each word (or hyphenated run
of words, as in `daily-logs`) becomes a quoted phrase; any may match, and a file matching more
of them ranks higher.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, InvalidInput
from acontext_mcp.private import create_private_file, private_mkdir
from acontext_mcp.skills import SKILL_FILE, contained, entry_index, watch
from acontext_mcp.skills.skillmd import parse_skill_md
from acontext_mcp.skills.terms import STOP_WORDS as STOP_WORDS  # re-exported
from acontext_mcp.skills.terms import fts_query as fts_query  # re-exported
from acontext_mcp.skills.terms import query_terms
from acontext_mcp.skills.validate import TEXT_SUFFIXES
from acontext_mcp.skills.watch import Watch

log = logging.getLogger("acontext.skills.index")

INDEX_FILE = "skills-index.db"
SCHEMA_VERSION = 2  # 2: porter stemming, a rank factor per file
MAX_FILE_BYTES = 1024 * 1024
COMMON_FROM = 1000  # files in the index from which a word in most of them is left out
WINDOW = 2000  # files ranked by content when every word of a query is in most files
MANY_CHANGED = 100  # more changed skills than this: a full (mtime-comparing) refresh instead
WEIGHTS = (10.0, 5.0, 2.0, 1.0)  # name, description, path, content
TOKENIZE = "porter unicode61 remove_diacritics 2"
DIARY_FACTOR = 0.5  # a dated log's bm25 counts half: procedures and facts answer first
DIARY_SKILLS = frozenset({"daily-logs"})
_DATED = re.compile(r"\d{4}-\d{2}(?:-\d{2})?(?:\D|$)")  # logs/2026-12-02.md, logs/2026-11.md
_ASKS_DATE = re.compile(r"(?<!\w)\d{4}-\d{2}(?:-\d{2})?(?!\w)")  # "what did we do on 2026-12-02"
_INDEXED_SUFFIXES = TEXT_SUFFIXES | {""}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,       -- relative to the skills directory: <folder>/<file>
    skill TEXT NOT NULL,             -- folder name
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    factor REAL NOT NULL DEFAULT 1   -- multiplies the file's bm25: below 1 for dated logs
);
CREATE INDEX IF NOT EXISTS files_skill ON files(skill);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    name, description, path, content, tokenize = '{TOKENIZE}'
);
INSERT INTO fts(fts, rank) VALUES ('rank', 'bm25({", ".join(str(w) for w in WEIGHTS)})');
PRAGMA user_version = {SCHEMA_VERSION};
"""


class SearchUnavailable(AcontextError):
    """The SQLite library Python was built with has no FTS5."""


def index_path(settings: Settings) -> Path:
    """`<home>/skills-index.db`, or a private scratch copy while the data home is read-only
    (the index is only a cache of the files, so search keeps working)."""
    if settings.home.is_dir() and not os.access(settings.home, os.W_OK):
        return _scratch_dir() / INDEX_FILE
    return settings.home / INDEX_FILE


_scratch: list[str] = []


def _scratch_dir() -> Path:
    if not _scratch:
        _scratch.append(tempfile.mkdtemp(prefix="acontext-index-"))  # owner-only
        atexit.register(shutil.rmtree, _scratch[0], ignore_errors=True)
    return Path(_scratch[0])


_fts5_checked = False


def _require_fts5(conn: sqlite3.Connection) -> None:
    global _fts5_checked
    if _fts5_checked:
        return
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError as exc:
        raise SearchUnavailable(
            f"skill search needs SQLite's FTS5 extension, which this Python's SQLite "
            f"{sqlite3.sqlite_version} lacks ({exc}); install a Python built against an SQLite "
            "with FTS5 (python.org, Homebrew and most Linux distributions have it)"
        ) from exc
    _fts5_checked = True


def _connect(path: Path, settings: Settings, shared: bool) -> sqlite3.Connection:
    create_private_file(path)  # owner-only, and so its -wal and -shm
    conn = sqlite3.connect(
        path,
        timeout=settings.busy_timeout_ms / 1000,
        isolation_level=None,
        check_same_thread=not shared,
    )
    conn.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_ms)}")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Switching to WAL does not wait on the busy handler: retry while another opener holds a lock.
    deadline = time.monotonic() + settings.busy_timeout_ms / 1000
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.01)
    return conn


def _create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables once, inside a write transaction (another opener may race us)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            entry_index.create(conn)  # the learned entries the prompt hook matches
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def open_index(settings: Settings, *, shared: bool = False) -> sqlite3.Connection:
    """Open (creating or rebuilding when unusable) the index database. `shared`: usable from
    other threads (the caller serializes its use)."""
    path = index_path(settings)
    private_mkdir(path.parent)
    for attempt in (1, 2):
        conn: sqlite3.Connection | None = None
        try:
            conn = _connect(path, settings, shared)
            _require_fts5(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                if version != 0:
                    raise sqlite3.DatabaseError(f"index schema {version}, want {SCHEMA_VERSION}")
                _create_schema(conn)
            conn.execute("SELECT count(*) FROM files").fetchone()
            return conn
        except sqlite3.OperationalError:  # locked, busy, disk full: not ours to delete
            if conn is not None:
                conn.close()
            raise
        except sqlite3.DatabaseError:  # not a database, corrupt, other schema: rebuild
            if conn is not None:
                conn.close()
            if attempt == 2:
                raise
            _remove(path)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
    raise AssertionError("unreachable")


def _skill_meta(text: str, folder: str) -> tuple[str, str]:
    try:
        front, _ = parse_skill_md(text)
    except InvalidInput:
        return folder, ""
    name = front.get("name")
    name = name.strip() if isinstance(name, str) and name.strip() else folder
    description = front.get("description")
    return name, str(description).strip() if description is not None else ""


def _scan_folder(folder: Path, found: dict[str, tuple[str, int, int]]) -> None:
    """Add the indexable files of one skill folder: relative path -> (folder, mtime_ns, size)."""
    pending = [(str(folder), folder.name)]
    while pending:
        path, rel_dir = pending.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{rel_dir}/{name}"))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # symlinks, devices, sockets
                dot = name.rfind(".")
                if (name[dot:].lower() if dot > 0 else "") not in _INDEXED_SUFFIXES:
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_size <= MAX_FILE_BYTES:
                found[f"{rel_dir}/{name}"] = (folder.name, st.st_mtime_ns, st.st_size)


def _scan(skills_dir: Path) -> dict[str, tuple[str, int, int]]:
    """Indexable files of every skill: relative path -> (skill folder, mtime_ns, size)."""
    found: dict[str, tuple[str, int, int]] = {}
    for folder in contained.skill_folders(skills_dir):
        _scan_folder(folder, found)
    return found


def rank_factor(rel: str) -> float:
    """How much a file's bm25 counts: less for a dated log (`daily-logs` files, or a file named
    by its day or month in any skill), whose words echo the procedures it records."""
    skill, _, inner = rel.partition("/")
    if inner == SKILL_FILE or not inner:
        return 1.0
    if skill in DIARY_SKILLS or _DATED.match(inner.rsplit("/", 1)[-1]):
        return DIARY_FACTOR
    return 1.0


def _read_text(skills_dir: Path, rel: str) -> str | None:
    """Text of a scanned file, read without following links (one may be swapped in since)."""
    try:
        data = contained.read_bytes(skills_dir, rel, max_bytes=MAX_FILE_BYTES)
    except (AcontextError, OSError):
        return None
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def refresh(settings: Settings) -> dict[str, Any]:
    """Bring the index in step with the whole skills directory; return what changed.

    Returns {"files", "skills"} (totals indexed now) and {"added", "updated", "removed"}
    (files changed by this call). Walks and stats every file: long-lived readers use `Keeper`,
    which re-reads only the skills a change notice names.
    """
    return _refresh(settings, None)


def refresh_skills(
    settings: Settings, names: Iterable[str], *, conn: sqlite3.Connection | None = None
) -> dict[str, Any]:
    """Re-read the named skill folders only (a writer's own change, or a watcher's notice):
    every file of theirs is read again, so an edit within one mtime tick is not missed; a
    name that is no longer a skill folder loses its rows. Returns what `refresh` returns."""
    wanted = sorted({n for n in names if n and "/" not in n and not n.startswith(".")})
    return _refresh(settings, wanted, conn)


def _refresh(
    settings: Settings, names: list[str] | None, conn: sqlite3.Connection | None = None
) -> dict[str, Any]:
    skills_dir = settings.skills_dir
    if names is None:
        on_disk = _scan(skills_dir)
    else:
        on_disk = {}
        for name in names:
            if contained.is_skill_folder(skills_dir, name):
                _scan_folder(skills_dir / name, on_disk)
    added = updated = 0
    removed: list[int] = []
    with _opened(settings, conn) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if names is None:
                rows = conn.execute("SELECT id, path, mtime_ns, size FROM files")
            else:
                marks = ",".join("?" * len(names))
                rows = conn.execute(
                    f"SELECT id, path, mtime_ns, size FROM files WHERE skill IN ({marks})", names
                )
            known = {row[1]: (row[0], row[2], row[3]) for row in rows}
            removed = [known[p][0] for p in known.keys() - on_disk.keys()]
            _drop_files(conn, removed)
            for rel, (skill, mtime_ns, size) in on_disk.items():
                old = known.get(rel)
                if names is None and old is not None and old[1] == mtime_ns and old[2] == size:
                    continue
                text = _read_text(skills_dir, rel)
                if text is None:  # vanished or binary since the scan
                    if old is not None:
                        _drop_files(conn, [old[0]])
                        removed.append(old[0])
                    continue
                if old is None:
                    cur = conn.execute(
                        "INSERT INTO files (path, skill, mtime_ns, size, factor) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (rel, skill, mtime_ns, size, rank_factor(rel)),
                    )
                    rowid = int(cur.lastrowid or 0)  # set by an INSERT
                    added += 1
                else:
                    rowid = old[0]
                    conn.execute(
                        "UPDATE files SET mtime_ns = ?, size = ? WHERE id = ?",
                        (mtime_ns, size, rowid),
                    )
                    updated += 1
                _put_text(conn, rowid, rel, skill, text, replace=old is not None)
                entry_index.index_file(conn, rowid, rel, text)  # dropped rows: a trigger
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        files, skills = conn.execute("SELECT count(*), count(DISTINCT skill) FROM files").fetchone()
    return {
        "files": files,
        "skills": skills,
        "added": added,
        "updated": updated,
        "removed": len(removed),
    }


def _drop_files(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Remove files from the index: their rows and all that is derived from their text."""
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        conn.execute(f"DELETE FROM fts WHERE rowid IN ({marks})", part)
        conn.execute(f"DELETE FROM files WHERE id IN ({marks})", part)


def _put_text(
    conn: sqlite3.Connection, rowid: int, rel: str, skill: str, text: str, *, replace: bool
) -> None:
    """(Re)index one file's text under its `files` row: the full-text row, and whatever else
    is derived from the text. The name and description count on the skill's SKILL.md only."""
    name = description = ""
    if rel == f"{skill}/{SKILL_FILE}":
        name, description = _skill_meta(text, skill)
    if replace:
        conn.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
    conn.execute(
        "INSERT INTO fts (rowid, name, description, path, content) VALUES (?, ?, ?, ?, ?)",
        (rowid, name, description, rel, text),
    )


def _run(
    conn: sqlite3.Connection,
    match: str,
    limit: int,
    dated: bool,
    *,
    since: int = 0,
    shown: str | None = None,
) -> list[dict[str, Any]]:
    """The best `limit` files for `match` (of those from row `since` on), without snippets
    (see `_add_snippets`, which marks the words of `shown`, by default `match`). `dated`: the
    query names a day or month, so dated logs weigh more instead of less."""
    factor = "/ f.factor" if dated else "* f.factor"
    rows = conn.execute(
        f"SELECT f.id, f.path, f.skill, fts.rank {factor} AS score "
        "FROM fts JOIN files f ON f.id = fts.rowid WHERE fts MATCH ? AND fts.rowid >= ? "
        "ORDER BY score LIMIT ?",
        (match, since, limit),
    ).fetchall()
    out: list[dict[str, Any]] = []
    for rowid, path, skill, rank in rows:
        rel = path.split("/", 1)[1] if "/" in path else path
        out.append(
            {
                "name": skill,
                "folder": skill,
                "description": "",
                "path": rel,
                "score": float(f"{-rank:.4g}"),  # bm25 is tiny in small repos
                "snippet": "",
                "_rowid": rowid,
                "_match": shown or match,
            }
        )
    return out


def _add_snippets(conn: sqlite3.Connection, hits: list[dict[str, Any]]) -> None:
    """Fill the snippets of the hits being returned, and only theirs: a snippet costs more
    than ranking a row, and the ranking query may look at five times as many rows as are
    shown. The content's snippet, or the description's when the content has no match."""
    by_match: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        by_match.setdefault(hit.pop("_match"), []).append(hit)
    for match, group in by_match.items():
        want = {hit["_rowid"]: hit for hit in group}
        marks = ",".join("?" * len(want))
        for rowid, content_snip in conn.execute(
            "SELECT rowid, snippet(fts, 3, '**', '**', '…', 16) FROM fts "
            f"WHERE fts MATCH ? AND rowid IN ({marks})",
            (match, *want),
        ):
            want[rowid]["snippet"] = content_snip
        bare = [rowid for rowid, hit in want.items() if "**" not in hit["snippet"]]
        if bare:
            marks = ",".join("?" * len(bare))
            for rowid, desc_snip in conn.execute(
                "SELECT rowid, snippet(fts, 1, '**', '**', '…', 16) FROM fts "
                f"WHERE fts MATCH ? AND rowid IN ({marks})",
                (match, *bare),
            ):
                if desc_snip:
                    want[rowid]["snippet"] = desc_snip
    for hit in hits:
        hit["snippet"] = hit["snippet"].strip()
        del hit["_rowid"]


def search(
    settings: Settings, query: str, limit: int = 10, *, conn: sqlite3.Connection | None = None
) -> list[dict[str, Any]]:
    """Files of skills matching `query`, best first (bm25; name and description weigh most).

    Each result: {"name", "folder", "description", "path" (inside the skill), "score"
    (higher is better), "snippet" (matches marked with **)}. Any word may match (stop words
    aside); a file with more of them, or with them in its name or description, ranks higher,
    a dated log lower (higher when the query names a date, as in "2026-12-02"). Does not
    refresh: call `refresh` first when the directory may have changed. `conn` is an open index
    to reuse.
    """
    hits = _ranked(settings, query, limit, conn)
    if hits:
        with _opened(settings, conn) as db:
            _add_snippets(db, hits)
    return hits


def _ranked(
    settings: Settings, query: str, limit: int, conn: sqlite3.Connection | None
) -> list[dict[str, Any]]:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput("limit must be a positive integer")
    limit = min(limit, 200)
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("query must be a non-empty string of words to look for")
    try:
        terms = query_terms(query)
    except InvalidInput:
        return []  # only punctuation or symbols: nothing can match
    dated = _ASKS_DATE.search(query) is not None
    with _opened(settings, conn) as db:
        terms, common = _informative(db, terms)
        match = " OR ".join(f'"{term}"' for term in terms)
        if common:
            return _with_meta(db, _run_common(db, match, limit, dated))
        return _with_meta(db, _run(db, match, limit, dated))


def _informative(conn: sqlite3.Connection, terms: list[str]) -> tuple[list[str], bool]:
    """`terms` without those found in half or more of a large index's files, while another
    term is found in fewer; and whether every term left is in half or more. bm25 gives such
    a term no weight (its idf is clamped to 1e-6), yet ranking every file that holds it is
    most of a query's cost (20 ms at 20,000 files); counting them costs a twentieth of that."""
    total = conn.execute("SELECT count(*) FROM files").fetchone()[0]
    if total < COMMON_FROM:
        return terms, False
    count = "SELECT count(*) FROM fts WHERE fts MATCH ?"
    held = [(conn.execute(count, (f'"{t}"',)).fetchone()[0], t) for t in terms]
    kept = [t for n, t in held if 0 < 2 * n < total]
    if kept:
        return kept, False
    return terms, any(n for n, _ in held)


def _run_common(
    conn: sqlite3.Connection, match: str, limit: int, dated: bool
) -> list[dict[str, Any]]:
    """`_run` for words that are each in half or more of the files: bm25 tells those files
    apart only by where the words stand, so rank the files naming them in their name,
    description or path, and the last `WINDOW` files indexed that hold them, not all."""
    floor = conn.execute(
        "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (match, WINDOW - 1),
    ).fetchone()
    if floor is None:
        return _run(conn, match, limit, dated)
    rows = _run(conn, f"{{name description path}} : ({match})", limit, dated, shown=match)
    rows += _run(conn, match, limit, dated, since=floor[0])
    best: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: -float(r["score"])):
        best.setdefault(row["_rowid"], row)
    return list(best.values())[:limit]


@contextmanager
def _opened(settings: Settings, conn: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
    if conn is not None:
        yield conn
        return
    with closing(open_index(settings)) as opened:
        yield opened


def _with_meta(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill each hit's skill name and description from its skill's SKILL.md row."""
    if not rows:
        return rows
    folders = sorted({r["folder"] for r in rows})
    marks = ",".join("?" * len(folders))
    meta = {
        path.split("/", 1)[0]: (name, description)
        for path, name, description in conn.execute(
            "SELECT f.path, fts.name, fts.description FROM files f JOIN fts ON fts.rowid = f.id "
            f"WHERE f.skill IN ({marks}) AND f.path = f.skill || '/{SKILL_FILE}'",
            folders,
        )
    }
    for row in rows:
        row["name"], row["description"] = meta.get(row["folder"], (row["folder"], ""))
    return rows


def search_by_skill(
    settings: Settings,
    query: str,
    limit: int = 10,
    *,
    files_per_skill: int = 3,
    conn: sqlite3.Connection | None = None,
) -> list[dict[str, Any]]:
    """`search` grouped by skill, best skill first: {"name", "description", "score",
    "matches": [{"path", "snippet"}]} with up to `files_per_skill` files each."""
    hits = _ranked(settings, query, min(200, limit * 5), conn)
    grouped: dict[str, dict[str, Any]] = {}
    shown: list[dict[str, Any]] = []
    for hit in hits:
        entry = grouped.get(hit["folder"])
        if entry is None:
            if len(grouped) == limit:
                continue
            entry = grouped[hit["folder"]] = {
                "name": hit["folder"],
                "description": hit["description"],
                "score": hit["score"],
                "matches": [],
            }
        if not entry["description"] and hit["description"]:
            entry["description"] = hit["description"]
        if len(entry["matches"]) < files_per_skill:
            entry["matches"].append(hit)
            shown.append(hit)
    if shown:
        with _opened(settings, conn) as db:
            _add_snippets(db, shown)
    for entry in grouped.values():
        entry["matches"] = [{"path": h["path"], "snippet": h["snippet"]} for h in entry["matches"]]
    return list(grouped.values())


class Keeper:
    """Keeps the index in step for a long-lived reader (the MCP server), cheaply per query.

    The first `ensure_current` starts a watch (skills/watch.py) and then refreshes in full;
    later calls re-read only the skill folders the watch names, so the first search after an
    edit sees it without walking every file. Writers in this or another process (a learning
    commit, `skills pull`) update the shared index themselves (`refresh_skills`); the watch
    sees their files too, and re-reading a skill twice is harmless. One connection stays open:
    opening costs a millisecond, and closing the last one checkpoints the WAL.
    """

    def __init__(self, settings: Settings, *, full_every: float):
        self.settings = settings
        self.full_every = full_every
        self._watch: Watch | None = None
        self._conn: sqlite3.Connection | None = None
        self._inode = 0
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        """The open index, reopened when its file was replaced (another process rebuilt it)."""
        try:
            inode = os.stat(index_path(self.settings)).st_ino
        except OSError:
            inode = -1
        if self._conn is not None and inode != self._inode:
            self._conn.close()
            self._conn = None
        if self._conn is None:
            self._conn = open_index(self.settings, shared=True)
            self._inode = os.stat(index_path(self.settings)).st_ino
        return self._conn

    def ensure_current(self) -> set[str] | None:
        """Bring the index in step with every change made before this call. Returns the
        skill folders re-read (empty: nothing changed), or None after a full refresh."""
        with self._lock:
            conn = self._connection()
            if self._watch is None:
                self._watch = watch.start(self.settings.skills_dir, full_every=self.full_every)
                _refresh(self.settings, None, conn)  # after the watch starts: nothing missed
                return None
            try:
                names = self._watch.changed()
            except OSError as exc:  # e.g. out of inotify watches for a new folder
                log.warning("skills watch failed (%s); falling back to folder mtimes", exc)
                self._watch.close()
                self._watch = watch.PollWatch(self.settings.skills_dir, self.full_every)
                names = None
            if getattr(self._watch, "dead", False):  # the skills directory was replaced
                self._watch.close()
                self._watch = watch.start(self.settings.skills_dir, full_every=self.full_every)
            if names is not None and len(names) > MANY_CHANGED:
                names = None  # a checkout of many skills: comparing mtimes costs less
            if names is None:
                _refresh(self.settings, None, conn)
            elif names:
                refresh_skills(self.settings, names, conn=conn)
            return names

    def search_by_skill(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """`search_by_skill` on the kept connection (call `ensure_current` first)."""
        with self._lock:
            return search_by_skill(self.settings, query, limit, conn=self._connection())

    def close(self) -> None:
        with self._lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
            if self._conn is not None:
                self._conn.close()
                self._conn = None
