"""Context editing and token counts where users meet them: `get_messages` through the real
MCP client over stdio (`python -m acontext_mcp serve`), and `acontext-mcp messages`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from acontext_mcp.config import Settings
from acontext_mcp.context.tokens import ESTIMATE, TIKTOKEN
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # as tests/conftest.py

OPENAI = json.loads((FIXTURES / "formats" / "openai_coding.json").read_text())
# the sample's messages by index: 3 two read_file calls, 4 and 5 their results, 6 run_tests'
# call, 7 its result, 8 edit_file's call, 9 its result
EDITS = [
    {"type": "token_limit", "params": {"limit_tokens": 400}},
    {"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 1}},
]


def params(home: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "acontext_mcp", "serve"],
        env={"ACONTEXT_HOME": str(home)},
    )


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.anyio
async def test_get_messages_edits_a_copy_up_to_the_pin_over_stdio(tmp_path: Path) -> None:
    async with Client(params(tmp_path / "home"), mode="legacy") as client:
        stored = await call(client, "store_turn", {"messages": OPENAI})
        sid, ids = stored["session_id"], stored["message_ids"]
        plain = await call(client, "get_messages", {"session_id": sid, "limit": 500})
        assert "edited" not in plain or plain["edited"] is None  # no edits asked: none reported

        pin = ids[7]  # run_tests' result
        args = {
            "session_id": sid,
            "limit": 500,
            "edits": EDITS,
            "pin_editing_strategies_at_message": pin,
        }
        first = await call(client, "get_messages", args)
        edited = first["edited"]
        assert edited["at_message_id"] == pin and edited["counter"] == TIKTOKEN
        # priority order, not the order given: results are cleared before the limit drops
        assert [a["type"] for a in edited["applied"]] == ["remove_tool_result", "token_limit"]
        # up to the pin the newest result (7) stays, 4 and 5 become "Done"; the limit (400) then
        # drops the system, developer and image messages (the image alone counts 800)
        assert edited["applied"][0]["message_ids"] == [ids[4], ids[5]]
        assert edited["applied"][1]["message_ids"] == ids[:3]
        assert first["message_ids"] == ids[3:]
        assert [m.get("content") for m in first["messages"][1:3]] == ["Done", "Done"]
        assert edited["tokens_before"] - edited["tokens_after"] == sum(
            a["tokens_saved"] for a in edited["applied"]
        )
        # after the pin: exactly as stored (edit_file's result is not cleared)
        assert first["messages"][5:] == plain["messages"][8:]
        # the store is untouched
        assert await call(client, "get_messages", {"session_id": sid, "limit": 500}) == plain

        # the session grows after the pin: the edited prefix reads the same (prompt cache)
        more = [{"role": "user", "content": "Now run the whole suite."}]
        await call(client, "store_turn", {"session_id": sid, "messages": more})
        second = await call(client, "get_messages", args)
        assert second["messages"][:5] == first["messages"][:5]
        assert second["edited"]["applied"] == edited["applied"]
        assert second["messages"][-1] == more[0]

        bad = await client.call_tool(
            "get_messages", {"session_id": sid, "edits": [{"type": "compress"}]}
        )
        assert bad.is_error and "unknown strategy 'compress'" in bad.content[0].text
        stray = await client.call_tool(
            "get_messages", {"session_id": sid, "pin_editing_strategies_at_message": 10**6}
        )
        assert stray.is_error and f"message 1000000 is not in session {sid!r}" in (
            stray.content[0].text
        )


@pytest.mark.anyio
async def test_an_empty_edit_list_reports_real_token_counts(tmp_path: Path) -> None:
    """'hello world' is two o200k_base tokens, 'Hello, world!' four."""
    async with Client(params(tmp_path / "home"), mode="legacy") as client:
        turn = [
            {"role": "user", "content": "hello world"},
            {"role": "assistant", "content": "Hello, world!"},
        ]
        stored = await call(client, "store_turn", {"messages": turn})
        page = await call(client, "get_messages", {"session_id": stored["session_id"], "edits": []})
    assert page["edited"] == {
        "at_message_id": stored["message_ids"][-1],
        "counter": TIKTOKEN,
        "tokens_before": 6,
        "tokens_after": 6,
        "applied": [],
    }


# --- the command line ---


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """`acontext-mcp ARGS`, or the same through `code` run first (e.g. to hide tiktoken)."""
    prelude = code or ""
    main = (
        f"{prelude}\nimport sys\nfrom acontext_mcp.entry import main\nsys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", main, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


@pytest.fixture
def session(settings: Settings) -> tuple[str, list[int]]:
    conn = open_db(settings)
    try:
        stored = store_turn(conn, settings, OPENAI, session_id="edit-me")
    finally:
        conn.close()
    return stored["session_id"], stored["message_ids"]


def test_messages_edit_and_pin_on_the_command_line(
    session: tuple[str, list[int]], tmp_path: Path
) -> None:
    sid, ids = session
    out = run("messages", sid, "--edit", json.dumps(EDITS), "--pin", str(ids[7]), "--json")
    assert out.returncode == 0, out.stderr
    page = json.loads(out.stdout)
    assert page["message_ids"] == ids[3:] and page["edited"]["at_message_id"] == ids[7]

    (tmp_path / "edits.json").write_text(json.dumps(EDITS[0]))  # one strategy, from a file
    text = run("messages", sid[:4], "--edit", f"@{tmp_path / 'edits.json'}")
    assert text.returncode == 0, text.stderr
    assert f"#{ids[0]} " not in text.stdout and f"#{ids[-1]} assistant:" in text.stdout
    assert f"edited up to #{ids[-1]}: " in text.stdout and f"({TIKTOKEN})" in text.stdout
    # unpinned, the 400 limit holds for the whole page: all but the last three go (1869 -> 32)
    dropped = ", ".join(f"#{i}" for i in ids[:11])
    assert f"  token_limit: dropped {dropped} (-1837 tokens)" in text.stdout
    assert f"#{ids[11]} assistant: Done" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--edit", "[{"], "is not JSON"),
        (["--edit", "@/nonexistent/edits.json"], "cannot read /nonexistent/edits.json"),
        (["--edit", '[{"type": "compress"}]'], "unknown strategy 'compress'"),
        (["--pin", "999999"], "message 999999 is not in session 'edit-me'"),
        (["--tokens", "--edit", "[]"], "--tokens counts the whole session"),
    ],
)
def test_bad_edit_arguments_say_what_to_fix(
    session: tuple[str, list[int]], args: list[str], message: str
) -> None:
    out = run("messages", session[0], *args)
    assert out.returncode != 0 and message in out.stderr, out.stderr
    assert out.stdout == ""


def test_messages_tokens_counts_every_message_and_the_total(
    session: tuple[str, list[int]], settings: Settings
) -> None:
    sid, ids = session
    conn = open_db(settings)
    try:
        store_turn(conn, settings, [{"role": "user", "content": "hello world"}], session_id=sid)
    finally:
        conn.close()
    out = run("messages", sid, "--tokens", "--json")
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert counts["counter"] == TIKTOKEN and len(counts["messages"]) == len(ids) + 1
    assert counts["messages"][0]["role"] == "system" and counts["messages"][2]["tokens"] > 800
    assert counts["messages"][-1]["tokens"] == 2  # hello world
    assert counts["total"] == sum(m["tokens"] for m in counts["messages"])

    text = run("messages", sid, "--tokens").stdout
    assert f"total {counts['total']} tokens in {len(ids) + 1} messages" in text
    assert f"counter: {TIKTOKEN}" in text

    estimate = run(
        "messages", sid, "--tokens", "--json", code="import sys; sys.modules['tiktoken'] = None"
    )
    counted = json.loads(estimate.stdout)
    assert counted["counter"] == ESTIMATE
    assert counted["messages"][-1]["tokens"] == 3  # eleven characters, four a token


def _stored(settings: Settings, fmt: str) -> list[int]:
    raw = json.loads((FIXTURES / "formats" / f"{fmt}_coding.json").read_text())
    conn = open_db(settings)
    try:
        return store_turn(conn, settings, raw, fmt=fmt, session_id=fmt)["message_ids"]
    finally:
        conn.close()


def _read(settings: Settings, fmt: str, edits: list[Any]) -> dict[str, Any]:
    from acontext_mcp.store.turns import read_messages

    conn = open_db(settings)
    try:
        return read_messages(conn, settings, fmt, fmt=fmt, limit=500, edits=edits)
    finally:
        conn.close()


def test_gemini_middle_out_comes_back_as_gemini_with_whole_pairs(settings: Settings) -> None:
    """o200k_base counts of the Gemini sample's messages: 809 (text + image), 36, 41, 14, 28,
    35, 10, 1610 (text + two files), 60; 2643 in all. Down to 1000: the middle (4, a result)
    goes with its call (3), then 5 with 6, then 2 with 1, then 7: 869 left."""
    ids = _stored(settings, "gemini")
    page = _read(settings, "gemini", [{"type": "middle_out", "params": {"token_reduce_to": 1000}}])
    assert page["message_ids"] == [ids[0], ids[8]]
    assert page["edited"]["tokens_before"] == 2643 and page["edited"]["tokens_after"] == 869
    assert [m["role"] for m in page["messages"]] == ["user", "model"]
    assert "inlineData" in page["messages"][0]["parts"][1]


def test_anthropic_token_limit_starts_at_a_call_with_its_result(settings: Settings) -> None:
    """Stored counts 1629, 42, 41, 58, 28, 226, 808, 21 (2853; `messages --tokens`): under 1100
    the first message goes, then each call with its results, 1 with 2 and 3 with 4: 1055 left,
    from message 5 on."""
    ids = _stored(settings, "anthropic")
    page = _read(settings, "anthropic", [{"type": "token_limit", "params": {"limit_tokens": 1100}}])
    assert page["message_ids"] == ids[5:]
    assert page["edited"]["tokens_after"] == 1055
    first, second = page["messages"][:2]
    (use,) = [b for b in first["content"] if b["type"] == "tool_use"]
    assert [b["tool_use_id"] for b in second["content"] if b["type"] == "tool_result"] == [
        use["id"]
    ]
