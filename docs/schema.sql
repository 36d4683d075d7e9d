-- acontext-mcp database schema, version 14. Generated: python -m acontext_mcp.store.migrations > docs/schema.sql
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

CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            media_type TEXT,
            created_at REAL NOT NULL
        );

CREATE TABLE cursors (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at REAL NOT NULL
        );

CREATE TABLE disks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            meta TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        , user TEXT);

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
        , holder TEXT);

CREATE TABLE learning_spaces (
            name TEXT PRIMARY KEY,
            description TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL
        , user TEXT);

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
        , outcome TEXT, proposal TEXT, review TEXT
            CHECK (review IS NULL OR review IN ('pending', 'accepted', 'rejected')), llm_calls INTEGER NOT NULL DEFAULT 0, input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0, lesson TEXT);

CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            until REAL NOT NULL,
            updated_at REAL NOT NULL
        );

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

CREATE VIRTUAL TABLE message_search USING fts5(
            body, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2'
        );

CREATE TABLE 'message_search_config'(k PRIMARY KEY, v) WITHOUT ROWID;

CREATE TABLE 'message_search_data'(id INTEGER PRIMARY KEY, block BLOB);

CREATE TABLE 'message_search_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;

CREATE TABLE message_search_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            indexed_to INTEGER NOT NULL
        );

CREATE TABLE message_totals (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            messages INTEGER NOT NULL,
            tokens INTEGER NOT NULL
        );

CREATE TABLE "messages" (
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

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL);

CREATE TABLE session_events (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );

CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            agent TEXT NOT NULL DEFAULT 'mcp',
            user TEXT,
            project_dir TEXT,
            configs TEXT NOT NULL DEFAULT '{}',
            parent_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        , seq INTEGER);

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

CREATE TABLE space_sessions (
            session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
            space TEXT NOT NULL REFERENCES learning_spaces(name),
            attached_at REAL NOT NULL
        );

CREATE TABLE space_skills (
            skill TEXT PRIMARY KEY,
            space TEXT NOT NULL REFERENCES learning_spaces(name) ON DELETE CASCADE,
            created_at REAL NOT NULL
        );

CREATE TABLE store_clock (
            scope TEXT PRIMARY KEY,
            changes INTEGER NOT NULL
        ) WITHOUT ROWID;

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

CREATE TABLE task_messages (
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            PRIMARY KEY (task_id, message_id)
        );

CREATE TABLE task_totals (status TEXT PRIMARY KEY, tasks INTEGER NOT NULL);

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
            updated_at REAL NOT NULL, outcome TEXT
            CHECK (outcome IS NULL OR outcome IN
                   ('verified_success', 'verified_failure', 'unverified', 'abandoned')),
            UNIQUE (session_id, "order")
        );

CREATE TABLE user_skills (
            user TEXT NOT NULL,
            skill TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (user, skill)
        ) WITHOUT ROWID;

CREATE INDEX jobs_ready ON jobs(status, run_after);

CREATE INDEX learnings_proposal ON learnings(proposal) WHERE proposal IS NOT NULL;

CREATE INDEX learnings_session ON learnings(session_id);

CREATE INDEX learnings_space ON learnings(space, status, id);

CREATE UNIQUE INDEX learnings_task ON learnings(task_id) WHERE kind != 'preferences';

CREATE INDEX learnings_task_all ON learnings(task_id) WHERE task_id IS NOT NULL;

CREATE TRIGGER store_clock_learnings_delete AFTER DELETE ON learnings BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = OLD.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_learnings_insert AFTER INSERT ON learnings BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = NEW.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_learnings_update AFTER UPDATE ON learnings BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = NEW.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE INDEX llm_calls_day ON llm_calls(day, purpose);

