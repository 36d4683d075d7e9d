"""`acontext-mcp forget` and `export`/`import FILE`: what a user asked to forget is gone, and a
backup restores exactly what was there.

Stores are real SQLite files with blobs on disk; transcripts are the real Claude Code
fixtures; the CLI runs as the installed console script (on a pseudo-terminal where it asks).
"""

from __future__ import annotations

import base64
import json
import os
import pty
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.capture import importer
from acontext_mcp.capture.claude_code import capture_transcript, cursor_key
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.store import forget
from acontext_mcp.store.blobs import blob_path
from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.events import add_event
from acontext_mcp.store.export import write_export
from acontext_mcp.store.learning import add_learning, attach_session
from acontext_mcp.store.messages import store_messages
from acontext_mcp.store.restore import restore
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.skill_uses import record_use
from acontext_mcp.store.tasks import insert_task, link_messages, update_task
from acontext_mcp.store.turns import store_turn
from acontext_mcp.store.usage import record_call
from acontext_mcp.worker import jobs

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
sys.path.insert(0, str(FIXTURES))
from synth import fixture_lines, fresh_copy  # noqa: E402

BIN = Path(sys.executable).parent / "acontext-mcp"
SHARED = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20  # in s1 and s2: survives forgetting s1
OWN = b"%PDF-1.4 " + bytes(range(255, -1, -1)) * 20  # only in s1's subagent
SECRET_WORDS = "zebra-quartz-marmalade-4711"  # a text whose bytes must leave the files
TABLES = ("sessions", "messages", "tasks", "task_messages", "session_events", "learnings",
          "space_sessions", "jobs", "blobs", "skill_uses")  # fmt: skip


