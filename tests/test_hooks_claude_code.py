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

from acontext_mcp.config import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
sys.path.insert(0, str(FIXTURES))
from support.hook_runner import BIN, SHIM, Hooks  # noqa: E402
from synth import fixture_lines, write_synthetic  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURE_HOME = "/tmp/cc-fixture-home"
FIXTURE_PROJECT = "/tmp/cc-fixture-project"
HEAVY = ("mcp", "pydantic", "asyncio", "openai", "anthropic", "git", "anyio", "httpx", "regex")


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
        payload = {
            "session_id": "lag",
            "transcript_path": str(path),
            "cwd": str(tmp_path),
            "hook_event_name": "Stop",
            "last_assistant_message": text,
        }
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
        payload = {
            "session_id": "crash",
            "transcript_path": str(path),
            "cwd": str(tmp_path),
            "hook_event_name": "Stop",
        }
        env = {**hooks.env, "ACONTEXT_HOOK_INLINE": "1"}
        proc = subprocess.Popen(
            [str(BIN), "hook", "claude-code", "Stop"], stdin=subprocess.PIPE, env=env
        )
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
        payload = {
            "session_id": "gone",
            "transcript_path": str(tmp_path / "nope.jsonl"),
            "cwd": str(tmp_path),
        }
        proc = hooks.run("PostToolUse", payload)
        assert proc.stdout == b""

    def test_an_unusable_data_home_still_exits_zero(self, tmp_path):
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        env = {**os.environ, "ACONTEXT_HOME": str(blocker / "home"), "ACONTEXT_HOOK_INLINE": "1"}
        proc = subprocess.run(
            [str(BIN), "hook", "claude-code", "Stop"],
            input=b"{}",
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert proc.returncode == 0 and proc.stdout == b""

    def test_the_shim_without_an_install_exits_zero_and_logs(self, tmp_path):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ACONTEXT_HOME": str(tmp_path / "h")}
        proc = subprocess.run(
            [str(SHIM), "claude-code", "Stop"],
            input=b"{}",
            env=env,
            capture_output=True,
            timeout=30,
        )
        assert proc.returncode == 0 and proc.stdout == b""
        assert "not found" in (tmp_path / "h" / "logs" / "hooks.log").read_text()


class TestHotPath:
    def _imports(self, env: dict[str, str], payload: bytes, event: str = "PostToolUse") -> set[str]:
        code = f"from acontext_mcp.hooks import main; main(['claude-code', {event!r}])"
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            input=payload,
            env=env,
            capture_output=True,
            timeout=60,
        )
        names = set()
        for line in proc.stderr.decode().splitlines():
            if line.startswith("import time:") and "|" in line:
                names.add(line.rsplit("|", 1)[1].strip())
        return names

    def test_the_detaching_parent_imports_nothing_but_os(self, hooks, tmp_path):
        payload = json.dumps(
            {"session_id": "hp", "transcript_path": str(tmp_path / "t.jsonl"), "cwd": str(tmp_path)}
        ).encode()
        names = self._imports(hooks.env, payload)
        assert "acontext_mcp.hooks" in names
        assert not names & {"json", "re", "sqlite3", "typing", "acontext_mcp.hooks.run"}

    def test_inline_capture_stays_on_the_standard_library(self, hooks, tmp_path):
        path = tmp_path / "t.jsonl"
        shutil.copy(FIXTURES / "multi_turn.jsonl", path)
        payload = json.dumps(
            {"session_id": "hp", "transcript_path": str(path), "cwd": str(tmp_path)}
        ).encode()
        names = self._imports({**hooks.env, "ACONTEXT_HOOK_INLINE": "1"}, payload)
        assert "acontext_mcp.capture.claude_code" in names  # it did capture, inline
        assert not {n.split(".")[0] for n in names} & set(HEAVY)
        assert hooks.keys("hp")

    # What SessionStart's answer must not wait for (`python -X importtime`,
    # bench/bench_session_start.py): dataclasses pulls in inspect/ast/dis (~8 ms idle), logging
    # (~5 ms), typing (~3 ms), hashlib OpenSSL (~2 ms), the redactor compiles ~50 patterns,
    # shutil bz2 and lzma, tempfile random; formats.parts holds TypedDicts; the rest serve paths
    # the answer does not take.
    ANSWER_NEVER_IMPORTS = frozenset(
        {"dataclasses", "inspect", "logging", "typing", "shutil", "tempfile", "shlex", "hashlib",
         "threading", "copy", "uuid", "secrets", "unicodedata", "acontext_mcp.privacy.redact",
         "acontext_mcp.formats.parts", "acontext_mcp.store.blobs", "acontext_mcp.store.jobs",
         "acontext_mcp.capture.claude_code"}
    )  # fmt: skip

    def test_session_start_answers_without_the_slow_imports(self, hooks, tmp_path):
        """Claude Code waits for the process that prints the brief: built live, with skills
        synced and unchanged (the sync's stat fast path), with a project runbook and a recent
        session in the brief, it answers without the modules of ANSWER_NEVER_IMPORTS."""
        skills = hooks.home / "skills"
        for i in range(3):
            folder = skills / f"skill-{i}"
            (folder / "notes").mkdir(parents=True)
            (folder / "SKILL.md").write_text(
                f"---\nname: skill-{i}\ndescription: Skill {i}.\n---\n\nSteps.\n"
            )
            (folder / "notes" / "a.md").write_text("note\n")
        project = tmp_path / "proj"
        project.mkdir()
        runbook = skills / "project-runbooks" / "projects" / "proj.md"
        runbook.parent.mkdir(parents=True)
        runbook.write_text(
            "## Traps\n\n- **Port busy**: free 8080 first (seen 3×, 2026-11-02 – 2026-12-04)\n"
        )
        path = tmp_path / "t.jsonl"
        shutil.copy(FIXTURES / "multi_turn.jsonl", path)
        earlier = {"session_id": "earlier", "transcript_path": str(path), "cwd": str(project)}
        hooks.run("Stop", json.dumps(earlier).encode())  # a recent session for the brief
        payload = json.dumps(
            {
                "session_id": "fast",
                "transcript_path": str(tmp_path / "t2.jsonl"),
                "cwd": str(project),
            }
        ).encode()
        hooks.run("SessionStart", payload)  # the first sync: writes the copies
        time.sleep(2.1)  # past skills/sync.py's FRESH_SECONDS: the fast path may trust stats
        hooks.run("SessionStart", payload)  # a full sync of old files: records the fingerprint
        # The live path: no prepared answer (tests/test_session_start_prepared.py has those).
        shutil.rmtree(hooks.home / "answers", ignore_errors=True)
        before = hooks.finished()
        names = self._imports(hooks.env, payload, "SessionStart")
        hooks.wait_for(before + 1)
        assert "acontext_mcp.capture.brief" in names  # it answered
        assert "acontext_mcp.skills.sync" in names  # and synced before that
        assert "acontext_mcp.skills.evidence" in names  # it read the runbook's traps
        assert not names & self.ANSWER_NEVER_IMPORTS, names & self.ANSWER_NEVER_IMPORTS
        answer = json.loads(hooks.run("SessionStart", payload, shim=True).stdout)
        brief = answer["hookSpecificOutput"]["additionalContext"]
        assert "Port busy" in brief and "the user asked" in brief

    def test_session_start_answers_before_it_imports_the_capture(self, hooks, tmp_path):
        """Claude Code waits for SessionStart: it answers, then a detached child captures."""
        path = tmp_path / "t.jsonl"
        shutil.copy(FIXTURES / "multi_turn.jsonl", path)
        payload = json.dumps(
            {"session_id": "ss", "transcript_path": str(path), "cwd": str(tmp_path)}
        ).encode()
        before = hooks.finished()
        names = self._imports(hooks.env, payload, "SessionStart")
        assert "acontext_mcp.capture.brief" in names  # it answered
        assert not names & {"acontext_mcp.capture.claude_code", "acontext_mcp.worker.triggers"}
        assert not names & {"secrets", "uuid"}
        hooks.wait_for(before + 1)
        assert hooks.keys("ss")  # the resumed session's history, captured after the answer
        assert any("SessionStart ok (detached)" in line for line in hooks.log_lines())