CREATE TRIGGER message_search_delete AFTER DELETE ON messages
            WHEN OLD.id <= (SELECT indexed_to FROM message_search_state WHERE id = 1) BEGIN
            INSERT INTO message_search (message_search, rowid, body)
                VALUES ('delete', OLD.id, (SELECT group_concat(v, char(10)) FROM (
    SELECT CASE json_extract(p.value, '$.type') WHEN 'tool-call'
        THEN json_extract(p.value, '$.arguments') ELSE json_extract(p.value, '$.text') END AS v
        FROM json_each(CASE WHEN json_valid(OLD.parts) THEN OLD.parts ELSE '[]' END) p
        WHERE json_extract(p.value, '$.type') IN ('text', 'thinking', 'tool-call')
    UNION ALL
    SELECT json_extract(c.value, '$.text')
        FROM json_each(CASE WHEN json_valid(OLD.parts) THEN OLD.parts ELSE '[]' END) p,
            json_each(p.value, '$.content') c
        WHERE json_extract(p.value, '$.type') = 'tool-result'
            AND json_extract(c.value, '$.type') = 'text')));
        END;

CREATE TRIGGER message_search_insert AFTER INSERT ON messages
            WHEN NEW.id <= (SELECT indexed_to FROM message_search_state WHERE id = 1) BEGIN
            INSERT INTO message_search (rowid, body) VALUES (NEW.id, (SELECT group_concat(v, char(10)) FROM (
    SELECT CASE json_extract(p.value, '$.type') WHEN 'tool-call'
        THEN json_extract(p.value, '$.arguments') ELSE json_extract(p.value, '$.text') END AS v
        FROM json_each(CASE WHEN json_valid(NEW.parts) THEN NEW.parts ELSE '[]' END) p
        WHERE json_extract(p.value, '$.type') IN ('text', 'thinking', 'tool-call')
    UNION ALL
    SELECT json_extract(c.value, '$.text')
        FROM json_each(CASE WHEN json_valid(NEW.parts) THEN NEW.parts ELSE '[]' END) p,
            json_each(p.value, '$.content') c
        WHERE json_extract(p.value, '$.type') = 'tool-result'
            AND json_extract(c.value, '$.type') = 'text')));
        END;

CREATE TRIGGER message_search_update AFTER UPDATE OF parts ON messages
            WHEN OLD.id <= (SELECT indexed_to FROM message_search_state WHERE id = 1) BEGIN
            INSERT INTO message_search (message_search, rowid, body)
                VALUES ('delete', OLD.id, (SELECT group_concat(v, char(10)) FROM (
    SELECT CASE json_extract(p.value, '$.type') WHEN 'tool-call'
        THEN json_extract(p.value, '$.arguments') ELSE json_extract(p.value, '$.text') END AS v
        FROM json_each(CASE WHEN json_valid(OLD.parts) THEN OLD.parts ELSE '[]' END) p
        WHERE json_extract(p.value, '$.type') IN ('text', 'thinking', 'tool-call')
    UNION ALL
    SELECT json_extract(c.value, '$.text')
        FROM json_each(CASE WHEN json_valid(OLD.parts) THEN OLD.parts ELSE '[]' END) p,
            json_each(p.value, '$.content') c
        WHERE json_extract(p.value, '$.type') = 'tool-result'
            AND json_extract(c.value, '$.type') = 'text')));
            INSERT INTO message_search (rowid, body) VALUES (NEW.id, (SELECT group_concat(v, char(10)) FROM (
    SELECT CASE json_extract(p.value, '$.type') WHEN 'tool-call'
        THEN json_extract(p.value, '$.arguments') ELSE json_extract(p.value, '$.text') END AS v
        FROM json_each(CASE WHEN json_valid(NEW.parts) THEN NEW.parts ELSE '[]' END) p
        WHERE json_extract(p.value, '$.type') IN ('text', 'thinking', 'tool-call')
    UNION ALL
    SELECT json_extract(c.value, '$.text')
        FROM json_each(CASE WHEN json_valid(NEW.parts) THEN NEW.parts ELSE '[]' END) p,
            json_each(p.value, '$.content') c
        WHERE json_extract(p.value, '$.type') = 'tool-result'
            AND json_extract(c.value, '$.type') = 'text')));
        END;

CREATE TRIGGER message_totals_delete AFTER DELETE ON messages BEGIN
            UPDATE message_totals SET messages = messages - 1, tokens = tokens - OLD.token_count
                WHERE id = 1;
        END;

