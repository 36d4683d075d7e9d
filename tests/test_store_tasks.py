"""Tasks and sessions: ordering, status rules, listing across sessions with cursors."""

from __future__ import annotations

import pytest

from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.events import add_event, list_events
from acontext_mcp.store.sessions import ensure_session, get_session, list_sessions


def test_a_session_is_created_once_and_keeps_its_fields(db) -> None:
    sid, created = ensure_session(db, "abc", agent="claude-code", project_dir="/p")
    again, created_again = ensure_session(db, "abc", agent="other")
    assert (sid, created, again, created_again) == ("abc", True, "abc", False)
    assert get_session(db, "abc")["agent"] == "claude-code"


@pytest.mark.parametrize("bad", ["", "../x", "a b", "x" * 200, "-flag"])
def test_bad_session_ids_are_refused_with_what_to_send(db, bad: str) -> None:
    with pytest.raises(InvalidInput, match="session_id"):
        ensure_session(db, bad)


def test_sessions_page_newest_first(db) -> None:
    for i in range(5):
        ensure_session(db, f"s{i}")
    first = list_sessions(db, limit=2)
    second = list_sessions(db, limit=10, cursor=first["next_cursor"])
    ids = [s["id"] for s in first["sessions"] + second["sessions"]]
    assert ids == ["s4", "s3", "s2", "s1", "s0"]
    assert second["next_cursor"] is None


class TestTasks:
    def test_insert_after_shifts_later_tasks(self, db) -> None:
        ensure_session(db, "s")
        task_store.insert_task(db, "s", "build the page")
        task_store.insert_task(db, "s", "deploy it")
        task_store.insert_task(db, "s", "write a plan first", after_order=0)
        listed = task_store.list_tasks(db, session_id="s")["tasks"]
        assert [(t["order"], t["description"]) for t in listed] == [
            (1, "write a plan first"),
            (2, "build the page"),
            (3, "deploy it"),
        ]

    def test_progress_preferences_and_status_accumulate(self, db) -> None:
        ensure_session(db, "s")
        task_store.insert_task(db, "s", "fix the test")
        task_store.update_task(db, "s", 1, status="running", add_progress="ran pytest: 2 failed")
        task = task_store.update_task(
            db,
            "s",
            1,
            status="success",
            add_progress="pytest: 14 passed",
            add_preference="User wants tests run before commits",
        )
        assert task["status"] == "success"
        assert task["progresses"] == ["ran pytest: 2 failed", "pytest: 14 passed"]
        assert task["user_preferences"] == ["User wants tests run before commits"]

    def test_unknown_status_and_missing_task_are_clear_errors(self, db) -> None:
        ensure_session(db, "s")
        task_store.insert_task(db, "s", "x")
        with pytest.raises(InvalidInput, match="pending, running, success, failed"):
            task_store.update_task(db, "s", 1, status="done")
        with pytest.raises(NotFound, match="no task 7"):
            task_store.update_task(db, "s", 7, status="success")

    def test_listing_across_sessions_filters_by_status_and_pages(self, db) -> None:
        for s in ("a", "b"):
            ensure_session(db, s)
            for i in range(3):
                task_store.insert_task(db, s, f"{s}{i}", status="success" if i else "failed")
        failed = task_store.list_tasks(db, status=["failed"])["tasks"]
        assert sorted(t["description"] for t in failed) == ["a0", "b0"]
        page = task_store.list_tasks(db, limit=4)
        rest = task_store.list_tasks(db, limit=4, cursor=page["next_cursor"])
        assert len(page["tasks"]) == 4 and len(rest["tasks"]) == 2 and rest["next_cursor"] is None


def test_session_events_are_typed_and_chronological(db) -> None:
    ensure_session(db, "s")
    add_event(db, "s", "compaction", {"trigger": "auto"})
    add_event(db, "s", "redaction", {"count": 2})
    events = list_events(db, "s")
    assert [e["type"] for e in events] == ["compaction", "redaction"]
    assert list_events(db, "s", type_="redaction")[0]["data"] == {"count": 2}
