"""The MCP server through the real `mcp.Client`, in both protocol eras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from samples import TOOLS

from acontext_mcp.config import Settings
from acontext_mcp.server import build_server
from acontext_mcp.skills import defaults as skill_defaults
from acontext_mcp.skills.defaults import DEFAULT_SKILLS
from acontext_mcp.skills.repo import ensure_repo, log
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import open_db
from acontext_mcp.store.sessions import ensure_session

pytestmark = pytest.mark.anyio

WRITERS = {
    "store_turn",
    "disk_write",
    "flush_session",
    "learn_now",
    "annotate_session",
    "manage_session",
}

OPENAI_TURN = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What files are in src?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_ls_1",
                "type": "function",
                "function": {"name": "list_dir", "arguments": '{"path": "src"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_ls_1", "content": "main.py\nutil.py"},
    {"role": "assistant", "content": "src has main.py and util.py."},
]


@pytest.fixture
def server(settings: Settings):
    return build_server(settings)


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, result.content
    return result.structured_content


async def error_text(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error
    return result.content[0].text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_both_protocol_eras_list_every_tool_with_truthful_annotations(
    server, mode: str
) -> None:
    async with Client(server, mode=mode) as client:
        if mode == "legacy":
            assert client.protocol_version == "2025-11-25"
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        assert tool.description and len(tool.description) < 120
        # A typed result keeps its schema; "any object" is left out (it tells a client nothing).
        assert tool.output_schema != {"type": "object"}, name
        hints = tool.annotations
        assert hints.read_only_hint is (name not in WRITERS), name
        assert hints.open_world_hint is False
    assert tools["store_turn"].output_schema["required"] == [
        "session_id",
        "session_created",
        "message_ids",
        "stored",
        "duplicates",
    ]
    assert tools["store_turn"].annotations.destructive_hint is False
    assert tools["disk_write"].annotations.destructive_hint is True
    params = tools["store_turn"].input_schema["properties"]
    assert set(params) == {"messages", "format", "session_id", "meta", "user"}
    assert params["format"]["enum"] == ["openai", "anthropic", "gemini", "acontext"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_and_resources_are_advertised_because_they_are_served(
    server, mode: str
) -> None:
    """OpenClaw turns each advertised resource and prompt method into a tool of its own:
    prompts, which we do not serve, are not advertised; resources (skill files) are."""
    async with Client(server, mode=mode) as client:
        caps = client.server_capabilities
        assert caps.tools is not None and caps.tools.list_changed is False
        assert caps.prompts is None
        assert caps.resources is not None and not caps.resources.subscribe
        with pytest.raises(MCPError, match="Method not found"):
            await client.list_prompts()
        assert (await client.list_tools()).tools  # what is advertised is served
        assert (await client.list_resources()).resources


async def test_a_turn_stored_as_openai_reads_back_in_every_format(server) -> None:
    async with Client(server, mode="legacy") as client:
        stored = await call(client, "store_turn", {"messages": OPENAI_TURN})
        assert stored["session_created"] and stored["stored"] == 5
        sid = stored["session_id"]

        openai = await call(client, "get_messages", {"session_id": sid})
        assert openai["messages"] == OPENAI_TURN
        assert openai["message_ids"] == stored["message_ids"]

        anthropic = (
            await call(client, "get_messages", {"session_id": sid, "format": "anthropic"})
        )["messages"]
        tool_use = anthropic[2]["content"][0]
        assert tool_use == {
            "type": "tool_use",
            "id": "call_ls_1",
            "name": "list_dir",
            "input": {"path": "src"},
        }
        assert anthropic[3]["content"][0]["tool_use_id"] == "call_ls_1"

        gemini = (await call(client, "get_messages", {"session_id": sid, "format": "gemini"}))[
            "messages"
        ]
        assert gemini[2]["role"] == "model"
        assert gemini[2]["parts"][0]["functionCall"]["name"] == "list_dir"
        assert gemini[3]["parts"][0]["functionResponse"]["name"] == "list_dir"


async def test_retrying_a_turn_with_an_idempotency_key_stores_it_once(server) -> None:
    args = {"messages": OPENAI_TURN[1:2], "session_id": "s-1", "meta": {"idempotency_key": "k"}}
    async with Client(server) as client:
        first = await call(client, "store_turn", args)
        second = await call(client, "store_turn", args)
    assert (first["stored"], second["stored"], second["duplicates"]) == (1, 0, 1)
    assert first["message_ids"] == second["message_ids"]


async def test_gemini_calls_and_responses_sent_separately_are_paired(server) -> None:
    call_turn = [
        {"role": "user", "parts": [{"text": "weather?"}]},
        {
            "role": "model",
            "parts": [{"functionCall": {"name": "weather", "args": {"city": "Oslo"}}}],
        },
    ]
    reply_turn = [
        {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"t": 3}}}]}
    ]
    async with Client(server) as client:
        sid = (await call(client, "store_turn", {"messages": call_turn, "format": "gemini"}))[
            "session_id"
        ]
        await call(
            client, "store_turn", {"messages": reply_turn, "format": "gemini", "session_id": sid}
        )
        page = await call(client, "get_messages", {"session_id": sid, "format": "acontext"})
    call_part = page["messages"][1]["parts"][0]
    result_part = page["messages"][2]["parts"][0]
    assert result_part["tool_call_id"] == call_part["id"]


async def test_message_pages_follow_the_cursor(server) -> None:
    turn = [{"role": "user", "content": f"m{i}"} for i in range(7)]
    async with Client(server) as client:
        sid = (await call(client, "store_turn", {"messages": turn}))["session_id"]
        seen, cursor = [], None
        while True:
            args: dict[str, Any] = {"session_id": sid, "limit": 3}
            if cursor:
                args["cursor"] = cursor
            page = await call(client, "get_messages", args)
            seen += [m["content"] for m in page["messages"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    assert seen == [f"m{i}" for i in range(7)]


HELLO = [{"role": "user", "content": "x"}]


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("store_turn", {"messages": [], "format": "openai"}, "non-empty list"),
        ("store_turn", {"messages": [{"content": "no role"}]}, "role"),
        ("store_turn", {"messages": HELLO, "format": "xml"}, "format"),
        ("store_turn", {"messages": HELLO, "session_id": "../x"}, "session_id"),
        ("get_messages", {"session_id": "missing"}, "no session 'missing'"),
        ("list_sessions", {"cursor": "@@"}, "cursor"),
        ("list_tasks", {"session_id": "missing"}, "no session"),
        ("list_tasks", {"status": ["done"]}, "status"),
        ("get_skill", {"name": "nope"}, "no skill named 'nope'"),
        ("disk_read", {"path": "../../etc/passwd"}, ".."),
        ("disk_read", {"path": "missing.txt"}, "missing.txt"),
        ("disk_write", {"path": "a\u0000b", "content": "x"}, "NUL"),
        ("disk_grep", {"pattern": "("}, "regular expression"),
        ("disk_glob", {"pattern": "../*"}, ".."),
        ("disk_list", {"path": "/", "disk": "Bad Name"}, "disk name"),
    ],
)
async def test_bad_input_gets_an_error_the_model_can_act_on(
    server, tool: str, args: dict[str, Any], expected: str
) -> None:
    async with Client(server) as client:
        text = await error_text(client, tool, args)
    assert expected in text, text
    assert "internal error" not in text


RAW_PYDANTIC = ("validation error", "Arguments", "pydantic.dev", "http", "[type=", "input_value")


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("list_sessions", {"limit": 0}, "'limit' must be at least 1 (got 0), or omit it for"),
        ("list_sessions", {"limit": "ten"}, "'limit' must be a whole number (got 'ten')"),
        ("search_skills", {"query": "x", "limit": 99}, "'limit' must be at most 50 (got 99)"),
        ("get_messages", {}, "'session_id' is required"),
        ("get_messages", {"session_id": "s", "format": "xml"}, "'format' must be one of 'openai'"),
        ("list_tasks", {"status": ["done"]}, "'status[0]' must be one of 'pending'"),
        ("store_turn", {"messages": "hi"}, "'messages' must be a list (JSON array) (got 'hi')"),
        ("store_turn", {"messages": HELLO, "meta": "x"}, "'meta' must be an object"),
        (
            "list_sessions",
            {"limitt": 5},
            "unknown argument 'limitt' (did you mean 'limit'?); list_sessions accepts: limit, "
            "cursor, project_dir",
        ),
        ("stats", {"verbose": True}, "unknown argument 'verbose'; stats takes no arguments"),
        (
            "get_skill_file",
            {"name": "demo", "path": "../../etc/passwd"},
            "climbs out of skill 'demo' with '..'; name a file inside the skill's folder",
        ),
    ],
)
async def test_refusals_name_the_argument_and_what_to_send_in_plain_words(
    server, settings: Settings, tool: str, args: dict[str, Any], expected: str
) -> None:
    folder = settings.skills_dir / "demo"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: demo\ndescription: A demo.\n---\nBody\n")
    async with Client(server) as client:
        text = await error_text(client, tool, args)
    assert expected in text, text
    assert not [raw for raw in RAW_PYDANTIC if raw in text], text
    assert "disk root" not in text


async def test_an_unknown_argument_is_refused_before_the_tool_runs(server) -> None:
    async with Client(server) as client:
        text = await error_text(client, "store_turn", {"messages": HELLO, "sesion_id": "s1"})
        assert "did you mean 'session_id'?" in text
        assert (await call(client, "list_sessions"))["sessions"] == []  # nothing was stored


async def test_disk_tools_write_read_list_glob_and_grep(server) -> None:
    async with Client(server, mode="legacy") as client:
        await call(client, "disk_write", {"path": "/notes/todo.md", "content": "# Todo\nship it\n"})
        await call(
            client, "disk_write", {"path": "src/app.py", "content": "def ship():\n    pass\n"}
        )
        read = await call(client, "disk_read", {"path": "notes/todo.md", "offset": 1, "limit": 1})
        assert read["content"] == "ship it\n"
        listing = await call(client, "disk_list", {})
        assert listing["dirs"] == ["notes/", "src/"]
        globbed = await call(client, "disk_glob", {"pattern": "**/*.py"})
        assert globbed["matches"] == ["/src/app.py"]
        grep = await call(client, "disk_grep", {"pattern": "SHIP", "ignore_case": True})
        assert [(m["path"], m["line"]) for m in grep["matches"]] == [
            ("/notes/todo.md", 2),
            ("/src/app.py", 1),
        ]
        filtered = await call(client, "disk_grep", {"pattern": "ship", "glob": "*.md"})
        assert [m["path"] for m in filtered["matches"]] == ["/notes/todo.md"]


async def test_a_large_directory_is_listed_in_pages(server) -> None:
    async with Client(server) as client:
        for name in ("b/", "a/"):
            await call(client, "disk_write", {"path": f"/big/{name}x.txt", "content": "x"})
        for i in range(5):
            await call(client, "disk_write", {"path": f"/big/f{i}.txt", "content": str(i)})
        seen, cursor = [], None
        while True:
            args: dict[str, Any] = {"path": "/big", "limit": 3}
            if cursor:
                args["cursor"] = cursor
            page = await call(client, "disk_list", args)
            seen += page["dirs"] + [f["name"] for f in page["files"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == ["a/", "b/", "f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]


async def test_tasks_skills_and_stats(server, settings: Settings, tmp_path: Path) -> None:
    conn = open_db(settings)
    ensure_session(conn, "s1")
    task_store.insert_task(conn, "s1", "add a login page", status="success")
    task_store.insert_task(conn, "s1", "deploy", status="failed")
    conn.close()
    skill = settings.skills_dir / "login-pages"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: login-pages\ndescription: Build login pages with forms\n---\nUse CSRF tokens.\n"
    )
    async with Client(server) as client:
        tasks = await call(client, "list_tasks", {"status": ["failed"]})
        assert [t["description"] for t in tasks["tasks"]] == ["deploy"]
        by_session = await call(client, "list_tasks", {"session_id": "s1"})
        assert [t["order"] for t in by_session["tasks"]] == [1, 2]
        skills = await call(client, "list_skills")
        assert "login-pages" in [s["name"] for s in skills["skills"]]
        got = await call(client, "get_skill", {"name": "login-pages"})
        assert "CSRF" in got["content"]
        file = await call(client, "get_skill_file", {"name": "login-pages", "path": "SKILL.md"})
        assert file["content"].startswith("---")
        found = await call(client, "search_skills", {"query": "csrf login"})
        assert found["results"][0]["name"] == "login-pages"
        stats = await call(client, "stats")
        assert stats["sessions"] == 1 and stats["tasks"] == 2
        assert stats["skills"] == 1 + len(DEFAULT_SKILLS)  # the defaults came on first use


async def test_an_empty_skills_directory_is_a_valid_answer(server, settings: Settings) -> None:
    ensure_repo(settings.skills_dir).close()  # a repository whose skills were all removed
    async with Client(server) as client:
        assert (await call(client, "list_skills"))["skills"] == []
        assert (await call(client, "search_skills", {"query": "anything"}))["results"] == []


async def test_a_fresh_data_home_shows_the_default_skills_at_the_first_call(
    server, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[list[str]] = []
    real = skill_defaults.prepare
    monkeypatch.setattr(skill_defaults, "prepare", lambda s: made.append(real(s)) or made[-1])
    async with Client(server) as client:
        listed = await call(client, "list_skills")
        assert sorted(s["name"] for s in listed["skills"]) == sorted(DEFAULT_SKILLS)
        got = await call(client, "get_skill", {"name": "project-runbooks"})
        assert "## Traps" in got["content"]
        found = await call(client, "search_skills", {"query": "dated journal"})
        assert found["results"][0]["name"] == "daily-logs"
        assert (await call(client, "stats"))["skills"] == len(DEFAULT_SKILLS)
    assert made == [list(DEFAULT_SKILLS)]  # created once; later calls cost no git
    (entry,) = log(settings.skills_dir)
    assert entry["subject"].startswith("Add default skills")


async def test_an_existing_repository_is_not_touched_again(
    server, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    skill_defaults.prepare(settings)
    monkeypatch.setattr(skill_defaults, "prepare", lambda s: pytest.fail("prepare ran again"))
    async with Client(server) as client:
        assert len((await call(client, "list_skills"))["skills"]) == len(DEFAULT_SKILLS)


TOOLS_LIST_MAX_BYTES = 12_000  # about 3,000 tokens (issue 17); README "MCP or CLI" says how


async def test_tools_list_stays_small(server) -> None:
    """Context is scarce: every agent pays for the whole tools/list answer each session."""
    async with Client(server, mode="legacy") as client:
        tools = (await client.list_tools()).tools
    payload = json.dumps([t.model_dump(by_alias=True, exclude_none=True) for t in tools])
    assert len(payload) <= TOOLS_LIST_MAX_BYTES, (
        f"tools/list is {len(payload)} bytes; the limit is {TOOLS_LIST_MAX_BYTES} bytes "
        "(about 3,000 tokens): shorten descriptions, or keep an operation CLI-only"
    )
    assert '"title"' not in payload


async def test_concurrent_tool_calls_each_get_their_own_connection(server) -> None:
    """Sync tools run in worker threads; 40 parallel store_turn calls must all land."""
    results: list[dict[str, Any]] = []
    async with Client(server) as client:

        async def one(i: int) -> None:
            turn = [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]
            results.append(await call(client, "store_turn", {"messages": turn, "session_id": "p"}))

        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(one, i)
        page = await call(client, "get_messages", {"session_id": "p", "limit": 500})
    assert sum(r["stored"] for r in results) == 80
    questions = [m["content"] for m in page["messages"] if m["role"] == "user"]
    assert sorted(questions) == sorted(f"q{i}" for i in range(40))
    # each turn's two messages stay adjacent: a turn is one transaction
    for i, message in enumerate(page["messages"]):
        if message["role"] == "user":
            assert page["messages"][i + 1]["role"] == "assistant"