CREATE TRIGGER message_totals_update AFTER UPDATE OF token_count ON messages
            WHEN NEW.token_count != OLD.token_count BEGIN
            UPDATE message_totals SET tokens = tokens + NEW.token_count - OLD.token_count
                WHERE id = 1;
        END;

CREATE INDEX messages_status ON messages(status, session_seq);

CREATE TRIGGER store_clock_messages_delete AFTER DELETE ON messages WHEN OLD.role = 'user' BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE seq = OLD.session_seq), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_messages_update AFTER UPDATE OF role, parts, meta ON messages WHEN OLD.role = 'user' OR NEW.role = 'user' BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE seq = NEW.session_seq), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE INDEX session_events_session ON session_events(session_id, id);

CREATE INDEX sessions_agent ON sessions(agent, updated_at);

CREATE INDEX sessions_parent ON sessions(parent_id) WHERE parent_id IS NOT NULL;

CREATE INDEX sessions_project ON sessions(project_dir, updated_at);

CREATE UNIQUE INDEX sessions_seq ON sessions(seq);

CREATE TRIGGER sessions_seq_assign AFTER INSERT ON sessions WHEN NEW.seq IS NULL BEGIN
            UPDATE sessions SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM sessions)
                WHERE id = NEW.id;
        END;

CREATE INDEX sessions_updated ON sessions(updated_at);

CREATE TRIGGER store_clock_sessions_delete AFTER DELETE ON sessions BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE(OLD.project_dir, ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_sessions_insert AFTER INSERT ON sessions BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE(NEW.project_dir, ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_sessions_update AFTER UPDATE ON sessions BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE(OLD.project_dir, ''), 1), (COALESCE(NEW.project_dir, ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE INDEX skill_uses_session ON skill_uses(session_id, kind);

CREATE INDEX skill_uses_skill ON skill_uses(skill, created_at);

CREATE TRIGGER store_clock_skill_uses_delete AFTER DELETE ON skill_uses BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = OLD.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_skill_uses_insert AFTER INSERT ON skill_uses BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = NEW.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_skill_uses_update AFTER UPDATE ON skill_uses BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = NEW.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE INDEX space_sessions_space ON space_sessions(space);

CREATE INDEX space_skills_space ON space_skills(space);

CREATE INDEX task_evidence_task ON task_evidence(task_id, id);

CREATE INDEX task_messages_message ON task_messages(message_id);

CREATE TRIGGER store_clock_tasks_delete AFTER DELETE ON tasks BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = OLD.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_tasks_insert AFTER INSERT ON tasks BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = NEW.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER store_clock_tasks_update AFTER UPDATE ON tasks BEGIN INSERT INTO store_clock (scope, changes) VALUES ('*', 1), (COALESCE((SELECT project_dir FROM sessions WHERE id = NEW.session_id), ''), 1) ON CONFLICT (scope) DO UPDATE SET changes = changes + 1; END;

CREATE TRIGGER task_totals_delete AFTER DELETE ON tasks BEGIN
            UPDATE task_totals SET tasks = tasks - 1 WHERE status = OLD.status;
        END;

CREATE TRIGGER task_totals_insert AFTER INSERT ON tasks BEGIN
            INSERT INTO task_totals (status, tasks) VALUES (NEW.status, 1)
                ON CONFLICT (status) DO UPDATE SET tasks = tasks + 1;
        END;

CREATE TRIGGER task_totals_update AFTER UPDATE OF status ON tasks
            WHEN NEW.status != OLD.status BEGIN
            UPDATE task_totals SET tasks = tasks - 1 WHERE status = OLD.status;
            INSERT INTO task_totals (status, tasks) VALUES (NEW.status, 1)
                ON CONFLICT (status) DO UPDATE SET tasks = tasks + 1;
        END;

CREATE INDEX tasks_outcome ON tasks(outcome, updated_at);

CREATE INDEX tasks_status ON tasks(status, updated_at);

CREATE INDEX tasks_updated ON tasks(updated_at);
