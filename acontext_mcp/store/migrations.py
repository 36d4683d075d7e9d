"""Schema migrations: `m0NN_what` functions applied in order, each with its record, in one
transaction. `PRAGMA user_version` counts applied migrations, so opening an up-to-date database
costs one pragma read. A database from a newer release is refused, never downgraded.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from acontext_mcp import __version__
from acontext_mcp.errors import SchemaTooNew
from acontext_mcp.store.db import atomic

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction.

    `executescript` would COMMIT first, breaking the one-transaction-per-migration rule.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")


@migration
def m001_sessions_messages(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- Which release wrote the schema, so a refusal can name it.
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        -- A conversation with one agent. `agent` says where it came from (claude-code,
        -- openclaw, mcp, ...); `parent_id` links a subagent's session to its parent.
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            agent TEXT NOT NULL DEFAULT 'mcp',
            user TEXT,
            project_dir TEXT,
            configs TEXT NOT NULL DEFAULT '{}',
            parent_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX sessions_updated ON sessions(updated_at);
        CREATE INDEX sessions_project ON sessions(project_dir, updated_at);

        -- One normalized message (role + typed parts, see formats/parts.py). `position` orders
        -- a session densely; `dedup_key` makes storing the same message twice a no-op, enforced
        -- by the UNIQUE index rather than by callers. `status` is the task agent's processing
        -- state for this message.
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            parts TEXT NOT NULL,
            format TEXT NOT NULL CHECK (format IN ('openai', 'anthropic', 'gemini', 'acontext')),
            meta TEXT NOT NULL DEFAULT '{}',
            token_count INTEGER NOT NULL DEFAULT 0,
            dedup_key TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'processed', 'failed', 'disabled')),
            created_at REAL NOT NULL,
            UNIQUE (session_id, dedup_key),
            UNIQUE (session_id, position)
        );
        CREATE INDEX messages_status ON messages(status, session_id);

        -- Large binary parts live as content-addressed files under <home>/blobs; a row per
        -- blob lets stats and garbage collection find them without walking the tree.
        CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            media_type TEXT,
            created_at REAL NOT NULL
        );

        """,
    )


@migration
def m002_tasks_events(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- What the user asked for, in order, and how it went. `progresses` and
        -- `user_preferences` are JSON lists of strings.
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            "order" INTEGER NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'success', 'failed')),
            progresses TEXT NOT NULL DEFAULT '[]',
            user_preferences TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (session_id, "order")
        );
        CREATE INDEX tasks_status ON tasks(status, updated_at);

        -- Things that happened to a session that are not messages: compaction, resets,
        -- capture toggles, redaction counts. Typed, chronological.
        CREATE TABLE session_events (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );
        CREATE INDEX session_events_session ON session_events(session_id, id);

        """,
    )


@migration
def m003_disks_cursors_jobs(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- Named artifact stores. Files are canonical on disk under <home>/disks/<name>;
        -- artifact rows carry what the filesystem cannot (hash, mime, user metadata).
        CREATE TABLE disks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            meta TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );
        CREATE TABLE artifacts (
            id INTEGER PRIMARY KEY,
            disk_id INTEGER NOT NULL REFERENCES disks(id) ON DELETE CASCADE,
            path TEXT NOT NULL,          -- directory, '/'-rooted, ends with '/'
            filename TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            mime TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (disk_id, path, filename)
        );

        -- Incremental readers (transcript byte offsets and the like) keep their place here.
        CREATE TABLE cursors (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at REAL NOT NULL
        );

        -- Queued background work (task extraction, learning). A lease lets a crashed worker's
        -- job be retried; `dedup_key` stops the same job being queued twice.
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            dedup_key TEXT UNIQUE,
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            run_after REAL NOT NULL,
            lease_until REAL,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX jobs_ready ON jobs(status, run_after);
        """,
    )


