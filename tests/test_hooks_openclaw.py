"""`acontext-mcp hook openclaw EVENT` in a subprocess, fed payloads recorded from OpenClaw 2026.9.6.

The fixtures in tests/fixtures/openclaw/ are what our plugin piped to the hook in two
`openclaw agent --local` runs of one session (run 2 resends run 1's messages, with the user
message re-stamped and tool-call ids stripped of `_`, as OpenClaw persists them);
raw_agent_end_events.json holds the pi-agent-core events they were normalized from.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store import turns
from acontext_mcp.store.db import open_db
from acontext_mcp.store.events import list_events
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.tasks import insert_task

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "openclaw"
BIN = Path(sys.executable).parent / "acontext-mcp"
PROJECT = "/work/project"  # the fixtures' cwd


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def hook(event: str, payload: dict[str, Any] | bytes, home: Path) -> subprocess.CompletedProcess:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    # before_prompt_build syncs skills into the agents' folders: keep them beside `home`.
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(home),
        "HOME": str(home.parent / "user"),
        "CLAUDE_CONFIG_DIR": str(home.parent / "claude-config"),
        "OPENCLAW_STATE_DIR": str(home.parent / "openclaw-state"),
    }
    env.pop("ACONTEXT_SKILLS_DIR", None)
    return subprocess.run(
        [str(BIN), "hook", "openclaw", event], input=data, capture_output=True, env=env, timeout=60
    )


def stored(home: Path, session_id: str) -> list[tuple[str, str, str]]:
    """(role, summary of parts, dedup key) per stored message, in order."""
    conn = sqlite3.connect(home / "acontext.db")
    try:
        rows = conn.execute(
            "SELECT role, parts, dedup_key FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
            (session_id,),
        ).fetchall()
    finally:
        conn.close()
    out = []
    for role, parts, key in rows:
        bits = []
        for p in json.loads(parts):
            if p["type"] == "text":
                bits.append(p["text"])
            elif p["type"] == "tool-call":
                bits.append(f"call:{p['name']}:{p['id']}")
            elif p["type"] == "tool-result":
                bits.append(f"result:{p['tool_call_id']}")
        out.append((role, " ".join(bits), key))
    return out


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


RUN1, RUN2 = fixture("run1_agent_end"), fixture("run2_agent_end")
SESSION = RUN1["sessionId"]
CONVERSATION = [
    ("user", "List my skills and say hi."),
    ("assistant", "call:acontext__list_skills:call7c4a781730de4e0891bc"),
    ("user", "result:call7c4a781730de4e0891bc"),
    ("assistant", "call:exec:call3af5ea33ac0f4e5eb0e9"),
    ("user", "result:call3af5ea33ac0f4e5eb0e9"),
    ("assistant", "FAKE-DONE"),
    ("user", "Second turn please."),
    ("assistant", "FAKE-DONE"),
]


class TestExactlyOnce:
    def test_a_later_run_resending_the_history_stores_only_its_new_messages(
        self, home: Path
    ) -> None:
        assert hook("agent_end", RUN1, home).returncode == 0
        assert [m[:2] for m in stored(home, SESSION)] == CONVERSATION[:6]
        assert hook("agent_end", RUN2, home).returncode == 0
        rows = stored(home, SESSION)
        assert [m[:2] for m in rows] == CONVERSATION
        assert len({m[2] for m in rows}) == len(rows)

    def test_repeated_and_reordered_payloads_change_nothing(self, home: Path) -> None:
        assert hook("agent_end", RUN2, home).returncode == 0
        at = _session_times(home)
        for payload in (RUN1, RUN2, RUN1):
            proc = hook("agent_end", payload, home)
            assert proc.returncode == 0 and proc.stdout == b""
        assert [m[:2] for m in stored(home, SESSION)] == CONVERSATION
        assert _session_times(home) == at  # resends stored nothing: the session did not move

    def test_identical_messages_of_one_conversation_stay_distinct(self, home: Path) -> None:
        yes = [
            {"role": "user", "content": "yes", "timestamp": 1},
            {"role": "assistant", "content": "ok", "timestamp": 2},
            {"role": "user", "content": "yes", "timestamp": 3},
            {"role": "assistant", "content": "ok", "timestamp": 4},
        ]
        payload = {"sessionId": "s-yes", "cwd": PROJECT, "messages": yes[:2]}
        hook("agent_end", payload, home)
        hook("agent_end", {**payload, "messages": yes}, home)
        assert [m[1] for m in stored(home, "s-yes")] == ["yes", "ok", "yes", "ok"]

    def test_pending_messages_at_compaction_are_stored_and_the_event_recorded(
        self, home: Path
    ) -> None:
        hook("agent_end", RUN1, home)
        event = {**RUN2, "messageCount": 8, "compactingCount": 6, "tokenCount": 900}
        assert hook("before_compaction", event, home).returncode == 0
        reset = {k: v for k, v in RUN2.items() if k != "messages"}
        assert hook("before_reset", {**reset, "reason": "new"}, home).returncode == 0
        assert [m[:2] for m in stored(home, SESSION)] == CONVERSATION
        conn = open_db(_settings(home))
        try:
            events = [(e["type"], e["data"]) for e in list_events(conn, SESSION)]
        finally:
            conn.close()
        assert events[0][0] == "compaction" and events[0][1]["compactingCount"] == 6
        assert events[1][0] == "reset" and events[1][1]["reason"] == "new"


def _session_times(home: Path) -> tuple[float, float]:
    conn = sqlite3.connect(home / "acontext.db")
    try:
        row = conn.execute(
            "SELECT created_at, updated_at FROM sessions WHERE id = ?", (SESSION,)
        ).fetchone()
    finally:
        conn.close()
    return row


def _settings(home: Path) -> Settings:
    return Settings(home=home, skills_dir=home / "skills")


class TestPrivacy:
    def test_secrets_are_redacted_and_counted_once(self, home: Path) -> None:
        secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
        messages = [{"role": "user", "content": f"use token {secret}", "timestamp": 5}]
        payload = {"sessionId": "s-secret", "cwd": PROJECT, "messages": messages}
        hook("agent_end", payload, home)
        hook("agent_end", payload, home)
        (row,) = stored(home, "s-secret")
        assert secret not in row[1] and "[REDACTED:" in row[1]
        conn = open_db(_settings(home))
        try:
            redactions = list_events(conn, "s-secret", type_="redaction")
        finally:
            conn.close()
        assert len(redactions) == 1 and sum(redactions[0]["data"]["counts"].values()) == 1

    def test_capture_switched_off_stores_nothing(self, home: Path, tmp_path: Path) -> None:
        project = tmp_path / "quiet"
        project.mkdir()
        (project / ".acontext-off").touch()
        proc = hook("agent_end", {**RUN1, "cwd": str(project)}, home)
        assert proc.returncode == 0
        assert stored(home, SESSION) == []


class TestFailOpen:
    @pytest.mark.parametrize(
        "stdin", [b"{not json", b"[1, 2]", b'{"messages": "nope"}', b"\xff\xfe"]
    )
    def test_malformed_input_exits_0_silently_and_logs(self, home: Path, stdin: bytes) -> None:
        proc = hook("agent_end", stdin, home)
        assert proc.returncode == 0
        assert proc.stdout == b""
        log = (home / "logs" / "hooks.log").read_text()
        assert "openclaw agent_end failed" in log

    def test_an_unreadable_message_does_not_block_the_others(self, home: Path) -> None:
        messages = [
            {"role": "user", "content": "first", "timestamp": 1},
            {"role": "wizard", "content": "??", "timestamp": 2},
            {"role": "assistant", "content": "done", "timestamp": 3},
        ]
        hook("agent_end", {"sessionId": "s-odd", "cwd": PROJECT, "messages": messages}, home)
        assert [m[1] for m in stored(home, "s-odd")] == ["first", "done"]
        assert "not stored" in (home / "logs" / "hooks.log").read_text()


class TestBrief:
    def test_the_brief_names_earlier_work_in_this_project(self, home: Path) -> None:
        conn = open_db(_settings(home))
        try:
            ensure_session(conn, "earlier", agent="claude-code", project_dir=PROJECT)
            insert_task(conn, "earlier", "Migrate the exporter to streaming CSV", status="success")
        finally:
            conn.close()
        proc = hook("before_prompt_build", fixture("run1_before_prompt_build"), home)
        assert proc.returncode == 0
        answer = json.loads(proc.stdout)
        assert "Migrate the exporter to streaming CSV" in answer["additionalContext"]
        assert PROJECT in answer["additionalContext"]

    def test_the_session_asking_is_not_one_of_its_recent_sessions(self, home: Path) -> None:
        assert hook("agent_end", RUN1, home).returncode == 0  # this session's first run
        conn = open_db(_settings(home))
        try:
            ensure_session(conn, "earlier", agent="claude-code", project_dir=PROJECT)
            turns.store_turn(
                conn,
                _settings(home),
                [{"role": "user", "content": "Rotate the staging certificates"}],
                session_id="earlier",
                agent="claude-code",
            )
        finally:
            conn.close()
        proc = hook("before_prompt_build", fixture("run2_before_prompt_build"), home)
        assert proc.returncode == 0, proc.stderr
        brief = json.loads(proc.stdout)["additionalContext"]
        assert "Recent sessions in this project" in brief
        assert "Rotate the staging certificates" in brief  # the other session is there
        assert "List my skills and say hi" not in brief  # this session's own request is not

    def test_no_earlier_work_means_only_the_default_skills(self, home: Path) -> None:
        proc = hook("before_prompt_build", fixture("run1_before_prompt_build"), home)
        assert proc.returncode == 0
        brief = json.loads(proc.stdout)["additionalContext"]
        assert "Recent tasks" not in brief and "Recent sessions" not in brief
        assert "- daily-logs:" in brief and "- project-runbooks:" in brief

    def test_the_sessions_first_prompt_syncs_skills_into_openclaws_folder(self, home: Path) -> None:
        _skill(home)
        state = home.parent / "openclaw-state"
        state.mkdir()  # OpenClaw is installed; Claude Code is not
        proc = hook("before_prompt_build", fixture("run1_before_prompt_build"), home)
        assert proc.returncode == 0
        assert "deploy-runbook" in json.loads(proc.stdout)["additionalContext"]
        source = (home / "skills" / "deploy-runbook" / "SKILL.md").read_text()
        assert (state / "skills" / "deploy-runbook" / "SKILL.md").read_text() == source
        assert not (home.parent / "claude-config").exists()  # an OpenClaw-only machine
        assert not (home.parent / "user" / ".claude").exists()

    def test_claude_codes_folder_gets_copies_when_claude_code_is_there_too(
        self, home: Path
    ) -> None:
        _skill(home)
        (home.parent / "openclaw-state").mkdir()
        (home.parent / "claude-config").mkdir()
        assert (
            hook("before_prompt_build", fixture("run1_before_prompt_build"), home).returncode == 0
        )
        for target in (home.parent / "openclaw-state", home.parent / "claude-config"):
            assert (target / "skills" / "deploy-runbook" / "SKILL.md").is_file()
        log = (home / "logs" / "hooks.log").read_text()
        assert "skill sync:" in log and " failed" not in log


def test_the_handler_imports_nothing_heavy(home: Path) -> None:
    code = (
        "import json, sys\n"
        "from acontext_mcp.hooks.openclaw import handle\n"
        "handle('agent_end', json.loads(sys.stdin.read()))\n"
        "handle('before_prompt_build', {'cwd': '/work/project'})\n"
        "heavy = {'mcp', 'pydantic', 'asyncio', 'openai', 'anthropic', 'git'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    _skill(home)  # so before_prompt_build syncs too
    (home.parent / "claude-config").mkdir()  # into Claude Code's folder
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(home),
        "HOME": str(home.parent / "user"),
        "CLAUDE_CONFIG_DIR": str(home.parent / "claude-config"),
    }
    for name in ("ACONTEXT_SKILLS_DIR", "OPENCLAW_STATE_DIR", "OPENCLAW_HOME"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(RUN1).encode(),
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert len(stored(home, SESSION)) == 6
    assert (home.parent / "claude-config" / "skills" / "deploy-runbook" / "SKILL.md").exists()


def _skill(home: Path) -> None:
    folder = home / "skills" / "deploy-runbook"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: deploy-runbook\ndescription: How to deploy this app.\n---\n# Deploy\n"
    )
