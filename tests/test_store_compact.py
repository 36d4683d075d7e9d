"""m010_compact_messages: messages keyed by the session's integer key instead of its id.

A store written by the previous schema (messages.session_id) is upgraded in place: every row,
id, link and counter survives, and the stores' APIs keep speaking session id strings.
"""

from __future__ import annotations

import sqlite3

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store import forget, migrations
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import connect, open_db
from acontext_mcp.store.messages import count_stored, list_messages, store_messages
from acontext_mcp.store.sessions import ensure_session, get_session, list_sessions
from acontext_mcp.store.stats import store_stats


def _old_store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """A store as the release before m010 wrote it: 3 sessions of 12 messages, tasks linked
    to messages, evidence naming a message, counters kept. Returns message ids per session."""
    previous = [fn for fn in migrations.MIGRATIONS if fn.__name__ < "m010"]
    conn = connect(settings.db_path)
    monkeypatch.setattr(migrations, "MIGRATIONS", previous)
    migrations.migrate(conn)
    ids: dict[str, list[int]] = {}
    for s in range(3):
        sid = f"0b1e{s:04d}-old-session"
        ensure_session(conn, sid, agent="claude-code" if s else "openclaw")
        rows = [
            (
                sid,
                p,
                "user" if p % 2 == 0 else "assistant",
                f'[{{"text":"m{s}-{p}","type":"text"}}]',
                5 + p,
                f"id:{s}-{p}",
            )
            for p in range(12)
        ]
        ids[sid] = [
            conn.execute(
                "INSERT INTO messages (session_id, position, role, parts, format, token_count, "
                "dedup_key, created_at) VALUES (?, ?, ?, ?, 'openai', ?, ?, 1) RETURNING id",
                row,
            ).fetchone()[0]
            for row in rows
        ]
        count_stored(conn, 12, sum(r[4] for r in rows))
        task = task_store.insert_task(conn, sid, f"task of {sid}")
        task_store.link_messages(conn, task["id"], ids[sid][2:5])
        task_store.add_evidence(conn, task["id"], "tests", "passed", message_id=ids[sid][4])
    assert "session_id" in {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
    conn.close()
    monkeypatch.undo()
    return ids


def _counted(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT COUNT(*), SUM(token_count) FROM messages").fetchone()
    return row[0], row[1]


def _kept(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT messages, tokens FROM message_totals").fetchone()
    return row[0], row[1]


def test_an_older_store_is_upgraded_with_every_row_link_and_counter(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _old_store(settings, monkeypatch)
    with open_db(settings) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
        assert "session_seq" in columns and "session_id" not in columns
        assert migrations.schema_version(conn) == len(migrations.MIGRATIONS)
        for s, (sid, want) in enumerate(ids.items()):
            page = list_messages(conn, settings, sid, limit=50)
            assert [m["id"] for m in page["items"]] == want
            assert [m["position"] for m in page["items"]] == list(range(12))
            assert page["items"][3]["message"]["parts"][0]["text"] == f"m{s}-3"
        assert _kept(conn) == _counted(conn) == (36, 3 * sum(5 + p for p in range(12)))
        assert store_stats(conn, settings)["messages"] == 36
        for sid, want in ids.items():
            task = task_store.session_tasks(conn, sid)[0]
            rows = task_store.task_message_rows(conn, task, rows=10, fallback=10)
            assert [r["id"] for r in rows] == want[2:5]
            assert task_store.task_evidence(conn, task["id"])[0]["message_id"] == want[4]
        counts = {s["id"]: s["message_count"] for s in list_sessions(conn)["sessions"]}
        assert counts == dict.fromkeys(ids, 12)
        assert "seq" not in get_session(conn, next(iter(ids)))  # the key stays internal
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_after_the_upgrade_new_sessions_get_fresh_keys_and_dedup_still_holds(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _old_store(settings, monkeypatch)
    old = next(iter(ids))
    with open_db(settings) as conn:
        again = store_messages(
            conn,
            settings,
            old,
            [{"role": "user", "parts": [{"type": "text", "text": "x"}]}],
            fmt="openai",
            keys=["id:0-3"],
        )
        assert again == [{"id": ids[old][3], "position": 3, "stored": False}]
        ensure_session(conn, "new-session")
        seqs = dict(conn.execute("SELECT id, seq FROM sessions").fetchall())
        assert seqs["new-session"] > max(v for k, v in seqs.items() if k != "new-session")
        stored = store_messages(
            conn,
            settings,
            "new-session",
            [{"role": "user", "parts": [{"type": "text", "text": "hi"}]}],
            fmt="openai",
            keys=["id:0-3"],  # the same key in another session is another message
        )
        assert stored[0]["stored"] and stored[0]["position"] == 0
        assert [m["id"] for m in list_messages(conn, settings, "new-session")["items"]] == [
            stored[0]["id"]
        ]
        assert _kept(conn) == _counted(conn) and _counted(conn)[0] == 37


def test_forgetting_an_upgraded_session_cascades_to_its_messages_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _old_store(settings, monkeypatch)
    gone, *kept = ids
    with open_db(settings) as conn:
        plan = forget.plan(conn, [gone])
        assert plan["messages"] == 12 and plan["message_keys_kept"] == 12  # openclaw resends
        result = forget.forget(conn, settings, [gone])
        assert result["messages"] == 12
        assert _kept(conn) == _counted(conn) and _counted(conn)[0] == 24
        remaining = conn.execute("SELECT COUNT(*) FROM task_messages").fetchone()[0]
        assert remaining == 6  # the forgotten task's links went with it
        for sid in kept:
            assert len(list_messages(conn, settings, sid, limit=50)["items"]) == 12


def test_a_failed_foreign_key_check_rolls_the_upgrade_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_store(settings, monkeypatch)
    conn = connect(settings.db_path)
    conn.execute("PRAGMA foreign_keys = OFF")  # a link to a message that is not there
    conn.execute("INSERT INTO task_messages (task_id, message_id) VALUES (1, 999999)")
    conn.close()
    with pytest.raises(sqlite3.IntegrityError, match="task_messages"):
        open_db(settings)
    conn = connect(settings.db_path)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
    assert (
        "session_id" in columns
        and conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 36
    )
    conn.close()
