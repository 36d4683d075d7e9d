"""`acontext-mcp hook claude-code EVENT` as Claude Code runs it: real processes, real files.

Payloads are the ones real Claude Code 2.1.330 sent (tests/fixtures/claude_code/hooks-*.jsonl)
with their paths pointed at copies of the fixture transcripts. Non-answering events detach
(the command exits at once and a child captures), so tests wait for the child's log line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
sys.path.insert(0, str(FIXTURES))
from synth import fixture_lines, write_synthetic  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "acontext-mcp"
SHIM = REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook"
FIXTURE_HOME = "/tmp/cc-fixture-home"
FIXTURE_PROJECT = "/tmp/cc-fixture-project"
HEAVY = ("mcp", "pydantic", "asyncio", "openai", "anthropic", "git", "anyio", "httpx", "regex")


class Hooks:
    """Runs the hook command in a private data home and reads what it stored."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.env = {**os.environ, "ACONTEXT_HOME": str(self.home), "ACONTEXT_MCP_BIN": str(BIN)}
        self.env.pop("ACONTEXT_HOOK_INLINE", None)
        self.log = self.home / "logs" / "hooks.log"

    def run(self, event: str, payload: Any, *, shim: bool = False, inline: bool = False,
            wait: bool = True) -> subprocess.CompletedProcess:  # fmt: skip
        env = {**self.env, **({"ACONTEXT_HOOK_INLINE": "1"} if inline else {})}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        before = self.finished()
        cmd = (
            [str(SHIM), "claude-code", event] if shim else [str(BIN), "hook", "claude-code", event]
        )
        proc = subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        if wait:
            self.wait_for(before + 1)
        return proc

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def finished(self) -> int:
        """Hook runs that logged their end (ok or error)."""
        return sum(1 for line in self.log_lines() if line.endswith("ms"))

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.finished() < count:
            assert time.monotonic() < deadline, f"only {self.finished()} of {count} hooks ended"
            time.sleep(0.01)

    def failures(self) -> list[str]:
        return [line for line in self.log_lines() if " failed:" in line]

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.home / "acontext.db")
        conn.row_factory = sqlite3.Row
        return conn

    def keys(self, session_id: str) -> list[str]:
        with self.db() as conn:
            rows = conn.execute(
                "SELECT dedup_key FROM messages WHERE session_id = ? ORDER BY position",
                (session_id,),
            )
            return [r[0] for r in rows]

    def texts(self, session_id: str, role: str = "assistant") -> list[str]:
        with self.db() as conn:
            rows = conn.execute(
                "SELECT parts FROM messages WHERE session_id = ? AND role = ? ORDER BY position",
                (session_id, role),
            ).fetchall()
        return [p["text"] for r in rows for p in json.loads(r[0]) if p.get("type") == "text"]


@pytest.fixture
def hooks(tmp_path: Path) -> Hooks:
    return Hooks(tmp_path)


def _expected_keys(lines: list[str]) -> list[str]:
    keys: list[str] = []
    for line in lines:
        record = json.loads(line)
        if record.get("type") == "user" and not record.get("isCompactSummary"):
            keys.append("id:" + record["uuid"])
        elif record.get("type") == "assistant" and "id:" + record["message"]["id"] not in keys:
            keys.append("id:" + record["message"]["id"])
    return keys


def _relocate(payload: dict[str, Any], root: Path) -> dict[str, Any]:
    """A recorded payload with the fixture's home and project moved under `root`."""
    text = json.dumps(payload).replace(FIXTURE_HOME, str(root / "cc-home"))
    return json.loads(text.replace(FIXTURE_PROJECT, str(root / "project")))


def _copy_transcripts(root: Path) -> Path:
    folder = root / "cc-home" / ".claude" / "projects" / "-tmp-cc-fixture-project"
    folder.mkdir(parents=True)
    shutil.copy(
        FIXTURES / "multi_turn.jsonl", folder / "59315eed-cb7d-45af-84ed-954a84566b96.jsonl"
    )
    shutil.copy(FIXTURES / "subagent.jsonl", folder / "2d776706-df57-46a8-a7d0-ccc9bdce23ff.jsonl")
    shutil.copytree(FIXTURES / "subagent", folder / "2d776706-df57-46a8-a7d0-ccc9bdce23ff")
    (root / "project").mkdir()
    return folder


