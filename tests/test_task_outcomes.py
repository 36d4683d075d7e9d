"""Task outcomes end to end below the agents: the TaskCompleted hook, finishing running tasks
by their evidence, abandoned tasks left unlearned, and `outcome` + `evidence` in the
`tasks` command and the MCP `list_tasks` tool."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from acontext_mcp.app.learning import finish_running_tasks
from acontext_mcp.config import Settings
from acontext_mcp.learn.pipeline import learn_task
from acontext_mcp.observe.todos import track_session
from acontext_mcp.server import build_server
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.events import list_events
from acontext_mcp.store.sessions import ensure_session

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
SID = "aaf8a650-254d-4544-be30-16ca44948152"  # the session of tasks.jsonl


def _task(db: Any, sid: str, description: str, status: str, evidence: list[tuple[str, str]]):
    ensure_session(db, sid)
    task = task_store.insert_task(db, sid, description, status=status)
    for kind, result in evidence:
        task_store.add_evidence(db, task["id"], kind, result, command=f"{kind} run")
    return task


def _hook(event: str, payload: dict[str, Any]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "acontext_mcp", "hook", "claude-code", event],
        input=json.dumps(payload).encode(),
        env={**os.environ, "ACONTEXT_HOOK_INLINE": "1"},  # not detached: done when it returns
        capture_output=True,
        timeout=60,
        check=True,
    )


def test_the_task_completed_hook_keeps_the_event_and_it_becomes_evidence(
    db, settings: Settings, tmp_path: Path
) -> None:
    transcript = tmp_path / f"{SID}.jsonl"
    shutil.copy(FIXTURES / "tasks.jsonl", transcript)
    payload = {
        "session_id": SID,
        "transcript_path": str(transcript),
        "cwd": str(tmp_path),
        "hook_event_name": "TaskCompleted",
        "task_id": "1",
        "task_subject": "Run the unit tests",
        "task_description": "Run pytest on test_calc.py; token sk-ant-api03-" + "x" * 40,
    }
    proc = _hook("TaskCompleted", payload)
    assert proc.stdout == b""  # fail-open, no answer for the host
    (event,) = list_events(db, SID, type_="task_completed")
    assert event["data"]["task_id"] == "1" and "x" * 40 not in event["data"]["task_description"]
    log = (settings.logs_dir / "hooks.log").read_text()
    assert "claude-code TaskCompleted ok" in log
    track_session(db, settings, SID)
    (task,) = task_store.session_tasks(db, SID)
    kinds = [(e["kind"], e["result"]) for e in task_store.task_evidence(db, task["id"])]
    assert ("task_completed", "completed") in kinds


def test_the_session_end_hook_settles_running_tasks(db, settings, tmp_path: Path) -> None:
    transcript = tmp_path / f"{SID}.jsonl"
    shutil.copy(FIXTURES / "tasks.jsonl", transcript)
    payload = {"session_id": SID, "transcript_path": str(transcript), "cwd": str(tmp_path),
               "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"}  # fmt: skip
    _hook("SessionEnd", payload)
    (event,) = list_events(db, SID, type_="session_end")
    assert event["data"]["reason"] == "prompt_input_exit"
    track_session(db, settings, SID)  # the session ended with `make check` failing
    (task,) = task_store.session_tasks(db, SID)
    assert (task["status"], task["outcome"]) == ("running", "verified_failure")


def test_running_tasks_are_finished_by_their_evidence(db) -> None:
    failing = _task(db, "s", "fix the parser", "running", [("test", "passed"), ("test", "failed")])
    passing = _task(db, "s", "add the flag", "running", [("test", "failed"), ("test", "passed")])
    silent = _task(db, "s", "tidy the docs", "running", [])
    done = _task(db, "s", "done before", "success", [("test", "failed")])
    assert finish_running_tasks(db, "s") == [failing["id"], passing["id"], silent["id"]]
    got = {t["description"]: (t["status"], t["outcome"]) for t in task_store.session_tasks(db, "s")}
    assert got == {
        "fix the parser": ("failed", "verified_failure"),
        "add the flag": ("success", "verified_success"),
        "tidy the docs": ("success", "unverified"),
        "done before": ("success", None),  # not running: left as it was
    }
    note = task_store.get_task_by_id(db, failing["id"])["progresses"][-1]
    assert "--finish-running" in note and "verified_failure" in note
    assert done["outcome"] is None


def test_an_abandoned_task_is_skipped_without_an_llm_call(db, settings: Settings) -> None:
    """No LLM provider is configured here: reaching the distiller would raise NoProvider."""
    task = _task(db, "s", "migrate to postgres", "success", [("user_reply", "dropped")])
    task_store.set_outcome(db, task["id"], "abandoned")
    out = learn_task(db, settings, {"task_id": task["id"], "session_id": "s"})
    assert out["kind"] == "skip" and out["called_llm"] is False
    row = learning.learning_for_task(db, task["id"])
    assert row["status"] == "skipped" and row["outcome"] == "abandoned"
    assert "abandoned" in row["text"]


def _listed(db) -> dict[str, Any]:
    task = _task(db, "s", "make tests pass", "success", [("test", "failed"), ("test", "passed")])
    task_store.add_evidence(db, task["id"], "user_reply", "confirmed", detail="perfect " * 60)
    task_store.set_outcome(db, task["id"], "verified_success")
    return task


def test_the_tasks_command_shows_outcome_and_evidence(db) -> None:
    _listed(db)
    run = [sys.executable, "-m", "acontext_mcp", "tasks", "--session", "s"]
    page = json.loads(subprocess.run([*run, "--json"], capture_output=True, check=True).stdout)
    (task,) = page["tasks"]
    assert task["outcome"] == "verified_success"
    assert [(e["kind"], e["result"]) for e in task["evidence"]] == [
        ("test", "failed"),
        ("test", "passed"),
        ("user_reply", "confirmed"),
    ]
    assert task["evidence"][0]["command"] == "test run"
    assert len(task["evidence"][2]["detail"]) <= task_store.EVIDENCE_TEXT  # clipped
    text = subprocess.run(run, capture_output=True, check=True, text=True).stdout
    assert "[success, verified_success] s #1: make tests pass" in text
    assert "    = test failed `test run`" in text


def test_list_tasks_evidence_is_compact(db) -> None:
    task = _listed(db)
    for n in range(30):
        task_store.add_evidence(db, task["id"], "test", "passed", command=f"pytest -k t{n}")
    page = task_store.list_tasks(db, session_id="s")
    evidence = page["tasks"][0]["evidence"]
    assert len(evidence) == task_store.EVIDENCE_SHOWN
    assert evidence[-1]["command"] == "pytest -k t29"  # the latest ones, oldest first


@pytest.mark.anyio
async def test_the_mcp_list_tasks_tool_shows_outcome_and_evidence(db, settings) -> None:
    _listed(db)
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("list_tasks", {"session_id": "s"})
    assert not result.is_error, result.content
    (task,) = result.structured_content["tasks"]
    assert task["outcome"] == "verified_success"
    assert [e["result"] for e in task["evidence"]] == ["failed", "passed", "confirmed"]