class TestSessionStart:
    def _start(self, hooks: Hooks, project: Path, sid: str) -> dict[str, Any] | None:
        payload = {
            "session_id": sid,
            "transcript_path": str(project / f"{sid}.jsonl"),
            "cwd": str(project),
            "source": "startup",
        }
        proc = hooks.run("SessionStart", payload)
        return json.loads(proc.stdout) if proc.stdout else None

    def test_the_brief_names_the_previous_sessions_requests(self, hooks, tmp_path):
        project = tmp_path / "project"
        project.mkdir()
        lines = fixture_lines()
        (project / "one.jsonl").write_text("".join(lines).replace(FIXTURE_PROJECT, str(project)))
        first = self._start(hooks, project, "one") or {}  # nothing known yet
        assert "ALPHA" not in first.get("hookSpecificOutput", {}).get("additionalContext", "")
        stop = {
            "session_id": "one",
            "transcript_path": str(project / "one.jsonl"),
            "cwd": str(project),
            "hook_event_name": "SessionEnd",
        }
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
        # Synced into Claude Code's folder, so Claude Code lists it: the brief does not repeat it.
        assert "deploy-runbook" not in first["hookSpecificOutput"].get("additionalContext", "")
        assert (hooks.claude_config / "skills" / "deploy-runbook" / "SKILL.md").is_file()
        again = self._start(hooks, project, "b")  # nothing changed, nothing new to say
        assert again is None or "reloadSkills" not in again["hookSpecificOutput"]
        time.sleep(0.01)
        (skill / "SKILL.md").write_text(
            "---\nname: deploy-runbook\ndescription: How to deploy this app, v2.\n---\n# Deploy\n"
        )
        # Built live (an answer prepared before the edit would stand: the brief does not read
        # a listed skill, and its copy is synced right after, tests/test_session_start_prepared).
        shutil.rmtree(hooks.home / "answers", ignore_errors=True)
        changed = self._start(hooks, project, "c")
        assert changed["hookSpecificOutput"].get("reloadSkills") is True