class TestRecordedSessions:
    @pytest.mark.parametrize("name", ["multi_turn", "subagent"])
    def test_replaying_claude_codes_hook_calls_stores_the_transcript_once(
        self, hooks: Hooks, tmp_path: Path, name: str
    ) -> None:
        folder = _copy_transcripts(tmp_path)
        registered = json.loads((REPO / "plugins/claude-code/hooks/hooks.json").read_text())
        recorded = (FIXTURES / f"hooks-{name}.jsonl").read_text().splitlines()
        payloads = [json.loads(line) for line in recorded]
        for payload in payloads:
            if payload["hook_event_name"] not in registered["hooks"]:
                continue  # recorded by the fixture run (e.g. PostCompact), not asked for by us
            proc = hooks.run(payload["hook_event_name"], _relocate(payload, tmp_path))
            if payload["hook_event_name"] != "SessionStart":
                assert proc.stdout == b""
        assert hooks.failures() == []
        session = payloads[0]["session_id"]
        transcript = folder / f"{session}.jsonl"
        assert hooks.keys(session) == _expected_keys(transcript.read_text().splitlines())
        if name == "subagent":
            with hooks.db() as conn:
                subs = conn.execute(
                    "SELECT id FROM sessions WHERE parent_id = ?", (session,)
                ).fetchall()
            assert len(subs) == 1
            agent = next((folder / session / "subagents").glob("agent-*.jsonl"))
            assert hooks.keys(subs[0][0]) == _expected_keys(agent.read_text().splitlines())

    def test_the_plugin_shim_runs_the_same_capture(self, hooks: Hooks, tmp_path: Path) -> None:
        folder = _copy_transcripts(tmp_path)
        payload = next(
            json.loads(line)
            for line in (FIXTURES / "hooks-multi_turn.jsonl").read_text().splitlines()
            if '"Stop"' in line
        )
        proc = hooks.run("Stop", _relocate(payload, tmp_path), shim=True)
        assert proc.stdout == b"" and hooks.failures() == []
        transcript = folder / "59315eed-cb7d-45af-84ed-954a84566b96.jsonl"
        expected = _expected_keys(transcript.read_text().splitlines())
        assert hooks.keys(payload["session_id"]) == expected


class TestStopLag:
    def _lagging(self, tmp_path: Path) -> tuple[Path, list[str], dict[str, Any]]:
        lines = fixture_lines()
        last = max(i for i, line in enumerate(lines) if '"type":"assistant"' in line)
        record = json.loads(lines[last])
        text = next(b["text"] for b in record["message"]["content"] if b["type"] == "text")
        path = tmp_path / "t.jsonl"
        path.write_text("".join(lines[:last]))
        payload = {"session_id": "lag", "transcript_path": str(path), "cwd": str(tmp_path),
                   "hook_event_name": "Stop", "last_assistant_message": text}  # fmt: skip
        return path, lines[last:], payload

    def test_a_lagging_transcript_is_covered_then_settled_exactly_once(self, hooks, tmp_path):
        path, rest, payload = self._lagging(tmp_path)
        hooks.run("Stop", payload)
        text = payload["last_assistant_message"]
        assert hooks.texts("lag").count(text) == 1
        assert any(k.startswith("stop:") for k in hooks.keys("lag"))
        with open(path, "a") as fh:
            fh.write("".join(rest))
        hooks.run("SessionEnd", {**payload, "hook_event_name": "SessionEnd"})
        assert hooks.texts("lag").count(text) == 1
        assert not any(k.startswith("stop:") for k in hooks.keys("lag"))
        assert hooks.keys("lag") == _expected_keys(path.read_text().splitlines())
        assert hooks.failures() == []

    def test_no_provisional_message_when_the_transcript_is_complete(self, hooks, tmp_path):
        path, rest, payload = self._lagging(tmp_path)
        with open(path, "a") as fh:
            fh.write("".join(rest))
        hooks.run("Stop", payload)
        assert not any(k.startswith("stop:") for k in hooks.keys("lag"))
        assert hooks.texts("lag").count(payload["last_assistant_message"]) == 1


