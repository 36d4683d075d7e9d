"""store_turn through the real `mcp.Client` obeys the hooks' privacy rules.

Attack (issue 10, item 2): a client sends secrets, `<private>` spans, and turns while capture
is switched off; before the fix all of it reached the store verbatim. The secrets are the
redaction suite's own cases (every kind), checked against the raw bytes of the database files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from test_capture_redact import CASES

from acontext_mcp.config import Settings
from acontext_mcp.privacy.switches import CAPTURE_ENV, set_project_capture, set_session_capture
from acontext_mcp.server import build_server
from acontext_mcp.store.db import open_db
from acontext_mcp.store.sessions import ensure_session

pytestmark = pytest.mark.anyio

TEXT = "\n".join(text for _, text, _, _ in CASES)
SECRETS = sorted({secret for _, _, secret, _ in CASES})
PRIVATE = "the staging root password is hunter-two-" + "x7q"


def turn(fmt: str, text: str) -> list[dict[str, Any]]:
    """A user prompt, a tool call, its result and a reply, each carrying `text`."""
    if fmt == "openai":
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "sh", "arguments": json.dumps({"cmd": text})},
        }
        return [
            {"role": "user", "content": text},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": text},
            {"role": "assistant", "content": text},
        ]
    if fmt == "anthropic":
        use = {"type": "tool_use", "id": "toolu_1", "name": "sh", "input": {"cmd": text}}
        return [
            {"role": "user", "content": [{"type": "text", "text": text}]},
            {"role": "assistant", "content": [use]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": text}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": text}]},
        ]
    return [
        {"role": "user", "parts": [{"text": text}]},
        {"role": "model", "parts": [{"functionCall": {"name": "sh", "args": {"cmd": text}}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "sh", "response": {"output": text}}}],
        },
        {"role": "model", "parts": [{"text": text}]},
    ]


def stored_bytes(settings: Settings) -> bytes:
    """Everything SQLite wrote: the database file and its write-ahead log."""
    return b"".join(
        p.read_bytes() for p in settings.home.glob("acontext.db*") if p.suffix != ".shm"
    )


def rows(settings: Settings, sql: str, *args: Any) -> list[tuple]:
    conn = open_db(settings)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


async def store(settings: Settings, args: dict[str, Any]) -> dict[str, Any]:
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("store_turn", args)
    assert not result.is_error, result.content
    return result.structured_content


@pytest.fixture(autouse=True)
def _capture_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server runs in an empty project under $HOME (conftest: a temp dir, no capture
    switch set)."""
    (tmp_path / "user" / "app").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "user" / "app")


class TestRedaction:
    @pytest.mark.parametrize("fmt", ["openai", "anthropic", "gemini"])
    async def test_every_secret_kind_is_redacted_in_messages_and_meta(
        self, settings: Settings, fmt: str
    ):
        meta = {"note": TEXT, "idempotency_key": "t-1"}
        out = await store(settings, {"messages": turn(fmt, TEXT), "format": fmt, "meta": meta})
        assert out["stored"] == 4 and out.get("capture_off") is None
        raw = stored_bytes(settings)
        leaked = [s for s in SECRETS if s.encode() in raw]
        assert leaked == []
        ((data,),) = rows(settings, "SELECT data FROM session_events WHERE type = 'redaction'")
        counts = json.loads(data)["counts"]
        assert {kind for _, _, _, kind in CASES} <= set(counts)

    async def test_private_spans_are_dropped(self, settings: Settings):
        text = f"deploy it <private>{PRIVATE}</private> now"
        out = await store(settings, {"messages": [{"role": "user", "content": text}]})
        assert out["stored"] == 1
        assert PRIVATE.encode() not in stored_bytes(settings)
        ((parts,),) = rows(settings, "SELECT parts FROM messages")
        assert "[private]" in parts and "deploy it" in parts

    async def test_a_resent_turn_is_not_counted_again(self, settings: Settings):
        args = {
            "messages": turn("openai", TEXT),
            "session_id": "s1",
            "meta": {"idempotency_key": "t-1"},
        }
        await store(settings, args)
        again = await store(settings, args)
        assert again["stored"] == 0 and again["duplicates"] == 4
        events = rows(settings, "SELECT 1 FROM session_events WHERE type = 'redaction'")
        assert len(events) == 1


def _global(settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    (settings.home / "capture-off").touch()
    return {}


def _env(settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv(CAPTURE_ENV, "off")
    return {}


def _session(settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    set_session_capture(settings, "s-off", False)
    return {}


def _project_in_meta(settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    set_project_capture(project, False)
    return {"meta": {"project_dir": str(project)}}


def _project_of_session(settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    conn = open_db(settings)
    ensure_session(conn, "s-off", agent="claude-code", project_dir=str(project))
    conn.close()
    (settings.home / "config.json").write_text(
        json.dumps({"capture": {"exclude_projects": [str(project)]}})
    )
    return {}


def _server_workdir(settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    set_project_capture(project, False)
    monkeypatch.chdir(project)
    return {}


SWITCHES = [_global, _env, _session, _project_in_meta, _project_of_session, _server_workdir]


class TestCaptureOff:
    @pytest.mark.parametrize("switch", SWITCHES, ids=lambda f: f.__name__.strip("_"))
    async def test_nothing_is_stored_and_the_answer_says_why(
        self, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, switch
    ):
        project = tmp_path / "user" / "secret-project"
        project.mkdir()
        extra = switch(settings, project, monkeypatch)
        before = rows(settings, "SELECT id FROM sessions")
        out = await store(
            settings,
            {"messages": turn("openai", "plan the merger"), "session_id": "s-off", **extra},
        )
        assert out["stored"] == 0 and out["message_ids"] == []
        assert out["capture_off"].startswith("nothing stored: ") and "off" in out["capture_off"]
        assert rows(settings, "SELECT COUNT(*) FROM messages") == [(0,)]
        assert rows(settings, "SELECT id FROM sessions") == before
        assert b"plan the merger" not in stored_bytes(settings)

    async def test_without_a_session_id_none_is_made_up(self, settings: Settings):
        (settings.home / "capture-off").touch()
        out = await store(settings, {"messages": [{"role": "user", "content": "hi"}]})
        assert out["session_id"] is None and out["session_created"] is False
        assert "globally" in out["capture_off"]

    async def test_other_projects_and_sessions_are_still_stored(
        self, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ):
        set_session_capture(settings, "s-off", False)
        set_project_capture(tmp_path / "user" / "app", False)
        monkeypatch.chdir(tmp_path)  # the server runs outside the switched-off project
        out = await store(settings, {"messages": turn("openai", "hello"), "session_id": "s-on"})
        assert out["stored"] == 4 and out.get("capture_off") is None

    async def test_bad_input_is_still_refused_while_off(self, settings: Settings):
        (settings.home / "capture-off").touch()
        async with Client(build_server(settings)) as client:
            result = await client.call_tool("store_turn", {"messages": [], "format": "openai"})
        assert result.is_error and "non-empty" in result.content[0].text
