"""Message storage: exactly-once, whole turns, blobs out of rows, concurrent writers."""

from __future__ import annotations

import base64
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, NotFound, TooLarge
from acontext_mcp.store import messages as message_store
from acontext_mcp.store.blobs import blob_path
from acontext_mcp.store.db import open_db
from acontext_mcp.store.sessions import ensure_session


def text(role: str, body: str, id_: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "parts": [{"type": "text", "text": body}]}
    if id_:
        message["meta"] = {"id": id_}
    return message


@pytest.fixture
def session(db: sqlite3.Connection) -> str:
    return ensure_session(db, "s1")[0]


def count(db: sqlite3.Connection, session_id: str = "s1") -> int:
    return db.execute(
        "SELECT COUNT(*) FROM messages WHERE session_seq = (SELECT seq FROM sessions WHERE id = ?)",
        (session_id,),
    ).fetchone()[0]


class TestExactlyOnce:
    def test_positions_are_dense_and_ids_returned_in_order(self, db, settings, session) -> None:
        out = message_store.store_messages(
            db, settings, session, [text("user", "a"), text("assistant", "b")], fmt="acontext"
        )
        assert [r["position"] for r in out] == [0, 1]
        assert all(r["stored"] for r in out)
        assert out[0]["id"] < out[1]["id"]

    def test_a_message_with_a_native_id_is_stored_once(self, db, settings, session) -> None:
        first = message_store.store_messages(
            db, settings, session, [text("user", "hi", "uuid-1")], fmt="acontext"
        )
        again = message_store.store_messages(
            db, settings, session, [text("user", "hi", "uuid-1")], fmt="acontext"
        )
        assert again[0] == {**first[0], "stored": False}
        assert count(db) == 1

    def test_identical_text_without_ids_is_two_messages(self, db, settings, session) -> None:
        for _ in range(2):
            message_store.store_messages(db, settings, session, [text("user", "yes")], fmt="openai")
        assert count(db) == 2

    def test_a_retried_turn_with_an_idempotency_key_is_not_duplicated(
        self, db, settings, session
    ) -> None:
        turn = [text("user", "q"), text("assistant", "a")]
        for _ in range(3):
            message_store.store_messages(
                db, settings, session, turn, fmt="openai", meta={"idempotency_key": "t-1"}
            )
        assert count(db) == 2
        meta = db.execute("SELECT meta FROM messages LIMIT 1").fetchone()[0]
        assert "idempotency_key" not in meta

    def test_tool_calls_are_identified_by_their_provider_ids(self, db, settings, session) -> None:
        call = {
            "role": "assistant",
            "parts": [{"type": "tool-call", "id": "call_9", "name": "ls", "arguments": "{}"}],
        }
        result = {
            "role": "user",
            "parts": [{"type": "tool-result", "tool_call_id": "call_9", "content": []}],
        }
        for _ in range(2):
            message_store.store_messages(db, settings, session, [call, result], fmt="openai")
        assert count(db) == 2

    def test_only_a_stored_message_moves_the_session(self, db, settings, session) -> None:
        def updated() -> float:
            return db.execute(
                "SELECT updated_at FROM sessions WHERE id = ?", (session,)
            ).fetchone()[0]

        turn = [{"role": "user", "parts": [{"type": "text", "text": "hi"}], "meta": {"id": "u1"}}]
        message_store.store_messages(db, settings, session, turn, fmt="acontext", at=1_000.0)
        first = updated()
        message_store.store_messages(db, settings, session, turn, fmt="acontext")  # a duplicate
        ensure_session(db, session)  # a writer that only makes sure the session exists
        assert updated() == first
        later = [{**turn[0], "meta": {"id": "u2"}}]
        message_store.store_messages(db, settings, session, later, fmt="acontext", at=500.0)
        assert updated() == first  # never back in time
        message_store.store_messages(
            db, settings, session, [{**turn[0], "meta": {"id": "u3"}}], fmt="acontext"
        )
        assert updated() > first

    def test_unknown_session_is_refused(self, db, settings) -> None:
        with pytest.raises(NotFound):
            message_store.store_messages(db, settings, "nope", [text("user", "x")], fmt="openai")


class TestWholeTurns:
    def test_a_failure_halfway_stores_nothing_and_a_retry_stores_all(
        self, db, settings, session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from acontext_mcp.formats import parts  # store_messages imports it when it runs

        real = parts.estimate_tokens
        calls = {"n": 0}

        def flaky(message: Any) -> int:
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError("disk full")
            return real(message)

        monkeypatch.setattr(parts, "estimate_tokens", flaky)
        turn = [text("user", str(i), f"id-{i}") for i in range(5)]
        with pytest.raises(OSError, match="disk full"):
            message_store.store_messages(db, settings, session, turn, fmt="acontext")
        assert count(db) == 0
        out = message_store.store_messages(db, settings, session, turn, fmt="acontext")
        assert [r["position"] for r in out] == [0, 1, 2, 3, 4]

    def test_an_oversized_message_is_refused_with_the_limit_and_nothing_is_stored(
        self, db, settings, session
    ) -> None:
        small = Settings(home=settings.home, skills_dir=settings.skills_dir, max_message_bytes=1000)
        turn = [text("user", "fine"), text("assistant", "x" * 5000)]
        with pytest.raises(TooLarge, match=r"messages\[1\].*ACONTEXT_MAX_MESSAGE_BYTES"):
            message_store.store_messages(db, small, session, turn, fmt="openai")
        assert count(db) == 0


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20).decode()


