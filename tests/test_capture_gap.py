"""What is written while capture is off is never stored: not by the next hook, not by import.

Attack (issue 10, item 3): switch capture off with any switch, let the agent work, switch it on:
the next hook read the transcript from the old cursor (OpenClaw: the resent history) and
stored everything said while capture was off. Same after `uninstall` + reinstall. Real hook
processes, the real CLI, real SQLite files; transcripts are Claude Code's recorded lines.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_hooks_claude_code import (
    BIN,
    FIXTURES,
    Hooks,
    _copy_transcripts,
    _expected_keys,
    _relocate,
    fixture_lines,
)
from test_hooks_openclaw import CONVERSATION, RUN1, RUN2, SESSION, stored

from acontext_mcp.capture import importer
from acontext_mcp.config import Settings
from acontext_mcp.privacy.switches import CAPTURE_ENV
from acontext_mcp.store.db import open_db

SID = "0f0f0f0f-1111-4222-8333-944444444444"
LINES = fixture_lines()
A, B, C = LINES[:42], LINES[42:54], LINES[54:]  # turn ALPHA, turn BRAVO, a /compact turn
_STAMP = re.compile(r'"timestamp":"[^"]*"')


def stamped_now(lines: list[str]) -> list[str]:
    """The lines as if written now: their `timestamp`s set to the current time."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [_STAMP.sub(f'"timestamp":"{now}"', line) for line in lines]


