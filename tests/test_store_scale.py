"""The store stays flat as it grows: counters instead of scans, ordered indexes instead of sorts.

Real SQLite files; every writer the product has (store_turn, capture's store_messages and
extend_message, import, forget, message deletion) is checked against the counted truth.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store import forget, migrations
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import PAGE_SIZE, atomic, connect, dumps, loads, open_db, unpack
from acontext_mcp.store.export import write_export
from acontext_mcp.store.messages import (
    delete_message,
    extend_message,
    recent_assistant_parts,
    store_messages,
)
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
                db, settings, "s1", "id:late", [{"type": "text", "text": "b " * 4000}]
            )
        assert added == 1 and totals(db) == counted(db)
        assert (
            db.execute("SELECT typeof(parts) FROM messages WHERE dedup_key = 'id:late'").fetchone()[
                0
            ]
            == "blob"
        )

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
        previous = [fn for fn in migrations.MIGRATIONS if fn.__name__ != "m008_scale"]
        conn = connect(settings.db_path)
        monkeypatch.setattr(migrations, "MIGRATIONS", previous)
        migrations.migrate(conn)
        for i in range(5):
            store_turn(conn, settings, turn(i), session_id=f"old-{i % 2}")
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
        store_turn(conn, settings, turn(99), session_id="old-0")  # the triggers now count
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


def log_lines(count: int) -> str:
    """Tool output as tests print it: repetitive, with paths, numbers and timings varying."""
    return "\n".join(
        f"tests/test_mod_{i % 37}.py::test_case_{i * 7919 % 1000} PASSED [{i * 100 // count}%] "
        f"({(i * 2654435761) % 997 / 100:.2f}s) sha={(i * 40503) % 65521:04x}"
        for i in range(count)
    )


class TestBytesPerMessage:
    def test_long_parts_are_stored_compressed_and_read_back_exactly(
        self, db: sqlite3.Connection, settings: Settings, tmp_path: Path
    ) -> None:
        long_output = log_lines(400)  # ~36 KB
        sent = [
            {"role": "user", "content": "run the tests"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "sh", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": long_output},
            {"role": "assistant", "content": "all passed " + long_output[:3000]},
        ]
        store_turn(db, settings, sent, session_id="s")
        kinds = db.execute(
            "SELECT typeof(parts), length(parts) FROM messages ORDER BY position"
        ).fetchall()
        assert [k[0] for k in kinds] == ["text", "text", "blob", "text"]
        assert kinds[2][1] * 3 < len(long_output)  # the row holds a third or less

        page = read_messages(db, settings, "s", fmt="openai")
        assert [m.get("content") for m in page["messages"]] == [m["content"] for m in sent]
        stats = store_stats(db, settings)
        assert stats["message_tokens"] > len(long_output) // 4  # tokens of the text, not bytes

        # the export holds plain JSON; importing it elsewhere stores it compressed again
        export = tmp_path / "export.jsonl"
        with open(export, "w", encoding="utf-8") as fh:
            write_export(db, settings, fh)
        assert "test_case_" in export.read_text()
        other = Settings(home=tmp_path / "other", skills_dir=tmp_path / "other-skills")
        with open_db(other) as copy:
            restore(copy, other, export)
            again = read_messages(copy, other, "s", fmt="openai")
            assert again["messages"] == page["messages"]
            assert (
                copy.execute(
                    "SELECT COUNT(*) FROM messages WHERE typeof(parts) = 'blob'"
                ).fetchone()[0]
                == 1
            )

    def test_parts_naming_a_blob_file_stay_plain_for_forget_to_find(
        self, db: sqlite3.Connection, settings: Settings
    ) -> None:
        import base64

        picture = base64.b64encode(bytes(range(256)) * 400).decode()
        parts = [
            {"type": "text", "text": log_lines(200)},
            {
                "type": "image",
                "source": {"kind": "base64", "media_type": "image/png", "data": picture},
            },
        ]
        store_messages(
            db,
            settings,
            ensure_session(db, "s")[0],
            [{"role": "user", "parts": parts}],
            fmt="acontext",
        )
        assert db.execute("SELECT typeof(parts) FROM messages").fetchone()[0] == "text"
        sha = db.execute("SELECT sha256 FROM blobs").fetchone()[0]
        assert forget.plan(db, ["s"])["blobs"] == 1
        assert forget.forget(db, settings, ["s"])["blob_files_removed"] == 1
        assert db.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha,)).fetchone() is None

    def test_gemini_results_pair_with_a_compressed_call_stored_earlier(
        self, db: sqlite3.Connection, settings: Settings
    ) -> None:
        big = {"path": "notes.txt", "text": log_lines(300)}
        store_turn(
            db, settings,
            [{"role": "model", "parts": [{"functionCall": {"name": "write", "args": big}}]}],
            fmt="gemini", session_id="g",
        )  # fmt: skip
        assert db.execute("SELECT typeof(parts) FROM messages").fetchone()[0] == "blob"
        store_turn(
            db, settings,
            [{"role": "user", "parts": [{"functionResponse": {"name": "write", "response": {}}}]}],
            fmt="gemini", session_id="g",
        )  # fmt: skip
        call, result = (
            loads(r[0])[0] for r in db.execute("SELECT parts FROM messages ORDER BY position")
        )
        assert call["type"] == "tool-call" and result["tool_call_id"] == call["id"]

    def test_the_stop_hook_reads_compressed_assistant_text(
        self, db: sqlite3.Connection, settings: Settings
    ) -> None:
        parts = [{"type": "text", "text": log_lines(200)}]
        store_messages(
            db, settings, ensure_session(db, "s")[0], [{"role": "assistant", "parts": parts}],
            fmt="acontext",
        )  # fmt: skip
        assert recent_assistant_parts(db, "s", 1) == [dumps(parts)]

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


def test_vacuum_brings_an_older_store_to_large_pages_and_packed_parts(
    settings: Settings,
) -> None:
    raw = sqlite3.connect(settings.db_path)  # 4 KB pages and plain parts, as before m008
    raw.execute("PRAGMA page_size = 4096")
    raw.execute("PRAGMA journal_mode = WAL")
    raw.close()
    with open_db(settings) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        for i in range(20):
            store_turn(conn, settings, turn(i, size=4000), session_id="old")
        conn.create_function("plain", 1, unpack)
        conn.execute("UPDATE messages SET parts = plain(parts)")  # stored as before packing
        plain = conn.execute("SELECT COUNT(*) FROM messages WHERE typeof(parts) = 'blob'")
        assert plain.fetchone()[0] == 0
        want = read_messages(conn, settings, "old", limit=500)["messages"]

        result = forget.vacuum(conn, settings)

        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        packed = conn.execute("SELECT COUNT(*) FROM messages WHERE typeof(parts) = 'blob'")
        assert packed.fetchone()[0] == 20  # the long tool results
        assert result["bytes_after"] < result["bytes_before"]
        assert read_messages(conn, settings, "old", limit=500)["messages"] == want
        assert totals(conn) == counted(conn)
