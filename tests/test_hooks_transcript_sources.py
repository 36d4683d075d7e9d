"""Attacks through `transcript_path` and the hook log (issue 10, items 4 and 9).

A payload may name any path: a device that never ends (/dev/zero, /dev/urandom), a FIFO that
blocks (with or without a writer), a directory, a symlink to a device, a huge regular file.
Each hook here runs as Claude Code runs it, in a real process under a 1 GiB address-space cap
(so the unfixed reader fails fast instead of eating the machine), within a generous timeout,
and reports its peak RSS from `resource.getrusage` in the process that waited for it.

The hook log may be unwritable too (a file where its folder goes, a folder or a FIFO where
the log goes): the hook and the shell shims still exit 0 within the timeout, and say so in
one line on stderr instead of vanishing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.capture import claude_code as capture

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "claude_code"))
from synth import fixture_lines, write_synthetic
from test_hook_scripts import PLUGIN, SHIMS, SYSTEM_PATH
from test_hook_scripts import _env as shim_env
from test_hook_scripts import _run as run_shim
from test_hooks_claude_code import BIN, Hooks, _expected_keys

ADDRESS_CAP = 1024**3  # bytes of address space a hook may map; the unfixed one wanted 24 GB
RSS_BOUND = 300 * 1024  # KiB of peak RSS a hook may reach on any of these inputs
HOOK_TIMEOUT = 60  # seconds: generous, a fixed hook takes well under one

MEASURED = """
import json, resource, subprocess, sys, time
cap, timeout, cmd = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
started = time.monotonic()
try:
    proc = subprocess.run(cmd, input=sys.stdin.buffer.read(), capture_output=True,
                          preexec_fn=limit, timeout=timeout)
    rc, out, err = proc.returncode, proc.stdout.decode(), proc.stderr.decode()
except subprocess.TimeoutExpired:  # run() killed the hook
    rc, out, err = None, "", "timed out"