@migration
def m004_observe(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- Every LLM call, for `acontext-mcp usage` and the daily token budget. `day` is the
        -- local calendar day the call started, so the budget resets at the user's midnight.
        CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            purpose TEXT NOT NULL,       -- task_extraction, distillation, skill_learning, ...
            session_id TEXT,             -- no foreign key: usage outlives deleted sessions
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            duration_ms REAL NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL
                CHECK (outcome IN ('ok', 'error', 'timeout', 'rate_limited', 'budget')),
            error TEXT,
            day TEXT NOT NULL,           -- YYYY-MM-DD, local time
            created_at REAL NOT NULL
        );
        CREATE INDEX llm_calls_day ON llm_calls(day, purpose);

        -- Which messages a task was built from (the task agent links them).
        CREATE TABLE task_messages (
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            PRIMARY KEY (task_id, message_id)
        );
        CREATE INDEX task_messages_message ON task_messages(message_id);

        -- Named leases: one background worker per data home holds `worker`; it renews the
        -- lease while alive, and a crashed holder's lease simply expires.
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            until REAL NOT NULL,
            updated_at REAL NOT NULL
        );

        -- Who holds a running job's lease, so a worker whose lease expired (and whose job was
        -- taken over) cannot also finish it: no job is applied twice.
        ALTER TABLE jobs ADD COLUMN holder TEXT;
        """,
    )


@migration
def m005_learning(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- Learning spaces: named sets of skills. A session is attached to one space, ever;
        -- its finished tasks are learned into that space's skills. `default` always exists.
        CREATE TABLE learning_spaces (
            name TEXT PRIMARY KEY,
            description TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL
        );
        INSERT INTO learning_spaces (name, description, created_at)
            VALUES ('default', 'Captured sessions learn here unless configured otherwise.',
                    (julianday('now') - 2440587.5) * 86400.0);

        -- Skills a space's learner created (or the user moved into it). A skill listed under
        -- no space is shared: every space sees it (the default skills, the user's own).
        CREATE TABLE space_skills (
            skill TEXT PRIMARY KEY,
            space TEXT NOT NULL REFERENCES learning_spaces(name) ON DELETE CASCADE,
            created_at REAL NOT NULL
        );
        CREATE INDEX space_skills_space ON space_skills(space);

        CREATE TABLE space_sessions (
            session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
            space TEXT NOT NULL REFERENCES learning_spaces(name),
            attached_at REAL NOT NULL
        );
        CREATE INDEX space_sessions_space ON space_sessions(space);

        -- One row per distilled task (or observed preference): what the skill learner is fed.
        -- distilled -> running -> learned | failed; skipped when not worth learning.
        CREATE TABLE learnings (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
            space TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('skip', 'success', 'factual', 'failure', 'preferences')),
            status TEXT NOT NULL
                CHECK (status IN ('distilled', 'skipped', 'running', 'learned', 'failed')),
            text TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            commit_sha TEXT,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX learnings_task ON learnings(task_id) WHERE kind != 'preferences';
        CREATE INDEX learnings_space ON learnings(space, status, id);
        CREATE INDEX learnings_session ON learnings(session_id);
        """,
    )