class TestSessionStartSync:
    """SessionStart copies our skills into $CLAUDE_CONFIG_DIR/skills before it answers."""

    DESCRIPTION = "Deploy this app to staging and production. Use when asked to deploy."

    def _start(self, hooks: Hooks, sid: str) -> dict[str, Any]:
        project = hooks.root / "project"
        project.mkdir(exist_ok=True)
        payload = {
            "session_id": sid,
            "transcript_path": str(project / f"{sid}.jsonl"),
            "cwd": str(project),
            "source": "startup",
        }
        proc = hooks.run("SessionStart", payload)
        return json.loads(proc.stdout)["hookSpecificOutput"] if proc.stdout else {}

    def _learn(self, hooks: Hooks, name: str = "deploy-runbook") -> Path:
        """A skill committed the way the learner commits one."""
        from acontext_mcp.skills.repo import commit_learning, ensure_repo

        skills = hooks.home / "skills"
        ensure_repo(skills).close()
        folder = skills / name
        folder.mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {self.DESCRIPTION}\n---\n# Deploy\n1. make ship\n"
        )
        (folder / "scripts").mkdir()
        (folder / "scripts" / "ship.sh").write_text("make ship\n")
        assert commit_learning(skills, "learned deploy", session_id="s0", task_id=1, paths=[name])
        return folder

    def _manifest(self, hooks: Hooks) -> dict[str, Any]:
        from acontext_mcp.skills.sync import manifest_path_for

        settings = Settings(home=hooks.home, skills_dir=hooks.home / "skills")
        return json.loads(manifest_path_for(settings, hooks.claude_config / "skills").read_text())

    def test_a_committed_skill_is_synced_and_claude_code_asked_to_reload(self, hooks):
        source = self._learn(hooks)
        answer = self._start(hooks, "a")
        assert answer.get("reloadSkills") is True
        copy = hooks.claude_config / "skills" / "deploy-runbook"
        assert (copy / "SKILL.md").read_text() == (source / "SKILL.md").read_text()
        assert (copy / "scripts" / "ship.sh").read_text() == "make ship\n"
        assert not (copy / ".git").exists() and not (hooks.user / ".claude").exists()
        entry = self._manifest(hooks)["skills"]["deploy-runbook"]
        assert set(entry["files"]) == {"SKILL.md", "scripts/ship.sh"}
        assert "written" in "\n".join(hooks.log_lines()) and not hooks.failures()

        assert "reloadSkills" not in self._start(hooks, "b")  # nothing changed
        # The user deleted the copy: the sync puts it back, so Claude Code must rescan even
        # though the skills repository did not change.
        shutil.rmtree(copy)
        assert self._start(hooks, "c").get("reloadSkills") is True
        assert (copy / "SKILL.md").exists()

    def test_a_foreign_folder_of_the_same_name_is_left_alone(self, hooks):
        self._learn(hooks)
        mine = hooks.claude_config / "skills" / "deploy-runbook"
        mine.mkdir(parents=True)
        (mine / "SKILL.md").write_text("---\nname: deploy-runbook\ndescription: Mine.\n---\n")
        answer = self._start(hooks, "a")
        assert answer["hookEventName"] == "SessionStart"
        assert sorted(p.name for p in mine.iterdir()) == ["SKILL.md"]
        assert "description: Mine." in (mine / "SKILL.md").read_text()
        note = [x for x in answer["additionalContext"].splitlines() if x.startswith("Skill sync")]
        assert len(note) == 1 and "deploy-runbook in " + str(mine.parent) in note[0], answer
        assert "deploy-runbook" not in self._manifest(hooks)["skills"]
        assert any("skill sync:" in x and "1 clash" in x for x in hooks.log_lines())
        assert not hooks.failures()
        # The brief names ours, marked: Claude Code's own list shows the user's folder.
        (line,) = [x for x in answer["additionalContext"].splitlines() if "deploy-runbook [" in x]
        assert "[ours; your skill list shows another folder of this name]" in line
        assert self.DESCRIPTION[:40] in line
        # Said once: the next session is not told again while the clash stays the same.
        again = self._start(hooks, "b")
        assert "Skill sync" not in again.get("additionalContext", "")

    def test_a_target_that_cannot_be_written_is_logged_and_the_hook_answers(self, hooks):
        self._learn(hooks)
        (hooks.claude_config / "skills").write_text("a file where the folder goes")
        answer = self._start(hooks, "a")
        assert answer["hookEventName"] == "SessionStart"
        assert "deploy-runbook" in answer["additionalContext"]  # the brief still lists it
        assert any("skill sync:" in x and "error" in x for x in hooks.log_lines())
        assert not hooks.failures()

    def test_a_fresh_home_starts_with_the_default_skills(self, hooks):
        """The first session is the first use: the default skills exist, synced; the
        repository (git, which hooks do not run) commits them as defaults on its first use."""
        answer = self._start(hooks, "a")
        assert answer.get("reloadSkills") is True
        names = {"daily-logs", "user-general-facts", "project-runbooks"}
        assert {p.name for p in (hooks.claude_config / "skills").iterdir()} == names
        assert not (hooks.home / "skills" / ".git").exists()
        assert "reloadSkills" not in self._start(hooks, "b")  # nothing new the next time
        done = subprocess.run(
            [str(BIN), "skills", "log", "--json"], capture_output=True, env=hooks.env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        (first,) = json.loads(done.stdout)
        assert first["subject"].startswith("Add default skills: daily-logs")  # not a user edit
        assert not hooks.failures()


class TestSyncFastPath:
    """SessionStart syncs every time: with nothing changed that costs a stat per file (the
    manifest's fingerprint), not a hash; any change still gets the full sync."""

    FRESH = 0.2  # seconds; the product waits 2 s before it trusts a file's timestamps

    @pytest.fixture(autouse=True)
    def _fresh(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from acontext_mcp.skills import sync

        monkeypatch.setattr(sync, "FRESH_SECONDS", self.FRESH)

    def _age(self) -> None:
        """Let every file become old enough for its fingerprint to be trusted."""
        time.sleep(self.FRESH + 0.05)

    @pytest.fixture
    def setup(self, tmp_path: Path) -> tuple[Path, Path, Path]:
        source, target, manifest = tmp_path / "src", tmp_path / "dst", tmp_path / "m.json"
        for name in ("alpha", "beta"):
            (source / name / "scripts").mkdir(parents=True)
            (source / name / "SKILL.md").write_text(f"---\nname: {name}\ndescription: d\n---\n")
            (source / name / "scripts" / "run.sh").write_text("echo 1\n")
        (target / "foreign").mkdir(parents=True)
        (target / "foreign" / "SKILL.md").write_text("mine\n")
        (target / "beta").mkdir()  # a folder we did not write: a clash
        return source, target, manifest

    def _sync(self, setup, *, hashing: bool = True):
        from acontext_mcp.skills import sync

        source, target, manifest = setup
        with pytest.MonkeyPatch.context() as patch:
            if not hashing:

                def no_hash(path):
                    raise AssertionError(f"hashed {path}")

                patch.setattr(sync, "_hash_file", no_hash)
            return sync.sync_skills(source, target, manifest_path=manifest)

    def test_an_unchanged_sync_only_stats_and_reports_the_same(self, setup):
        manifest = setup[2]
        first = self._sync(setup)
        assert (first.written, first.clashes) == (["alpha"], ["beta"])
        with pytest.raises(AssertionError, match="hashed"):  # fresh files vouch for nothing
            self._sync(setup, hashing=False)
        self._age()
        full = self._sync(setup)
        assert "fast" in json.loads(manifest.read_text())
        listed: list[str] = []
        real_scandir = os.scandir

        def scandir(path):
            listed.append(os.path.basename(path))
            return real_scandir(path)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "scandir", scandir)
            fast = self._sync(setup, hashing=False)
        assert fast.to_dict() == full.to_dict()
        assert (fast.unchanged, fast.clashes) == (["alpha"], ["beta"])
        # Unchanged folders are not listed again: their entries are in the fingerprint. Only
        # the two roots are, and the empty clash folder `beta` (no entries were recorded).
        assert sorted(listed) == ["beta", "dst", "src"]

    @pytest.mark.parametrize(
        "where", ["source", "copy", "new file", "new deep file", "gone copy", "clash gone"]
    )
    def test_any_change_gets_the_full_sync(self, setup, where):
        source, target, manifest = setup
        self._sync(setup)
        self._age()
        self._sync(setup)
        assert "fast" in json.loads(manifest.read_text())
        skill_md = (source if where == "source" else target) / "alpha" / "SKILL.md"
        before = os.stat(skill_md)
        if where in ("source", "copy"):  # same size, mtime put back: only ctime tells
            skill_md.write_text(skill_md.read_text().replace("d\n", "e\n"))
            os.utime(skill_md, ns=(before.st_atime_ns, before.st_mtime_ns))
        elif where == "new file":
            (source / "alpha" / "notes.md").write_text("more\n")
        elif where == "new deep file":  # the folder's mtime put back: only its ctime tells
            scripts = source / "alpha" / "scripts"
            was = os.stat(scripts)
            (scripts / "new.sh").write_text("echo 2\n")
            os.utime(scripts, ns=(was.st_atime_ns, was.st_mtime_ns))
        elif where == "gone copy":
            shutil.rmtree(target / "alpha")
        else:
            (target / "beta").rmdir()
        self._age()  # old enough to be trusted: only the fingerprint can tell
        report = self._sync(setup)
        expected = {
            "source": ("updated", ["alpha"]),
            "copy": ("modified_by_user", ["alpha"]),
            "new file": ("updated", ["alpha"]),
            "new deep file": ("updated", ["alpha"]),
            "gone copy": ("written", ["alpha"]),
            "clash gone": ("written", ["beta"]),
        }[where]
        assert getattr(report, expected[0]) == expected[1], report.summary()
        assert (target / "foreign" / "SKILL.md").read_text() == "mine\n"

    @pytest.mark.parametrize("where", ["source", "copy"])
    def test_a_change_rereads_only_the_changed_skill(self, tmp_path, where):
        """After one skill changed, the sync reads and hashes that skill only: the others'
        folders and copies have the stats the last complete sync recorded."""
        from acontext_mcp.skills import sync

        source, target, manifest = tmp_path / "src", tmp_path / "dst", tmp_path / "m.json"
        names = ["one", "two", "three"]
        for name in names:
            (source / name / "notes").mkdir(parents=True)
            (source / name / "SKILL.md").write_text(f"---\nname: {name}\ndescription: d\n---\n")
            (source / name / "notes" / "a.md").write_text("a\n")
        assert sync.sync_skills(source, target, manifest_path=manifest).written == sorted(names)
        self._age()
        sync.sync_skills(source, target, manifest_path=manifest)  # records the fingerprint
        (source if where == "source" else target).joinpath("two", "notes", "a.md").write_text(
            "changed\n"
        )
        self._age()
        read: list[str] = []
        real_read, real_hashes = sync._read_sources, sync._target_hashes

        def counted_sync() -> sync.SyncReport:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(
                    sync,
                    "_read_sources",
                    lambda folder, *a: read.append(folder.name) or real_read(folder, *a),
                )
                patch.setattr(
                    sync,
                    "_target_hashes",
                    lambda folder: read.append(folder.name) or real_hashes(folder),
                )
                return sync.sync_skills(source, target, manifest_path=manifest)

        report = counted_sync()
        assert read == ["two", "two"]  # its source, then its copy
        if where == "source":
            assert (report.updated, sorted(report.unchanged)) == (["two"], ["one", "three"])
            assert (target / "two" / "notes" / "a.md").read_text() == "changed\n"
        else:  # an edited copy is the user's: left alone, reported
            assert (report.modified_by_user, sorted(report.unchanged)) == (
                ["two"],
                ["one", "three"],
            )
        assert set(json.loads(manifest.read_text())["skills"]) == set(names)  # all still ours
        self._age()
        read.clear()
        counted_sync()  # a copy written just now vouched for nothing: its skill is read again
        assert read == (["two", "two"] if where == "source" else [])
        read.clear()
        unchanged = sorted(counted_sync().unchanged)
        assert unchanged == (["one", "three", "two"] if where == "source" else ["one", "three"])
        assert read == []  # then nothing is read at all