print(json.dumps({"rc": rc, "stdout": out, "stderr": err,
                  "seconds": time.monotonic() - started,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def run_measured(hooks: Hooks, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one hook inline (as SessionStart always runs) in a capped child; its outcome."""
    cmd = [
        sys.executable,
        "-c",
        MEASURED,
        str(ADDRESS_CAP),
        str(HOOK_TIMEOUT),
        str(BIN),
        "hook",
        "claude-code",
        event,
    ]
    env = {**hooks.env, "ACONTEXT_HOOK_INLINE": "1"}
    done = subprocess.run(
        cmd,
        input=json.dumps(payload).encode(),
        capture_output=True,
        env=env,
        timeout=HOOK_TIMEOUT + 30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _payload(path: Path | str, cwd: Path, event: str = "SessionStart") -> dict[str, Any]:
    return {
        "session_id": "attack",
        "transcript_path": str(path),
        "cwd": str(cwd),
        "hook_event_name": event,
        "source": "startup",
    }


FIFO_WRITER = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)  # blocks until a reader opens: the hook
line = b'{"type": "user", "uuid": "u", "message": {"role": "user", "content": "hi"}}\\n'
try:
    while True:
        os.write(fd, line * 100)
except (BrokenPipeError, OSError):
    pass
"""


@pytest.fixture
def hooks(tmp_path: Path) -> Hooks:
    return Hooks(tmp_path)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.jsonl"
    os.mkfifo(path)
    return path


class TestNotRegularFiles:
    """Each source is refused at once, by name, in a hook that stays small and answers."""

    def _attack(self, hooks: Hooks, tmp_path: Path, source: Path | str) -> str:
        """Run SessionStart on `source`; the one failure line it logged."""
        outcome = run_measured(hooks, "SessionStart", _payload(source, tmp_path))
        assert outcome["rc"] == 0, outcome  # finished (not killed by the timeout), fail-open
        assert outcome["maxrss_kib"] < RSS_BOUND, outcome
        failures = hooks.failures()
        assert len(failures) == 1 and "NotRegularFile" in failures[0], hooks.log_lines()
        assert "not a regular file" in failures[0]
        assert outcome["stderr"] == ""  # the log was written: nothing to say on stderr
        return failures[0]

    @pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
    def test_a_device_is_refused(self, hooks, tmp_path, device):
        assert "character device" in self._attack(hooks, tmp_path, device)

    def test_a_symlink_to_dev_zero_is_refused(self, hooks, tmp_path):
        link = tmp_path / "t.jsonl"
        link.symlink_to("/dev/zero")
        self._attack(hooks, tmp_path, link)

    def test_a_fifo_without_a_writer_does_not_block(self, hooks, tmp_path, fifo):
        assert "a FIFO" in self._attack(hooks, tmp_path, fifo)

    def test_a_fifo_with_a_writer_is_not_read(self, hooks, tmp_path, fifo):
        writer = subprocess.Popen([sys.executable, "-c", FIFO_WRITER, str(fifo)])
        try:
            self._attack(hooks, tmp_path, fifo)
        finally:
            writer.kill()
            writer.wait(timeout=10)

    def test_a_directory_is_refused(self, hooks, tmp_path):
        folder = tmp_path / "t.jsonl"
        folder.mkdir()
        assert "a directory" in self._attack(hooks, tmp_path, folder)

    def test_a_fifo_among_subagent_transcripts_is_passed_over(self, hooks, tmp_path):
        path = tmp_path / "attack.jsonl"
        path.write_text("".join(fixture_lines()))
        subagents = tmp_path / "attack" / "subagents"
        subagents.mkdir(parents=True)
        os.mkfifo(subagents / "agent-x.jsonl")
        (subagents / "agent-y.jsonl").write_text("".join(fixture_lines()))
        outcome = run_measured(hooks, "Stop", _payload(path, tmp_path, "Stop"))
        assert outcome["rc"] == 0 and hooks.failures() == [], hooks.log_lines()
        assert (
            hooks.keys("attack") == hooks.keys("attack:agent-y") == _expected_keys(fixture_lines())
        )

    def test_the_brief_is_still_answered(self, hooks, tmp_path):
        """SessionStart's answer does not depend on its transcript being readable."""
        good = tmp_path / "good.jsonl"
        good.write_text("".join(fixture_lines()))
        first = run_measured(
            hooks, "Stop", {**_payload(good, tmp_path, "Stop"), "session_id": "s1"}
        )
        assert first["rc"] == 0 and hooks.keys("s1")
        outcome = run_measured(hooks, "SessionStart", _payload("/dev/zero", tmp_path))
        answer = json.loads(outcome["stdout"])["hookSpecificOutput"]
        assert answer["hookEventName"] == "SessionStart" and answer["additionalContext"]

    def test_a_detached_hook_on_dev_zero_ends_and_logs(self, hooks, tmp_path):
        hooks.run("PostToolUse", _payload("/dev/zero", tmp_path, "PostToolUse"))  # waits for it
        assert len(hooks.failures()) == 1
        assert "NotRegularFile: /dev/zero is a character device" in hooks.log.read_text()


class TestHugeRegularFiles:
    def test_a_sparse_gigabyte_without_a_newline_is_not_held_in_memory(self, hooks, tmp_path):
        path = tmp_path / "t.jsonl"
        with open(path, "wb") as fh:
            fh.truncate(2 * 1024**3)  # 2 GiB of zeros, no disk used, no line end
        outcome = run_measured(hooks, "Stop", _payload(path, tmp_path, "Stop"))
        assert outcome["rc"] == 0 and outcome["maxrss_kib"] < RSS_BOUND, outcome
        assert hooks.failures() == [] and hooks.keys("attack") == []

    def test_a_line_over_the_cap_is_skipped_and_the_rest_captured(self, hooks, tmp_path):
        path = tmp_path / "t.jsonl"
        lines = fixture_lines()
        with open(path, "wb") as fh:
            fh.write(lines[0].encode())
            fh.seek(fh.tell() + 128 * 1024**2)  # a hole: a 128 MiB line of zeros (cap: 32)
            fh.write(b"\n" + "".join(lines[1:]).encode())
        for _ in range(2):  # scanning past the long line spends one hook's read budget
            outcome = run_measured(hooks, "Stop", _payload(path, tmp_path, "Stop"))
            assert outcome["rc"] == 0 and outcome["maxrss_kib"] < RSS_BOUND, outcome
        assert hooks.failures() == []
        assert hooks.keys("attack") == _expected_keys(lines)

    def test_one_call_reads_at_most_its_budget_and_the_next_goes_on(self, db, settings, tmp_path):
        path = tmp_path / "t.jsonl"
        lines = write_synthetic(path, 3_000_000)
        counts = capture.capture_transcript(
            db,
            settings,
            session_id="b",
            transcript_path=path,
            final=True,
            read_limit=100_000,
            max_bytes=1_000_000,
        )
        assert 1_000_000 <= counts["cursor"] < 1_300_000  # stopped at the budget, on a line end
        assert not counts["pending"]  # not flushed as final: more was left to read
        while counts["cursor"] < path.stat().st_size:
            counts = capture.capture_transcript(
                db, settings, session_id="b", transcript_path=path, final=True, max_bytes=1_000_000
            )
        keys = [r[0] for r in db.execute("SELECT dedup_key FROM messages ORDER BY position")]
        assert keys == _expected_keys(lines)

    def test_one_call_stops_at_its_time_bound(self, db, settings, tmp_path):
        path = tmp_path / "t.jsonl"
        write_synthetic(path, 3_000_000)
        counts = capture.capture_transcript(
            db, settings, session_id="b", transcript_path=path, read_limit=50_000, max_seconds=0
        )
        assert 0 < counts["cursor"] < 100_000  # one step, then the deadline had passed


SLOW_READER = """
import sys, time
from pathlib import Path
from acontext_mcp.capture import claude_code
from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
path, reading, pause = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
real = claude_code.read_lines
def slow(*args, **kwargs):  # a slow disk or network file system: the read takes `pause` s
    reading.touch()
    time.sleep(pause)
    return real(*args, **kwargs)
claude_code.read_lines = slow
settings = Settings.from_env()
conn = open_db(settings)
claude_code.capture_transcript(conn, settings, session_id="slow", transcript_path=path,
                               final=True)
"""


class TestReadingOutsideTheWriteLock:
    def test_another_writer_is_not_blocked_while_a_hook_reads_a_slow_source(self, hooks, tmp_path):
        slow, fast = tmp_path / "slow.jsonl", tmp_path / "fast.jsonl"
        slow.write_text("".join(fixture_lines()))
        fast.write_text("".join(fixture_lines()))
        hooks.run("Stop", _payload(fast, tmp_path, "Stop") | {"session_id": "init"})  # schema
        reading = tmp_path / "reading"
        reader = subprocess.Popen(
            [sys.executable, "-c", SLOW_READER, str(slow), str(reading), "4"], env=hooks.env
        )
        try:
            deadline = time.monotonic() + 30
            while not reading.exists():
                assert time.monotonic() < deadline and reader.poll() is None
                time.sleep(0.01)
            started = time.monotonic()
            conn = sqlite3.connect(hooks.home / "acontext.db", timeout=0.5, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")  # "database is locked" if the reader held the lock
            conn.execute("COMMIT")
            conn.close()
            hooks.run("Stop", _payload(fast, tmp_path, "Stop") | {"session_id": "fast"})
            assert time.monotonic() - started < 3 and reader.poll() is None  # still reading
            assert hooks.keys("fast") == _expected_keys(fixture_lines())
            assert reader.wait(timeout=60) == 0
        finally:
            if reader.poll() is None:
                reader.send_signal(signal.SIGKILL)
                reader.wait()
        assert hooks.keys("slow") == _expected_keys(fixture_lines())

    def test_a_chunk_another_writer_stored_first_is_not_stored_again(
        self, db, settings, tmp_path, monkeypatch
    ):
        """The compare-and-commit: a read that lost the race re-reads from the new cursor."""
        path = tmp_path / "t.jsonl"
        lines = write_synthetic(path, 200_000)
        real = capture.read_lines
        raced = threading.Event()

        def racing(*args: Any, **kwargs: Any) -> Any:
            chunk = real(*args, **kwargs)
            if not raced.is_set():  # while this read is in hand, another writer stores it all
                raced.set()
                from acontext_mcp.store.db import open_db

                conn = open_db(settings)
                monkeypatch.setattr(capture, "read_lines", real)
                capture.capture_transcript(
                    conn, settings, session_id="r", transcript_path=path, final=True
                )
                monkeypatch.setattr(capture, "read_lines", racing)
                conn.close()
            return chunk

        monkeypatch.setattr(capture, "read_lines", racing)
        counts = capture.capture_transcript(
            db, settings, session_id="r", transcript_path=path, final=True
        )
        assert raced.is_set() and counts["stored"] == 0 and counts["duplicates"] == 0
        keys = [r[0] for r in db.execute("SELECT dedup_key FROM messages ORDER BY position")]
        assert keys == _expected_keys(lines)


class TestReadLinesDirectly:
    def test_every_special_file_raises_at_once(self, tmp_path, fifo):
        from acontext_mcp.capture.transcript import NotRegularFile, read_lines

        folder = tmp_path / "dir"
        folder.mkdir()
        for path in ("/dev/zero", "/dev/null", str(fifo), str(folder)):
            with pytest.raises(NotRegularFile):
                read_lines(path)


class TestALogThatCannotBeWritten:
    """Fail-open stays open, but not silent: one short line on stderr says the log is lost."""

    def _run(
        self, hooks: Hooks, event: str, data: bytes, **extra: str
    ) -> subprocess.CompletedProcess:
        cmd, env = [str(BIN), "hook", "claude-code", event], {**hooks.env, **extra}
        proc = subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=HOOK_TIMEOUT)
        assert proc.returncode == 0
        return proc

    def _said(self, proc: subprocess.CompletedProcess, event: str) -> str:
        lines = proc.stderr.decode().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"acontext-mcp hook claude-code {event}: ")
        assert "hook log not written" in lines[0] and len(lines[0]) <= 300
        return lines[0]

    def test_a_detached_event_says_so_instead_of_vanishing(self, hooks):
        hooks.home.mkdir(parents=True)
        (hooks.home / "logs").write_text("a file where the logs folder should be")
        proc = self._run(hooks, "PostToolUse", b"{broken")
        assert proc.stdout == b""
        assert "error JSONDecodeError" in self._said(proc, "PostToolUse")

    def test_it_still_captures(self, hooks, tmp_path):
        (hooks.home / "logs" / "hooks.log").mkdir(parents=True)  # a folder in the log's place
        path = tmp_path / "t.jsonl"
        path.write_text("".join(fixture_lines()))
        data = json.dumps(_payload(path, tmp_path, "PostToolUse")).encode()
        assert ": ok;" in self._said(self._run(hooks, "PostToolUse", data), "PostToolUse")
        assert hooks.keys("attack")

    def test_an_inline_failure_is_one_line_not_a_traceback(self, hooks):
        (hooks.home / "logs" / "hooks.log").mkdir(parents=True)
        proc = self._run(hooks, "SessionStart", b"{broken")
        assert proc.stdout == b""
        self._said(proc, "SessionStart")

    def test_a_fifo_in_the_logs_place_does_not_hang_the_hook(self, hooks, tmp_path):
        (hooks.home / "logs").mkdir(parents=True)
        os.mkfifo(hooks.home / "logs" / "hooks.log")
        for event, inline in (("SessionStart", "0"), ("PostToolUse", "1")):
            data = json.dumps(_payload(tmp_path / "none.jsonl", tmp_path, event)).encode()
            self._said(self._run(hooks, event, data, ACONTEXT_HOOK_INLINE=inline), event)


class TestImport:
    def test_a_transcript_swapped_for_a_fifo_after_discovery_is_an_error_not_a_hang(
        self, db, settings, tmp_path, fifo
    ):
        from acontext_mcp.capture.importer import discover, import_transcripts

        folder = tmp_path / "projects" / "-p"
        folder.mkdir(parents=True)
        good, swapped = folder / "good.jsonl", folder / "swapped.jsonl"
        good.write_text("".join(fixture_lines()))
        swapped.write_text("".join(fixture_lines()))
        found = discover(folder)
        swapped.unlink()
        os.rename(fifo, swapped)  # between discovery and import
        result: list[Any] = []
        run = lambda: result.append(import_transcripts(db, settings, found))  # noqa: E731
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=HOOK_TIMEOUT)
        assert result, "import blocked on a FIFO"
        stats = result[0]
        assert stats.sessions == 1 and stats.failed == 1
        assert stats.errors[0]["path"] == str(swapped) and "a FIFO" in stats.errors[0]["error"]


def _spoil_log(home: Path, how: str) -> None:
    """Put something that cannot take log lines where <home>/logs/hooks.log goes."""
    if how == "logs-is-a-file":
        home.mkdir(parents=True)
        (home / "logs").write_text("not a folder")
    elif how == "log-is-a-folder":
        (home / "logs" / "hooks.log").mkdir(parents=True)
    else:
        (home / "logs").mkdir(parents=True)
        os.mkfifo(home / "logs" / "hooks.log")


SPOILED = ["logs-is-a-file", "log-is-a-folder", "log-is-a-fifo"]


class TestShimsWithALogThatCannotBeWritten:
    @pytest.mark.parametrize("how", SPOILED)
    @pytest.mark.parametrize("name", sorted(SHIMS))
    def test_without_an_install_they_say_so_on_stderr(self, tmp_path, name, how):
        script, args = SHIMS[name]
        env = shim_env(tmp_path, PATH=SYSTEM_PATH)
        env.pop("ACONTEXT_MCP_BIN", None)
        _spoil_log(tmp_path / "home", how)
        done = run_shim(script, args, b"{}", env)  # within its timeout: a FIFO does not hang it
        assert (done.returncode, done.stdout) == (0, b"")
        lines = done.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("acontext-mcp hook: "), lines
        assert "skipped" in lines[0] and "not written" in lines[0]

    @pytest.mark.parametrize("how", SPOILED)
    def test_the_plugin_shim_never_fails_the_host_over_its_log(self, tmp_path, how):
        """Its `exec 2>>hooks.log` on a folder ended the shell with status 2: in Claude Code a
        blocking hook error, which for Stop is fed back to the model."""
        env = shim_env(tmp_path, ACONTEXT_MCP_BIN=str(BIN))
        _spoil_log(tmp_path / "home", how)
        done = run_shim(PLUGIN, ["claude-code", "SessionStart"], b"{broken", env)
        assert (done.returncode, done.stdout) == (0, b"")
        lines = done.stderr.decode().splitlines()
        assert len(lines) == 1 and "hook log not written" in lines[0], lines
