"""Secrets never reach the log files: a failing tool's error text quotes what it was given.

The attack (issue 10, item 5): call a tool with a token in an argument that makes it fail;
the MCP SDK logs the error text, token included, to `<home>/logs/server.log`.
"""

from __future__ import annotations

import logging
import random
import string
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from acontext_mcp.config import Settings
from acontext_mcp.logsetup import setup_logging

_RNG = random.Random(10)
TOKEN = "gh" + "p_" + "Qk7" + "".join(_RNG.choice(string.ascii_letters) for _ in range(33))
PASSWORD = "Qk7" + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(13))


@pytest.mark.anyio
async def test_tool_errors_in_server_log_are_redacted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "acontext_mcp", "serve"],
        env={"ACONTEXT_HOME": str(home)},
    )
    with (tmp_path / "stderr").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            for name, args in [
                ("get_messages", {"session_id": TOKEN}),
                ("disk_read", {"path": f"../DB_PASSWORD={PASSWORD}"}),
            ]:
                result = await client.call_tool(name, args)
                assert result.is_error
    log = (home / "logs" / "server.log").read_text()
    assert "Tool 'get_messages' failed" in log and "[REDACTED:github_token]" in log
    assert "[REDACTED:password]" in log
    assert TOKEN not in log and PASSWORD not in log
    assert TOKEN not in (tmp_path / "stderr").read_text()


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger as it was before `setup_logging` configured it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configured = root.__dict__.pop("_acontext_configured", None)
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    root.__dict__.pop("_acontext_configured", None)
    if configured is not None:
        root._acontext_configured = configured  # type: ignore[attr-defined]


def test_a_traceback_logged_with_a_secret_is_redacted(
    settings: Settings, root_logger: logging.Logger, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging(settings, name="server")
    log = logging.getLogger("acontext.server")
    try:
        raise RuntimeError(f"connect failed: postgres://app:{PASSWORD}@db/app")
    except RuntimeError:
        log.exception("tool %s failed with token %s", "sync", TOKEN)
    for handler in root_logger.handlers:
        handler.flush()
    text = (settings.logs_dir / "server.log").read_text()
    assert "Traceback" in text and "RuntimeError: connect failed" in text
    assert "token [REDACTED:github_token]" in text and "app:[REDACTED:url_password]@db" in text
    assert TOKEN not in text and PASSWORD not in text
    err = capfd.readouterr().err
    assert "[REDACTED:github_token]" in err and TOKEN not in err


def test_a_failing_hook_logs_its_error_redacted(tmp_path: Path) -> None:
    """A hook's error quotes its transcript path; a path holding a token must not reach
    hooks.log (the traceback and the outcome line), as captured text would not."""
    import json
    import os
    import subprocess

    transcript = tmp_path / "sessions" / TOKEN / "t.jsonl"
    transcript.mkdir(parents=True)  # a folder: the hook refuses it, naming the path
    payload = {"session_id": "s1", "transcript_path": str(transcript), "cwd": str(tmp_path)}
    env = {**os.environ, "ACONTEXT_HOME": str(tmp_path / "home"), "ACONTEXT_HOOK_INLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "acontext_mcp", "hook", "claude-code", "PostToolUse"],
        input=json.dumps(payload).encode(),
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and TOKEN not in done.stderr.decode()
    log = (tmp_path / "home" / "logs" / "hooks.log").read_text()
    assert "NotRegularFile" in log and "[REDACTED:github_token]" in log
    assert TOKEN not in log