def image(data: bytes, media: str = "image/png") -> dict[str, Any]:
    return {"type": "image", "source": {"kind": "base64", "media_type": media, "data": b64(data)}}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def populate(db: sqlite3.Connection, settings: Settings, root: Path) -> dict[str, Any]:
    """s1 (project alpha) with a subagent, a tool call, images, a task, an event, a learning,
    a job, usage, cursors and a skill use (its subagent's; another use has no session, as
    the MCP tools record them); s2 (project bravo) sharing one image with s1."""
    alpha, bravo = str(root / "alpha"), str(root / "bravo")
    turn = [
        {"role": "user", "content": f"Where is the config? {SECRET_WORDS}"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "grep", "arguments": '{"q": "config"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "config.toml:1"},
        {"role": "assistant", "content": "It is config.toml."},
    ]
    store_turn(db, settings, turn, session_id="s1", agent="claude-code", project_dir=alpha)
    shot = {"role": "user", "parts": [{"type": "text", "text": "look"}, image(SHARED)]}
    (img,) = store_messages(db, settings, "s1", [shot], fmt="acontext")
    ensure_session(db, "s1:agent-x", agent="claude-code", project_dir=alpha, parent_id="s1")
    nested = {
        "role": "user",
        "parts": [
            {
                "type": "tool-result",
                "tool_call_id": "call_9",
                "name": "read",
                "content": [image(OWN, "application/pdf")],
            }
        ],
    }
    store_messages(db, settings, "s1:agent-x", [nested], fmt="acontext")
    record_use(db, "deploy", "read", session_id="s1:agent-x", path="SKILL.md", project_dir=alpha)
    record_use(db, "deploy", "mcp_get", project_dir=alpha, at=1.0)
    task = insert_task(db, "s1", "find the config")
    update_task(
        db,
        "s1",
        task["order"],
        status="success",
        add_progress="found config.toml",
        add_preference="short answers",
    )
    link_messages(db, task["id"], [img["id"]])
    add_event(db, "s1", "compaction", {"trigger": "auto"})
    attach_session(db, "s1", "default")
    add_learning(
        db,
        session_id="s1",
        task_id=task["id"],
        space="default",
        kind="success",
        text="config lives in config.toml",
    )
    db.execute("UPDATE learnings SET status = 'learned', commit_sha = ?", ("c0ffee" * 6 + "ab",))
    jobs.enqueue(db, "observe_session", {"session_id": "s1"}, dedup_key="observe:s1")
    record_call(
        db,
        provider="scripted",
        model="m",
        purpose="task_extraction",
        outcome="ok",
        session_id="s1",
        input_tokens=100,
        output_tokens=20,
    )
    for key in (
        cursor_key("s1", "/t/s1.jsonl"),
        "provisional:s1",
        "todos:s1",
        "observe:attempts:s1",
        cursor_key("s2", "/t/s2.jsonl"),
    ):
        set_cursor(db, key, {"offset": 10})
    ensure_session(db, "s2", agent="openclaw", project_dir=bravo)
    store_messages(db, settings, "s2", [shot], fmt="acontext")
    return {"alpha": alpha, "bravo": bravo}


def counts(db: sqlite3.Connection) -> dict[str, int]:
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def export_lines(db: sqlite3.Connection, settings: Settings, path: Path, **kw: Any) -> list[dict]:
    with open(path, "w", encoding="utf-8") as fh:
        write_export(db, settings, fh, **kw)
    return [json.loads(line) for line in path.read_text().splitlines()]


def cli(*args: str, home: Path, stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess:
    env = {**os.environ, "ACONTEXT_HOME": str(home)}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, stdin=stdin, timeout=120
    )


# --- forget ---


def test_forget_removes_a_session_its_subagent_and_everything_keyed_by_them(db, settings, tmp_path):
    populate(db, settings, tmp_path)
    ids = forget.select_sessions(db, session_ids=["s1"])
    assert ids == ["s1", "s1:agent-x"]

    done = forget.forget(db, settings, ids)

    assert {
        k: done[k]
        for k in (
            "sessions",
            "messages",
            "tasks",
            "events",
            "learnings",
            "skill_uses",
            "jobs",
            "cursors",
            "blobs",
            "blob_files_removed",
        )
    } == {
        "sessions": 2,
        "messages": 6,
        "tasks": 1,
        "events": 1,
        "learnings": 1,
        "skill_uses": 1,
        "jobs": 1,
        "cursors": 3,
        "blobs": 1,
        "blob_files_removed": 1,
    }
    assert done["skill_commits"] == ["c0ffee" * 6 + "ab"]
    assert [r[0] for r in db.execute("SELECT id FROM sessions")] == ["s2"]
    left = counts(db)
    assert left["messages"] == 1 and left["tasks"] == left["learnings"] == 0
    assert left["session_events"] == left["jobs"] == left["space_sessions"] == 0
    # The image s2 also holds stays; the subagent's own PDF goes, row and file.
    assert blob_path(settings, sha(SHARED)).read_bytes() == SHARED
    assert not blob_path(settings, sha(OWN)).exists()
    assert [r[0] for r in db.execute("SELECT sha256 FROM blobs")] == [sha(SHARED)]
    # The transcript cursor stays (its past is not captured again); the rest keyed by s1 goes.
    assert get_cursor(db, cursor_key("s1", "/t/s1.jsonl")) == {"offset": 10}
    for key in ("provisional:s1", "todos:s1", "observe:attempts:s1"):
        assert get_cursor(db, key) is None
    assert get_cursor(db, cursor_key("s2", "/t/s2.jsonl")) == {"offset": 10}
    # Usage keeps its tokens for the budget, without the session link.
    assert [tuple(r) for r in db.execute("SELECT session_id, input_tokens FROM llm_calls")] == [
        (None, 100)
    ]


def test_forget_is_one_transaction_a_failure_halfway_removes_nothing(db, settings, tmp_path):
    populate(db, settings, tmp_path)
    before = counts(db)
    db.execute(
        "CREATE TEMP TRIGGER refuse BEFORE DELETE ON main.sessions "
        "BEGIN SELECT RAISE(ABORT, 'disk said no'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk said no"):
        forget.forget(db, settings, ["s1"])
    db.execute("DROP TRIGGER temp.refuse")
    assert counts(db) == before
    assert get_cursor(db, "provisional:s1") == {"offset": 10}  # deleted before the failure
    assert blob_path(settings, sha(OWN)).read_bytes() == OWN
    assert db.execute("SELECT COUNT(*) FROM llm_calls WHERE session_id = 's1'").fetchone()[0] == 1


def test_a_forgotten_transcript_is_not_captured_again_by_hooks_or_import(db, settings, tmp_path):
    root = tmp_path / "projects"
    path = root / "-work-alpha" / "sess-1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(fixture_lines("multi_turn.jsonl")))
    old = time.time() - 3600
    os.utime(path, (old, old))
    first = capture_transcript(db, settings, session_id="sess-1", transcript_path=path, final=True)
    assert first["stored"] > 0

    forget.forget(db, settings, forget.select_sessions(db, session_ids=["sess-1"]))

    # The session's next hook, and a backfill of the same folder, store nothing of the past.
    again = capture_transcript(db, settings, session_id="sess-1", transcript_path=path, final=True)
    assert again["stored"] == 0
    stats = importer.import_transcripts(db, settings, importer.discover(root))
    assert stats.stored == 0 and stats.failed == 0
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    # What the session says after the forget is captured as usual.
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(fresh_copy(fixture_lines("multi_turn.jsonl"))))
    later = capture_transcript(db, settings, session_id="sess-1", transcript_path=path, final=True)
    assert later["stored"] == first["stored"]


