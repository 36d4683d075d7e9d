"""The MCP Inspector CLI as an external client: each call spawns `acontext-mcp serve` over stdio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from samples import TOOLS, openai_turn

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first test may npm install

TURN = openai_turn("disk_glob", '{"pattern": "*.toml"}', "/pyproject.toml", "In pyproject.toml.")


def structured(call: Any) -> dict[str, Any]:
    assert call.returncode == 0, call
    answer = call.answer
    assert answer["isError"] is False, answer
    return answer["structuredContent"]


def test_tools_list_shows_every_tool_with_its_schemas(inspector, tmp_path: Path) -> None:
    call = inspector.run(tmp_path / "home", "tools/list")
    assert call.returncode == 0, call
    tools = {t["name"]: t for t in call.answer["tools"]}
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        assert tool["description"] and tool["inputSchema"]["type"] == "object", name
        # typed results keep their schema; "any object" is left out of tools/list
        assert tool.get("outputSchema", {"type": "object", "properties": {}})["type"] == "object"
    assert tools["store_turn"]["inputSchema"]["required"] == ["messages"]
    assert "session_id" in tools["store_turn"]["outputSchema"]["properties"]
    if inspector.modern:  # annotations checked against the pinned 2.x output only
        assert tools["disk_write"]["annotations"]["destructiveHint"] is True
        assert tools["disk_grep"]["annotations"]["readOnlyHint"] is True


def test_a_turn_stored_by_one_process_reads_back_from_the_next(inspector, tmp_path: Path) -> None:
    home = tmp_path / "home"
    stored = structured(inspector.call_tool(home, "store_turn", {"messages": TURN}))
    assert stored["session_created"] and stored["stored"] == len(TURN)
    page = structured(
        inspector.call_tool(home, "get_messages", {"session_id": stored["session_id"]})
    )
    assert page["messages"] == TURN
    assert page["message_ids"] == stored["message_ids"]


def test_a_file_written_to_a_disk_is_found_by_grep(inspector, tmp_path: Path) -> None:
    home = tmp_path / "home"
    content = "[project]\nname = 'demo'\n# TODO: pin versions\n"
    written = structured(
        inspector.call_tool(home, "disk_write", {"path": "cfg/pyproject.toml", "content": content})
    )
    assert written["path"] == "/cfg/pyproject.toml"
    grep = structured(
        inspector.call_tool(home, "disk_grep", {"pattern": "todo", "ignore_case": True})
    )
    assert [(m["path"], m["line"]) for m in grep["matches"]] == [("/cfg/pyproject.toml", 3)]


def test_a_path_escape_is_reported_as_a_tool_error(inspector, tmp_path: Path) -> None:
    call = inspector.call_tool(tmp_path / "home", "disk_read", {"path": "../x"})
    if inspector.modern:  # 2.x prints the result, then exits 5 with an error code on stderr
        assert call.returncode == 5, call
        assert "tool_is_error" in call.stderr, call
    else:  # 0.15 prints the result and exits 0
        assert call.returncode == 0, call
    answer = call.answer
    assert answer["isError"] is True
    text = answer["content"][0]["text"]
    assert "'..'" in text and "internal error" not in text, text
