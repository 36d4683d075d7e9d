"""Real OpenClaw with our plugin and MCP server, against a scripted model on loopback.

Two `openclaw agent --local` runs in one session: the first has the model call our MCP tool
(`acontext__list_skills`) and the built-in `exec`; the second is a plain reply. Afterwards
our store holds the session's conversation exactly once, the tool answered, and the brief
seeded for the project reached the model in the system prompt.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.model_server import model_server

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.tasks import insert_task

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "openclaw"
MODEL = REPO / "tests" / "support" / "scripted_model.py"
ACONTEXT_MCP = Path(sys.executable).parent / "acontext-mcp"
SEEDED_TASK = "Migrate the invoice exporter to streaming CSV"
SCRIPT = [
    {"name": "acontext__list_skills", "input": {}},
    {"name": "exec", "input": {"command": "echo hello-from-exec"}},
]
FIRST, SECOND = "List my skills, then run echo.", "Thanks, that is all."
RUN_TIMEOUT = 180


def _timed(timings: list, label: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.monotonic()
    try:
        return fn(*args, **kwargs)
    finally:
        timings.append((label, time.monotonic() - started))


@pytest.fixture
def model(tmp_path: Path) -> Iterator[Path]:
    """The scripted model; yields its request log."""
    log, port_file = tmp_path / "model.jsonl", tmp_path / "model.port"
    args = ["--log", str(log), "--script", json.dumps(SCRIPT), "--final-text", "FAKE-DONE"]
    with model_server(MODEL, port_file, *args):
        yield log


def _config(work: Path, port: str, store: Path) -> dict[str, Any]:
    workspace = str(work / "project")
    model = {
        "id": "fake-model",
        "name": "Fake Model",
        "reasoning": False,
        "input": ["text"],
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
        "contextWindow": 128000,
        "maxTokens": 4096,
    }
    provider = {
        "baseUrl": f"http://127.0.0.1:{port}/v1",
        "apiKey": "sk-local",
        "api": "openai-completions",
        "models": [model],
    }
    entry = {
        "enabled": True,
        "hooks": {"allowConversationAccess": True},  # agent_end messages need it
        "config": {"command": str(ACONTEXT_MCP), "acontextHome": str(store)},
    }
    return {
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}, "workspace": workspace}},
        "models": {"mode": "merge", "providers": {"fake": provider}},
        "plugins": {
            "load": {"paths": [str(PLUGIN)]},
            "allow": ["acontext"],
            "entries": {"acontext": entry},
        },
        "tools": {"toolSearch": False},  # offer MCP tools directly, not behind tool_search
    }


class Workspace:
    def __init__(self, oc: Any, work: Path, store: Path) -> None:
        self.oc, self.work, self.store = oc, work, store
        self.project = (work / "project").resolve()
        self.env = {
            "PATH": f"{oc.node_bin}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "HOME": str(work / "home"),
            "OPENCLAW_CONFIG_PATH": str(work / "openclaw.json"),
            "OPENCLAW_STATE_DIR": str(work / "state"),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.oc.bin), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, f"openclaw {args[:3]} exit {proc.returncode}\n{proc.stderr}"
        return proc

    def agent(self, prompt: str) -> dict[str, Any]:
        proc = self.run("agent", "--local", "--agent", "main", "-m", prompt, "--json")
        return json.loads(proc.stdout)


def new_workspace(openclaw: Any, tmp_path: Path) -> Workspace:
    """An OpenClaw home, state folder and project under `tmp_path`, configured to use our
    plugin against the fake model whose port file the `model` fixture wrote."""
    work = tmp_path / "oc"
    for name in ("home", "state", "project"):
        (work / name).mkdir(parents=True)
    store = tmp_path / "store"
    port = (tmp_path / "model.port").read_text()
    (work / "openclaw.json").write_text(json.dumps(_config(work, port, store), indent=1))
    return Workspace(openclaw, work, store)


@pytest.fixture
def workspace(openclaw: Any, model: Path, tmp_path: Path) -> Workspace:
    ws = new_workspace(openclaw, tmp_path)
    store = ws.store
    # The documented way to point the plugin's MCP server at a non-default ACONTEXT_HOME:
    # a `mcp.servers.acontext` entry overrides the plugin manifest's default of that name.
    env = {"ACONTEXT_HOME": str(store)}
    server = json.dumps({"command": str(ACONTEXT_MCP), "args": ["serve"], "env": env})
    _timed(openclaw.timings, "openclaw mcp set acontext", ws.run, "mcp", "set", "acontext", server)
    return ws


def _seed_brief(store: Path, project: Path) -> None:
    settings = Settings(home=store, skills_dir=store / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    try:
        ensure_session(conn, "earlier-session", agent="claude-code", project_dir=str(project))
        insert_task(conn, "earlier-session", SEEDED_TASK, status="success")
    finally:
        conn.close()


def _stored(store: Path, session_id: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(store / "acontext.db")
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT role, parts, dedup_key FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
            (session_id,),
        ).fetchall()
    finally:
        conn.close()
    return [
        {"role": r["role"], "parts": json.loads(r["parts"]), "key": r["dedup_key"]} for r in rows
    ]


def _summary(message: dict[str, Any]) -> tuple[str, str]:
    """(role, what it holds): text, `call:<tool>` or `result`, for comparing conversations."""
    kinds = []
    for part in message["parts"]:
        if part["type"] == "text":
            kinds.append(part["text"])
        elif part["type"] == "tool-call":
            kinds.append("call:" + part["name"])
        elif part["type"] == "tool-result":
            kinds.append("result")
    return message["role"], " ".join(kinds)


def _requests(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    posts = [x for x in lines if x.get("method") == "POST"]
    return [x["body"] for x in posts if isinstance(x.get("body"), dict)]


def _openclaw_transcript(work: Path) -> list[str]:
    """Roles of the messages OpenClaw itself persisted for agent `main`."""
    db = work / "state" / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT event_json FROM transcript_events WHERE event_json IS NOT NULL "
            "ORDER BY session_id, seq"
        ).fetchall()
    finally:
        conn.close()
    events = [json.loads(r[0]) for r in rows]
    # A large tool result may be kept "frozen" by OpenClaw's cache-ttl instead of as a message
    # (keys `tool:<call id>:<ms>`, the id's underscores sometimes dropped): it counts too, in
    # its call's place, like the toolResult messages.
    frozen = {
        f["key"].split(":")[1].replace("_", "")
        for e in events
        if e.get("type") == "custom" and e.get("customType") == "openclaw.cache-ttl"
        for f in e.get("data", {}).get("frozenToolResults", [])
    }
    messages = [e["message"] for e in events if e.get("type") == "message"]
    answered = {m.get("toolCallId") for m in messages if m["role"] == "toolResult"}
    roles: list[str] = []
    for m in messages:
        if m["role"] == "toolResult":
            continue  # placed after its call below
        roles.append(m["role"])
        parts = m["content"] if isinstance(m.get("content"), list) else []
        for part in parts:
            call = part.get("id") if part.get("type") == "toolCall" else None
            if call and (call in answered or call.replace("_", "") in frozen):
                roles.append("toolResult")
    return roles


def test_a_turn_lands_once_the_mcp_tool_answers_and_the_brief_reaches_the_model(
    workspace: Workspace, model: Path
) -> None:
    _seed_brief(workspace.store, workspace.project)

    timings = workspace.oc.timings
    first = _timed(timings, "agent --local, turn 1 (MCP tool + exec)", workspace.agent, FIRST)
    session_id = first["meta"]["agentMeta"]["sessionId"]
    assert first["payloads"][0]["text"] == "FAKE-DONE"
    expected = [
        ("user", FIRST),
        ("assistant", "call:acontext__list_skills"),
        ("user", "result"),
        ("assistant", "call:exec"),
        ("user", "result"),
        ("assistant", "FAKE-DONE"),
    ]
    assert [_summary(m) for m in _stored(workspace.store, session_id)] == expected

    requests = _requests(model)
    # The brief reached the model, in the system prompt.
    system = requests[0]["messages"][0]
    assert system["role"] == "system", system
    assert SEEDED_TASK in system["content"], system["content"][-3000:]
    # Our MCP tool answered: the request after the call carries its structured result.
    answered = [
        m["content"]
        for body in requests
        for m in body["messages"]
        if m.get("role") == "tool" and '"skills"' in str(m.get("content"))
    ]
    assert answered, "no tool result from acontext__list_skills reached the model"
    results = [p for m in _stored(workspace.store, session_id) for p in m["parts"]]
    results = [p for p in results if p["type"] == "tool-result"]
    assert '"skills"' in results[0]["content"][0]["text"]
    assert "hello-from-exec" in results[1]["content"][0]["text"]

    second = _timed(timings, "agent --local, turn 2 (same session)", workspace.agent, SECOND)
    assert second["meta"]["agentMeta"]["sessionId"] == session_id
    stored = _stored(workspace.store, session_id)
    expected += [("user", SECOND), ("assistant", "FAKE-DONE")]
    assert [_summary(m) for m in stored] == expected
    assert len({m["key"] for m in stored}) == len(stored)
    # Exactly the conversation OpenClaw persisted: same count, same roles in order.
    ours = ["assistant" if m["role"] == "assistant" else "user" for m in stored]
    persisted = _openclaw_transcript(workspace.work)
    theirs = ["assistant" if r == "assistant" else "user" for r in persisted]
    assert ours == theirs
    # The second run's brief also reached the model.
    assert SEEDED_TASK in _requests(model)[-1]["messages"][0]["content"]
