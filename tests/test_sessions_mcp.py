"""manage_session and the list_sessions filters through the real MCP client over stdio, as an
agent builder's program drives them."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

pytestmark = pytest.mark.anyio


def params(home: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "acontext_mcp", "serve"],
        env={"ACONTEXT_HOME": str(home), "ACONTEXT_WORKER": "off"},
    )


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, result.content
    return result.structured_content


async def error(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error
    return result.content[0].text


TURN = [
    {"role": "user", "content": "summarize the report"},
    {"role": "assistant", "content": "It says sales rose 4%."},
]


async def test_sessions_are_created_copied_configured_filtered_and_deleted_over_stdio(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with (tmp_path / "server.stderr").open("w") as errlog:
        async with Client(stdio_client(params(home), errlog=errlog)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            hints = tools["manage_session"].annotations
            assert hints is not None and hints.destructive_hint and not hints.read_only_hint

            made = await call(
                client,
                "manage_session",
                {"action": "create", "user": "ana", "configs": {"disable_task_tracking": True}},
            )
            quiet = made["session_id"]
            await call(client, "store_turn", {"messages": TURN, "session_id": quiet})
            loud = (await call(client, "store_turn", {"messages": TURN, "user": "ben"}))[
                "session_id"
            ]

            async def listed(**filters: Any) -> list[str]:
                page = await call(client, "list_sessions", filters)
                return sorted(s["id"] for s in page["sessions"])

            assert await listed(user="ana") == [quiet]
            assert await listed(user="ben") == [loud]
            assert await listed(configs={"disable_task_tracking": True}) == [quiet]

            # configs: get, patch (null deletes), replace
            got = await call(
                client, "manage_session", {"action": "get_configs", "session_id": quiet}
            )
            assert got["configs"] == {"disable_task_tracking": True}
            patched = await call(
                client,
                "manage_session",
                {"action": "patch_configs", "session_id": loud, "configs": {"a": 1, "b": "x"}},
            )
            assert patched["configs"] == {"a": 1, "b": "x"}
            patched = await call(
                client,
                "manage_session",
                {"action": "patch_configs", "session_id": loud, "configs": {"a": None}},
            )
            assert patched["configs"] == {"b": "x"}
            replaced = await call(
                client,
                "manage_session",
                {"action": "set_configs", "session_id": loud, "configs": {"c": True}},
            )
            assert replaced["configs"] == {"c": True}
            assert "needs configs" in await error(
                client, "manage_session", {"action": "set_configs", "session_id": loud}
            )

            # copy: independent, with where it came from
            copy = await call(client, "manage_session", {"action": "copy", "session_id": loud})
            assert copy["copied_from"] == loud and copy["messages"] == 2
            assert await listed(configs={"copied_from": loud}) == [copy["session_id"]]
            more = [{"role": "user", "content": "and costs?"}]
            await call(client, "store_turn", {"messages": more, "session_id": copy["session_id"]})
            original = await call(client, "get_messages", {"session_id": loud})
            assert original["messages"] == TURN

            # delete: confirm first; the answer counts what went
            refusal = await error(
                client, "manage_session", {"action": "delete", "session_id": copy["session_id"]}
            )
            assert "cannot be undone" in refusal and "3 messages" in refusal
            assert "confirm=true" in refusal
            gone = await call(
                client,
                "manage_session",
                {"action": "delete", "session_id": copy["session_id"], "confirm": True},
            )
            assert gone["sessions"] == 1 and gone["messages"] == 3
            assert copy["session_id"] not in await listed()
            assert (await call(client, "get_messages", {"session_id": loud}))["messages"] == TURN

            # a learner run at work on a session: delete is refused, nothing goes
            db = sqlite3.connect(home / "acontext.db")
            db.execute(
                "INSERT INTO jobs (kind, payload, status, run_after, lease_until, holder, "
                "created_at, updated_at) VALUES ('learn_task', ?, 'running', 0, ?, 'w', 0, 0)",
                (f'{{"session_id": "{loud}", "task_id": 1}}', time.time() + 300),
            )
            db.commit()
            db.close()
            busy = await error(
                client, "manage_session", {"action": "delete", "session_id": loud, "confirm": True}
            )
            assert "learner run is in progress" in busy
            assert loud in await listed()

            # a tracking-off session's messages are never queued for task tracking
            status = sqlite3.connect(home / "acontext.db")
            (seen,) = status.execute(
                "SELECT group_concat(DISTINCT m.status) FROM messages m JOIN sessions s "
                "ON s.seq = m.session_seq WHERE s.id = ?",
                (quiet,),
            ).fetchone()
            status.close()
            assert seen == "disabled"

            assert "exists already" in await error(
                client, "manage_session", {"action": "create", "session_id": quiet}
            )
            assert "session_id" in await error(client, "manage_session", {"action": "copy"})
    assert "Traceback" not in (tmp_path / "server.stderr").read_text()
