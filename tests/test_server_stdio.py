"""The server as agents launch it: `python -m acontext_mcp serve` in a subprocess, over stdio."""

from __future__ import annotations

import json
import os
import pty
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from samples import TOOLS, openai_turn

from acontext_mcp.cli.serve import TERMINAL_NOTE

pytestmark = pytest.mark.anyio

SERVE = [sys.executable, "-m", "acontext_mcp", "serve"]
TURN = openai_turn("disk_list", '{"path": "notes"}', "todo.md", "One file: todo.md.")


def params(home: Path) -> StdioServerParameters:
    return StdioServerParameters(command=SERVE[0], args=SERVE[1:], env={"ACONTEXT_HOME": str(home)})


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_every_tool_round_trips_over_stdio_in_both_protocol_eras(
    tmp_path: Path, mode: str, version: str
) -> None:
    home = tmp_path / "home"
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("w") as errlog:
        async with Client(stdio_client(params(home), errlog=errlog), mode=mode) as client:
            assert client.protocol_version == version
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS

            stored = await call(client, "store_turn", {"messages": TURN})
            assert stored["session_created"] and stored["stored"] == len(TURN)
            page = await call(client, "get_messages", {"session_id": stored["session_id"]})
            assert page["messages"] == TURN

            await call(client, "disk_write", {"path": "notes/todo.md", "content": "a\nship it\n"})
            grep = await call(client, "disk_grep", {"pattern": "ship"})
            assert [(m["path"], m["line"]) for m in grep["matches"]] == [("/notes/todo.md", 2)]

            bad = await client.call_tool("disk_read", {"path": "../x"})
            assert bad.is_error
            assert ".." in bad.content[0].text and "internal error" not in bad.content[0].text

            typo = await client.call_tool("disk_read", {"path": "notes/todo.md", "limt": 1})
            assert typo.is_error and "unknown argument 'limt' (did you mean 'limit'?)" in (
                typo.content[0].text
            )
            wrong = await client.call_tool("disk_read", {"path": "notes/todo.md", "limit": 0})
            assert "'limit' must be at least 1 (got 0)" in wrong.content[0].text
            assert "pydantic" not in wrong.content[0].text

    assert (home / "logs" / "server.log").is_file()
    assert "Traceback" not in stderr_path.read_text()


