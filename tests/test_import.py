"""`acontext-mcp import claude-code`: backfilling real transcript trees, exactly once.

Trees are built in tmp dirs from the real Claude Code fixtures (tests/fixtures/claude_code),
laid out as Claude Code lays them out; `synth.py` makes many sessions with fresh ids. The CLI
runs as the installed console script in a subprocess with its own ACONTEXT_HOME.
"""

from __future__ import annotations

import io
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

from acontext_mcp.capture import importer
from acontext_mcp.capture.brief import build_brief
from acontext_mcp.capture.claude_code import capture_transcript, subagent_session_id
from acontext_mcp.capture.gaps import epoch
from acontext_mcp.privacy.switches import set_project_capture, set_session_capture
from acontext_mcp.progress import Progress, clock_text, human_bytes
from acontext_mcp.store.sessions import get_session, list_sessions

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
sys.path.insert(0, str(FIXTURES))
from synth import fixture_lines, fresh_copy  # noqa: E402

BIN = Path(sys.executable).parent / "acontext-mcp"
MULTI_SID = "59315eed-cb7d-45af-84ed-954a84566b96"
SUB_SID = "2d776706-df57-46a8-a7d0-ccc9bdce23ff"
AGENT_ID = "a5e4aee9ab7b9499b"
AGENT_NAME = f"agent-{AGENT_ID}"
FIXTURE_CWD = "/tmp/cc-fixture-project"
OLD = time.time() - 3600  # quiet for an hour: outside the live window


# --- Building trees ---


def retarget(lines: list[str], project: Path) -> list[str]:
    """The lines with the fixture's cwd replaced, so capture switches can live in tmp dirs."""
    return [line.replace(FIXTURE_CWD, str(project)) for line in lines]