def test_sessions_are_chosen_by_project_and_by_last_activity(db, settings, tmp_path):
    where = populate(db, settings, tmp_path)
    day = time.mktime(time.strptime("2026-03-01", "%Y-%m-%d"))  # local midnight
    db.execute("UPDATE sessions SET updated_at = ? WHERE id = 's2'", (day - 60,))
    db.execute("UPDATE sessions SET updated_at = ? WHERE id LIKE 's1%'", (day + 60,))

    assert forget.select_sessions(db, before=forget.parse_before("2026-03-01")) == ["s2"]
    assert forget.select_sessions(db, project_dir=where["alpha"]) == ["s1", "s1:agent-x"]
    assert forget.select_sessions(db, project_dir=where["alpha"], before=day) == []
    assert forget.select_sessions(db, everything=True) == ["s1", "s1:agent-x", "s2"]
    with pytest.raises(InvalidInput, match="say what to forget"):
        forget.select_sessions(db)
    with pytest.raises(InvalidInput, match="ISO date"):
        forget.parse_before("last tuesday")


# --- export and import ---


def _comparable(records: list[dict]) -> list[dict]:
    return [r for r in records if r["type"] != "acontext-export"]


def test_export_forget_everything_import_gives_back_the_same_store(db, settings, tmp_path):
    populate(db, settings, tmp_path)
    original = export_lines(db, settings, tmp_path / "backup.jsonl")
    before = counts(db)
    assert original[0]["type"] == "acontext-export" and original[0]["version"] == 1
    assert original[-1] == {
        "type": "end",
        "counts": {
            "sessions": 3,
            "messages": 7,
            "tasks": 1,
            "events": 1,
            "learnings": 1,
            "skill_uses": 1,
        },
    }
    (use,) = [r for r in original if r["type"] == "skill_use"]
    assert (use["session_id"], use["skill"], use["path"]) == ("s1:agent-x", "deploy", "SKILL.md")
    assert [r["id"] for r in original if r["type"] == "session"] == ["s1", "s1:agent-x", "s2"]

    forget.forget(db, settings, forget.select_sessions(db, everything=True))
    assert counts(db)["messages"] == 0 and not blob_path(settings, sha(SHARED)).exists()
    assert counts(db)["skill_uses"] == 1  # the MCP use, which names no session, stays

    stats = restore(db, settings, tmp_path / "backup.jsonl")
    assert (stats.sessions, stats.messages, stats.tasks, stats.learnings) == (3, 7, 1, 1)
    assert stats.skill_uses == 1
    again = export_lines(db, settings, tmp_path / "again.jsonl")
    assert _comparable(again) == _comparable(original)
    assert blob_path(settings, sha(SHARED)).read_bytes() == SHARED
    assert blob_path(settings, sha(OWN)).read_bytes() == OWN
    assert counts(db) == {**before, "jobs": 0}  # queued work is not part of an export

    # Importing the same file again adds nothing.
    twice = restore(db, settings, tmp_path / "backup.jsonl")
    assert (twice.sessions, twice.messages, twice.tasks, twice.events, twice.learnings) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert twice.messages_existing == 7
    assert (twice.skill_uses, twice.skipped["skill_uses"]) == (0, 1)
    assert counts(db) == {**before, "jobs": 0}