@migration
def m006_task_outcomes(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- How a finished task really went, from captured evidence rather than the model's
        -- opinion: verified_success, verified_failure, unverified, or abandoned (the user
        -- dropped it: nothing to learn by default). NULL until the task is settled.
        ALTER TABLE tasks ADD COLUMN outcome TEXT
            CHECK (outcome IS NULL OR outcome IN
                   ('verified_success', 'verified_failure', 'unverified', 'abandoned'));

        -- One observed signal about a task: a test or build run and its result, a failed
        -- tool, a commit, the user confirming or correcting, the host's TaskCompleted.
        -- `kind` names the signal, `result` its verdict (pass, fail, ...), `command` the
        -- command that produced it, `message_id` the captured message it was read from.
        CREATE TABLE task_evidence (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            result TEXT NOT NULL,
            command TEXT,
            detail TEXT,
            message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX task_evidence_task ON task_evidence(task_id, id);

        -- The task's outcome when it was distilled: what the review policy decides by.
        ALTER TABLE learnings ADD COLUMN outcome TEXT;
        """,
    )


@migration
def m007_proposals(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- A learning the review policy did not accept becomes part of a proposal (a commit on
        -- the skills repository's proposals/<id> branch): `proposal` is its id, `review` where
        -- it stands (pending until accepted or rejected); commit_sha is set once accepted.
        ALTER TABLE learnings ADD COLUMN proposal TEXT;
        ALTER TABLE learnings ADD COLUMN review TEXT
            CHECK (review IS NULL OR review IN ('pending', 'accepted', 'rejected'));
        CREATE INDEX learnings_proposal ON learnings(proposal) WHERE proposal IS NOT NULL;
        """,
    )


@migration
def m008_scale(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- How many messages the store holds and their estimated tokens, kept in the writing
        -- transaction (so rollbacks and crashes cannot skew them), so `stats` and `status`
        -- read one row instead of the whole messages table. One row, id 1. Deletes (cascades
        -- included) and token changes are counted by triggers; inserts by their writers, once
        -- per batch (messages.count_stored): a trigger per inserted row costs a statement
        -- journal per row, as much as the insert itself.
        CREATE TABLE message_totals (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            messages INTEGER NOT NULL,
            tokens INTEGER NOT NULL
        );
        INSERT INTO message_totals (id, messages, tokens)
            SELECT 1, COUNT(*), COALESCE(SUM(token_count), 0) FROM messages;
        CREATE TRIGGER message_totals_delete AFTER DELETE ON messages BEGIN
            UPDATE message_totals SET messages = messages - 1, tokens = tokens - OLD.token_count
                WHERE id = 1;
        END;
        CREATE TRIGGER message_totals_update AFTER UPDATE OF token_count ON messages
            WHEN NEW.token_count != OLD.token_count BEGIN
            UPDATE message_totals SET tokens = tokens + NEW.token_count - OLD.token_count
                WHERE id = 1;
        END;

        -- Tasks per status, kept the same way (a GROUP BY reads every task).
        CREATE TABLE task_totals (status TEXT PRIMARY KEY, tasks INTEGER NOT NULL);
        INSERT INTO task_totals (status, tasks) SELECT status, COUNT(*) FROM tasks GROUP BY status;
        CREATE TRIGGER task_totals_insert AFTER INSERT ON tasks BEGIN
            INSERT INTO task_totals (status, tasks) VALUES (NEW.status, 1)
                ON CONFLICT (status) DO UPDATE SET tasks = tasks + 1;
        END;
        CREATE TRIGGER task_totals_delete AFTER DELETE ON tasks BEGIN
            UPDATE task_totals SET tasks = tasks - 1 WHERE status = OLD.status;
        END;
        CREATE TRIGGER task_totals_update AFTER UPDATE OF status ON tasks
            WHEN NEW.status != OLD.status BEGIN
            UPDATE task_totals SET tasks = tasks - 1 WHERE status = OLD.status;
            INSERT INTO task_totals (status, tasks) VALUES (NEW.status, 1)
                ON CONFLICT (status) DO UPDATE SET tasks = tasks + 1;
        END;

        -- Tasks across sessions, newest-updated first (`list_tasks` without a session): the
        -- index is ordered by (updated_at, rowid), so no sort of every task is needed.
        CREATE INDEX tasks_updated ON tasks(updated_at);
        """,
    )


@migration
def m009_learning_cost(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- What a learning cost: LLM calls and tokens spent on it (its distillation, and its
        -- share of a learner run), so `acontext-mcp learn` can say what each one cost.
        ALTER TABLE learnings ADD COLUMN llm_calls INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE learnings ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE learnings ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;

        -- The structured entry a distillation returned (JSON: kind, skill, file, section,
        -- title, text, triggers, summary; or {"bump": ...} for a lesson already recorded),
        -- written without a learner run. NULL: the learner reads `text` instead.
        ALTER TABLE learnings ADD COLUMN lesson TEXT;
        """,
    )


@migration
def m010_compact_messages(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- A session's integer key, so a message row and its three indexes carry 1-3 bytes
        -- instead of the 36-byte session id (about 140 bytes a message). Set once, by the
        -- trigger, for every new session; a column, not the rowid, which VACUUM may renumber.
        -- A forgotten session's key may be given again: its messages went with it (cascade).
        ALTER TABLE sessions ADD COLUMN seq INTEGER;
        UPDATE sessions SET seq = rowid;
        CREATE UNIQUE INDEX sessions_seq ON sessions(seq);
        CREATE TRIGGER sessions_seq_assign AFTER INSERT ON sessions WHEN NEW.seq IS NULL BEGIN
            UPDATE sessions SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM sessions)
                WHERE id = NEW.id;
        END;

        -- The messages table again, keyed by `session_seq` (sessions.seq) instead of the
        -- session id; rows, ids and counters (message_totals) stay as they were.
        CREATE TABLE compact_messages (
            id INTEGER PRIMARY KEY,
            session_seq INTEGER NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            parts TEXT NOT NULL,
            format TEXT NOT NULL CHECK (format IN ('openai', 'anthropic', 'gemini', 'acontext')),
            meta TEXT NOT NULL DEFAULT '{}',
            token_count INTEGER NOT NULL DEFAULT 0,
            dedup_key TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'processed', 'failed', 'disabled')),
            created_at REAL NOT NULL,
            UNIQUE (session_seq, dedup_key),
            UNIQUE (session_seq, position)
        );
        INSERT INTO compact_messages (id, session_seq, position, role, parts, format, meta,
                token_count, dedup_key, status, created_at)
            SELECT m.id, s.seq, m.position, m.role, m.parts, m.format, m.meta, m.token_count,
                m.dedup_key, m.status, m.created_at
            FROM messages m JOIN sessions s ON s.id = m.session_id ORDER BY m.id;
        DROP TABLE messages;
        ALTER TABLE compact_messages RENAME TO messages;
        CREATE INDEX messages_status ON messages(status, session_seq);
        CREATE TRIGGER message_totals_delete AFTER DELETE ON messages BEGIN
            UPDATE message_totals SET messages = messages - 1, tokens = tokens - OLD.token_count
                WHERE id = 1;
        END;
        CREATE TRIGGER message_totals_update AFTER UPDATE OF token_count ON messages
            WHEN NEW.token_count != OLD.token_count BEGIN
            UPDATE message_totals SET tokens = tokens + NEW.token_count - OLD.token_count
                WHERE id = 1;
        END;
        """,
    )
    # Foreign keys are off while migrating (see migrate): prove the rebuild left no row
    # pointing at nothing; raising rolls the whole upgrade back.
    for table in ("messages", "task_messages", "task_evidence"):
        dangling = db.execute(f"PRAGMA foreign_key_check({table})").fetchall()
        if dangling:
            raise sqlite3.IntegrityError(
                f"upgrading the messages table left {len(dangling)} rows of {table} pointing "
                "at nothing; nothing was changed. Keep this release's predecessor and report it."
            )


@migration
def m011_skill_uses(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- Each time a skill reached or was used by an agent, per session: the host's Skill
        -- tool, a read of a synced skill's file, our MCP get_skill / get_skill_file /
        -- search_skills hits, and the entries our brief and prompt hooks injected. `skill` is
        -- the skill's folder name (no foreign key: skills live in git, not here), `path` the
        -- file inside it when known, `entry` the injected entry's title (a prompt injection is
        -- made once per entry per session), `project_dir` where the session ran.
        CREATE TABLE skill_uses (
            id INTEGER PRIMARY KEY,
            skill TEXT NOT NULL,
            session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('skill_tool', 'read', 'mcp_get', 'mcp_file',
                                               'mcp_search', 'brief', 'prompt')),
            path TEXT,
            entry TEXT,
            project_dir TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX skill_uses_skill ON skill_uses(skill, created_at);
        CREATE INDEX skill_uses_session ON skill_uses(session_id, kind);
        """,
    )