APPENDER = """
import sys, time
source, path, done = sys.argv[1:4]
with open(source, "rb") as src, open(path, "ab", buffering=0) as out:
    for line in src:
        half = len(line) // 2
        out.write(line[:half]); time.sleep(0.002)
        out.write(line[half:]); time.sleep(0.004)
open(done, "w").close()
"""


class TestConcurrency:
    def test_eight_hook_processes_at_once_store_every_message_once(self, hooks, tmp_path):
        source = tmp_path / "source.jsonl"
        write_synthetic(source, 300_000)
        path, done = tmp_path / "t.jsonl", tmp_path / "done"
        path.write_text("")
        payload = json.dumps(
            {"session_id": "conc", "transcript_path": str(path), "cwd": str(tmp_path)}
        ).encode()
        appender = subprocess.Popen([sys.executable, "-c", APPENDER, source, path, done])
        cmd = [str(BIN), "hook", "claude-code", "PostToolUse"]
        launched = 0
        while not done.exists():  # waves of 8 concurrent hook processes while the file grows
            wave = [subprocess.Popen(cmd, stdin=subprocess.PIPE, env=hooks.env) for _ in range(8)]
            for proc in wave:
                proc.communicate(payload, timeout=60)
                assert proc.returncode == 0
            launched += 8
        assert appender.wait(timeout=60) == 0
        hooks.wait_for(launched)
        hooks.run("Stop", payload)
        assert launched >= 16
        assert hooks.failures() == []
        assert hooks.keys("conc") == _expected_keys(source.read_text().splitlines())

    def test_a_hook_killed_mid_capture_loses_nothing(self, hooks, tmp_path):
        path = tmp_path / "big.jsonl"
        lines = write_synthetic(path, 8_000_000)
        payload = {"session_id": "crash", "transcript_path": str(path), "cwd": str(tmp_path),
                   "hook_event_name": "Stop"}  # fmt: skip
        env = {**hooks.env, "ACONTEXT_HOOK_INLINE": "1"}
        proc = subprocess.Popen([str(BIN), "hook", "claude-code", "Stop"], stdin=subprocess.PIPE,
                                env=env)  # fmt: skip
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # kill once some, not all, is committed
            try:
                if hooks.keys("crash"):
                    break
            except sqlite3.OperationalError:
                pass  # the database is still being created
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        partial = len(hooks.keys("crash"))
        expected = _expected_keys(lines)
        assert 0 < partial < len(expected)
        hooks.run("Stop", payload)
        assert hooks.keys("crash") == expected


class TestFailOpen:
    @pytest.mark.parametrize(
        "event,data",
        [
            ("Stop", b"{not json"),
            ("Stop", b"[1, 2]"),
            ("Stop", b"\xff\xfe\x00binary"),
            ("NoSuchEvent", b"{}"),
            ("SessionStart", b"{broken"),
        ],
    )
    def test_bad_input_exits_zero_silently_and_is_logged(self, hooks, event, data):
        proc = hooks.run(event, data)
        assert proc.returncode == 0 and proc.stdout == b""
        assert len(hooks.failures()) == 1

    def test_a_missing_transcript_is_logged_not_raised(self, hooks, tmp_path):
        payload = {"session_id": "gone", "transcript_path": str(tmp_path / "nope.jsonl"),
                   "cwd": str(tmp_path)}  # fmt: skip
        proc = hooks.run("PostToolUse", payload)
        assert proc.stdout == b""

    def test_an_unusable_data_home_still_exits_zero(self, tmp_path):
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        env = {**os.environ, "ACONTEXT_HOME": str(blocker / "home"), "ACONTEXT_HOOK_INLINE": "1"}
        proc = subprocess.run([str(BIN), "hook", "claude-code", "Stop"], input=b"{}", env=env,
                              capture_output=True, timeout=60)  # fmt: skip
        assert proc.returncode == 0 and proc.stdout == b""

    def test_the_shim_without_an_install_exits_zero_and_logs(self, tmp_path):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ACONTEXT_HOME": str(tmp_path / "h")}
        proc = subprocess.run([str(SHIM), "claude-code", "Stop"], input=b"{}", env=env,
                              capture_output=True, timeout=30)  # fmt: skip
        assert proc.returncode == 0 and proc.stdout == b""
        assert "not found" in (tmp_path / "h" / "logs" / "hooks.log").read_text()


