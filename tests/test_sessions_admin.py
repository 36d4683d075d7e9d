"""Session administration and users on real store files, through the command line:
copy, delete (refused while a learner works), configs, task tracking off, users forget."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.app.handlers import observe_session
from acontext_mcp.app.sessions import copy_session
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.observe.todos import cursor_key, track_session
from acontext_mcp.store import forget
from acontext_mcp.store.blobs import blob_path
from acontext_mcp.store.cursors import get_cursor
from acontext_mcp.store.events import add_event, list_events
from acontext_mcp.store.learning import add_learning, ensure_space
from acontext_mcp.store.messages import store_messages
from acontext_mcp.store.sessions import ensure_session, list_sessions, set_configs
from acontext_mcp.store.stats import store_stats
from acontext_mcp.store.tasks import add_evidence, insert_task, link_messages
from acontext_mcp.store.turns import store_turn
from acontext_mcp.worker import jobs
from acontext_mcp.worker.triggers import why_observe

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 24  # over the blob threshold: a file


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acontext_mcp", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**os.environ, "ACONTEXT_HOME": str(home)},
    )


def cli_json(home: Path, *args: str) -> Any:
    out = cli(home, *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def bash_turn(call_id: str, command: str, output: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "run the tests"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "Bash", "arguments": json.dumps({"command": command})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": output},
        {"role": "assistant", "content": "The tests pass."},
    ]


def rows(db: sqlite3.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute(sql, args).fetchall()]


@pytest.fixture
def source(db: sqlite3.Connection, settings: Settings) -> str:
    """A session with messages (one holds an image blob), a task with links and evidence,
    events, and a tracked todo cursor."""
    store_turn(db, settings, bash_turn("c1", "pytest -q", "3 passed"), session_id="orig")
    shot = {
        "role": "user",
        "parts": [
            {"type": "text", "text": "look"},
            {
                "type": "image",
                "source": {
                    "kind": "base64",
                    "media_type": "image/png",
                    "data": base64.b64encode(PNG).decode(),
                },
            },
        ],
    }
    (img,) = store_messages(db, settings, "orig", [shot], fmt="acontext")
    task = insert_task(db, "orig", "run the tests", status="success")
    first = db.execute("SELECT id FROM messages ORDER BY id LIMIT 1").fetchone()[0]
    link_messages(db, task["id"], [first, img["id"]])
    add_evidence(db, task["id"], "test", "passed", command="pytest -q", message_id=first)
    add_event(db, "orig", "compaction", {"trigger": "auto"})
    track_session(db, settings, "orig")
    db.commit()
    return "orig"


def snapshot(db: sqlite3.Connection, sid: str) -> dict[str, Any]:
    """What a session holds, without ids: comparable between a session and its copy."""
    seq = db.execute("SELECT seq FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
    return {
        "messages": rows(
            db,
            "SELECT position, role, parts, meta, token_count, dedup_key, status FROM messages "
            "WHERE session_seq = ? ORDER BY position",
            seq,
        ),
        "tasks": rows(
            db,
            'SELECT "order", description, status, progresses, outcome FROM tasks '
            'WHERE session_id = ? ORDER BY "order"',
            sid,
        ),
        "links": rows(
            db,
            'SELECT t."order", m.position FROM task_messages tm JOIN tasks t ON t.id = tm.task_id '
            "JOIN messages m ON m.id = tm.message_id WHERE t.session_id = ? ORDER BY 1, 2",
            sid,
        ),
        "evidence": rows(
            db,
            'SELECT t."order", e.kind, e.result, e.command, m.position FROM task_evidence e '
            "JOIN tasks t ON t.id = e.task_id LEFT JOIN messages m ON m.id = e.message_id "
            "WHERE t.session_id = ? ORDER BY e.id",
            sid,
        ),
        "events": [
            (e["type"], e["data"]) for e in list_events(db, sid) if e["type"] != "copied_from"
        ],
    }


# --- copy ---


def test_a_copy_holds_the_same_messages_tasks_links_evidence_and_events(db, settings, source):
    before = store_stats(db, settings)
    out = copy_session(db, source)
    copy = out["session_id"]
    assert copy != source
    original = snapshot(db, source)
    assert (out["messages"], out["tasks"]) == (5, 1)
    assert (out["task_links"], out["evidence"]) == (len(original["links"]), 2)  # 1 + tracker's
    assert snapshot(db, copy) == original
    # where it came from: a config key and an event
    (row,) = list_sessions(db, configs={"copied_from": source})["sessions"]
    assert row["id"] == copy and row["message_count"] == 5 and row["task_count"] == 1
    assert [e["data"] for e in list_events(db, copy, type_="copied_from")] == [
        {"session_id": source}
    ]
    # totals kept by writers count the copy; the image is shared, not duplicated
    after = store_stats(db, settings)
    assert after["messages"] == before["messages"] + 5
    assert after["message_tokens"] == 2 * before["message_tokens"]
    assert after["tasks"] == before["tasks"] + 1
    assert after["blobs"] == before["blobs"] == 1
    # the tracker resumes after the copied messages: it creates no task a second time
    assert get_cursor(db, cursor_key(copy))["position"] == 4
    assert track_session(db, settings, copy)["tasks_created"] == 0
    assert snapshot(db, copy)["tasks"] == original["tasks"]


def test_the_copy_and_the_original_change_independently(db, settings, source, tmp_path):
    original = snapshot(db, source)
    copy = copy_session(db, source)["session_id"]
    db.commit()
    home = settings.home
    # edit the copy: new turn, new configs
    store_turn(db, settings, [{"role": "user", "content": "only in the copy"}], session_id=copy)
    set_configs(db, copy, {"mode": "sandbox"}, patch=True)
    assert snapshot(db, source) == original
    assert "mode" not in cli_json(home, "sessions", "configs", source)["configs"]
    # delete the copy: the original and the shared image stay
    deleted = cli_json(home, "sessions", "delete", copy, "--yes")
    assert (deleted["sessions"], deleted["messages"], deleted["tasks"]) == (1, 6, 1)
    assert deleted["blobs"] == 0 and blob_path(settings, sha(PNG)).read_bytes() == PNG
    assert snapshot(db, source) == original
    # vice versa: a second copy outlives its deleted original, image included
    second = copy_session(db, source)["session_id"]
    db.commit()
    kept = snapshot(db, second)
    assert cli_json(home, "sessions", "delete", source, "--yes")["blobs"] == 0
    assert snapshot(db, second) == kept
    assert blob_path(settings, sha(PNG)).read_bytes() == PNG
    # the last session holding the image goes: the image goes with it
    gone = cli_json(home, "sessions", "delete", second, "--yes")
    assert gone["blobs"] == 1 and gone["blob_files_removed"] == 1
    assert not blob_path(settings, sha(PNG)).exists()
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_copy_and_delete_on_the_command_line(settings, source):
    home = settings.home
    out = cli(home, "sessions", "copy", "ori")  # a unique prefix names it
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("copied orig -> ") and "5 messages, 1 tasks" in out.stdout
    dry = cli(home, "sessions", "delete", "orig", "--dry-run")
    assert dry.returncode == 0 and "would forget 1 session: 5 messages, 1 task" in dry.stdout
    refused = cli(home, "sessions", "delete", "orig")  # no terminal, no --yes
    assert refused.returncode == 1 and "pass --yes" in refused.stderr
    assert len(cli_json(home, "sessions")["sessions"]) == 2
    missing = cli(home, "sessions", "copy", "nope")
    assert missing.returncode == 2 and "no session 'nope'" in missing.stderr


# --- delete while a learner works ---


def _running_job(db: sqlite3.Connection, kind: str, payload: dict[str, Any], lease: float) -> int:
    job_id = jobs.enqueue(db, kind, payload, dedup_key=f"{kind}:{json.dumps(payload)}")
    db.execute(
        "UPDATE jobs SET status = 'running', holder = 'w1', lease_until = ? WHERE id = ?",
        (time.time() + lease, job_id),
    )
    db.commit()
    return job_id


def test_delete_is_refused_while_a_learner_run_works_on_the_session(db, settings, source):
    home = settings.home
    job = _running_job(db, "learn_task", {"session_id": source, "task_id": 1}, lease=300)
    out = cli(home, "sessions", "delete", source, "--yes")
    assert out.returncode == 1
    assert f"a learner run is in progress on {source} (distilling its tasks (job {job}))" in (
        out.stderr
    )
    forgot = cli(home, "forget", source, "--yes")  # forget's own path refuses too
    assert forgot.returncode == 1 and "learner run is in progress" in forgot.stderr
    assert snapshot(db, source)["messages"]  # nothing removed
    # a dead worker's lease has run out: it holds nothing up
    db.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (time.time() - 1, job))
    db.commit()
    assert cli_json(home, "sessions", "delete", source, "--yes")["sessions"] == 1


def test_delete_is_refused_while_the_skill_learner_holds_the_sessions_learnings(db, settings):
    store_turn(db, settings, [{"role": "user", "content": "hi"}], session_id="s2")
    ensure_space(db, "web")
    add_learning(db, session_id="s2", task_id=None, space="web", kind="preferences", text="x")
    db.execute("UPDATE learnings SET status = 'running'")
    _running_job(db, "learn_space", {"space": "web"}, lease=300)
    with pytest.raises(forget.LearnerBusy, match="the skill learner of space 'web'"):
        forget.forget(db, settings, ["s2"])
    assert db.execute("SELECT COUNT(*) FROM sessions WHERE id = 's2'").fetchone()[0] == 1
    # the learner of another space does not hold this session
    db.execute("UPDATE jobs SET payload = ?", (json.dumps({"space": "other"}),))
    assert forget.forget(db, settings, ["s2"])["sessions"] == 1


# --- configs ---


def test_configs_replace_patch_and_null_on_the_command_line(settings, source):
    home = settings.home
    assert cli_json(home, "sessions", "configs", source)["configs"] == {}
    patched = cli_json(
        home, "sessions", "configs", source, "--patch", '{"a": 1, "b": {"x": true}, "c": "k"}'
    )
    assert patched["configs"] == {"a": 1, "b": {"x": True}, "c": "k"}
    merged = cli_json(home, "sessions", "configs", source, "--patch", '{"a": null, "b": {"y": 2}}')
    assert merged["configs"] == {"b": {"y": 2}, "c": "k"}  # null deletes; objects are replaced
    replaced = cli_json(home, "sessions", "configs", source, "--replace", '{"d": 4, "e": null}')
    assert replaced["configs"] == {"d": 4}
    assert cli_json(home, "sessions", "configs", source)["configs"] == {"d": 4}
    bad = cli(home, "sessions", "configs", source, "--patch", "[1]")
    assert bad.returncode == 2 and "needs a JSON object" in bad.stderr
    wrong = cli(home, "sessions", "configs", source, "--patch", '{"disable_task_tracking": "y"}')
    assert wrong.returncode == 1 and "must be true or false" in wrong.stderr
    assert cli_json(home, "sessions", "configs", source)["configs"] == {"d": 4}  # kept


def test_list_sessions_filters_by_configs_with_their_json_types(db, settings):
    for sid, configs in (("t", {"flag": True}), ("one", {"flag": 1}), ("txt", {"flag": "true"})):
        ensure_session(db, sid, configs=configs)
    ensure_session(db, "none")

    def ids(**filters: Any) -> list[str]:
        return sorted(s["id"] for s in list_sessions(db, **filters)["sessions"])

    assert ids(configs={"flag": True}) == ["t"]
    assert ids(configs={"flag": 1}) == ["one"]
    assert ids(configs={"flag": "true"}) == ["txt"]
    assert ids(configs={"flag": None}) == ["none"]  # null: the key is absent
    assert cli_json(settings.home, "sessions", "--config", "flag=true")["sessions"][0]["id"] == "t"
    assert [
        s["id"] for s in cli_json(settings.home, "sessions", "--config", "flag=x")["sessions"]
    ] == []
    with pytest.raises(InvalidInput, match="config key"):
        list_sessions(db, configs={'a"b': 1})


# --- task tracking off ---


def test_task_tracking_off_keeps_a_sessions_messages_out_of_tracking(db, settings):
    home = settings.home
    created = cli_json(
        home, "sessions", "create", "--id", "quiet", "--configs", '{"disable_task_tracking": true}'
    )
    assert created["configs"] == {"disable_task_tracking": True}
    turn = bash_turn("c9", "pytest -q", "1 failed")
    store_turn(db, settings, turn, session_id="quiet")
    store_turn(db, settings, turn, session_id="loud")
    statuses = dict(
        rows(
            db,
            "SELECT s.id, group_concat(DISTINCT m.status) FROM messages m "
            "JOIN sessions s ON s.seq = m.session_seq GROUP BY s.id",
        )
    )
    assert statuses == {"quiet": "disabled", "loud": "pending"}
    assert why_observe(db, "quiet", "Stop") is None and why_observe(db, "loud", "Stop") == "event"
    # a job queued anyway (flush, learn_now) is skipped before any tracking or LLM call
    out = observe_session(db, settings, {"session_id": "quiet"})
    assert "task tracking is off" in out["skipped"]
    assert get_cursor(db, cursor_key("quiet")) is None
    assert db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == 0
    # switched on again: new messages are tracked; what was stored while off stays out
    set_configs(db, "quiet", {"disable_task_tracking": None}, patch=True)
    store_turn(db, settings, [{"role": "user", "content": "now track"}], session_id="quiet")
    assert why_observe(db, "quiet", "Stop") == "event"
    # switched off with messages pending: the observe job still skips the session
    set_configs(db, "loud", {"disable_task_tracking": True}, patch=True)
    assert "skipped" in observe_session(db, settings, {"session_id": "loud"})


# --- users ---


def test_users_forget_cascades_after_a_dry_run_of_counts(db, settings, source):
    home = settings.home
    store_turn(
        db, settings, [{"role": "user", "content": "alice 2"}], session_id="a2", user="alice"
    )
    store_turn(db, settings, [{"role": "user", "content": "bob"}], session_id="b1", user="bob")
    db.commit()
    assert cli(home, "disk", "write", "/notes.md", "--disk", "alice-notes").returncode == 0
    assert cli(home, "spaces", "create", "alice-space").returncode == 0
    assigned = cli_json(
        home, "users", "assign", "alice", "--session", source, "--disk", "alice-notes",
        "--space", "alice-space", "--skill", "daily-logs", "--skill", "project-runbooks",
    )  # fmt: skip
    assert assigned["assigned"]["sessions"] == [source]
    assert cli(home, "users", "assign", "bob", "--skill", "daily-logs").returncode == 0
    refused = cli(home, "users", "assign", "bob", "--disk", "default")
    assert refused.returncode == 1 and "shared by every caller" in refused.stderr
    not_his = cli(home, "users", "assign", "bob", "--remove", "--session", "a2")
    assert not_his.returncode == 1 and "session 'a2' is not 'bob''s" in not_his.stderr
    assert cli(home, "users", "assign", "bob", "--session", "a2").returncode == 0
    assert cli(home, "users", "assign", "bob", "--remove", "--session", "a2").returncode == 0
    assert cli_json(home, "sessions", "--user", "bob")["sessions"][0]["id"] == "b1"
    assert cli(home, "users", "assign", "alice", "--session", "a2").returncode == 0
    listed = {u["user"]: u for u in cli_json(home, "users", "list")["users"]}
    assert listed["alice"] == {
        "user": "alice", "sessions": 2, "disks": 1, "spaces": 1, "skills": 2,
    }  # fmt: skip
    assert [s["id"] for s in cli_json(home, "sessions", "--user", "bob")["sessions"]] == ["b1"]

    plan = cli_json(home, "users", "forget", "alice", "--dry-run")
    assert plan["sessions"]["sessions"] == 2 and plan["sessions"]["messages"] == 6
    assert plan["sessions"]["tasks"] == 1 and plan["sessions"]["blobs"] == 1
    assert (plan["disks"], plan["artifacts"], plan["spaces"]) == (
        ["alice-notes"],
        1,
        ["alice-space"],
    )
    assert plan["skills_only_theirs"] == ["project-runbooks"]
    assert len(cli_json(home, "sessions")["sessions"]) == 3  # the dry run removed nothing

    done = cli_json(home, "users", "forget", "alice", "--yes")
    assert done["sessions"]["sessions"] == 2 and done["sessions"]["blob_files_removed"] == 1
    assert (done["disks"], done["artifacts"], done["spaces"], done["skill_links"]) == (1, 1, 1, 2)
    assert not (home / "disks" / "alice-notes").exists()
    assert [s["id"] for s in cli_json(home, "sessions")["sessions"]] == ["b1"]
    assert [u["user"] for u in cli_json(home, "users", "list")["users"]] == ["bob"]
    assert cli_json(home, "users", "show", "bob")["skills"] == ["daily-logs"]
    # skill folders stay in the skills repository (see app/users.py)
    assert (home / "skills" / "project-runbooks" / "SKILL.md").is_file()
    gone = cli(home, "users", "show", "alice")
    assert gone.returncode == 2 and "no user 'alice'" in gone.stderr


def test_a_turn_for_one_user_never_lands_in_another_users_session(db, settings):
    store_turn(db, settings, [{"role": "user", "content": "x"}], session_id="s", user="bob")
    with pytest.raises(InvalidInput, match="belongs to another user"):
        store_turn(db, settings, [{"role": "user", "content": "y"}], session_id="s", user="eve")
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1
    ensure_session(db, "nobody")
    store_turn(db, settings, [{"role": "user", "content": "z"}], session_id="nobody", user="eve")
    assert db.execute("SELECT user FROM sessions WHERE id = 'nobody'").fetchone()[0] == "eve"