class Setup:
    """A Claude Code session in `project`, its hooks and the acontext CLI in one data home."""

    def __init__(self, root: Path) -> None:
        self.hooks = Hooks(root)
        self.project = self.hooks.user / "app"
        self.project.mkdir(parents=True)
        folder = self.hooks.claude_config / "projects" / "-app"
        folder.mkdir(parents=True)
        self.transcript = folder / f"{SID}.jsonl"
        self.transcript.write_text("")
        self.base_env = dict(self.hooks.env)
        self.env = dict(self.base_env)  # what the agent (and so its hooks) runs with

    def write(self, lines: list[str]) -> None:
        with open(self.transcript, "a") as fh:
            fh.write("".join(lines))

    def hook(self, event: str = "Stop") -> None:
        self.hooks.env = self.env
        payload = {
            "session_id": SID,
            "transcript_path": str(self.transcript),
            "cwd": str(self.project),
            "hook_event_name": event,
        }
        self.hooks.run(event, payload)
        assert self.hooks.failures() == []

    def cli(self, *args: str) -> str:
        env = {k: v for k, v in self.hooks.env.items() if k != CAPTURE_ENV}
        done = subprocess.run(
            [str(BIN), *args], cwd=self.project, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def keys(self) -> list[str]:
        return self.hooks.keys(SID)

    def import_all(self) -> importer.ImportStats:
        settings = Settings(home=self.hooks.home, skills_dir=self.hooks.root / "skills")
        found = importer.discover(self.hooks.claude_config / "projects")
        conn = open_db(settings)
        try:
            return importer.import_transcripts(conn, settings, found, live_window=0)
        finally:
            conn.close()


@pytest.fixture
def s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.delenv(CAPTURE_ENV, raising=False)
    setup = Setup(tmp_path)
    monkeypatch.setenv("HOME", str(setup.hooks.user))  # in-process import: same marker walk
    return setup


def _cli_all(s: Setup, off: bool) -> None:
    s.cli("capture", "off" if off else "on", "--all")


def _cli_session(s: Setup, off: bool) -> None:
    s.cli("capture", *(("off", "--new") if off else ("on",)), "--session", SID)


def _cli_project(s: Setup, off: bool) -> None:
    s.cli("capture", "off" if off else "on")


def _marker_by_hand(s: Setup, off: bool) -> None:
    marker = s.project / ".acontext-off"
    marker.touch() if off else marker.unlink()


def _config(s: Setup, off: bool) -> None:
    entries = [str(s.project)] if off else []
    (s.hooks.home / "config.json").write_text(
        json.dumps({"capture": {"exclude_projects": entries}})
    )


def _env(s: Setup, off: bool) -> None:
    s.env = {**s.base_env, CAPTURE_ENV: "off"} if off else dict(s.base_env)


Switch = Callable[[Setup, bool], None]
SWITCHES: list[Switch] = [_cli_all, _cli_session, _cli_project, _marker_by_hand, _config, _env]
IDS = [f.__name__.strip("_") for f in SWITCHES]


class TestClaudeCode:
    @pytest.mark.parametrize("switch", SWITCHES, ids=IDS)
    def test_the_next_hook_after_capture_on_skips_what_was_written_while_off(
        self, s: Setup, switch: Switch
    ):
        s.write(A)
        s.hook()
        assert s.keys() == _expected_keys(A)
        switch(s, True)
        s.write(B)
        s.hook("UserPromptSubmit")
        s.hook()
        assert s.keys() == _expected_keys(A)
        switch(s, False)
        s.write(C)
        s.hook()
        assert s.keys() == _expected_keys(A) + _expected_keys(C)

    @pytest.mark.parametrize("switch", SWITCHES, ids=IDS)
    def test_an_import_after_capture_on_skips_it_too(self, s: Setup, switch: Switch):
        s.write(A)
        s.hook()
        switch(s, True)
        s.write(B)
        s.hook()
        switch(s, False)
        s.write(C)
        stats = s.import_all()
        assert stats.failed == 0 and stats.off == 0
        assert s.keys() == _expected_keys(A) + _expected_keys(C)

    @pytest.mark.parametrize("switch", [_cli_all, _cli_session, _cli_project], ids=IDS[:3])
    def test_a_switch_flipped_between_hooks_still_keeps_its_span_out(
        self, s: Setup, switch: Switch
    ):
        """No hook runs while off (the flip came mid-turn): the span the CLI recorded decides."""
        s.write(A)
        s.hook()
        switch(s, True)
        s.write(stamped_now(B))
        switch(s, False)
        time.sleep(0.01)
        s.write(stamped_now(C))
        s.hook()
        assert s.keys() == _expected_keys(A) + _expected_keys(C)

    def test_uninstall_then_reinstall_does_not_store_the_uninstalled_span(self, s: Setup):
        s.cli("install", "claude-code")
        s.write(A)
        s.hook()
        s.cli("uninstall", "claude-code")
        s.write(stamped_now(B))  # the session goes on; no hook is registered
        assert s.import_all().stored == 0  # an import meanwhile keeps it out as well
        s.cli("install", "claude-code")
        time.sleep(0.01)
        s.write(stamped_now(C))
        s.hook()
        assert s.keys() == _expected_keys(A) + _expected_keys(C)

    def test_hooks_a_running_session_keeps_after_uninstall_store_nothing_until_install(
        self, s: Setup
    ):
        """A running agent keeps the hooks it loaded at start: after uninstall they still fire."""
        s.cli("install", "claude-code")
        s.write(A)
        s.hook()
        s.cli("uninstall", "claude-code")
        for part in (B[:4], B[4:]):  # turn BRAVO, hook after hook
            time.sleep(0.01)
            s.write(stamped_now(part))
            s.hook()
        assert s.keys() == _expected_keys(A)
        s.cli("install", "claude-code")
        time.sleep(0.01)
        s.write(stamped_now(C))
        s.hook()
        assert s.keys() == _expected_keys(A) + _expected_keys(C)

    def test_a_new_session_after_reinstalling_another_way_is_captured(self, s: Setup):
        """Uninstalled, then the plugin installed instead: a new session's hooks end the span."""
        s.cli("uninstall", "claude-code")
        s.hook("SessionStart")
        time.sleep(0.01)
        s.write(stamped_now(C))
        s.hook()
        assert s.keys() == _expected_keys(C)

    def test_a_session_started_while_off_stores_only_what_follows_capture_on(self, s: Setup):
        _cli_project(s, True)
        s.write(A)
        s.hook("SessionStart")
        s.hook()
        assert s.keys() == []
        _cli_project(s, False)
        s.write(C)
        s.hook()
        assert s.keys() == _expected_keys(C)

    def test_subagent_transcripts_seen_while_off_stay_out(self, tmp_path: Path):
        """The recorded subagent session replayed with its session switched off, then on."""
        hooks = Hooks(tmp_path)
        folder = _copy_transcripts(tmp_path)
        recorded = (FIXTURES / "hooks-subagent.jsonl").read_text().splitlines()
        payloads = [_relocate(json.loads(line), tmp_path) for line in recorded]
        session = payloads[0]["session_id"]
        env = {k: v for k, v in hooks.env.items() if k != CAPTURE_ENV}
        subprocess.run(
            [str(BIN), "capture", "off", "--new", "--session", session],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        for payload in payloads:
            if payload["hook_event_name"] != "SubagentStart":
                hooks.run(payload["hook_event_name"], payload)
        subprocess.run(
            [str(BIN), "capture", "on", "--session", session],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        hooks.run("SessionEnd", payloads[-1])
        assert hooks.failures() == []
        with hooks.db() as conn:
            assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
        assert (folder / session / "subagents").is_dir()


# --- OpenClaw ---


def openclaw_hook(home: Path, payload: dict[str, Any], env: dict[str, str] | None = None) -> None:
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(home),
        "HOME": str(home.parent / "user"),
        **(env or {}),
    }
    env.pop("ACONTEXT_SKILLS_DIR", None)
    data = json.dumps(payload).encode()
    proc = subprocess.run(
        [str(BIN), "hook", "openclaw", "agent_end"],
        input=data,
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr


class OpenClaw:
    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.project = root / "user" / "claw"
        self.project.mkdir(parents=True)
        self.env: dict[str, str] = {}

    def cli(self, *args: str) -> None:
        env = {
            **os.environ,
            "ACONTEXT_HOME": str(self.home),
            "HOME": str(self.home.parent / "user"),
        }
        env.pop(CAPTURE_ENV, None)
        subprocess.run(
            [str(BIN), *args],
            cwd=self.project,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def send(self, payload: dict[str, Any]) -> None:
        openclaw_hook(self.home, {**payload, "cwd": str(self.project)}, self.env)


def _oc_switch(kind: str, oc: OpenClaw, off: bool) -> None:
    verb = "off" if off else "on"
    if kind == "all":
        oc.cli("capture", verb, "--all")
    elif kind == "session":
        oc.cli("capture", verb, *(["--new"] if off else []), "--session", SESSION)
    elif kind == "project":
        oc.cli("capture", verb)
    elif kind == "config":
        oc.home.mkdir(parents=True, exist_ok=True)
        entries = [str(oc.project)] if off else []
        (oc.home / "config.json").write_text(json.dumps({"capture": {"exclude_projects": entries}}))
    else:
        oc.env = {CAPTURE_ENV: "off"} if off else {}


class TestOpenClaw:
    @pytest.mark.parametrize("kind", ["all", "session", "project", "config", "env"])
    def test_a_resent_history_after_capture_on_keeps_the_off_runs_out(
        self, tmp_path: Path, kind: str
    ):
        oc = OpenClaw(tmp_path)
        _oc_switch(kind, oc, True)
        oc.send(RUN1)
        _oc_switch(kind, oc, False)
        oc.send(RUN2)  # resends run 1's messages, then run 2's
        assert [m[:2] for m in stored(oc.home, SESSION)] == CONVERSATION[6:]

    def test_messages_stamped_inside_a_cli_span_stay_out_without_any_hook(self, tmp_path: Path):
        oc = OpenClaw(tmp_path)
        oc.cli("capture", "off", "--all")
        said_off = {"role": "user", "content": "the merger closes friday", "timestamp": _ms()}
        oc.cli("capture", "on", "--all")
        time.sleep(0.01)
        said_on = {"role": "user", "content": "hello again", "timestamp": _ms()}
        oc.send({"sessionId": "oc-1", "messages": [said_off, said_on]})
        assert [m[1] for m in stored(oc.home, "oc-1")] == ["hello again"]

    def test_uninstall_keeps_what_was_said_meanwhile_out(self, tmp_path: Path):
        oc = OpenClaw(tmp_path)
        oc.cli("uninstall", "openclaw")
        said_off = {"role": "user", "content": "uninstalled talk", "timestamp": _ms()}
        oc.cli("install", "openclaw")
        time.sleep(0.01)
        said_on = {"role": "user", "content": "back", "timestamp": _ms()}
        oc.send({"sessionId": "oc-2", "messages": [said_off, said_on]})
        assert [m[1] for m in stored(oc.home, "oc-2")] == ["back"]

    def test_a_running_session_after_uninstall_is_not_captured_until_install(self, tmp_path: Path):
        oc = OpenClaw(tmp_path)
        first = {"role": "user", "content": "before", "timestamp": _ms()}
        oc.send({"sessionId": "oc-3", "messages": [first]})
        oc.cli("uninstall", "openclaw")
        history = [first]
        for text in ("while uninstalled", "still uninstalled"):  # the loaded plugin fires
            time.sleep(0.01)
            history.append({"role": "assistant", "content": text, "timestamp": _ms()})
            oc.send({"sessionId": "oc-3", "messages": history})
        assert [m[1] for m in stored(oc.home, "oc-3")] == ["before"]
        oc.cli("install", "openclaw")
        time.sleep(0.01)
        after = {"role": "user", "content": "reinstalled", "timestamp": _ms()}
        oc.send({"sessionId": "oc-3", "messages": [*history, after]})
        assert [m[1] for m in stored(oc.home, "oc-3")] == ["before", "reinstalled"]


def _ms() -> int:
    return int(time.time() * 1000)


class TestSpanEnds:
    def test_a_marker_deleted_by_hand_ends_its_span_at_the_next_hook(self, s: Setup):
        """Capture is not lost for good when the user skips `capture on`."""
        _cli_project(s, True)
        (s.project / ".acontext-off").unlink()
        s.write(stamped_now(A))
        s.hook()  # finds capture on: the span ends now; A was written inside it
        assert s.keys() == []
        time.sleep(0.01)
        s.write(stamped_now(C))
        s.hook()
        assert s.keys() == _expected_keys(C)

    def test_a_dry_run_uninstall_opens_no_span(self, s: Setup):
        s.cli("uninstall", "claude-code", "--dry-run")
        s.write(stamped_now(A))
        s.hook()
        assert s.keys() == _expected_keys(A)