class TestHotPath:
    def _imports(self, env: dict[str, str], payload: bytes) -> set[str]:
        code = "from acontext_mcp.hooks import main; main(['claude-code', 'PostToolUse'])"
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], input=payload,
                              env=env, capture_output=True, timeout=60)  # fmt: skip
        names = set()
        for line in proc.stderr.decode().splitlines():
            if line.startswith("import time:") and "|" in line:
                names.add(line.rsplit("|", 1)[1].strip())
        return names

    def test_the_detaching_parent_imports_nothing_but_os(self, hooks, tmp_path):
        payload = json.dumps({"session_id": "hp", "transcript_path": str(tmp_path / "t.jsonl"),
                              "cwd": str(tmp_path)}).encode()  # fmt: skip
        names = self._imports(hooks.env, payload)
        assert "acontext_mcp.hooks" in names
        assert not names & {"json", "re", "sqlite3", "typing", "acontext_mcp.hooks.run"}

    def test_inline_capture_stays_on_the_standard_library(self, hooks, tmp_path):
        path = tmp_path / "t.jsonl"
        shutil.copy(FIXTURES / "multi_turn.jsonl", path)
        payload = json.dumps({"session_id": "hp", "transcript_path": str(path),
                              "cwd": str(tmp_path)}).encode()  # fmt: skip
        names = self._imports({**hooks.env, "ACONTEXT_HOOK_INLINE": "1"}, payload)
        assert "acontext_mcp.capture.claude_code" in names  # it did capture, inline
        assert not {n.split(".")[0] for n in names} & set(HEAVY)
        assert hooks.keys("hp")


class TestSessionStart:
    def _start(self, hooks: Hooks, project: Path, sid: str) -> dict[str, Any] | None:
        payload = {"session_id": sid, "transcript_path": str(project / f"{sid}.jsonl"),
                   "cwd": str(project), "source": "startup"}  # fmt: skip
        proc = hooks.run("SessionStart", payload)
        return json.loads(proc.stdout) if proc.stdout else None

    def test_the_brief_names_the_previous_sessions_requests(self, hooks, tmp_path):
        project = tmp_path / "project"
        project.mkdir()
        lines = fixture_lines()
        (project / "one.jsonl").write_text("".join(lines).replace(FIXTURE_PROJECT, str(project)))
        assert self._start(hooks, project, "one") is None  # nothing known yet
        stop = {"session_id": "one", "transcript_path": str(project / "one.jsonl"),
                "cwd": str(project), "hook_event_name": "SessionEnd"}  # fmt: skip
        hooks.run("SessionEnd", stop)
        answer = self._start(hooks, project, "two")
        assert answer is not None
        context = answer["hookSpecificOutput"]["additionalContext"]
        assert answer["hookSpecificOutput"]["hookEventName"] == "SessionStart"
        assert "ALPHA: look around" in context and "BRAVO" in context
        assert len(context) <= 2000

    def test_skills_reload_is_asked_only_when_skills_changed(self, hooks, tmp_path):
        project = tmp_path / "project"
        project.mkdir()
        skill = hooks.home / "skills" / "deploy-runbook"
        skill.mkdir(parents=True)
        (skill / "SKILL.md").write_text(
            "---\nname: deploy-runbook\ndescription: How to deploy this app.\n---\n# Deploy\n"
        )
        first = self._start(hooks, project, "a")
        assert first["hookSpecificOutput"].get("reloadSkills") is True
        assert "deploy-runbook" in first["hookSpecificOutput"]["additionalContext"]
        again = self._start(hooks, project, "b")
        assert "reloadSkills" not in again["hookSpecificOutput"]
        time.sleep(0.01)
        (skill / "SKILL.md").write_text(
            "---\nname: deploy-runbook\ndescription: How to deploy this app, v2.\n---\n# Deploy\n"
        )
        changed = self._start(hooks, project, "c")
        assert changed["hookSpecificOutput"].get("reloadSkills") is True