def test_importing_into_a_session_captured_again_appends_what_it_lacks(db, settings, tmp_path):
    populate(db, settings, tmp_path)
    export_lines(db, settings, tmp_path / "s2.jsonl", session_ids=["s2"])
    forget.forget(db, settings, ["s2"])
    ensure_session(db, "s2", agent="openclaw")
    new = {"role": "user", "parts": [{"type": "text", "text": "new"}]}
    store_messages(db, settings, "s2", [new], fmt="acontext")

    restore(db, settings, tmp_path / "s2.jsonl")

    rows = db.execute(
        "SELECT position, parts FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = 's2') ORDER BY position"
    ).fetchall()
    assert [r[0] for r in rows] == [0, 1] and "new" in rows[0][1] and '"blob"' in rows[1][1]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda lines: lines[:-1], "cut short"),
        (lambda lines: [*lines[:-1], '{"type":"end","counts":{}}\n'], "counts"),
        (lambda lines: [*lines, "not json\n"], "not valid JSON"),
        (lambda lines: [lines[0].replace('"version":1', '"version":9'), *lines[1:]], "version 9"),
        (
            lambda lines: [lines[0], *[ln.replace('"id":"s1"', '"id":"../x"') for ln in lines[1:]]],
            "session_id",
        ),
        (
            lambda lines: [
                ln.replace('"kind":"base64"', '"kind":"blob","blob":"../../../etc/passwd"')
                for ln in lines
            ],
            "sha256",
        ),
        (
            lambda lines: [ln.replace('"role":"assistant"', '"role":"system"') for ln in lines],
            "role",
        ),
    ],
    ids=[
        "no-end",
        "wrong-counts",
        "bad-json",
        "newer-version",
        "bad-session-id",
        "blob-path-escape",
        "bad-role",
    ],
)
def test_a_damaged_or_crafted_export_is_refused_whole(db, settings, tmp_path, damage, message):
    populate(db, settings, tmp_path)
    good = tmp_path / "good.jsonl"
    export_lines(db, settings, good)
    forget.forget(db, settings, forget.select_sessions(db, everything=True))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(damage(good.read_text().splitlines(keepends=True))))

    with pytest.raises(InvalidInput, match=message):
        restore(db, settings, bad)
    assert counts(db)["sessions"] == 0 and counts(db)["messages"] == 0


# --- The command line ---


