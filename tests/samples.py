"""Sample data shared by the MCP client tests (in-process, stdio and Inspector)."""

from __future__ import annotations

from typing import Any

TOOLS = {
    "store_turn", "list_sessions", "get_messages", "list_tasks", "list_skills", "get_skill",
    "get_skill_file", "search_skills", "disk_glob", "disk_grep", "disk_read", "disk_write",
    "disk_list", "stats", "get_session_summary", "flush_session", "learn_now", "learning_status",
    "annotate_session",
    "manage_session",
}  # fmt: skip


def openai_turn(tool: str, arguments: str, result: str, answer: str) -> list[dict[str, Any]]:
    """A realistic OpenAI turn: question, one tool call, its result, an answer."""
    return [
        {"role": "user", "content": "Where is the config?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": tool, "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": result},
        {"role": "assistant", "content": answer},
    ]
