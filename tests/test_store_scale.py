"""The store stays flat as it grows: counters instead of scans, ordered indexes instead of sorts.

Real SQLite files; every writer the product has (store_turn, capture's store_messages and
extend_message, import, forget, message deletion) is checked against the counted truth.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store import forget, migrations
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import PAGE_SIZE, atomic, connect, open_db
from acontext_mcp.store.export import write_export
from acontext_mcp.store.messages import delete_message, extend_message, store_messages
from acontext_mcp.store.restore import restore
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.stats import store_stats
from acontext_mcp.store.turns import read_messages, store_turn


def turn(i: int, size: int = 40) -> list[dict]:
    return [
        {"role": "user", "content": f"question {i} " + "q" * size},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"c{i}", "type": "function", "function": {"name": "run", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": f"c{i}", "content": "out " * (size + i)},
        {"role": "assistant", "content": f"answer {i}"},
    ]


def counted(conn: sqlite3.Connection) -> tuple[int, int]:
    """What the messages table really holds: (count, token sum)."""
    row = conn.execute("SELECT COUNT(*), COALESCE(SUM(token_count), 0) FROM messages").fetchone()
    return row[0], row[1]


def totals(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT messages, tokens FROM message_totals").fetchone()
    return row[0], row[1]


def task_counts(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, int]]:
    """(kept per-status task counts, counted ones)."""
    kept = dict(conn.execute("SELECT status, tasks FROM task_totals WHERE tasks > 0").fetchall())
    real = dict(conn.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall())
    return kept, real


class TestMessageTotals:
    def test_stats_read_the_totals_and_they_follow_every_writer(
        self, db: sqlite3.Connection, settings: Settings, tmp_path: Path
    ) -> None:
        assert totals(db) == counted(db) == (0, 0)
        for i in range(3):
            store_turn(db, settings, turn(i), session_id="s1", meta={"idempotency_key": f"{i}"})
            store_turn(db, settings, turn(10 + i), session_id="s2")
        again = store_turn(db, settings, turn(0), session_id="s1", meta={"idempotency_key": "0"})
        assert again["duplicates"] == 4
        assert totals(db) == counted(db) and counted(db)[0] == 24
        stats = store_stats(db, settings)
        assert (stats["messages"], stats["message_tokens"]) == counted(db)
        for sid in ("s1", "s2"):
            for n in range(3):
                task_store.insert_task(db, sid, f"task {n}")
        task_store.update_task(db, "s1", 1, status="running")
        task_store.update_task(db, "s1", 1, status="success", add_progress="done")
        task_store.update_task(db, "s2", 2, status="failed")
        task_store.update_task(db, "s2", 2, add_progress="no status change")
        kept, real = task_counts(db)
        assert kept == real == {"pending": 4, "success": 1, "failed": 1}
        assert stats["tasks_by_status"] != real  # read before the tasks came
        assert store_stats(db, settings)["tasks_by_status"] == real

        # capture: a late content block extends a stored message (its tokens change)
        store_messages(
            db, settings, "s1", [{"role": "assistant", "parts": [{"type": "text", "text": "a"}]}],
            fmt="acontext", keys=["id:late"],
        )  # fmt: skip
        with atomic(db):
            added = extend_message(
                db, settings, "s1", "id:late", [{"type": "text", "text": "b" * 4000}]
            )
        assert added == 1 and totals(db) == counted(db)

        # a failed transaction leaves the totals as the rows are
        with pytest.raises(RuntimeError), atomic(db):
            store_turn(db, settings, turn(50), session_id="s1")
            raise RuntimeError("writer fails mid-transaction")
        assert totals(db) == counted(db)

        # export, forget everything (the cascade deletes the messages), import it back
        export = tmp_path / "export.jsonl"
        with open(export, "w", encoding="utf-8") as fh:
            write_export(db, settings, fh)
        before = counted(db)
        forget.forget(db, settings, ["s1"])
        assert totals(db) == counted(db) and counted(db)[0] == 12
        kept, real = task_counts(db)
        assert kept == real == {"pending": 2, "failed": 1}
        forget.forget(db, settings, forget.select_sessions(db, everything=True))
        assert totals(db) == counted(db) == (0, 0)
        assert task_counts(db) == ({}, {})
        restore(db, settings, export)
        assert totals(db) == counted(db) == before
        restore(db, settings, export)  # importing again adds nothing
        assert totals(db) == counted(db) == before
        kept, real = task_counts(db)
        assert kept == real == {"pending": 4, "success": 1, "failed": 1}

        message_id = db.execute("SELECT MAX(id) FROM messages").fetchone()[0]
        delete_message(db, message_id)
        assert totals(db) == counted(db)

    def test_an_older_database_gets_its_totals_counted_by_the_upgrade(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        previous = [fn for fn in migrations.MIGRATIONS if fn.__name__ < "m008"]
        conn = connect(settings.db_path)
        monkeypatch.setattr(migrations, "MIGRATIONS", previous)
        migrations.migrate(conn)
        for s in range(2):  # rows as an earlier release wrote them (it kept no totals)
            ensure_session(conn, f"old-{s}")
            conn.executemany(
                "INSERT INTO messages (session_id, position, role, parts, format, token_count, "
                "dedup_key, created_at) VALUES (?, ?, 'user', '[]', 'openai', ?, ?, 0)",
                [(f"old-{s}", p, 7 + p, f"k{p}") for p in range(10)],
            )
        for i in range(4):
            task_store.insert_task(conn, f"old-{i % 2}", f"task {i}")
        new_table = "SELECT 1 FROM sqlite_master WHERE name = 'message_totals'"
        assert conn.execute(new_table).fetchone() is None
        conn.close()
        monkeypatch.undo()

        conn = open_db(settings)
        assert "m008_scale" in {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
        assert totals(conn) == counted(conn) and counted(conn)[0] == 20
        assert task_counts(conn) == ({"pending": 4}, {"pending": 4})
        store_turn(conn, settings, turn(99), session_id="old-0")  # now counted as stored
        assert totals(conn) == counted(conn) and counted(conn)[0] == 24
        listed = task_store.list_tasks(conn, limit=2)
        assert len(listed["tasks"]) == 2 and listed["next_cursor"]
        conn.close()


def plans(conn: sqlite3.Connection, statements: list[str]) -> list[str]:
    """SQLite's plan for each SELECT run, one line per step."""
    out = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            out += [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return out


class TestTasksAcrossSessions:
    @pytest.fixture
    def many(self, db: sqlite3.Connection) -> sqlite3.Connection:
        statuses = ("pending", "running", "success", "failed")
        with atomic(db):
            for s in range(30):
                ensure_session(db, f"s{s}")
                for t in range(10):
                    task = task_store.insert_task(db, f"s{s}", f"task {t}")
                    db.execute(
                        "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?",
                        (statuses[(s + t) % 4], 1000 + (s * 7 + t * 13) % 50, task["id"]),
                    )  # many equal updated_at values: the id breaks ties
        db.execute("ANALYZE")
        return db

    @pytest.mark.parametrize(
        "status", [None, ["running"], ["success", "failed"], ["pending", "running", "failed"]]
    )
    def test_pages_walk_an_index_in_order_without_sorting(
        self, many: sqlite3.Connection, status: list[str] | None
    ) -> None:
        wanted = status or ["pending", "running", "success", "failed"]
        marks = ",".join("?" * len(wanted))
        want = [
            r[0]
            for r in many.execute(
                f"SELECT id FROM tasks WHERE status IN ({marks}) ORDER BY updated_at DESC, id DESC",
                wanted,
            )
        ]
        statements: list[str] = []
        many.set_trace_callback(statements.append)
        got: list[int] = []
        cursor = None
        while True:
            page = task_store.list_tasks(many, status=status, limit=7, cursor=cursor)
            got += [t["id"] for t in page["tasks"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        many.set_trace_callback(None)
        assert got == want
        steps = plans(many, statements)
        assert steps and not [s for s in steps if "TEMP B-TREE" in s], steps
        assert not [s for s in steps if s.startswith("SCAN tasks") and "INDEX" not in s], steps

    def test_one_sessions_tasks_still_come_in_order(self, many: sqlite3.Connection) -> None:
        page = task_store.list_tasks(many, session_id="s3", status=["running", "failed"])
        orders = [t["order"] for t in page["tasks"]]
        assert orders == sorted(orders) and len(orders) == 5
        assert {t["status"] for t in page["tasks"]} == {"running", "failed"}


class TestPages:
    def test_new_stores_get_large_pages_and_old_ones_keep_theirs(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        with open_db(settings) as conn:
            assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        old = tmp_path / "old.db"
        raw = sqlite3.connect(old)
        raw.execute("CREATE TABLE t (x)")  # a 4 KB-page file, as earlier releases made them
        raw.close()
        with connect(old) as conn:
            migrations.migrate(conn)
            assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_vacuum_moves_an_older_store_to_large_pages(settings: Settings) -> None:
    raw = sqlite3.connect(settings.db_path)  # 4 KB pages, as before m008
    raw.execute("PRAGMA page_size = 4096")
    raw.execute("PRAGMA journal_mode = WAL")
    raw.close()
    with open_db(settings) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        for i in range(40):
            store_turn(conn, settings, turn(i, size=400), session_id="old")
        want = read_messages(conn, settings, "old", limit=500)["messages"]

        assert forget.vacuum(conn, settings)["page_size"] == PAGE_SIZE

        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert read_messages(conn, settings, "old", limit=500)["messages"] == want
        assert totals(conn) == counted(conn)


def test_vacuum_keeps_the_page_size_while_another_process_has_the_store_open(
    settings: Settings,
) -> None:
    raw = sqlite3.connect(settings.db_path)
    raw.execute("PRAGMA page_size = 4096")
    raw.execute("PRAGMA journal_mode = WAL")
    raw.close()
    other = connect(settings.db_path, busy_timeout_ms=100)  # an agent's hook or server
    other.execute("SELECT 1 FROM sqlite_master").fetchall()
    with open_db(settings) as conn:
        store_turn(conn, settings, turn(1), session_id="s")
        started = time.monotonic()
        result = forget.vacuum(conn, settings)
        assert time.monotonic() - started < 5  # gave up on the page size, not the busy timeout
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert result["page_size"] == 4096 and counted(conn)[0] == 4
    other.close()


def test_every_writer_that_inserts_messages_counts_them() -> None:
    """Inserts are counted by their writers (a trigger per row costs as much as the insert):
    a module that inserts into messages must add them to message_totals too."""
    import acontext_mcp

    root = Path(acontext_mcp.__file__).parent
    writers = [p for p in root.rglob("*.py") if "INSERT INTO messages" in p.read_text()]
    assert writers, "no writer found: the check looks for the wrong text"
    silent = [str(p.relative_to(root)) for p in writers if "count_stored(" not in p.read_text()]
    assert not silent, f"{silent} insert messages without messages.count_stored"