@migration
def m012_users(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        -- Whose data a row is: an application's user identifier (free text, as the reference's
        -- `user`), NULL for nobody in particular. Sessions carry it since m001; disks and
        -- learning spaces get it here, skills (which live in git) by association below.
        -- `acontext-mcp users forget USER` deletes what carries it.
        -- No index on sessions.user: a listing filtered by user walks sessions_updated newest
        -- first, and every page of the schema is a page of every data home (16 KB each).
        ALTER TABLE disks ADD COLUMN user TEXT;
        ALTER TABLE learning_spaces ADD COLUMN user TEXT;

        -- A skill (its folder name) associated with a user: learned for them or given to them.
        CREATE TABLE user_skills (
            user TEXT NOT NULL,
            skill TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (user, skill)
        ) WITHOUT ROWID;
        """,
    )


# The searchable text of a message row's `parts` (SQL over the column named by {col}): text,
# thinking, tool-call arguments and the text of tool results, one line each. The same
# expression feeds the index and removes from it (store/ui_sessions.py catches the index up
# with it too), so a 'delete' always matches what went in.
SEARCH_TEXT_SQL = """(SELECT group_concat(v, char(10)) FROM (
    SELECT CASE json_extract(p.value, '$.type') WHEN 'tool-call'
        THEN json_extract(p.value, '$.arguments') ELSE json_extract(p.value, '$.text') END AS v
        FROM json_each(CASE WHEN json_valid({col}) THEN {col} ELSE '[]' END) p
        WHERE json_extract(p.value, '$.type') IN ('text', 'thinking', 'tool-call')
    UNION ALL
    SELECT json_extract(c.value, '$.text')
        FROM json_each(CASE WHEN json_valid({col}) THEN {col} ELSE '[]' END) p,
            json_each(p.value, '$.content') c
        WHERE json_extract(p.value, '$.type') = 'tool-result'
            AND json_extract(c.value, '$.type') = 'text'))"""


@migration
def m013_ui_session_indexes(db: sqlite3.Connection) -> None:
    new, old = SEARCH_TEXT_SQL.format(col="NEW.parts"), SEARCH_TEXT_SQL.format(col="OLD.parts")
    indexed = "(SELECT indexed_to FROM message_search_state WHERE id = 1)"
    _run_script(
        db,
        f"""
        -- Full-text search over message text for the dashboard's Sessions page (a LIKE scan
        -- reads every message). Contentless (content=''): the text stays in `messages`; the
        -- index maps words to message ids (rowid = messages.id).
        -- Indexed after the fact, not while capturing: an index insert in every turn's
        -- transaction costs store_turn about a third of its throughput (0.68x, against 0.97x
        -- this way: bench/bench_search_index_cost.py), so the dashboard catches the index up
        -- in batches (store/ui_sessions.index_pending) up to `indexed_to`, the highest message
        -- id indexed. Rows at or below it are kept in step by the triggers: a forgotten
        -- message leaves the index (a contentless index forgets a row through its 'delete'
        -- command given the text it indexed, which the same expression recomputes), an
        -- extended one is indexed again, and one stored below the mark is indexed at once.
        CREATE VIRTUAL TABLE message_search USING fts5(
            body, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TABLE message_search_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            indexed_to INTEGER NOT NULL
        );
        INSERT INTO message_search_state (id, indexed_to) VALUES (1, 0);
        CREATE TRIGGER message_search_insert AFTER INSERT ON messages
            WHEN NEW.id <= {indexed} BEGIN
            INSERT INTO message_search (rowid, body) VALUES (NEW.id, {new});
        END;
        CREATE TRIGGER message_search_delete AFTER DELETE ON messages
            WHEN OLD.id <= {indexed} BEGIN
            INSERT INTO message_search (message_search, rowid, body)
                VALUES ('delete', OLD.id, {old});
        END;
        CREATE TRIGGER message_search_update AFTER UPDATE OF parts ON messages
            WHEN OLD.id <= {indexed} BEGIN
            INSERT INTO message_search (message_search, rowid, body)
                VALUES ('delete', OLD.id, {old});
            INSERT INTO message_search (rowid, body) VALUES (NEW.id, {new});
        END;

        -- Sessions by agent, newest first (the Sessions page's agent filter), and a session's
        -- subagent sessions (its children, by parent_id).
        CREATE INDEX sessions_agent ON sessions(agent, updated_at);
        CREATE INDEX sessions_parent ON sessions(parent_id) WHERE parent_id IS NOT NULL;

        -- Tasks of one outcome, newest-updated first (the Tasks page's outcome filter), and
        -- the learnings a task produced, of every kind (learnings_task leaves preferences out).
        CREATE INDEX tasks_outcome ON tasks(outcome, updated_at);
        CREATE INDEX learnings_task_all ON learnings(task_id) WHERE task_id IS NOT NULL;
        """,
    )


# What moves the store clock (m014): changes to what SessionStart's brief reads, the rows of
# one project's sessions. Messages are read only as a session's user requests: a stored
# message touches its session (every writer that inserts one does, as messages.py's
# store_messages does), so inserts need no trigger of their own (one per message would cost a
# statement journal a row, see message_totals); an edit or delete of a user message has one.
_SESSION_PROJECT = "(SELECT project_dir FROM sessions WHERE id = {row}.session_id)"
CLOCK_SOURCES = {  # table -> the project a row of it belongs to, for NEW or OLD
    "tasks": _SESSION_PROJECT,
    "learnings": _SESSION_PROJECT,
    "skill_uses": _SESSION_PROJECT,
}


def _tick(*projects: str) -> str:
    """The statement that moves the clock of every change ('*') and of `projects`."""
    rows = ", ".join(["('*', 1)", *(f"(COALESCE({p}, ''), 1)" for p in projects)])
    return (
        f"INSERT INTO store_clock (scope, changes) VALUES {rows} "
        "ON CONFLICT (scope) DO UPDATE SET changes = changes + 1;"
    )


@migration
def m014_store_clock(db: sqlite3.Connection) -> None:
    triggers = [
        f"CREATE TRIGGER store_clock_sessions_insert AFTER INSERT ON sessions "
        f"BEGIN {_tick('NEW.project_dir')} END;",
        f"CREATE TRIGGER store_clock_sessions_update AFTER UPDATE ON sessions "
        f"BEGIN {_tick('OLD.project_dir', 'NEW.project_dir')} END;",
        f"CREATE TRIGGER store_clock_sessions_delete AFTER DELETE ON sessions "
        f"BEGIN {_tick('OLD.project_dir')} END;",
    ]
    for table, project in CLOCK_SOURCES.items():
        for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            triggers.append(
                f"CREATE TRIGGER store_clock_{table}_{op.lower()} AFTER {op} ON {table} "
                f"BEGIN {_tick(project.format(row=row))} END;"
            )
    message = "(SELECT project_dir FROM sessions WHERE seq = {row}.session_seq)"
    triggers += [
        "CREATE TRIGGER store_clock_messages_update AFTER UPDATE OF role, parts, meta "
        "ON messages WHEN OLD.role = 'user' OR NEW.role = 'user' "
        f"BEGIN {_tick(message.format(row='NEW'))} END;",
        "CREATE TRIGGER store_clock_messages_delete AFTER DELETE ON messages "
        f"WHEN OLD.role = 'user' BEGIN {_tick(message.format(row='OLD'))} END;",
    ]
    body = "\n".join(triggers)
    _run_script(
        db,
        f"""
        -- Counters that every change to what SessionStart's brief reads moves, in the same
        -- transaction (triggers: no writer can forget them): scope '*' for every change, and
        -- one per project directory ('' for sessions without one) for changes to the rows of
        -- its sessions. SessionStart answers from a brief prepared ahead of time
        -- (store/prepared.py) only while its project's counter is where it was when the
        -- brief was made ('*' for a session without a project: its brief reads them all).
        CREATE TABLE store_clock (
            scope TEXT PRIMARY KEY,
            changes INTEGER NOT NULL
        ) WITHOUT ROWID;
        {body}
        """,
    )


def _applied(db: sqlite3.Connection) -> set[str]:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    return {row[0] for row in db.execute("SELECT name FROM schema_migrations")}


def schema_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def written_by(db: sqlite3.Connection) -> str:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'written_by'").fetchone()
    except sqlite3.OperationalError:
        return "an unknown release"
    return f"acontext-mcp {row[0]}" if row else "an unknown release"


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; return their names. Refuses a newer database."""
    target = len(MIGRATIONS)
    current = schema_version(db)
    if current == target:
        return []
    if current > target:
        raise SchemaTooNew(
            f"this database has schema version {current}, written by {written_by(db)}; "
            f"acontext-mcp {__version__} understands up to version {target}. "
            "Upgrade acontext-mcp (pip install -U acontext-mcp) or point ACONTEXT_HOME elsewhere."
        )
    known = {fn.__name__ for fn in MIGRATIONS}
    done: list[str] = []
    # Foreign keys off while migrating (only possible outside a transaction): rebuilding a
    # table (m010) drops the old one, which would otherwise cascade into its children.
    # The rebuilding migration checks its own foreign keys before it commits.
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        done = _migrate(db, known)
    finally:
        db.execute("PRAGMA foreign_keys = ON")
    return done


def _migrate(db: sqlite3.Connection, known: set[str]) -> list[str]:
    target = len(MIGRATIONS)
    done: list[str] = []
    with atomic(db):
        # Re-check inside the write lock: another process may have migrated meanwhile.
        applied = _applied(db)
        unknown = sorted(applied - known)
        if unknown:
            raise SchemaTooNew(
                f"this database has migrations {unknown} that acontext-mcp {__version__} "
                f"does not know (written by {written_by(db)}). Upgrade acontext-mcp."
            )
        for fn in MIGRATIONS:
            if fn.__name__ in applied:
                continue
            fn(db)
            db.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (fn.__name__, time.time()),
            )
            done.append(fn.__name__)
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('written_by', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (__version__,),
        )
        db.execute(f"PRAGMA user_version = {target}")
    return done


def schema_sql() -> str:
    """The full schema as `migrate()` builds it, for docs/schema.sql (checked by a test)."""
    from acontext_mcp.store.db import connect

    conn = connect(":memory:")
    migrate(conn)
    rows = conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, tbl_name, name"
    ).fetchall()
    conn.close()
    header = (
        "-- acontext-mcp database schema, version "
        f"{len(MIGRATIONS)}. Generated: python -m acontext_mcp.store.migrations > docs/schema.sql\n"
    )
    return header + "\n\n".join(r[0] + ";" for r in rows) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(schema_sql())
