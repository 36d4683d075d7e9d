"""skill_uses: one row per use, unknown sessions kept without their id, cascade on forget."""

from __future__ import annotations

import pytest

from acontext_mcp.store import skill_uses
from acontext_mcp.store.sessions import ensure_session


def test_uses_are_recorded_and_prompt_entries_read_back(db):
    ensure_session(db, "s1")
    skill_uses.record_use(db, "project-runbooks", "prompt", session_id="s1", entry="Run tests")
    skill_uses.record_use(db, "daily-logs", "brief", session_id="s1")
    assert skill_uses.injected_entries(db, "s1") == {("project-runbooks", "Run tests")}
    assert skill_uses.injected_entries(db, "other") == set()


def test_an_unknown_session_is_recorded_without_it(db):
    skill_uses.record_use(db, "daily-logs", "mcp_get", session_id="never-captured")
    row = db.execute("SELECT skill, session_id, kind FROM skill_uses").fetchone()
    assert tuple(row) == ("daily-logs", None, "mcp_get")


def test_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown skill use kind"):
        skill_uses.record_use(db, "x", "telepathy")


def test_forgetting_the_session_removes_its_uses(db):
    ensure_session(db, "s1")
    skill_uses.record_use(db, "daily-logs", "read", session_id="s1", path="logs/a.md")
    db.execute("DELETE FROM sessions WHERE id = 's1'")
    assert db.execute("SELECT COUNT(*) FROM skill_uses").fetchone()[0] == 0
