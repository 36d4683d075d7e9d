"""get_session_summary and flush_session through the real `mcp.Client`, in-process."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from mcp import Client

from acontext_mcp.config import Settings
from acontext_mcp.server import build_server
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn

pytestmark = pytest.mark.anyio


@pytest.fixture
def server(settings: Settings):
    return build_server(settings)


def _seed(settings: Settings) -> None:
    conn = open_db(settings)
    try:
        store_turn(conn, settings, [{"role": "user", "content": "Add dark mode"}], session_id="s1")
        task_store.insert_task(conn, "s1", "Add dark mode", status="running")
        task_store.update_task(
            conn, "s1", 1, add_progress="I added a theme toggle in src/settings.tsx."
        )
        task_store.update_task(conn, "s1", 1, add_preference="The user wants no new deps.")
        task_store.insert_task(conn, "s1", "Fix the login bug", status="success")
    finally:
        conn.close()


async def test_get_session_summary_is_compact_text_of_the_tasks(server, settings) -> None:
    _seed(settings)
    async with Client(server) as client:
        result = await client.call_tool("get_session_summary", {"session_id": "s1"})
        assert not result.is_error, result.content
        out = result.structured_content
        assert out["session_id"] == "s1"
        assert out["summary"] == (
            "Task 1 [running]: Add dark mode\n"
            "  - I added a theme toggle in src/settings.tsx.\n"
            "  Preference: The user wants no new deps.\n"
            "Task 2 [success]: Fix the login bug"
        )

        missing = await client.call_tool("get_session_summary", {"session_id": "nope"})
        assert missing.is_error and "list_sessions" in missing.content[0].text

        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["get_session_summary"].input_schema
    assert schema["required"] == ["session_id"]
    # a name that says it all costs no description in tools/list
    assert schema["properties"]["session_id"] == {"type": "string"}
    flush = tools["flush_session"].input_schema["properties"]
    assert set(flush) == {"session_id", "timeout_s"}
    assert flush["timeout_s"]["description"]
    assert flush["timeout_s"]["default"] == 30
    assert tools["flush_session"].annotations.read_only_hint is False
    assert tools["flush_session"].annotations.destructive_hint is False


async def test_an_empty_session_has_an_empty_summary(server, settings) -> None:
    conn = open_db(settings)
    store_turn(conn, settings, [{"role": "user", "content": "hi"}], session_id="s0")
    conn.close()
    async with Client(server) as client:
        out = (
            await client.call_tool("get_session_summary", {"session_id": "s0"})
        ).structured_content
    observing = {"observed": 0, "in_process": 0, "pending": 1, "failed": 0, "disabled": 0}
    assert out == {"session_id": "s0", "summary": "", "observing": observing}


async def test_flush_session_runs_the_worker_flush_with_the_timeout(
    server, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(settings)
    seen: list[tuple[Any, ...]] = []

    def fake_flush(s: Settings, session_id: str, timeout_s: float) -> dict[str, Any]:
        seen.append((s.home, session_id, timeout_s))
        return {"session_id": session_id, "status": "done", "pending": 0}

    module = types.ModuleType("acontext_mcp.app.flush")
    module.flush_session = fake_flush  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "acontext_mcp.app.flush", module)
    if "acontext_mcp.app" not in sys.modules:
        try:
            import acontext_mcp.app  # noqa: F401
        except ModuleNotFoundError:
            monkeypatch.setitem(
                sys.modules, "acontext_mcp.app", types.ModuleType("acontext_mcp.app")
            )
    async with Client(server) as client:
        result = await client.call_tool("flush_session", {"session_id": "s1", "timeout_s": 5})
        assert not result.is_error, result.content
        assert result.structured_content["status"] == "done"
        missing = await client.call_tool("flush_session", {"session_id": "nope"})
        assert missing.is_error
        too_long = await client.call_tool("flush_session", {"session_id": "s1", "timeout_s": 900})
        assert too_long.is_error
    assert seen == [(settings.home, "s1", 5.0)]


async def test_flush_session_without_a_worker_says_so(
    server, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(settings)
    monkeypatch.setitem(sys.modules, "acontext_mcp.app.flush", None)
    async with Client(server) as client:
        result = await client.call_tool("flush_session", {"session_id": "s1"})
    assert result.is_error
    assert "no background worker" in result.content[0].text


async def test_flush_session_through_the_real_worker_extracts_tasks(
    server, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path: MCP tool -> worker flush -> task agent, with a scripted model."""
    pytest.importorskip("acontext_mcp.app.flush")
    handlers = pytest.importorskip("acontext_mcp.app.handlers")  # the worker's provider_for
    from support.fake_provider import FakeProvider, call, tools

    conn = open_db(settings)
    store_turn(conn, settings, [{"role": "user", "content": "Add dark mode"}], session_id="s1")
    conn.close()
    model = FakeProvider(
        [tools(call("insert_task", after_order=0, description="Add dark mode"), call("finish"))]
    )
    monkeypatch.setattr(handlers, "provider_for", lambda _settings, _conn: model)
    async with Client(server) as client:
        flushed = await client.call_tool("flush_session", {"session_id": "s1", "timeout_s": 20})
        assert not flushed.is_error, flushed.content
        assert flushed.structured_content["status"] == "done"
        summary = await client.call_tool("get_session_summary", {"session_id": "s1"})
    assert summary.structured_content["summary"] == "Task 1 [pending]: Add dark mode"
    assert len(model.requests) == 1