def _home_with_data(tmp_path: Path) -> tuple[Path, Settings]:
    from acontext_mcp.store.db import open_db

    home = tmp_path / "home"
    settings = Settings(home=home, skills_dir=tmp_path / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    try:
        populate(conn, settings, tmp_path)
    finally:
        conn.close()
    return home, settings


def _sessions(home: Path) -> list[str]:
    conn = sqlite3.connect(home / "acontext.db")
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
    finally:
        conn.close()


def test_cli_forget_without_a_terminal_refuses_unless_yes(tmp_path):
    home, _settings = _home_with_data(tmp_path)

    refused = cli("forget", "s1", home=home)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert "would forget 2 sessions: 6 messages" in refused.stderr
    assert _sessions(home) == ["s1", "s1:agent-x", "s2"]

    dry = cli("forget", "--all", "--dry-run", "--json", home=home)
    assert dry.returncode == 0 and json.loads(dry.stdout)["sessions"] == 3
    assert _sessions(home) == ["s1", "s1:agent-x", "s2"]

    done = cli("forget", "s1", "--yes", "--json", home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["session_ids"] == ["s1", "s1:agent-x"]
    assert _sessions(home) == ["s2"]

    missing = cli("forget", "nope", "--yes", home=home)
    assert missing.returncode == 2 and "no session 'nope'" in missing.stderr


def _on_terminal(args: list[str], home: Path, answer: bytes) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, type `answer` at the prompt."""
    leader, follower = pty.openpty()
    env = {**os.environ, "ACONTEXT_HOME": str(home)}
    proc = subprocess.Popen(
        [str(BIN), *args], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    os.close(follower)
    os.write(leader, answer)
    out, err = proc.communicate(timeout=120)
    os.close(leader)
    return proc.returncode, out.decode() + err.decode()


def test_cli_forget_asks_on_a_terminal(tmp_path):
    home, _settings = _home_with_data(tmp_path)
    code, text = _on_terminal(["forget", "s2"], home, b"n\n")
    assert code == 1 and "[y/N]" in text and "nothing removed" in text
    assert _sessions(home) == ["s1", "s1:agent-x", "s2"]
    code, text = _on_terminal(["forget", "s2"], home, b"y\n")
    assert code == 0 and "forgot 1 session" in text
    assert _sessions(home) == ["s1", "s1:agent-x"]


@pytest.mark.parametrize("vacuum", [False, True], ids=["plain", "vacuum"])
def test_cli_forget_leaves_no_forgotten_text_in_the_database_files(tmp_path, vacuum):
    home, settings = _home_with_data(tmp_path)
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)
    try:  # enough pages that the file has something to give back
        for n in range(40):
            store_turn(
                conn,
                settings,
                [{"role": "user", "content": f"{SECRET_WORDS} {n} " * 400}],
                session_id="s1",
            )
    finally:
        conn.close()
    db_file = home / "acontext.db"
    size = db_file.stat().st_size

    flags = ["--vacuum"] if vacuum else []
    done = cli("forget", "--project", str(tmp_path / "alpha"), "--yes", *flags, home=home)

    assert done.returncode == 0, done.stderr
    assert _sessions(home) == ["s2"]
    if vacuum:
        assert "database" in done.stdout and db_file.stat().st_size < size
    for suffix in ("", "-wal"):
        path = Path(str(db_file) + suffix)
        if path.exists():
            assert SECRET_WORDS.encode() not in path.read_bytes(), path


def test_cli_export_then_import_file_round_trips(tmp_path):
    home, _settings = _home_with_data(tmp_path)
    out = tmp_path / "backup" / "all.jsonl"
    exported = cli("export", "-o", str(out), home=home)
    assert exported.returncode == 0, exported.stderr
    assert "exported 3 sessions, 7 messages" in exported.stderr
    alpha = cli("export", "--project", str(tmp_path / "alpha"), home=home)
    ids = [json.loads(x).get("id") for x in alpha.stdout.splitlines()]
    assert [i for i in ids if i] == ["s1", "s1:agent-x"]
    assert cli("forget", "--all", "--yes", home=home).returncode == 0
    assert _sessions(home) == []

    checked = cli("import", str(out), "--dry-run", "--json", home=home)
    assert checked.returncode == 0 and json.loads(checked.stdout)["messages"] == 7
    assert _sessions(home) == []
    imported = cli("import", str(out), "--json", home=home)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["messages"] == 7
    assert _sessions(home) == ["s1", "s1:agent-x", "s2"]
    # Named the Claude Code way, the header still tells it apart: nothing new, no error.
    again = cli("import", "claude-code", str(out), "--json", home=home)
    assert again.returncode == 0 and json.loads(again.stdout)["messages_existing"] == 7

    to_stdout = cli("export", "s2", home=home)
    lines = [json.loads(x) for x in to_stdout.stdout.splitlines()]
    assert [r["type"] for r in lines] == ["acontext-export", "session", "message", "end"]
    bogus = cli("import", str(tmp_path / "nothing-here"), home=home)
    assert bogus.returncode == 1 and "import claude-code" in bogus.stderr


def test_a_forgotten_openclaw_session_is_not_stored_again_when_its_history_is_resent(tmp_path):
    """OpenClaw resends a session's whole history at every agent_end (recorded payloads)."""
    home = tmp_path / "home"
    run1, run2, sid, agent_end, texts = _openclaw(home, tmp_path)
    agent_end(run1)
    assert len(texts()) == 6
    done = cli("forget", sid, "--yes", home=home)
    assert (
        done.returncode == 0 and "ids (digests, no text) of 6 OpenClaw messages, so" in done.stdout
    )
    agent_end(run1)  # the same history again
    assert texts() == []
    agent_end(run2)  # run 1's messages again, plus run 2's own user message and answer
    assert texts() == ["user", "assistant"]


def test_a_blob_stored_again_right_after_the_forget_keeps_its_file(db, settings, monkeypatch):
    """Between the forget's commit and the file removal, another process stores the same image
    (its file already exists, so it writes nothing): the file must stay."""
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.messages import list_messages

    shot = {"role": "user", "parts": [image(OWN)]}
    ensure_session(db, "gone")
    store_messages(db, settings, "gone", [shot], fmt="acontext")
    remove = forget.remove_blob_files

    def writer_first(conn, settings_, shas):
        other = open_db(settings)
        try:
            ensure_session(other, "fresh")
            store_messages(other, settings, "fresh", [shot], fmt="acontext")
        finally:
            other.close()
        return remove(conn, settings_, shas)

    monkeypatch.setattr(forget, "remove_blob_files", writer_first)
    done = forget.forget(db, settings, ["gone"])

    assert done["blobs"] == 1 and done["blob_files_removed"] == 0
    (item,) = list_messages(db, settings, "fresh")["items"]
    assert item["message"]["parts"][0]["source"]["data"] == b64(OWN)


def test_an_export_with_a_missing_blob_file_keeps_the_reference_and_says_so(db, settings, tmp_path):
    populate(db, settings, tmp_path)
    blob_path(settings, sha(OWN)).unlink()
    out = tmp_path / "out.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        done = write_export(db, settings, fh, session_ids=["s1"])
    assert done["missing_blobs"] == 1 and done["messages"] == 6
    records = [json.loads(x) for x in out.read_text().splitlines()]
    (nested,) = [r for r in records if r["type"] == "message" and r["session_id"] == "s1:agent-x"]
    ref = {"kind": "blob", "blob": sha(OWN), "media_type": "application/pdf", "size": len(OWN)}
    assert nested["parts"][0]["content"][0]["source"] == ref
    forget.forget(db, settings, ["s1"])
    assert restore(db, settings, out).messages == 6


def test_forgetting_an_openclaw_session_keeps_out_what_was_sent_while_capture_was_off(tmp_path):
    """Messages OpenClaw handed over while the session's capture was off were never stored; a
    forget of the session must not make them storable when the history is resent."""
    home = tmp_path / "home"
    run1, run2, sid, agent_end, roles = _openclaw(home, tmp_path)
    env = {**os.environ, "ACONTEXT_HOME": str(home), "HOME": str(tmp_path / "user")}
    for switch in ("off", "on"):
        if switch == "on":
            agent_end(run1)  # sent while off: passed over
        done = subprocess.run(
            [
                str(BIN),
                "capture",
                switch,
                *(["--new"] if switch == "off" else []),
                "--session",
                sid,
            ],
            env=env,
            timeout=60,
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr
    agent_end(run2)  # run 1's history again, plus run 2's own two messages
    assert roles() == ["user", "assistant"]
    assert cli("forget", sid, "--yes", home=home).returncode == 0

    agent_end(run2)
    assert roles() == []


def _openclaw(home: Path, tmp_path: Path) -> tuple[Any, Any, str, Any, Any]:
    """Two recorded OpenClaw agent_end payloads of one session, their session id, a runner of
    the real hook on a payload, and the roles that session has stored."""
    run1, run2 = (
        json.loads((FIXTURES.parent / "openclaw" / f"run{n}_agent_end.json").read_text())
        for n in (1, 2)
    )
    sid = run1["sessionId"]
    env = {**os.environ, "ACONTEXT_HOME": str(home), "HOME": str(tmp_path / "user")}

    def agent_end(payload: dict[str, Any]) -> None:
        done = subprocess.run(
            [str(BIN), "hook", "openclaw", "agent_end"],
            env=env,
            timeout=60,
            input=json.dumps(payload).encode(),
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr

    def roles() -> list[str]:
        conn = sqlite3.connect(home / "acontext.db")
        try:
            rows = conn.execute(
                "SELECT role FROM messages WHERE "
                "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
                (sid,),
            ).fetchall()
        finally:
            conn.close()
        return [r[0] for r in rows]

    return run1, run2, sid, agent_end, roles


def test_an_export_written_before_skill_uses_existed_still_imports(db, settings, tmp_path):
    """Files from before the `skill_use` record have no `skill_uses` count at all."""
    populate(db, settings, tmp_path)
    records = export_lines(db, settings, tmp_path / "new.jsonl", session_ids=["s1"])
    old = [r for r in records if r["type"] != "skill_use"]
    del old[-1]["counts"]["skill_uses"]
    (tmp_path / "old.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    forget.forget(db, settings, ["s1"])
    stats = restore(db, settings, tmp_path / "old.jsonl")
    assert (stats.sessions, stats.messages, stats.skill_uses) == (2, 6, 0)
