"""Learned entry lines, full-text indexed for the prompt hook: tables in `<home>/skills-index.db`.

The skills index (skills/index.py) keeps one row per file for `search_skills`; the prompt
hook needs the single learned entry (a `- **Title**: text (when: ...; seen n×, ...)` line,
skills/evidence.py) that best matches a prompt, fast, without reading any skill file. So
each indexed file's learned entries also get a row here: `entry_lines` holds them (skill,
file, project, section, title, text, triggers, verified, seen, last) and `entry_fts` (porter
stemming over unicode61, external content) makes them searchable. index.py calls `create`
when it creates its schema and `index_file` whenever it (re)indexes a file; a trigger drops
a file's entries when its `files` row goes. The diary (`daily-logs`) is never indexed: a
day's notes are not lessons.

`best_entries` is the read side, run inside the UserPromptSubmit hook: the content words of
the prompt (skills/prompt_words.py), one FTS query, coverage counted per word, a threshold.
Standard library only (sqlite3, re): the hook path imports it.
"""

from __future__ import annotations

from acontext_mcp.csqlite import sqlite3
from acontext_mcp.skills.prompt_words import MIN_TERMS, prompt_terms

DIARY = "daily-logs"
RUNBOOKS = "project-runbooks"
MAX_RUNBOOK_BYTES = 1024 * 1024  # as skills/index.py indexes files
CANDIDATES = 30  # rows bm25 ranks before coverage is counted
MAX_TERMS = 16
LONG_PROMPT = 40  # content words; a prompt longer than this needs one more matching word
TOKENIZE = "porter unicode61 remove_diacritics 2"
WEIGHTS = "4.0, 3.0, 1.0"  # title, triggers, text

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS entry_lines (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL,        -- files.id of skills/index.py
        skill TEXT NOT NULL,             -- skill folder
        file TEXT NOT NULL,              -- path inside the skill folder
        project TEXT NOT NULL,           -- runbook slug for projects/<slug>.md, '' = shared
        section TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        triggers TEXT NOT NULL,          -- the `when:` words, comma-separated
        verified INTEGER NOT NULL,
        seen INTEGER NOT NULL,
        last TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS entry_lines_file ON entry_lines(file_id)",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS entry_fts USING fts5(
        title, triggers, text, content = 'entry_lines', content_rowid = 'id',
        tokenize = '{TOKENIZE}'
    )""",
    f"INSERT INTO entry_fts(entry_fts, rank) VALUES ('rank', 'bm25({WEIGHTS})')",
    """CREATE TRIGGER IF NOT EXISTS entry_lines_ai AFTER INSERT ON entry_lines BEGIN
        INSERT INTO entry_fts(rowid, title, triggers, text)
        VALUES (new.id, new.title, new.triggers, new.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS entry_lines_ad AFTER DELETE ON entry_lines BEGIN
        INSERT INTO entry_fts(entry_fts, rowid, title, triggers, text)
        VALUES ('delete', old.id, old.title, old.triggers, old.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS files_entry_lines_ad AFTER DELETE ON files BEGIN
        DELETE FROM entry_lines WHERE file_id = old.id;
    END""",
)

# (id, skill, file, section, title, text, verified, seen, bm25): a candidate row.
_Row = tuple[int, str, str, str, str, str, int, int, float]


class Hit:
    """One entry chosen for a prompt (a plain class: `typing` costs the hook 2 ms to import)."""

    __slots__ = ("file", "section", "seen", "skill", "text", "title", "verified")

    def __init__(
        self, skill: str, file: str, section: str, title: str, text: str, verified: int, seen: int
    ) -> None:
        self.skill, self.file, self.section, self.title = skill, file, section, title
        self.text, self.verified, self.seen = text, verified, seen

    def __repr__(self) -> str:
        return f"Hit({self.skill}/{self.file}: {self.title!r}, verified {self.verified})"


def create(conn: sqlite3.Connection) -> None:
    """Create the entry tables (inside index.py's schema transaction, after `files`)."""
    fresh = not _exists(conn)
    for statement in _SCHEMA:
        if statement.startswith("INSERT") and not fresh:
            continue  # the rank setting is made once, with the table
        conn.execute(statement)


def _exists(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entry_fts'"
    ).fetchone()
    return row is not None


def _project(skill: str, file: str) -> str:
    """The runbook slug of `projects/<slug>.md` in project-runbooks, else '' (shared)."""
    if skill == RUNBOOKS and file.startswith("projects/") and file.endswith(".md"):
        return file[len("projects/") : -len(".md")]
    return ""


def index_file(conn: sqlite3.Connection, file_id: int | None, rel: str, text: str) -> int:
    """(Re)index the learned entries of one file, `rel` = `<skill>/<path>`; returns how many.
    Called by index.py in its write transaction, after the file's row was written."""
    if file_id is None:
        return 0
    if not _exists(conn):  # an index made before this table: made here, filled as files change
        create(conn)
    conn.execute("DELETE FROM entry_lines WHERE file_id = ?", (file_id,))
    skill, _, file = rel.partition("/")
    if skill == DIARY or not file.endswith(".md") or "**" not in text:
        return 0
    from acontext_mcp.skills.evidence import parse_entries

    project = _project(skill, file)
    rows = [
        (file_id, skill, file, project, e.section, e.title, e.text, ", ".join(e.triggers), *tail)
        for e in parse_entries(text)
        for tail in [(e.verified, e.seen, e.last)]
    ]
    conn.executemany(
        "INSERT INTO entry_lines (file_id, skill, file, project, section, title, text, "
        "triggers, verified, seen, last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def _needed(terms: list[str]) -> int:
    """How many distinct prompt words an entry must contain (long prompts match by chance)."""
    return MIN_TERMS + 1 if len(terms) > LONG_PROMPT else MIN_TERMS


def best_entries(
    conn: sqlite3.Connection,
    prompt: str,
    *,
    project: str | None,
    runbook: tuple[str, str] | None = None,
    limit: int = 3,
) -> list[Hit]:
    """The entries that pass the match threshold for `prompt`, best first, from the shared
    skills and `project`'s runbook. An entry passes when at least two distinct content words
    of the prompt occur in it (stemmed; three for a long prompt) and one of them in its title
    or its `when:` words. Best: more such words, then more verified, more seen, bm25.

    `runbook` = (rel path, text): that runbook changed on disk since it was indexed; its
    entries are read from `text` (ranked in a temporary table) instead of the stale rows."""
    terms = prompt_terms(prompt)
    if len(terms) < MIN_TERMS:
        return []
    terms = terms[:MAX_TERMS]
    match = " OR ".join(f'"{t}"' for t in terms)
    slug = project or ""
    stale = runbook[0] if runbook else ""
    rows = conn.execute(
        "SELECT e.id, e.skill, e.file, e.section, e.title, e.text, e.verified, e.seen, "
        "entry_fts.rank FROM entry_fts JOIN entry_lines e ON e.id = entry_fts.rowid "
        "WHERE entry_fts MATCH ? AND e.project IN ('', ?) AND e.skill || '/' || e.file != ? "
        "ORDER BY entry_fts.rank LIMIT ?",
        (match, slug, stale, CANDIDATES),
    ).fetchall()
    scored = _scored(conn, "entry_fts", rows, terms)
    if runbook is not None:
        scored += _scored_text(conn, runbook[0], runbook[1], slug, match, terms)
    need = _needed(terms)
    passing = [s for s in scored if s[0] >= need and s[1] >= 1]
    passing.sort(key=lambda s: (-(s[0] + s[1]), -s[2].verified, -s[2].seen, s[3]))
    return [s[2] for s in passing[:limit]]


def _scored(
    conn: sqlite3.Connection, table: str, rows: list[_Row], terms: list[str]
) -> list[tuple[int, int, Hit, float]]:
    """(words matched, of which in title or triggers, hit, bm25) for candidate rows: one
    query per prompt word over the candidates (stemmed by the table's tokenizer)."""
    if not rows:
        return []
    ids = [row[0] for row in rows]
    marks = ",".join("?" * len(ids))
    anywhere: dict[int, int] = dict.fromkeys(ids, 0)
    titled: dict[int, int] = dict.fromkeys(ids, 0)
    for term in terms:
        for (rowid,) in conn.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid IN ({marks})",
            (f'"{term}"', *ids),
        ):
            anywhere[rowid] += 1
        for (rowid,) in conn.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid IN ({marks})",
            (f'{{title triggers}}: "{term}"', *ids),
        ):
            titled[rowid] += 1
    return [
        (anywhere[r[0]], titled[r[0]], Hit(r[1], r[2], r[3], r[4], r[5], r[6], r[7]), r[8])
        for r in rows
    ]


def _scored_text(
    conn: sqlite3.Connection, rel: str, text: str, slug: str, match: str, terms: list[str]
) -> list[tuple[int, int, Hit, float]]:
    """`_scored` for the entries of a runbook read from disk, through a temporary table."""
    from acontext_mcp.skills.evidence import parse_entries

    skill, _, file = rel.partition("/")
    entries = parse_entries(text)
    if not entries or _project(skill, file) not in ("", slug):
        return []
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fresh_fts USING fts5("
        f"title, triggers, text, tokenize = '{TOKENIZE}')"
    )
    conn.execute("DELETE FROM temp.fresh_fts")
    conn.executemany(
        "INSERT INTO temp.fresh_fts (rowid, title, triggers, text) VALUES (?, ?, ?, ?)",
        [(i, e.title, ", ".join(e.triggers), e.text) for i, e in enumerate(entries, 1)],
    )
    ranked = conn.execute(
        f"SELECT rowid, bm25(fresh_fts, {WEIGHTS}) FROM fresh_fts WHERE fresh_fts MATCH ? "
        "ORDER BY 2 LIMIT ?",
        (match, CANDIDATES),
    ).fetchall()
    rows: list[_Row] = []
    for rowid, rank in ranked:
        e = entries[rowid - 1]
        rows.append((rowid, skill, file, e.section, e.title, e.text, e.verified, e.seen, rank))
    return _scored(conn, "fresh_fts", rows, terms)


def indexed_stamp(conn: sqlite3.Connection, rel: str) -> tuple[int, int] | None:
    """(mtime_ns, size) the index holds for `<skill>/<path>`, or None when not indexed."""
    row = conn.execute("SELECT mtime_ns, size FROM files WHERE path = ?", (rel,)).fetchone()
    return (row[0], row[1]) if row else None


def usable(conn: sqlite3.Connection) -> bool:
    """Whether an opened index has the entry tables (an index made before them has not)."""
    try:
        return _exists(conn)
    except sqlite3.Error:
        return False
