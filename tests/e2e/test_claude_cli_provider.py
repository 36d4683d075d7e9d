"""The claude-cli LLM provider against real Claude Code (from the e2e fixture): the flags we
pass are ones Claude Code accepts, and its JSON answer parses into tool calls."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from test_llm_providers import TOOLS, USER, _outcomes, _provider

pytestmark = pytest.mark.e2e


def test_real_claude_code_runs_the_headless_command(
    claude_code, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The flags are real: Claude Code 2.1.330 runs them against a fake Anthropic API, sends
    no tools and our system prompt, and its JSON result parses into tool calls."""
    import subprocess
    import time

    answer = {"text": "ok", "tool_calls": [{"name": "finish", "arguments": {}}]}
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"conversations": [], "final": json.dumps(answer)}))
    port_file, log = tmp_path / "port", tmp_path / "llm.jsonl"
    support = Path(__file__).resolve().parents[1] / "support" / "anthropic_model.py"
    server = subprocess.Popen(
        [sys.executable, str(support), "--port-file", str(port_file), "--log", str(log),
         "--script", str(script)]
    )  # fmt: skip
    try:
        for _ in range(100):
            if port_file.exists():
                break
            time.sleep(0.05)
        (tmp_path / "home-cc").mkdir()
        monkeypatch.setenv("HOME", str(tmp_path / "home-cc"))
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port_file.read_text()}")
        monkeypatch.setenv("DISABLE_TELEMETRY", "1")
        monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        monkeypatch.setenv("PATH", f"{claude_code.bin.parent}{os.pathsep}{os.environ['PATH']}")
        # auto would pick anthropic from the key Claude Code needs here: ask for the CLI.
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        llm = _provider(
            db, monkeypatch, ACONTEXT_LLM_PROVIDER="claude-cli", ACONTEXT_LLM_TIMEOUT="90"
        )
        reply = llm.complete(system="You track tasks.", messages=USER, tools=TOOLS, purpose="t")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert reply.text == "ok" and [c.name for c in reply.tool_calls] == ["finish"]
    requests = [
        r["body"]
        for r in map(json.loads, log.read_text().splitlines())
        if r.get("method") == "POST" and "/v1/messages" in r.get("path", "")
    ]
    assert len(requests) == 1  # one model turn
    body = requests[0]
    assert body.get("tools") in (None, [])
    assert "You track tasks." in json.dumps(body["system"]) and "finish" in json.dumps(
        body["system"]
    )
    assert "Please add dark mode." in json.dumps(body["messages"])
    assert _outcomes(db) == ["ok"]