def write(path: Path, lines: list[str], mtime: float | None = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def expected_keys(lines: list[str]) -> list[str]:
    """The oracle: one key per user line (not compaction summaries) and per assistant id."""
    keys: list[str] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("type") == "user" and not record.get("isCompactSummary"):
            keys.append("id:" + record["uuid"])
        elif record.get("type") == "assistant":
            key = "id:" + record["message"]["id"]
            if key not in keys:
                keys.append(key)
    return keys


class Tree:
    """A Claude Code projects folder: the two real sessions, the subagent, their projects."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "claude" / "projects"
        self.project_a = tmp_path / "work" / "alpha"
        self.project_b = tmp_path / "work" / "bravo"
        for p in (self.project_a, self.project_b):
            p.mkdir(parents=True)
        self.multi = retarget(fixture_lines("multi_turn.jsonl"), self.project_a)
        self.sub = retarget(fixture_lines("subagent.jsonl"), self.project_b)
        self.agent = retarget(
            fixture_lines(f"subagent/subagents/{AGENT_NAME}.jsonl"), self.project_b
        )
        self.multi_path = write(self.root / "-work-alpha" / f"{MULTI_SID}.jsonl", self.multi)
        self.sub_path = write(self.root / "-work-bravo" / f"{SUB_SID}.jsonl", self.sub)
        agents = self.root / "-work-bravo" / SUB_SID / "subagents"
        self.agent_path = write(agents / f"{AGENT_NAME}.jsonl", self.agent)
        shutil.copy(FIXTURES / "subagent" / "subagents" / f"{AGENT_NAME}.meta.json", agents)
        self.agent_sid = subagent_session_id(SUB_SID, AGENT_ID)

    def expected(self) -> dict[str, list[str]]:
        return {
            MULTI_SID: expected_keys(self.multi),
            SUB_SID: expected_keys(self.sub),
            self.agent_sid: expected_keys(self.agent),
        }


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def keys(db: sqlite3.Connection, session_id: str) -> list[str]:
    rows = db.execute(
        "SELECT dedup_key FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
        (session_id,),
    ).fetchall()
    return [r[0] for r in rows]


def total_messages(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]


def run_import(db, settings, root, **kw: Any) -> importer.ImportStats:
    return importer.import_transcripts(db, settings, importer.discover(root), **kw)


def cli(*args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 120):
    full = {**os.environ, "ACONTEXT_HOME": str(home), **(env or {})}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=full, timeout=timeout
    )


def store_count(home: Path) -> int:
    conn = sqlite3.connect(home / "acontext.db")
    try:
        return conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        conn.close()


def many_sessions(root: Path, project: Path, n: int, copies: int = 1, small: bool = False):
    """`n` sessions with fresh ids over a few project folders; returns all their lines."""
    base = retarget(fixture_lines("multi_turn.jsonl"), project)
    if small:  # only conversation lines: a few kB a session
        base = [x for x in base if json.loads(x)["type"] in ("user", "assistant", "system")]
    every: dict[Path, list[str]] = {}
    for i in range(n):
        lines = [line for _ in range(copies) for line in fresh_copy(base)]
        sid = json.loads(next(x for x in lines if '"sessionId"' in x))["sessionId"]
        every[write(root / f"-work-p{i % 5}" / f"{sid}.jsonl", lines)] = lines
    return every


# --- Exactly once ---


class TestExactlyOnce:
    def test_every_session_and_subagent_is_stored_once(self, tree: Tree, settings, db) -> None:
        stats = run_import(db, settings, tree.root)
        expected = tree.expected()
        for sid, want in expected.items():
            assert keys(db, sid) == want, sid
        assert stats.stored == sum(len(v) for v in expected.values())
        assert (stats.sessions, stats.subagents, stats.failed, stats.off) == (2, 1, 0, 0)
        assert stats.files_done == stats.files_total == 3
        assert stats.bytes_done == stats.bytes_total == stats.bytes_read

    def test_a_second_run_reads_nothing_and_stores_nothing(self, tree: Tree, settings, db):
        run_import(db, settings, tree.root)
        before = total_messages(db)
        again = run_import(db, settings, tree.root)
        assert (again.stored, again.duplicates, again.bytes_read) == (0, 0, 0)
        assert again.files_done == 3 and total_messages(db) == before

    def test_only_what_was_appended_is_read_on_the_next_run(self, tree: Tree, settings, db):
        run_import(db, settings, tree.root)
        more = fresh_copy(tree.multi)
        with open(tree.multi_path, "a", encoding="utf-8") as fh:
            fh.write("".join(more))
        os.utime(tree.multi_path, (OLD, OLD))
        again = run_import(db, settings, tree.root)
        assert again.bytes_read == sum(len(x.encode()) for x in more)
        assert again.stored == len(expected_keys(more))
        assert keys(db, MULTI_SID) == expected_keys(tree.multi + more)

    def test_subagents_are_linked_to_their_parent(self, tree: Tree, settings, db) -> None:
        run_import(db, settings, tree.root)
        child = get_session(db, tree.agent_sid)
        assert child["parent_id"] == SUB_SID
        assert get_session(db, SUB_SID)["parent_id"] is None
        assert child["project_dir"] == str(tree.project_b)

    def test_the_project_is_the_transcripts_cwd_not_the_folder_slug(self, tree, settings, db):
        run_import(db, settings, tree.root)
        assert get_session(db, MULTI_SID)["project_dir"] == str(tree.project_a)
        assert get_session(db, SUB_SID)["project_dir"] == str(tree.project_b)

    def test_import_and_live_hooks_share_cursors(self, tree: Tree, settings, db) -> None:
        """The hook path after an import reads nothing new and stores nothing twice."""
        run_import(db, settings, tree.root)
        again = capture_transcript(
            db, settings, session_id=MULTI_SID, transcript_path=tree.multi_path, final=True
        )
        assert (again["stored"], again["duplicates"]) == (0, 0)


# --- Transcript times ---


TASKS_SID = "aaf8a650-254d-4544-be30-16ca44948152"  # tasks.jsonl: 2026-12-02, after multi_turn


def message_span(db: sqlite3.Connection, session_id: str) -> tuple[float, float]:
    """(first, last) stamp of the session's stored messages, as epoch seconds."""
    stamps = [
        epoch(r[0])
        for r in db.execute(
            "SELECT json_extract(meta, '$.timestamp') FROM messages WHERE "
            "session_seq = (SELECT seq FROM sessions WHERE id = ?) "
            "ORDER BY position",
            (session_id,),
        )
    ]
    return stamps[0], max(stamps)


def session_times(db: sqlite3.Connection) -> dict[str, tuple[float, float]]:
    rows = db.execute("SELECT id, created_at, updated_at FROM sessions").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


class TestTranscriptTimes:
    def test_sessions_keep_their_transcripts_times_and_order(self, tmp_path, settings, db):
        """The later conversation is imported first (its file is older on disk): sessions and
        the brief's recent sessions still follow when they happened, not the import."""
        root, project = tmp_path / "projects", tmp_path / "work" / "alpha"
        project.mkdir(parents=True)
        tasks = retarget(fixture_lines("tasks.jsonl"), project)
        write(root / "-work-alpha" / f"{TASKS_SID}.jsonl", tasks, mtime=OLD - 60)
        write(root / "-work-alpha" / f"{MULTI_SID}.jsonl", retarget(fixture_lines(), project))
        assert [t.path.stem for t in importer.discover(root).transcripts] == [TASKS_SID, MULTI_SID]
        before = time.time()
        run_import(db, settings, root)
        times = session_times(db)
        for sid in (TASKS_SID, MULTI_SID):
            assert times[sid] == message_span(db, sid)  # not the import's clock
            assert times[sid][1] < before
        assert times[MULTI_SID][1] < times[TASKS_SID][0]  # multi_turn happened first
        listed = [s["id"] for s in list_sessions(db)["sessions"]]
        assert listed == [TASKS_SID, MULTI_SID]  # newest conversation first
        brief = build_brief(db, settings, project_dir=str(project), session_id="now")
        recent = brief.split("Recent sessions in this project (newest first):")[1]
        assert recent.index("TASK") < recent.index("ALPHA")
        when = time.strftime("%Y-%m-%d", time.localtime(times[TASKS_SID][1]))
        assert f"- {when}" in recent

    def test_an_import_that_stores_nothing_changes_no_session(self, tree: Tree, settings, db):
        run_import(db, settings, tree.root)
        first = session_times(db)
        for path in (tree.multi_path, tree.sub_path, tree.agent_path):
            os.utime(path, (OLD + 5, OLD + 5))  # touched, not grown
        again = run_import(db, settings, tree.root)
        assert again.stored == 0 and again.sessions == 2 and again.subagents == 1
        assert session_times(db) == first  # not even updated_at moved

    def test_new_lines_move_updated_at_to_their_own_time(self, tree: Tree, settings, db):
        run_import(db, settings, tree.root)
        created, _ = session_times(db)[MULTI_SID]
        turn = [
            line.replace("2026-11-23T19:53", "2026-11-24T08:00")
            for line in fresh_copy(tree.multi[:4])
        ]
        write(tree.multi_path, tree.multi + turn)
        assert run_import(db, settings, tree.root).stored > 0
        assert session_times(db)[MULTI_SID] == (created, epoch(json.loads(turn[2])["timestamp"]))


# --- Layouts ---


class TestLayouts:
    def test_older_agent_files_next_to_the_session_are_linked_by_their_session_id(
        self, tmp_path: Path, settings, db
    ) -> None:
        folder = tmp_path / "projects" / "-p"
        write(folder / f"{SUB_SID}.jsonl", fixture_lines("subagent.jsonl"))
        agent = fixture_lines(f"subagent/subagents/{AGENT_NAME}.jsonl")
        write(folder / f"{AGENT_NAME}.jsonl", agent)
        stats = run_import(db, settings, tmp_path / "projects")
        sid = subagent_session_id(SUB_SID, AGENT_ID)
        assert (stats.sessions, stats.subagents) == (1, 1)
        assert get_session(db, sid)["parent_id"] == SUB_SID
        assert keys(db, sid) == expected_keys(agent)

    def test_subagents_whose_session_file_is_gone_are_still_linked(self, tree, settings, db):
        tree.sub_path.unlink()
        stats = run_import(db, settings, tree.root)
        assert (stats.sessions, stats.subagents) == (1, 1)
        assert get_session(db, tree.agent_sid)["parent_id"] == SUB_SID

    def test_dir_may_be_one_project_folder_or_one_file(self, tree: Tree, settings, db) -> None:
        one_project = run_import(db, settings, tree.sub_path.parent)
        assert (one_project.sessions, one_project.subagents) == (1, 1)
        one_file = run_import(db, settings, tree.multi_path)
        assert (one_file.sessions, one_file.stored) == (1, len(expected_keys(tree.multi)))

    def test_sessions_come_oldest_first_each_followed_by_its_subagents(self, tree: Tree):
        os.utime(tree.sub_path, (OLD - 100, OLD - 100))
        order = [t.path for t in importer.discover(tree.root).transcripts]
        assert order == [tree.sub_path, tree.agent_path, tree.multi_path]

    def test_the_default_root_follows_claude_config_dir(self, tmp_path, monkeypatch) -> None:
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cc"))
        assert importer.default_root() == tmp_path / "cc" / "projects"
        monkeypatch.delenv("CLAUDE_CONFIG_DIR")
        assert importer.default_root() == Path.home() / ".claude" / "projects"


# --- Damage ---


class TestDamage:
    def test_corrupt_lines_are_counted_and_the_valid_ones_stored(self, tmp_path, settings, db):
        lines = fixture_lines("multi_turn.jsonl")
        junk = ["{not json\n", "\x00\x01garbage\n", "[1, 2]\n"]
        mixed = lines[:30] + junk + lines[30:]
        path = write(tmp_path / "projects" / "-p" / f"{MULTI_SID}.jsonl", mixed)
        with open(path, "ab") as fh:
            fh.write(b"\xff\xfe invalid utf-8 \xc3\n")
        stats = run_import(db, settings, tmp_path / "projects")
        assert stats.failed == 0 and stats.invalid_lines == 4
        assert keys(db, MULTI_SID) == expected_keys(lines)

    def test_a_file_that_vanishes_after_discovery_is_reported_and_the_rest_imported(
        self, tree: Tree, settings, db
    ) -> None:
        found = importer.discover(tree.root)
        tree.multi_path.unlink()
        stats = importer.import_transcripts(db, settings, found)
        assert stats.failed == 1
        assert stats.errors == [
            {"path": str(tree.multi_path), "error": "No such file or directory"}
        ]
        assert keys(db, SUB_SID) == tree.expected()[SUB_SID]
        assert stats.files_done == 3

    @pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
    def test_a_file_without_read_permission_is_reported(self, tree: Tree, settings, db):
        tree.multi_path.chmod(0)
        try:
            stats = run_import(db, settings, tree.root)
        finally:
            tree.multi_path.chmod(0o644)
        assert stats.errors == [{"path": str(tree.multi_path), "error": "Permission denied"}]
        assert keys(db, SUB_SID) == tree.expected()[SUB_SID]

    def test_a_broken_file_fails_alone(self, tree, settings, db, monkeypatch) -> None:
        """Whatever goes wrong inside one file (here: injected at our seam) is that file's."""
        real = importer.capture_transcript

        def flaky(*args: Any, **kw: Any) -> Any:
            if kw["session_id"] == SUB_SID:
                raise RuntimeError("boom")
            return real(*args, **kw)

        monkeypatch.setattr(importer, "capture_transcript", flaky)
        stats = run_import(db, settings, tree.root)
        assert stats.errors == [{"path": str(tree.sub_path), "error": "RuntimeError: boom"}]
        assert keys(db, MULTI_SID) == tree.expected()[MULTI_SID]
        assert keys(db, tree.agent_sid) == tree.expected()[tree.agent_sid]

    def test_a_store_failure_stops_the_import(self, tree, settings, db, monkeypatch) -> None:
        def locked(*args: Any, **kw: Any) -> Any:
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(importer, "capture_transcript", locked)
        with pytest.raises(sqlite3.OperationalError):
            run_import(db, settings, tree.root)


# --- Capture switches ---


class TestCaptureSwitches:
    def test_a_project_switched_off_is_skipped_and_counted(self, tree: Tree, settings, db):
        set_project_capture(tree.project_b, False)
        stats = run_import(db, settings, tree.root)
        assert stats.off == 2  # the session and its subagent
        assert keys(db, SUB_SID) == [] and keys(db, tree.agent_sid) == []
        assert keys(db, MULTI_SID) == tree.expected()[MULTI_SID]
        assert all("capture is off for this project" in why for why in stats.off_reasons)

    def test_a_session_switched_off_skips_it_and_its_subagents(self, tree, settings, db):
        set_session_capture(settings, SUB_SID, False)
        stats = run_import(db, settings, tree.root)
        assert stats.off == 2 and stats.stored == len(tree.expected()[MULTI_SID])

    def test_config_exclusions_apply(self, tree: Tree, settings, db) -> None:
        config = {"capture": {"exclude_projects": [str(tree.project_a)]}}
        (settings.home / "config.json").write_text(json.dumps(config))
        stats = run_import(db, settings, tree.root)
        assert stats.off == 1 and keys(db, MULTI_SID) == []

    def test_switched_off_sessions_are_imported_once_switched_back_on(self, tree, settings, db):
        set_session_capture(settings, MULTI_SID, False)
        run_import(db, settings, tree.root)
        set_session_capture(settings, MULTI_SID, True)
        stats = run_import(db, settings, tree.root)
        assert stats.stored == len(tree.expected()[MULTI_SID])


# --- Live sessions ---


CUT_IN_MESSAGE = 21  # after the thinking and text lines of msg_1062826d, before its tool calls
CUT_AT_TURN_END = 42  # after the first turn's Stop


def _message_parts(db: sqlite3.Connection, sid: str, key: str) -> list[str]:
    row = db.execute(
        "SELECT parts FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?) AND dedup_key = ?",
        (sid, key),
    ).fetchone()
    return [p["type"] for p in json.loads(row[0])]


class TestLiveSessions:
    """A transcript still being written when it is imported: the live session's hooks go on
    from the import's cursor, so each message is stored once and whole."""

    def _partial(self, tmp_path: Path, cut: int) -> tuple[Path, list[str]]:
        lines = fixture_lines("multi_turn.jsonl")
        assert json.loads(lines[CUT_IN_MESSAGE - 1])["message"]["id"].startswith("msg_1062826d")
        path = write(tmp_path / "projects" / "-p" / f"{MULTI_SID}.jsonl", lines[:cut], mtime=None)
        return path, lines

    def _continue_as_the_hooks_do(self, db, settings, path: Path, lines: list[str], cut: int):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(lines[cut:]))
        for final in (False, True):  # PostToolUse, then Stop
            capture_transcript(
                db, settings, session_id=MULTI_SID, transcript_path=path, final=final
            )

    def test_a_live_file_is_imported_then_continued_by_its_hooks_exactly_once(
        self, tmp_path, settings, db
    ) -> None:
        path, lines = self._partial(tmp_path, CUT_IN_MESSAGE)
        stats = run_import(db, settings, tmp_path / "projects")
        assert (stats.live, stats.waiting) == (1, 1)  # the growing message was held back
        self._continue_as_the_hooks_do(db, settings, path, lines, CUT_IN_MESSAGE)
        assert keys(db, MULTI_SID) == expected_keys(lines)
        parts = _message_parts(db, MULTI_SID, "id:" + json.loads(lines[19])["message"]["id"])
        assert parts == ["thinking", "text", "tool-call", "tool-call"]

    def test_flushing_a_live_file_still_ends_whole(self, tmp_path, settings, db):
        """With the live window off (0 s) the import flushes the message being written; its
        later blocks then extend the same row (capture's extend_message): exactly once, whole."""
        path, lines = self._partial(tmp_path, CUT_IN_MESSAGE)
        run_import(db, settings, tmp_path / "projects", live_window=0)
        self._continue_as_the_hooks_do(db, settings, path, lines, CUT_IN_MESSAGE)
        stored = keys(db, MULTI_SID)
        assert stored == expected_keys(lines) and len(set(stored)) == len(stored)
        parts = _message_parts(db, MULTI_SID, "id:" + json.loads(lines[19])["message"]["id"])
        assert parts == ["thinking", "text", "tool-call", "tool-call"]

    def test_a_file_cut_between_turns_is_whole_either_way(self, tmp_path, settings, db) -> None:
        path, lines = self._partial(tmp_path, CUT_AT_TURN_END)
        run_import(db, settings, tmp_path / "projects", live_window=0)
        self._continue_as_the_hooks_do(db, settings, path, lines, CUT_AT_TURN_END)
        assert keys(db, MULTI_SID) == expected_keys(lines)
        parts = _message_parts(db, MULTI_SID, "id:" + json.loads(lines[19])["message"]["id"])
        assert parts == ["thinking", "text", "tool-call", "tool-call"]

    def test_a_live_file_left_alone_is_completed_by_the_next_import(self, tmp_path, settings, db):
        path, lines = self._partial(tmp_path, CUT_IN_MESSAGE)
        run_import(db, settings, tmp_path / "projects")
        os.utime(path, (OLD, OLD))  # the session died: the file went quiet
        stats = run_import(db, settings, tmp_path / "projects")
        assert (stats.live, stats.waiting) == (0, 0)
        assert keys(db, MULTI_SID) == expected_keys(lines[:CUT_IN_MESSAGE])

    def test_a_finished_subagent_is_flushed_even_when_recent(self, tree: Tree, settings, db):
        now = time.time()
        os.utime(tree.agent_path, (now, now))  # its meta.json says finished: true
        stats = run_import(db, settings, tree.root)
        assert stats.live == 0 and keys(db, tree.agent_sid) == tree.expected()[tree.agent_sid]


