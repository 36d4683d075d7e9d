"""A full disk, a read-only data home and internal errors, as the model and the shell see them.

Full and read-only file systems are real mounts (tests/support/mounts.py; skipped where
mounting is not allowed); SQLITE_FULL inside a savepoint also comes from a real database held
to a page limit, which runs everywhere.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from support.mounts import read_only_view, tiny_disk

from acontext_mcp.config import Settings
from acontext_mcp.errors import StorageFull, storage_error
from acontext_mcp.scrub import scrub_paths
from acontext_mcp.server import build_server
from acontext_mcp.store.db import atomic, connect

pytestmark = pytest.mark.anyio

BIG = "lorem ipsum dolor " * 4000  # ~70 KB a message


def settings_at(home: Path) -> Settings:
    return Settings(home=home, skills_dir=home / "skills")


async def error_text(client: Client, tool: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error, result
    return result.content[0].text


def cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acontext_mcp", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**os.environ, "ACONTEXT_HOME": str(home)},
    )


def test_sqlite_full_inside_a_savepoint_is_raised_as_itself_not_no_such_savepoint(
    tmp_path: Path,
) -> None:
    conn = connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE t (x BLOB)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 4}")  # the file cannot grow past this
    with pytest.raises(sqlite3.OperationalError) as caught, atomic(conn):
        conn.execute("INSERT INTO t VALUES ('outer')")
        with atomic(conn):
            conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    assert caught.value.sqlite_errorname == "SQLITE_FULL", caught.value
    assert isinstance(storage_error(caught.value), StorageFull)
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0  # all or nothing
    with atomic(conn):  # the connection still works for what fits
        conn.execute("INSERT INTO t VALUES ('small')")
    conn.close()


async def test_a_full_disk_is_named_as_such_and_reads_still_answer(tmp_path: Path) -> None:
    # 3 MB: the empty store (about 1.1 MB in 16 KB pages) and its first checkpoint's WAL must
    # fit side by side before the first message can; 2 MB stopped fitting as the schema grew.
    with tiny_disk(tmp_path / "small", "3m") as mount:
        settings = settings_at(mount / "home")
        async with Client(build_server(settings)) as client:
            stored = 0
            for n in range(200):
                turn = {"messages": [{"role": "user", "content": f"{n} {BIG}"}], "session_id": "s"}
                result = await client.call_tool("store_turn", turn)
                if result.is_error:
                    text = result.content[0].text
                    break
                stored += 1
            else:
                pytest.fail("a 3 MB file system never filled up")
            assert stored > 0
            for message in (
                text,
                await error_text(client, "disk_write", {"path": "/big.txt", "content": BIG * 8}),
            ):
                assert "disk full" in message and "free some space" in message, message
                assert "internal error" not in message and "savepoint" not in message
                assert str(mount) not in message
            page = await client.call_tool("get_messages", {"session_id": "s", "limit": 500})
            assert not page.is_error and len(page.structured_content["messages"]) == stored
        out = cli(settings.home, "disk", "write", "/cli.txt", stdin=BIG * 8)
    assert out.returncode == 1 and "disk full" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


async def test_a_read_only_data_home_still_answers_reads_and_refuses_writes_plainly(
    tmp_path: Path,
) -> None:
    source = settings_at(tmp_path / "rw" / "home")
    async with Client(build_server(source)) as client:
        turn = {"messages": [{"role": "user", "content": "hello"}], "session_id": "s1"}
        assert not (await client.call_tool("store_turn", turn)).is_error
        note = {"path": "/notes/a.md", "content": "ship it\n"}
        assert not (await client.call_tool("disk_write", note)).is_error
    skill = source.skills_dir / "release-notes"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: release-notes\ndescription: Write release notes\n---\nGroup by type.\n"
    )

    with read_only_view(tmp_path / "rw", tmp_path / "ro") as view:
        settings = settings_at(view / "home")
        with pytest.raises(OSError):
            (settings.home / "probe").touch()  # really read-only, even for root
        async with Client(build_server(settings)) as client:
            reads: dict[str, dict[str, Any]] = {
                "list_sessions": {},
                "get_messages": {"session_id": "s1"},
                "list_tasks": {},
                "list_skills": {},
                "get_skill": {"name": "release-notes"},
                "search_skills": {"query": "release notes"},
                "disk_read": {"path": "/notes/a.md"},
                "disk_list": {"path": "/notes"},
                "stats": {},
            }
            answers = {}
            for tool, args in reads.items():
                result = await client.call_tool(tool, args)
                assert not result.is_error, (tool, result.content)
                answers[tool] = result.structured_content
            assert answers["get_messages"]["messages"] == [{"role": "user", "content": "hello"}]
            assert answers["search_skills"]["results"][0]["name"] == "release-notes"
            assert answers["disk_read"]["content"] == "ship it\n"
            for tool, args in (("store_turn", turn), ("disk_write", note)):
                message = await error_text(client, tool, args)
                assert "data home is read-only" in message and "internal error" not in message
        assert not (view / "home" / "skills-index.db").exists()
        for command in (("sessions",), ("skills", "list")):  # they open for writing
            out = cli(settings.home, *command)
            assert out.returncode == 1 and "data home is read-only" in out.stderr, out.stderr
            assert "Traceback" not in out.stderr


async def test_internal_errors_never_show_the_data_home_path(settings: Settings) -> None:
    async with Client(build_server(settings)) as client:
        shutil.rmtree(settings.disks_dir)
        settings.disks_dir.write_text("not a directory")  # a broken data home
        message = await error_text(client, "disk_write", {"path": "/a.md", "content": "x"})
    assert "internal error" in message and "<home>/disks" in message, message
    assert str(settings.home) not in message


def test_cli_errors_never_show_the_data_home_path(settings: Settings) -> None:
    out = cli(settings.home, "spaces", "include", "default", "no-such-skill")
    assert out.returncode == 2 and "no-such-skill" in out.stderr
    assert "<home>/skills" in out.stderr and str(settings.home) not in out.stderr


async def test_the_server_stderr_never_shows_the_data_home_path(tmp_path: Path) -> None:
    """stderr reaches the agent's logs; the full path stays in <home>/logs/server.log."""
    home = tmp_path / "home"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "acontext_mcp", "serve"],
        env={"ACONTEXT_HOME": str(home)},
    )
    errlog_path = tmp_path / "server.stderr"
    with errlog_path.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            assert not (await client.call_tool("stats", {})).is_error
            shutil.rmtree(home / "disks")
            (home / "disks").write_text("not a directory")
            message = await error_text(client, "disk_write", {"path": "/a.md", "content": "x"})
    stderr = errlog_path.read_text()
    assert "internal error" in message and str(home) not in message
    assert "Traceback" in stderr and "<home>/disks" in stderr, stderr
    assert str(home) not in stderr
    assert str(home / "disks") in (home / "logs" / "server.log").read_text()


def test_scrubbing_replaces_whole_path_components_only(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", skills_dir=tmp_path / "elsewhere" / "skills")
    text = f"{tmp_path}/home/disks/a, {tmp_path}/home. {tmp_path}/home-old {tmp_path}/home.bak"
    text += f" {tmp_path}/elsewhere/skills/x"
    assert scrub_paths(text, settings) == (
        f"<home>/disks/a, <home>. {tmp_path}/home-old {tmp_path}/home.bak <skills>/x"
    )
