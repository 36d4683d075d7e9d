"""Session events, notes, message meta patches, observing status and skills as resources
(issue 17 items 3, 4, 6): through the real MCP client over stdio, and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.store import batches
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn

pytestmark = pytest.mark.anyio

SECRET = "sk-ant-api03-" + "Q7x" * 30  # an Anthropic key's shape
TURN_1 = [
    {"role": "user", "content": "deploy the site"},
    {"role": "assistant", "content": "Deployed."},
]
TURN_2 = [
    {"role": "user", "content": "and the docs?"},
    {"role": "assistant", "content": "Docs deployed too."},
]


def stdio(settings: Settings) -> Any:
    env = {"ACONTEXT_HOME": str(settings.home), "ACONTEXT_SKILLS_DIR": str(settings.skills_dir)}
    command = StdioServerParameters(
        command=sys.executable, args=["-m", "acontext_mcp", "serve"], env=env
    )
    return stdio_client(command)


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content
    return result.structured_content


async def refused(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error, result.structured_content
    return result.content[0].text


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(settings.home),
        "ACONTEXT_SKILLS_DIR": str(settings.skills_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "acontext_mcp", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


# --- Events and notes ------------------------------------------------------------------------


async def test_events_and_notes_read_back_beside_and_interleaved_over_stdio(
    settings: Settings,
) -> None:
    async with Client(stdio(settings), mode="legacy") as client:
        first = await call(client, "store_turn", {"messages": TURN_1, "session_id": "ev"})
        note = await call(
            client, "annotate_session", {"session_id": "ev", "note": f"used key {SECRET}"}
        )
        deploy = await call(
            client,
            "annotate_session",
            {"session_id": "ev", "type": "deploy", "data": {"env": "prod", "ok": True}},
        )
        second = await call(client, "store_turn", {"messages": TURN_2, "session_id": "ev"})
        beside = await call(
            client, "get_messages", {"session_id": "ev", "include_events": "beside"}
        )
        mixed = await call(
            client, "get_messages", {"session_id": "ev", "include_events": "interleave"}
        )
        plain = await call(client, "get_messages", {"session_id": "ev"})
        page_1 = await call(
            client, "get_messages", {"session_id": "ev", "limit": 2, "include_events": "beside"}
        )
        page_2 = await call(
            client,
            "get_messages",
            {
                "session_id": "ev",
                "limit": 2,
                "cursor": page_1["next_cursor"],
                "include_events": "beside",
            },
        )

    # a note is an event of type note; the secret in it never reached the store
    assert note["event"]["type"] == "note"
    assert SECRET not in json.dumps(note) and "[REDACTED:" in note["event"]["data"]["text"]
    assert deploy["event"]["data"] == {"env": "prod", "ok": True}
    # beside: every event in the order it happened, the redaction counted as one
    kinds = [(e["type"], e["data"]) for e in beside["events"]]
    assert kinds == [
        ("note", {"text": note["event"]["data"]["text"]}),
        ("redaction", {"counts": {"anthropic_key": 1}, "source": "mcp"}),
        ("deploy", {"env": "prod", "ok": True}),
    ]
    assert beside["messages"] == plain["messages"] and "events" not in plain
    # interleaved: the events sit between the two turns, with no message id
    ids = first["message_ids"] + second["message_ids"]
    assert mixed["message_ids"] == [*ids[:2], None, None, None, *ids[2:]]
    assert [m["event"]["type"] for m in mixed["messages"][2:5]] == ["note", "redaction", "deploy"]
    assert mixed["messages"][:2] == TURN_1 and mixed["messages"][5:] == TURN_2
    # paged: each event shows once, on the page of the turn it followed
    assert page_1["events"] == [] and page_1["next_cursor"]
    assert [e["id"] for e in page_2["events"]] == [e["id"] for e in beside["events"]]


async def test_bad_events_are_refused_with_what_to_do(settings: Settings) -> None:
    async with Client(stdio(settings), mode="legacy") as client:
        await call(client, "store_turn", {"messages": TURN_1, "session_id": "ev"})
        faked = await refused(
            client, "annotate_session", {"session_id": "ev", "type": "task_completed"}
        )
        both = await refused(
            client, "annotate_session", {"session_id": "ev", "note": "x", "type": "deploy"}
        )
        nothing = await refused(client, "annotate_session", {"session_id": "ev"})
        unknown = await refused(client, "annotate_session", {"session_id": "nope", "note": "x"})
        spaced = await refused(client, "annotate_session", {"session_id": "ev", "type": "a b"})
        keyed = await refused(
            client, "annotate_session", {"session_id": "ev", "type": "ghp_" + "aB3dE5" * 6}
        )
        page = await call(client, "get_messages", {"session_id": "ev", "include_events": "beside"})
    # a client cannot fake the outcome evidence capture records
    assert "reserved" in faked and "pick another type name" in faked
    assert "not both" in both
    assert "name an event type" in nothing
    assert "no session 'nope'" in unknown
    assert "not valid" in spaced
    assert "looks like a secret" in keyed and "ghp_" not in keyed
    assert page["events"] == []


# --- Message metadata ------------------------------------------------------------------------


async def test_message_meta_patch_merges_and_null_deletes_over_stdio(settings: Settings) -> None:
    async with Client(stdio(settings), mode="legacy") as client:
        stored = await call(
            client,
            "store_turn",
            {"messages": TURN_1, "session_id": "mp", "meta": {"lang": "en"}},
        )
        await call(client, "store_turn", {"messages": TURN_2, "session_id": "other"})
        first = stored["message_ids"][0]
        merged = await call(
            client,
            "annotate_session",
            {"session_id": "mp", "message_id": first, "meta": {"rating": 5, "tag": "good"}},
        )
        deleted = await call(
            client,
            "annotate_session",
            {"session_id": "mp", "message_id": first, "meta": {"tag": None, "lang": None}},
        )
        secret = await call(
            client,
            "annotate_session",
            {"session_id": "mp", "message_id": first, "meta": {"token": SECRET}},
        )
        reserved = await refused(
            client,
            "annotate_session",
            {"session_id": "mp", "message_id": first, "meta": {"original_role": "system"}},
        )
        elsewhere = await refused(
            client,
            "annotate_session",
            {"session_id": "other", "message_id": first, "meta": {"a": 1}},
        )
        mixed = await refused(
            client,
            "annotate_session",
            {"session_id": "mp", "message_id": first, "meta": {"a": 1}, "note": "x"},
        )
        page = await call(client, "get_messages", {"session_id": "mp", "format": "acontext"})
    assert merged["meta"] == {"lang": "en", "rating": 5, "tag": "good"}
    assert deleted["meta"] == {"rating": 5}
    assert SECRET not in json.dumps(secret) and secret["meta"]["token"].startswith("[REDACTED:")
    assert page["messages"][0]["meta"] == secret["meta"]
    assert page["messages"][1]["meta"] == {"lang": "en"}  # only the patched message changed
    assert "'original_role'" in reserved and "reserved" in reserved
    assert "session 'other' has no message" in elsewhere
    assert "separate calls" in mixed


# --- Observing status ------------------------------------------------------------------------


async def test_observing_status_counts_each_state(settings: Settings) -> None:
    conn = open_db(settings)
    try:
        turn = TURN_1 + TURN_2 + [{"role": "user", "content": "one more"}]
        ids = store_turn(conn, settings, turn, session_id="ob")["message_ids"]
        claimed = batches.claim_pending(conn, "ob", 3)  # the task agent took a batch
        batches.set_status(conn, [r["id"] for r in claimed[:2]], "processed")
        batches.set_status(conn, [ids[4]], "failed", only="pending")
        conn.commit()
    finally:
        conn.close()
    async with Client(stdio(settings), mode="legacy") as client:
        summary = await call(client, "get_session_summary", {"session_id": "ob"})
    expected = {"observed": 2, "in_process": 1, "pending": 1, "failed": 1, "disabled": 0}
    assert summary["observing"] == expected
    shown = cli(settings, "messages", "ob", "--observing-status", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"session_id": "ob", **expected}
    text = cli(settings, "messages", "ob", "--observing-status").stdout
    assert text.strip() == "observed 2, in_process 1, pending 1, failed 1, disabled 0"


# --- The command line ------------------------------------------------------------------------


def test_events_and_meta_through_the_command_line(settings: Settings) -> None:
    conn = open_db(settings)
    try:
        ids = store_turn(conn, settings, TURN_1, session_id="cli-ev")["message_ids"]
    finally:
        conn.close()
    added = cli(settings, "events", "add", "cli-ev", "--note", f"token {SECRET}")
    assert added.returncode == 0, added.stderr
    typed = cli(settings, "events", "add", "cli-e", "--type", "deploy", "--data", '{"env": "prod"}')
    assert typed.returncode == 0, typed.stderr  # a unique prefix names the session
    listed = json.loads(cli(settings, "events", "list", "cli-ev", "--json").stdout)
    assert [e["type"] for e in listed["events"]] == ["note", "redaction", "deploy"]
    assert SECRET not in json.dumps(listed)
    only = json.loads(
        cli(settings, "events", "list", "cli-ev", "--type", "deploy", "--json").stdout
    )
    assert [e["data"] for e in only["events"]] == [{"env": "prod"}]

    transcript = cli(settings, "messages", "cli-ev", "--events", "interleave").stdout.splitlines()
    assert transcript[0] == f"#{ids[0]} user: deploy the site"
    assert transcript[1] == f"#{ids[1]} assistant: Deployed."
    assert transcript[2].startswith("~ event #") and "note: token [REDACTED:" in transcript[2]
    assert transcript[4].endswith('deploy: {"env": "prod"}')

    patched = cli(settings, "messages", "cli-ev", "--patch-meta", str(ids[0]), '{"rating": 4}')
    assert patched.returncode == 0 and patched.stdout.strip() == f'#{ids[0]} meta: {{"rating": 4}}'
    cleared = cli(
        settings, "messages", "cli-ev", "--patch-meta", str(ids[0]), '{"rating": null}', "--json"
    )
    assert json.loads(cleared.stdout)["meta"] == {}

    for args, code, words in (
        (("events", "add", "cli-ev", "--type", "session_end"), 1, "reserved"),
        (("events", "add", "cli-ev", "--type", "x", "--data", "[1]"), 1, "JSON object"),
        (("events", "add", "cli-ev", "--type", "x", "--data", "{"), 1, "not valid JSON"),
        (("events", "add", "nope", "--note", "x"), 2, "no session"),
        (("messages", "cli-ev", "--patch-meta", "999", '{"a": 1}'), 2, "has no message 999"),
        (("messages", "cli-ev", "--patch-meta", str(ids[0]), '{"kind": "x"}'), 1, "reserved"),
    ):
        out = cli(settings, *args)
        assert out.returncode == code, (args, out.stdout, out.stderr)
        assert words in out.stderr, (args, out.stderr)


# --- Skills as resources ---------------------------------------------------------------------


def make_skills(root: Path, outside: Path) -> None:
    """A skill with many files (more than a page), one linked file and a linked folder."""
    skill = root / "deploy-notes"
    (skill / "steps").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: deploy-notes\ndescription: How we deploy\n---\n\n# Deploy\n"
    )
    for n in range(120):
        (skill / "steps" / f"step-{n:03}.md").write_text(f"step {n}\n")
    outside.write_text("SECRET=hunter2\n")
    (skill / "leak.md").symlink_to(outside)
    (root / "linked-skill").symlink_to(skill, target_is_directory=True)


async def test_skills_are_resources_paged_and_read_without_following_links(
    settings: Settings, tmp_path: Path
) -> None:
    make_skills(settings.skills_dir, tmp_path / "outside.txt")
    uris: list[str] = []
    pages = 0
    async with Client(stdio(settings), mode="legacy") as client:
        cursor = None
        while True:
            page = await client.list_resources(cursor=cursor)
            pages += 1
            assert len(page.resources) <= 100
            uris += [str(r.uri) for r in page.resources]
            cursor = page.next_cursor
            if cursor is None:
                break
        templates = (await client.list_resource_templates()).resource_templates
        skill_md = await client.read_resource("skill://deploy-notes/SKILL.md")
        nested = await client.read_resource("skill://deploy-notes/steps/step-007.md")
        with pytest.raises(MCPError) as link:
            await client.read_resource("skill://deploy-notes/leak.md")
        with pytest.raises(MCPError) as climb:
            await client.read_resource("skill://deploy-notes/../../outside.txt")
        with pytest.raises(MCPError) as missing:
            await client.read_resource("skill://deploy-notes/nope.md")
    assert pages >= 2 and len(uris) == len(set(uris))
    assert "skill://deploy-notes/SKILL.md" in uris
    assert sum(u.startswith("skill://deploy-notes/steps/") for u in uris) == 120
    assert not any("leak" in u or "linked-skill" in u for u in uris)  # links are never listed
    assert [t.uri_template for t in templates] == ["skill://{name}/{+path}"]
    (content,) = skill_md.contents
    assert (
        content.text.startswith("---\nname: deploy-notes") and content.mime_type == "text/markdown"
    )
    assert nested.contents[0].text == "step 7\n"
    assert "symbolic link" in link.value.error.message
    assert "hunter2" not in str(link.value) + str(climb.value)
    assert "no file" in missing.value.error.message
    conn = open_db(settings)
    try:
        rows = conn.execute("SELECT skill, kind, path FROM skill_uses ORDER BY id").fetchall()
    finally:
        conn.close()
    assert [tuple(r) for r in rows] == [
        ("deploy-notes", "mcp_file", "SKILL.md"),
        ("deploy-notes", "mcp_file", "steps/step-007.md"),
    ]


def test_no_event_is_kept_while_capture_is_off_for_the_session(settings: Settings) -> None:
    conn = open_db(settings)
    try:
        store_turn(conn, settings, TURN_1, session_id="quiet")
    finally:
        conn.close()
    off = cli(settings, "capture", "off", "--session", "quiet")
    assert off.returncode == 0, off.stderr
    added = cli(settings, "events", "add", "quiet", "--note", "do not keep", "--json")
    assert added.returncode == 0, added.stderr
    out = json.loads(added.stdout)
    assert out["event"] is None and out["capture_off"].startswith("nothing stored:")
    listed = json.loads(cli(settings, "events", "list", "quiet", "--json").stdout)
    assert listed["events"] == []


def test_a_page_carries_a_bounded_number_of_events_and_counts_the_rest(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from acontext_mcp.store import annotate
    from acontext_mcp.store.turns import read_messages

    monkeypatch.setattr(annotate, "EVENTS_PER_PAGE", 2)
    conn = open_db(settings)
    try:
        store_turn(conn, settings, TURN_1, session_id="many")
        for n in range(5):
            annotate.add_session_event(conn, settings, "many", note=f"n{n}")
        page = annotate.add_events(conn, read_messages(conn, settings, "many"), "beside")
        with pytest.raises(InvalidInput, match="include_events must be one of"):
            annotate.add_events(conn, read_messages(conn, settings, "many"), "all")
    finally:
        conn.close()
    assert [e["data"]["text"] for e in page["events"]] == ["n0", "n1"]
    assert page["events_omitted"] == 3