class TestBlobs:
    def image_message(self) -> dict[str, Any]:
        return {
            "role": "user",
            "parts": [
                {"type": "text", "text": "what is this?"},
                {
                    "type": "image",
                    "source": {"kind": "base64", "media_type": "image/png", "data": PNG},
                },
            ],
        }

    def test_large_base64_goes_to_a_file_not_the_row(self, db, settings, session) -> None:
        message_store.store_messages(db, settings, session, [self.image_message()], fmt="anthropic")
        row = db.execute("SELECT parts FROM messages").fetchone()[0]
        assert PNG[:100] not in row and '"kind":"blob"' in row
        digest = db.execute("SELECT sha256 FROM blobs").fetchone()[0]
        assert blob_path(settings, digest).read_bytes() == base64.b64decode(PNG)

    def test_reading_back_inline_restores_the_exact_bytes(self, db, settings, session) -> None:
        message_store.store_messages(db, settings, session, [self.image_message()], fmt="anthropic")
        page = message_store.list_messages(db, settings, session, inline=True)
        assert page["items"][0]["message"]["parts"][1]["source"]["data"] == PNG

    def test_reading_back_by_reference_keeps_bytes_out(self, db, settings, session) -> None:
        message_store.store_messages(db, settings, session, [self.image_message()], fmt="anthropic")
        source = message_store.list_messages(db, settings, session, inline=False)["items"][0][
            "message"
        ]["parts"][1]["source"]
        assert source["kind"] == "url" and source["url"].startswith("acontext-blob:sha256:")

    def test_the_same_image_twice_is_one_blob(self, db, settings, session) -> None:
        for _ in range(2):
            message_store.store_messages(
                db, settings, session, [self.image_message()], fmt="openai"
            )
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 1

    def test_an_image_over_the_artifact_cap_is_refused(self, db, settings, session) -> None:
        small = Settings(
            home=settings.home, skills_dir=settings.skills_dir, max_artifact_bytes=2000
        )
        with pytest.raises(TooLarge, match="ACONTEXT_MAX_ARTIFACT_BYTES"):
            message_store.store_messages(db, small, session, [self.image_message()], fmt="openai")
        assert count(db) == 0

    def test_invalid_base64_is_refused_and_nothing_is_stored(self, db, settings, session) -> None:
        bad = self.image_message()
        bad["parts"][1]["source"]["data"] = "!!!not base64!!!" * 200
        with pytest.raises(InvalidInput, match="base64"):
            message_store.store_messages(db, settings, session, [bad], fmt="openai")
        assert count(db) == 0


def test_pages_follow_positions_and_end_without_a_cursor(db, settings, session) -> None:
    message_store.store_messages(
        db, settings, session, [text("user", str(i)) for i in range(7)], fmt="openai"
    )
    seen, cursor = [], None
    while True:
        page = message_store.list_messages(db, settings, session, limit=3, cursor=cursor)
        seen += [item["message"]["parts"][0]["text"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(i) for i in range(7)]
    with pytest.raises(InvalidInput, match="cursor"):
        message_store.list_messages(db, settings, session, cursor="garbage!")


# --- Several processes writing at once ---


def _writer(home: str, skills: str, worker: int, turns: int) -> None:
    settings = Settings(home=Path(home), skills_dir=Path(skills))
    conn = open_db(settings)
    for t in range(turns):
        # Every worker also re-sends the turns of worker 0: those must land exactly once.
        for owner in {worker, 0}:
            message_store.store_messages(
                conn,
                settings,
                "shared",
                [
                    text("user", f"{owner}-{t}-q", f"{owner}-{t}-q"),
                    text("assistant", f"{owner}-{t}-a", f"{owner}-{t}-a"),
                ],
                fmt="acontext",
            )
    conn.close()


def test_concurrent_writer_processes_lose_nothing_and_store_nothing_twice(
    db, settings: Settings
) -> None:
    ensure_session(db, "shared")
    workers, turns = 6, 40
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_writer, args=(str(settings.home), str(settings.skills_dir), w, turns))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    expected = {f"{w}-{t}-{k}" for w in range(workers) for t in range(turns) for k in "qa"}
    keys = [
        r[0]
        for r in db.execute(
            "SELECT dedup_key FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = 'shared')"
        )
    ]
    assert len(keys) == len(expected)
    assert {k.removeprefix("id:") for k in keys} == expected
    positions = [r[0] for r in db.execute("SELECT position FROM messages ORDER BY position")]
    assert positions == list(range(len(expected)))