class RawServer:
    """The server on bare pipes, so every byte it writes to stdout can be checked."""

    def __init__(self, home: Path, stderr: IO[str]) -> None:
        self.proc = subprocess.Popen(
            SERVE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={"ACONTEXT_HOME": str(home), "PATH": "/usr/bin:/bin"},
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        self._write(
            {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}}
        )
        line = self.lines.get(timeout=20)
        assert line is not None, "server closed stdout before answering"
        answer = json.loads(line)
        assert answer["id"] == self._next_id, answer
        return answer

    def initialize(self) -> None:
        """The MCP handshake, as a client opens it; the server must name itself."""
        init = self.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        )
        assert init["result"]["serverInfo"]["name"] == "acontext-mcp"
        self.notify("notifications/initialized")

    def notify(self, method: str) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": {}})

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.request("tools/call", {"name": name, "arguments": arguments})["result"]

    def close_stdin_and_wait(self, timeout: float) -> tuple[int, float]:
        """Close stdin as a client does on exit; (exit code, seconds the server took to exit)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        started = time.monotonic()
        code = self.proc.wait(timeout=timeout)
        seconds = time.monotonic() - started
        self._reader.join(timeout=timeout)
        return code, seconds

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_stdout_carries_only_protocol_and_the_server_exits_when_stdin_closes(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with (tmp_path / "server.stderr").open("w") as errlog:
        server = RawServer(home, errlog)
        try:
            server.initialize()
            listed = server.request("tools/list")
            assert {t["name"] for t in listed["result"]["tools"]} == TOOLS
            assert server.call_tool("store_turn", {"messages": TURN})["isError"] is False
            assert server.call_tool("disk_read", {"path": "../x"})["isError"] is True
            assert server.call_tool("nope", {})["isError"] is True
            code, exit_seconds = server.close_stdin_and_wait(timeout=5)
        finally:
            server.close()

    assert code == 0, (tmp_path / "server.stderr").read_text()
    assert exit_seconds < 3, exit_seconds  # by itself (the SDK client kills after 2 s)
    assert len(server.stdout) == 5  # one answer per request, nothing else
    for line in server.stdout:
        assert json.loads(line)["jsonrpc"] == "2.0", line
    assert (home / "logs" / "server.log").is_file()
    assert TERMINAL_NOTE not in (tmp_path / "server.stderr").read_text()  # a pipe: silent


def test_on_a_terminal_it_says_what_it_is_and_ctrl_c_stops_it_at_once(tmp_path: Path) -> None:
    """A person who runs `serve` by hand sees one line on stderr, and Ctrl-C (SIGINT) ends it
    promptly although the stdin reader is blocked waiting for a line."""
    main, replica = pty.openpty()
    proc = subprocess.Popen(
        SERVE,
        stdin=replica,
        stdout=replica,
        stderr=replica,
        env={**os.environ, "ACONTEXT_HOME": str(tmp_path / "home")},
    )
    os.close(replica)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"Ctrl-C" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                seen += os.read(main, 4096)
        assert TERMINAL_NOTE.encode() in seen.replace(b"\r\n", b"\n"), seen
        time.sleep(0.5)  # now blocked reading the terminal
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        assert time.monotonic() - started < 3
        assert code == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)


def test_ctrl_c_stops_a_server_that_is_up_and_waiting_for_a_request(tmp_path: Path) -> None:
    """SIGINT once the event loop runs and the stdin reader waits (asyncio would cancel the
    tasks and wait for that reader): the server still leaves at once, with 130."""
    with (tmp_path / "server.stderr").open("w") as errlog:
        server = RawServer(tmp_path / "home", errlog)
        try:
            server.initialize()
            assert server.request("tools/list")["result"]["tools"]
            started = time.monotonic()
            server.proc.send_signal(signal.SIGINT)
            code = server.proc.wait(timeout=10)
            assert time.monotonic() - started < 3
            assert code == 130
        finally:
            server.close()
    assert "stopped by Ctrl-C" in (tmp_path / "home" / "logs" / "server.log").read_text()


async def test_two_servers_writing_one_session_on_one_home_lose_nothing(tmp_path: Path) -> None:
    """Two agents on a fresh home: both migrate, both create the session, both append."""
    home = tmp_path / "home"
    turns_each, per_turn = 20, 3
    seen_ids: dict[str, list[int]] = {}

    async def writer(name: str) -> None:
        async with Client(params(home), mode="legacy") as client:
            ids: list[int] = []
            for t in range(turns_each):
                turn = [{"role": "user", "content": f"{name}-{t}-{i}"} for i in range(per_turn)]
                args = {"messages": turn, "session_id": "shared"}
                stored = await call(client, "store_turn", args)
                assert stored["stored"] == per_turn
                ids += stored["message_ids"]
            seen_ids[name] = ids

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer, "a")
        tg.start_soon(writer, "b")

    async with Client(params(home), mode="legacy") as client:
        page = await call(client, "get_messages", {"session_id": "shared", "limit": 500})
    contents = [m["content"] for m in page["messages"]]
    assert len(contents) == len(set(contents)) == 2 * turns_each * per_turn
    assert sorted(page["message_ids"]) == sorted(seen_ids["a"] + seen_ids["b"])
    for name in ("a", "b"):  # each writer's messages keep their order
        mine = [c for c in contents if c.startswith(f"{name}-")]
        assert mine == [f"{name}-{t}-{i}" for t in range(turns_each) for i in range(per_turn)]


INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "raw-test", "version": "0"},
}
CALL = b'{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"stats","arguments":%s}}'
DEEP = b"[" * 300 + b"]" * 300
# Each line the SDK's reader used to drop without a word: (line, code, id, words in the message).
HOSTILE = [
    (CALL % (b"11", b'{"x":' + DEEP + b"}"), -32600, 11, "nested"),
    (CALL % (b"12", b'{"x":"\\ud800"}'), -32600, 12, "lone surrogate"),
    (CALL % (b'"str-id"', b'{"x":"\\udfff and more"}'), -32600, "str-id", "lone surrogate"),
    (CALL % (b"13", b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"), -32700, 13, "nested"),
    (CALL % (b"14", b'{"x":"caf\xe9"}'), -32700, 14, "UTF-8"),
    (b'{"jsonrpc":"2.0","id":15,"method":', -32700, 15, "not JSON"),
    (b"this is not json", -32700, None, "not JSON"),
    (b"\x00\x01", -32700, None, "not JSON"),
    (b"[]", -32600, None, "batch"),
    (b'[{"jsonrpc":"2.0","id":16,"method":"ping"}]', -32600, None, "batch"),
    (b"42", -32600, None, "one JSON-RPC object"),
    (b'{"jsonrpc":"2.0","id":17}', -32600, 17, "method"),
]


def started(home: Path, errlog: IO[str]) -> RawServer:
    server = RawServer(home, errlog)
    assert server.request("initialize", INITIALIZE)["result"]["serverInfo"]
    server.notify("notifications/initialized")
    return server


def send_line(server: RawServer, line: bytes) -> None:
    assert server.proc.stdin is not None
    server.proc.stdin.buffer.write(line + b"\n")
    server.proc.stdin.buffer.flush()


def answer(server: RawServer, within: float = 5) -> dict[str, Any]:
    """The next line the server writes; a dropped request fails here instead of hanging."""
    try:
        line = server.lines.get(timeout=within)
    except queue.Empty:
        raise AssertionError(f"no answer within {within} s: the line was dropped") from None
    assert line is not None, "server closed stdout"
    return json.loads(line)


def test_every_hostile_line_gets_a_json_rpc_error_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    with (tmp_path / "server.stderr").open("w") as errlog:
        server = started(tmp_path / "home", errlog)
        try:
            for line, code, request_id, words in HOSTILE:
                send_line(server, line)
                got = answer(server)
                assert got["id"] == request_id and got["error"]["code"] == code, (line[:80], got)
                assert words in got["error"]["message"], got
                stored = server.call_tool("store_turn", {"messages": TURN})  # still serving
                assert stored["isError"] is False, stored
        finally:
            server.close()
    stderr = (tmp_path / "server.stderr").read_text()
    assert "Traceback" not in stderr and stderr.count("rejected a ") == len(HOSTILE)


def test_a_notification_it_cannot_read_is_logged_not_answered(tmp_path: Path) -> None:
    """JSON-RPC forbids answering a notification; the next request is answered in order."""
    with (tmp_path / "server.stderr").open("w") as errlog:
        server = started(tmp_path / "home", errlog)
        try:
            notification = b'{"jsonrpc":"2.0","method":"notifications/x","params":'
            send_line(server, notification + DEEP + b"}")
            send_line(server, b'{"jsonrpc":"2.0","id":"after","method":"ping"}')
            assert answer(server) == {"jsonrpc": "2.0", "id": "after", "result": {}}
        finally:
            server.close()
    assert "rejected a " in (tmp_path / "server.stderr").read_text()


def test_a_line_over_the_cap_is_refused_with_its_id_and_skipped_whole(tmp_path: Path) -> None:
    from acontext_mcp.stdio_guard import MAX_LINE_BYTES

    head = b'{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"store_turn",'
    filler = b'"arguments":{"messages":[{"role":"user","content":"'
    line = head + filler + b"x" * (MAX_LINE_BYTES - len(head) - len(filler)) + b'"}]}}}'
    assert len(line) > MAX_LINE_BYTES
    with (tmp_path / "server.stderr").open("w") as errlog:
        server = started(tmp_path / "home", errlog)
        try:
            send_line(server, line)
            got = answer(server, within=30)
            assert got["id"] == 21 and got["error"]["code"] == -32600
            assert "MiB limit" in got["error"]["message"]
            # the tail of the long line was skipped, not read as further requests
            assert server.request("ping")["result"] == {}
        finally:
            server.close()
