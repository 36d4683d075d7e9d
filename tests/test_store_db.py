"""Connections, transactions and schema migrations on real SQLite files."""

from __future__ import annotations

import sqlite3

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.errors import SchemaTooNew
from acontext_mcp.store import migrations
from acontext_mcp.store.db import atomic, connect, open_db


def test_connection_uses_wal_foreign_keys_and_a_busy_timeout(settings: Settings) -> None:
    conn = open_db(settings)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == settings.busy_timeout_ms
    conn.close()


class TestAtomic:
    def test_commits_on_success(self, db: sqlite3.Connection) -> None:
        with atomic(db):
            db.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        assert db.execute("SELECT value FROM meta WHERE key = 'a'").fetchone()[0] == "1"

    def test_rolls_back_everything_when_the_block_fails(self, db: sqlite3.Connection) -> None:
        with pytest.raises(RuntimeError, match="disk full"), atomic(db):
            db.execute("INSERT INTO meta (key, value) VALUES ('b', '1')")
            raise RuntimeError("disk full")
        assert db.execute("SELECT 1 FROM meta WHERE key = 'b'").fetchone() is None
        assert not db.in_transaction

    def test_nested_failure_rolls_back_only_the_inner_block(self, db: sqlite3.Connection) -> None:
        with atomic(db):
            db.execute("INSERT INTO meta (key, value) VALUES ('outer', '1')")
            with pytest.raises(ValueError), atomic(db):
                db.execute("INSERT INTO meta (key, value) VALUES ('inner', '1')")
                raise ValueError("inner")
        keys = {r[0] for r in db.execute("SELECT key FROM meta")}
        assert "outer" in keys and "inner" not in keys


class TestMigrations:
    def test_fresh_database_gets_every_migration_and_its_version(self, db) -> None:
        assert migrations.schema_version(db) == len(migrations.MIGRATIONS)
        names = {r[0] for r in db.execute("SELECT name FROM schema_migrations")}
        assert names == {fn.__name__ for fn in migrations.MIGRATIONS}

    def test_running_again_changes_nothing(self, db) -> None:
        assert migrations.migrate(db) == []

    def test_older_database_is_upgraded_and_keeps_its_rows(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        conn = connect(settings.db_path)
        monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        assert migrations.migrate(conn) == ["m001_sessions_messages"]
        assert migrations.schema_version(conn) == 1
        conn.execute(
            "INSERT INTO sessions (id, created_at, updated_at) VALUES ('old-session', 1, 1)"
        )
        monkeypatch.undo()
        conn.close()

        conn = open_db(settings)  # what every entry point calls
        assert migrations.schema_version(conn) == len(migrations.MIGRATIONS)
        assert conn.execute("SELECT id FROM sessions").fetchone()[0] == "old-session"
        conn.execute(
            'INSERT INTO tasks (session_id, "order", description, created_at, updated_at) '
            "VALUES ('old-session', 1, 'works', 1, 1)"
        )
        conn.close()

    def test_newer_database_is_refused_with_a_message_naming_both_versions(
        self, settings: Settings
    ) -> None:
        conn = open_db(settings)
        conn.execute("UPDATE meta SET value = '9.9.9' WHERE key = 'written_by'")
        conn.execute("PRAGMA user_version = 99")
        conn.close()
        with pytest.raises(SchemaTooNew) as err:
            open_db(settings)
        message = str(err.value)
        assert "99" in message and "9.9.9" in message and "Upgrade acontext-mcp" in message

    def test_unknown_migration_name_is_refused(self, settings: Settings) -> None:
        conn = open_db(settings)
        conn.execute("INSERT INTO schema_migrations VALUES ('m999_from_the_future', 0)")
        conn.execute("PRAGMA user_version = 1")  # force the slow path
        conn.close()
        with pytest.raises(SchemaTooNew, match="m999_from_the_future"):
            open_db(settings)

    def test_a_failing_migration_leaves_the_database_as_it_was(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def m004_broken(db: sqlite3.Connection) -> None:
            db.execute("CREATE TABLE half_done (x)")
            raise sqlite3.OperationalError("disk I/O error")

        open_db(settings).close()
        monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m004_broken])
        with pytest.raises(sqlite3.OperationalError):
            open_db(settings)
        monkeypatch.undo()
        conn = open_db(settings)
        assert (
            conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
        )
        assert migrations.schema_version(conn) == len(migrations.MIGRATIONS)
        conn.close()


def test_docs_schema_is_what_the_migrations_build() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "schema.sql"
    assert doc.read_text() == migrations.schema_sql(), (
        "docs/schema.sql is stale: python -m acontext_mcp.store.migrations > docs/schema.sql"
    )


def test_processes_creating_one_fresh_store_at_once_all_open_it(tmp_path) -> None:
    """SQLite answers a WAL switch "database is locked" at once while another process creates
    the same new database: every opener must wait its turn instead (seen with two
    `acontext-mcp ui` started together on a fresh data home)."""
    import subprocess
    import sys
    import time

    code = (
        "import sys, time; from pathlib import Path; from acontext_mcp.config import Settings\n"
        "from acontext_mcp.store.db import open_db; import acontext_mcp.store.migrations\n"
        "h, go = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "while not go.exists(): time.sleep(0.001)\n"  # all start together, imports done
        "open_db(Settings(home=h, skills_dir=h / 'skills')).close(); print('ok')"
    )
    for round_ in range(5):
        home, go = tmp_path / f"home-{round_}", tmp_path / f"go-{round_}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(home), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        time.sleep(1.0)
        go.touch()
        outs = [p.communicate(timeout=60) for p in procs]
        assert all(out == "ok\n" for out, _err in outs), [err[-300:] for _out, err in outs]