# --- The command line ---


class TestCommandLine:
    def test_import_twice_with_progress_then_nothing_new(self, tmp_path: Path, tree: Tree):
        """The real console script: progress on stderr, a rerun stores 0, the count holds."""
        every = many_sessions(tree.root, tree.project_a, 105, small=True)
        home = tmp_path / "home-cli"
        first = cli("import", "claude-code", str(tree.root), home=home)
        assert first.returncode == 0, first.stderr
        err = first.stderr
        assert "importing 108 transcripts" in err and str(tree.root) in err
        assert "100/108 files" in err and "MB/s" in err and "ETA" in err  # the every-N line
        want = sum(len(v) for v in tree.expected().values())
        want += sum(len(expected_keys(lines)) for lines in every.values())
        assert f"{want:,} messages stored" in err.splitlines()[-1]
        assert first.stdout == ""
        assert store_count(home) == want

        second = cli("import", "claude-code", str(tree.root), "--json", home=home)
        assert second.returncode == 0, second.stderr
        counts = json.loads(second.stdout)
        assert (counts["stored"], counts["bytes_read"], counts["files_done"]) == (0, 0, 108)
        assert counts["mb_per_s"] is None  # no throughput for nothing read
        last = second.stderr.splitlines()[-1]
        assert last.endswith("already there, nothing new since the last import"), last
        assert "MB/s" not in last
        assert (counts["sessions"], counts["subagents"], counts["failed"]) == (107, 1, 0)
        assert store_count(home) == want
        status = json.loads(cli("status", "--json", home=home).stdout)
        assert status["messages"] == want

    def test_dry_run_lists_sizes_and_writes_nothing(self, tmp_path: Path, tree: Tree) -> None:
        home = tmp_path / "home-dry"
        listed = cli("import", "claude-code", str(tree.root), "--dry-run", home=home)
        assert listed.returncode == 0, listed.stderr
        assert not home.exists()
        out = listed.stdout
        assert f"-work-alpha/{MULTI_SID}.jsonl" in out and f"{AGENT_NAME}.jsonl" in out
        assert human_bytes(tree.multi_path.stat().st_size) in out
        assert "in 3 transcripts" in out.splitlines()[-1]
        cli("import", "claude-code", str(tree.root), "-q", home=home)
        after = json.loads(
            cli("import", "claude-code", str(tree.root), "--dry-run", "--json", home=home).stdout
        )
        assert after["new_bytes"] == 0 and after["bytes"] == sum(f["size"] for f in after["files"])
        assert {f["action"] for f in after["files"]} == {"import"}

    def test_quiet_is_silent_and_json_has_the_counts(self, tmp_path: Path, tree: Tree) -> None:
        home = tmp_path / "home-q"
        done = cli("import", "claude-code", str(tree.root), "--quiet", "--json", home=home)
        assert done.returncode == 0 and done.stderr == ""
        counts = json.loads(done.stdout)
        assert counts["stored"] == sum(len(v) for v in tree.expected().values())
        assert counts["root"] == str(tree.root) and counts["interrupted"] is False

    def test_an_unreadable_file_is_reported_counted_and_the_rest_imported(
        self, tmp_path: Path, tree: Tree
    ) -> None:
        dangling = tree.root / "-work-alpha" / "0badf11e-0000-4000-8000-000000000000.jsonl"
        dangling.symlink_to(tmp_path / "gone.jsonl")
        home = tmp_path / "home-bad"
        done = cli("import", "claude-code", str(tree.root), "--json", home=home)
        assert done.returncode == 1
        assert f"acontext-mcp: {dangling}: No such file or directory" in done.stderr
        assert "1 failed" in done.stderr
        counts = json.loads(done.stdout)
        assert counts["failed"] == 1 and counts["files_done"] == 4
        assert counts["stored"] == sum(len(v) for v in tree.expected().values())

    def test_the_default_root_is_claude_config_dir_projects(self, tmp_path: Path, tree: Tree):
        env = {"CLAUDE_CONFIG_DIR": str(tree.root.parent)}
        done = cli("import", "claude-code", "--json", "-q", home=tmp_path / "h", env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["root"] == str(tree.root)

    def test_a_missing_dir_is_an_error_that_says_what_to_pass(self, tmp_path: Path) -> None:
        done = cli("import", "claude-code", str(tmp_path / "nope"), home=tmp_path / "h")
        assert done.returncode == 1
        assert "does not exist" in done.stderr and "project folders" in done.stderr

    def test_an_empty_tree_imports_nothing(self, tmp_path: Path) -> None:
        (tmp_path / "empty").mkdir()
        done = cli("import", "claude-code", str(tmp_path / "empty"), home=tmp_path / "h")
        assert done.returncode == 0 and "no Claude Code transcripts" in done.stderr

    @pytest.mark.parametrize(
        ("presses", "sessions", "copies"),
        [(1, 60, 2), (2, 4, 40)],  # a second press must land inside a file: 8 MB ones
        ids=["once: stop after the file", "twice: stop at once"],
    )
    def test_ctrl_c_keeps_what_was_committed_and_a_rerun_completes(
        self, tmp_path: Path, presses: int, sessions: int, copies: int
    ) -> None:
        root = tmp_path / "projects"
        every = many_sessions(root, tmp_path, sessions, copies=copies)
        want = sum(len(expected_keys(lines)) for lines in every.values())
        home = tmp_path / "home-int"
        env = {**os.environ, "ACONTEXT_HOME": str(home)}
        proc = subprocess.Popen(
            [str(BIN), "import", "claude-code", str(root), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert f"importing {sessions} transcripts" in proc.stderr.readline()  # handler is set
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # press while a file is being imported
                if (home / "acontext.db").exists():
                    try:
                        if store_count(home):
                            break
                    except sqlite3.OperationalError:
                        pass  # the schema is still being created
                time.sleep(0.01)
            for _ in range(presses):
                proc.send_signal(signal.SIGINT)
                time.sleep(0.05)
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        assert proc.returncode == 130, err
        assert "run the same command again to resume" in err
        counts = json.loads(out)
        assert counts["interrupted"] is True and counts["files_done"] < sessions
        kept = store_count(home)
        assert kept < want
        again = cli("import", "claude-code", str(root), "--json", "-q", home=home)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["stored"] == want - kept
        assert store_count(home) == want


# --- Progress bar ---


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestProgress:
    def test_without_a_terminal_a_line_every_interval_or_every_n_items(self) -> None:
        out, clock = io.StringIO(), FakeClock()
        bar = Progress(10_000_000, stream=out, tty=False, interval=5, every=3, clock=clock)
        for i in range(1, 3):
            clock.now += 1
            bar.update(i * 1_000_000, count=i, detail=f"{i}/10 files")
        assert out.getvalue() == ""
        bar.update(3_000_000, count=3, detail="3/10 files")  # every 3 items
        clock.now += 5
        bar.update(3_500_000, count=4, detail="4/10 files")  # 5 seconds later
        lines = out.getvalue().splitlines()
        assert lines[0] == " 30%  3.0 MB/10.0 MB  3/10 files  1.5 MB/s  ETA 0:05"
        assert lines[1].startswith(" 35%  3.5 MB/10.0 MB  4/10 files")
        bar.close()
        assert len(out.getvalue().splitlines()) == 2  # the caller prints the summary

    def test_on_a_terminal_the_line_is_redrawn_in_place(self) -> None:
        out, clock = io.StringIO(), FakeClock()
        bar = Progress(1000, stream=out, tty=True, clock=clock)
        bar.update(0, detail="0/2 files")
        clock.now += 1
        bar.update(500, detail="1/2 files")
        clock.now += 0.01
        bar.update(600, detail="skipped: redraws are throttled")
        clock.now += 1
        bar.update(1000, detail="2/2 files")
        bar.close()
        text = out.getvalue()
        assert text.count("\n") == 1 and text.endswith("\n")
        frames = text.rstrip("\n").split("\r")[1:]
        assert "[" in frames[0] and "0/2 files" in frames[0] and "ETA --:--" in frames[0]
        assert "throttled" not in text
        assert "100%" in frames[-1] and "#" * 10 in frames[-1]

    def test_a_note_does_not_garble_the_bar(self) -> None:
        out = io.StringIO()
        bar = Progress(10, stream=out, tty=True, clock=FakeClock())
        bar.update(5, detail="half")
        bar.note("stopping after the current file")
        text = out.getvalue()
        assert "\rstopping after the current file\n\r" in text  # bar erased, note, bar again
        assert text.rsplit("\r", 1)[1].endswith("ETA --:--") or "half" in text.rsplit("\r", 1)[1]

    def test_units(self) -> None:
        assert [human_bytes(n) for n in (0, 999, 1000, 48_123_000, 2e9)] == [
            "0 B",
            "999 B",
            "1.0 kB",
            "48.1 MB",
            "2.0 GB",
        ]
        assert [clock_text(s) for s in (0, 61, 3725)] == ["0:00", "1:01", "1:02:05"]
