"""Deterministic task tracking: Claude Code's todo tools and test runs become tasks, statuses,
progress evidence and learn jobs, from transcripts written by real Claude Code 2.1.330
(tests/fixtures/claude_code/make_todos_fixture.sh), plus hand-made edge cases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.capture.claude_code import capture_transcript
from acontext_mcp.config import Settings
from acontext_mcp.observe.evidence import check_kind, read_outcome
from acontext_mcp.observe.todos import DELETED, DROPPED, cursor_key, track_session
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.cursors import get_cursor
from acontext_mcp.store.messages import extend_message, store_messages
from acontext_mcp.store.sessions import ensure_session

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
TODOS = FIXTURES / "todos.jsonl"
TASKS = FIXTURES / "tasks.jsonl"
PYTEST = "python3 -m pytest -q -p no:cacheprovider test_calc.py"


def _tasks(db: sqlite3.Connection, sid: str) -> list[tuple[int, str, str, list[str]]]:
    rows = task_store.list_tasks(db, session_id=sid)["tasks"]
    return [(t["order"], t["description"], t["status"], t["progresses"]) for t in rows]


def _jobs(db: sqlite3.Connection) -> list[tuple[str, dict[str, Any], str, str]]:
    rows = db.execute("SELECT kind, payload, dedup_key, status FROM jobs ORDER BY id").fetchall()
    return [(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]


def _snapshot(db: sqlite3.Connection) -> tuple[Any, ...]:
    """Everything tracking writes, without timestamps."""
    tasks = db.execute(
        'SELECT id, session_id, "order", description, status, progresses FROM tasks ORDER BY id'
    ).fetchall()
    links = db.execute("SELECT * FROM task_messages ORDER BY task_id, message_id").fetchall()
    jobs = db.execute("SELECT kind, payload, dedup_key, status FROM jobs ORDER BY id").fetchall()
    return tuple(tuple(tuple(r) for r in rows) for rows in (tasks, links, jobs))


def _captured(db: sqlite3.Connection, settings: Settings, path: Path, sid: str) -> None:
    capture_transcript(db, settings, session_id=sid, transcript_path=path, final=True)


TODOS_PROMPT = (
    "TODOS: write calc.py with add(a, b) and a pytest for it; plan it as todos, run the tests "
    "and fix what fails."
)
TASKS_PROMPT = "TASKS: track as tasks: run the unit tests, run make check, and write release notes."


def _evidence(db: sqlite3.Connection, task_id: int) -> list[tuple[str, str, str | None]]:
    return [(e["kind"], e["result"], e["command"]) for e in task_store.task_evidence(db, task_id)]


class TestRealTodoWrite:
    """todos.jsonl: TodoWrite plans three steps, a failing then a passing pytest, all done."""

    def test_the_request_is_the_task_and_its_todos_are_steps(self, db, settings) -> None:
        _captured(db, settings, TODOS, "s")
        counts = track_session(db, settings, "s")
        assert _tasks(db, "s") == [
            (
                1,
                TODOS_PROMPT,
                "success",
                [
                    "Finished step: Write calc.py with an add function",
                    "Finished step: Write test_calc.py covering add",
                    f"Ran `{PYTEST}`: 1 failed, 1 passed "
                    "(FAILED test_calc.py::test_add - assert -1 == 5)",
                    f"Ran `{PYTEST}`: 2 passed",
                    "Finished step: Run the tests and fix what fails",
                ],
            ),
        ]
        (task,) = task_store.list_tasks(db, session_id="s")["tasks"]
        payload = {"task_id": task["id"], "session_id": "s"}
        assert _jobs(db) == [("learn_task", payload, f"learn:{task['id']}", "queued")]
        assert counts["tasks_created"] == 1 and counts["steps"] == 3 and counts["learn_jobs"] == 1
        assert counts["progress"] == 5 and counts["malformed"] == counts["rejected"] == 0
        # evidence: the failing then the passing run, with counts; the outcome follows them
        rows = task_store.task_evidence(db, task["id"])
        assert [(e["kind"], e["result"], e["command"]) for e in rows] == [
            ("test", "failed", PYTEST),
            ("test", "passed", PYTEST),
        ]
        assert rows[0]["detail"].startswith("1 failed, 1 passed; exit code 1 (FAILED test_calc")
        assert rows[1]["detail"] == "2 passed; exit code 0"
        assert all(isinstance(e["message_id"], int) for e in rows)
        assert task_store.get_task_by_id(db, task["id"])["outcome"] == "verified_success"

    def test_the_task_is_linked_to_the_prompt_and_the_messages_it_was_worked_in(
        self, db, settings
    ) -> None:
        _captured(db, settings, TODOS, "s")
        track_session(db, settings, "s")
        (task,) = task_store.list_tasks(db, session_id="s")["tasks"]
        linked = db.execute(
            "SELECT m.role, m.parts FROM task_messages l JOIN messages m ON m.id = l.message_id "
            "WHERE l.task_id = ? ORDER BY m.position",
            (task["id"],),
        ).fetchall()
        first = json.loads(linked[0][1])
        assert linked[0][0] == "user" and first[0]["text"] == TODOS_PROMPT
        names = [p.get("name") for r in linked for p in json.loads(r[1])]
        assert names.count("TodoWrite") == 4 and names.count("Bash") == 2

    def test_running_again_stores_nothing_twice(self, db, settings) -> None:
        _captured(db, settings, TODOS, "s")
        track_session(db, settings, "s")
        before = _snapshot(db)
        again = track_session(db, settings, "s")
        assert _snapshot(db) == before
        assert {k: v for k, v in again.items() if k != "position"} == dict.fromkeys(
            (k for k in again if k != "position"), 0
        )

    def test_line_by_line_growth_equals_one_shot(self, db, settings, tmp_path) -> None:
        """Tracking after every transcript line (calls answered in a later run) ends where one
        run over the whole file does."""
        _captured(db, settings, TODOS, "whole")
        track_session(db, settings, "whole")
        grown = tmp_path / "grown.jsonl"
        grown.write_text("")
        for line in TODOS.read_text().splitlines(keepends=True):
            with grown.open("a") as f:
                f.write(line)
            capture_transcript(db, settings, session_id="grown", transcript_path=grown)
            track_session(db, settings, "grown")
        capture_transcript(db, settings, session_id="grown", transcript_path=grown, final=True)
        track_session(db, settings, "grown")
        assert _tasks(db, "grown") == _tasks(db, "whole")
        keys = sorted(j[2] for j in _jobs(db))
        assert len(keys) == len(set(keys)) == 2
        whole, grown_task = (task_store.session_tasks(db, s)[0] for s in ("whole", "grown"))
        assert _evidence(db, whole["id"]) == _evidence(db, grown_task["id"])


class TestRealTaskTools:
    """tasks.jsonl: TaskCreate x3, TaskUpdate in_progress/completed/deleted, pytest and make."""

    def test_created_tasks_are_steps_of_the_request(self, db, settings) -> None:
        _captured(db, settings, TASKS, "k")
        counts = track_session(db, settings, "k")
        assert _tasks(db, "k") == [
            (
                1,
                TASKS_PROMPT,
                "running",  # "Run make check" is still in progress: not every step is done
                [
                    f"Ran `{PYTEST}`: 2 passed",
                    "Finished step: Run the unit tests: Run pytest on test_calc.py and make "
                    "sure every test passes",
                    "Ran `make check`: failed with exit code 2 "
                    "(make: *** No rule to make target 'check'.  Stop.)",
                    f"{DELETED}: Write release notes: Write RELEASE.md describing add",
                ],
            )
        ]
        assert _jobs(db) == []  # the request is not finished: nothing to learn yet
        assert counts["dropped"] == 1 and counts["unknown_tasks"] == 0 and counts["steps"] == 3
        (task,) = task_store.session_tasks(db, "k")
        assert _evidence(db, task["id"]) == [
            ("test", "passed", PYTEST),
            ("test", "failed", "make check"),
        ]
        assert task["outcome"] is None  # settled when the task finishes
        # the TaskCreate result's "Task #N" id is what TaskUpdate used
        assert get_cursor(db, cursor_key("k"))["ids"] == {"1": "#1", "2": "#2", "3": "#3"}

    def test_running_again_stores_nothing_twice(self, db, settings) -> None:
        _captured(db, settings, TASKS, "k")
        track_session(db, settings, "k")
        before = _snapshot(db)
        track_session(db, settings, "k")
        assert _snapshot(db) == before


# -- hand-made conversations ------------------------------------------------------------------


class Convo:
    """Builds a session's messages in the internal form, one store call per message."""

    def __init__(self, db: sqlite3.Connection, settings: Settings, sid: str = "h") -> None:
        self.db, self.settings, self.sid, self.n = db, settings, sid, 0
        ensure_session(db, sid)

    def _store(self, role: str, parts: list[dict[str, Any]]) -> int:
        self.n += 1
        message = {"role": role, "parts": parts, "meta": {"id": f"m{self.n}"}}
        return store_messages(self.db, self.settings, self.sid, [message], fmt="acontext")[0]["id"]

    def prompt(self, text: str) -> int:
        return self._store("user", [{"type": "text", "text": text}])

    def raw(self, parts: Any) -> None:
        """A message whose stored parts are whatever `parts` is (damaged rows)."""
        message_id = self._store("assistant", [{"type": "text", "text": "placeholder"}])
        self.db.execute(
            "UPDATE messages SET parts = ? WHERE id = ?", (json.dumps(parts), message_id)
        )

    def call(self, name: str, args: Any, *, result: str = "ok", is_error: bool = False) -> str:
        call_id = self.call_only(name, args)
        self.result(call_id, result, is_error=is_error)
        return call_id

    def call_only(self, name: str, args: Any) -> str:
        call_id = f"toolu_{self.n}"
        arguments = args if isinstance(args, str) else json.dumps(args)
        part = {"type": "tool-call", "id": call_id, "name": name, "arguments": arguments}
        self._store("assistant", [part])
        return call_id

    def result(self, call_id: str, text: str, *, is_error: bool = False) -> None:
        part = {
            "type": "tool-result",
            "tool_call_id": call_id,
            "content": [{"type": "text", "text": text}],
            "is_error": is_error,
        }
        self._store("user", [part])

    def todos(self, *items: tuple[str, str]) -> None:
        self.call(
            "TodoWrite", {"todos": [{"content": c, "status": s, "activeForm": c} for c, s in items]}
        )

    def bash(self, command: str, output: str, exit_code: int = 0) -> None:
        if exit_code:
            self.call("Bash", {"command": command}, result=f"Exit code {exit_code}\n{output}",
                      is_error=True)  # fmt: skip
        else:
            self.call("Bash", {"command": command}, result=output)

    def track(self) -> dict[str, Any]:
        return track_session(self.db, self.settings, self.sid)


def _outcomes(db: sqlite3.Connection, sid: str = "h") -> list[tuple[str, str, str | None]]:
    return [
        (t["description"], t["status"], t["outcome"]) for t in task_store.session_tasks(db, sid)
    ]


def test_a_todowrite_that_drops_a_todo_notes_it_and_it_no_longer_counts(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("Plan, build and ship the thing")
    c.todos(("plan", "completed"), ("build", "in_progress"), ("ship", "pending"))
    c.todos(("plan", "completed"), ("build and ship", "in_progress"))
    assert c.track()["dropped"] == 2
    c.todos(("plan", "completed"), ("build and ship", "completed"))
    counts = c.track()
    assert _tasks(db, "h") == [
        (
            1,
            "Plan, build and ship the thing",
            "success",  # the dropped steps do not hold the request back
            [
                "Finished step: plan",
                f"{DROPPED}: build",
                f"{DROPPED}: ship",
                "Finished step: build and ship",
            ],
        )
    ]
    assert counts["learn_jobs"] == 1 and len(_jobs(db)) == 1


def test_one_request_with_three_todos_is_one_learnable_task(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("Add a /health endpoint with a test")
    c.todos(("write handler", "in_progress"), ("write test", "pending"), ("run tests", "pending"))
    c.track()
    assert _outcomes(db) == [("Add a /health endpoint with a test", "running", None)]
    c.todos(("write handler", "completed"), ("write test", "completed"), ("run tests", "completed"))
    c.track()
    assert [t[1] for t in _tasks(db, "h")] == ["Add a /health endpoint with a test"]
    assert len(_jobs(db)) == 1


def test_todos_of_a_later_request_are_its_own_steps(db, settings) -> None:
    """Claude Code keeps finished todos of an earlier request in the list it sends."""
    c = Convo(db, settings)
    c.prompt("Fix the login bug")
    c.todos(("find the bug", "completed"), ("fix it", "completed"))
    c.prompt("Now add dark mode")
    c.todos(("find the bug", "completed"), ("fix it", "completed"), ("add toggle", "in_progress"))
    c.track()
    assert [(t[1], t[2]) for t in _tasks(db, "h")] == [
        ("Fix the login bug", "success"),
        ("Now add dark mode", "running"),
    ]


def test_without_a_prompt_todos_are_steps_of_a_task_named_after_the_first(db, settings) -> None:
    c = Convo(db, settings)
    c.todos(("a", "pending"), ("c", "pending"))
    c.todos(("a", "pending"), ("b", "in_progress"), ("c", "pending"))
    c.track()
    assert _tasks(db, "h") == [(1, "a", "running", [])]


def test_malformed_arguments_and_items_never_crash(db, settings) -> None:
    c = Convo(db, settings)
    c.call("TodoWrite", "{not json")
    c.call("TodoWrite", "[1, 2]")
    c.call("TodoWrite", {"todos": "write code"})
    odd = [None, 3, {"status": "pending"}, {"content": "  "}, {"content": ["x"]}]
    c.call("TodoWrite", {"todos": [*odd, {"content": "real one", "status": None}]})
    c.call("TaskCreate", {"subject": 7})
    c.call("TaskUpdate", {"taskId": "99", "status": "completed"})
    c.call("TaskUpdate", {"taskId": {"x": 1}})
    c.call("Bash", "{oops")
    c.call("Bash", {"command": 42})
    c.raw([{"type": "tool-call", "id": None, "name": "TodoWrite"}, "junk", {"type": None}])
    c.raw([{"type": "tool-call", "id": "t9", "name": "TodoWrite", "arguments": None}])
    c.raw({"not": "a list"})
    c.result("never-called", "orphan result")
    counts = c.track()
    assert _tasks(db, "h") == [(1, "real one", "running", [])]
    assert counts["malformed"] >= 9 and counts["unknown_tasks"] == 2
    assert counts["unknown_status"] == 1


def test_unknown_statuses_leave_the_step_as_it_was(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("Fix the bug")
    c.todos(("fix bug", "in_progress"))
    c.todos(("fix bug", "blocked"), ("new one", "cancelled"))
    c.call(
        "TaskCreate",
        {"subject": "other", "description": ""},
        result="Task #1 created successfully: other",
    )
    c.call("TaskUpdate", {"taskId": "1", "status": "done-ish"})
    counts = c.track()
    assert [(t[1], t[2]) for t in _tasks(db, "h")] == [("Fix the bug", "running")]
    steps = get_cursor(db, cursor_key("h"))["steps"]
    assert {k: s["status"] for k, s in steps.items()} == {
        "fix bug": "in_progress",
        "new one": "pending",
        "#1": "pending",
    }
    assert counts["unknown_status"] == 3 and _jobs(db) == []


def test_rejected_calls_change_nothing(db, settings) -> None:
    c = Convo(db, settings)
    c.call(
        "TodoWrite",
        {"todos": [{"content": "x", "status": "pending", "activeForm": "x"}]},
        result="InputValidationError: ...",
        is_error=True,
    )
    counts = c.track()
    assert _tasks(db, "h") == [] and counts["rejected"] == 1


def test_a_call_answered_in_a_later_run_is_applied_then(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("do x")
    call_id = c.call_only("TodoWrite", {"todos": [{"content": "x", "status": "completed"}]})
    assert c.track()["tasks_created"] == 0  # not applied before Claude Code confirmed it
    c.result(call_id, "Todos have been modified successfully.")
    assert c.track()["tasks_created"] == 1
    assert _tasks(db, "h") == [(1, "do x", "success", ["Finished step: x"])]
    assert len(_jobs(db)) == 1


def test_reopened_task_runs_again_and_is_queued_once(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("do x")
    c.todos(("x", "completed"))
    c.todos(("x", "in_progress"))
    c.todos(("x", "completed"))
    counts = c.track()
    assert _tasks(db, "h") == [(1, "do x", "success", ["Finished step: x"])]
    assert counts["status_changes"] == 3 and counts["learn_jobs"] == 1 and len(_jobs(db)) == 1


def test_the_task_agents_task_for_the_prompt_is_reused(db, settings) -> None:
    c = Convo(db, settings)
    prompt = c.prompt("please add a dark mode toggle")
    task = task_store.insert_task(db, "h", "Add a dark mode toggle", status="running")
    task_store.link_messages(db, task["id"], [prompt])
    c.todos(("add the toggle", "completed"))
    c.track()
    assert _tasks(db, "h") == [
        (1, "Add a dark mode toggle", "success", ["Finished step: add the toggle"])
    ]


def test_evidence_goes_to_the_current_task_when_no_prompt_was_seen(db, settings) -> None:
    c = Convo(db, settings)
    c.call("Bash", {"command": "pytest -q"}, result="3 passed in 0.1s")
    assert c.track()["unassigned_evidence"] == 1  # no request, no task
    task_store.insert_task(db, "h", "earlier work", status="running")
    c.bash("cargo build", "Finished dev profile")
    c.call("Bash", {"command": "ls -la"}, result="total 0")  # not a check: no evidence
    c.call(
        "Bash",
        {"command": "pytest -q", "run_in_background": True},
        result="Command running in background with ID: b1",
    )
    c.track()
    (task,) = task_store.session_tasks(db, "h")
    assert task["progresses"] == ["Ran `cargo build`: succeeded"]
    assert _evidence(db, task["id"]) == [("build", "passed", "cargo build")]


def test_evidence_of_a_request_waits_for_its_task(db, settings) -> None:
    """Without todos the task agent creates the request's task: the tracker, which runs
    before it, holds the evidence until a task is linked to the prompt or the run."""
    c = Convo(db, settings)
    prompt = c.prompt("Make the web tests pass")
    c.bash("cd web && npm test", "Tests:       1 failed, 4 passed, 5 total", exit_code=1)
    c.bash("cd web && npm test", "Tests:       5 passed, 5 total")
    counts = c.track()
    assert counts["tasks_created"] == 0 and counts["evidence"] == 0
    assert len(get_cursor(db, cursor_key("h"))["held"]) == 2
    task = task_store.insert_task(db, "h", "Make the web tests pass", status="success")
    task_store.link_messages(db, task["id"], [prompt])
    assert c.track()["evidence"] == 2
    task = task_store.get_task_by_id(db, task["id"])
    assert task["progresses"] == [
        "Ran `cd web && npm test`: 1 failed, 4 passed",
        "Ran `cd web && npm test`: 5 passed",
    ]
    assert task["outcome"] == "verified_success"
    assert get_cursor(db, cursor_key("h"))["held"] == []


def test_a_run_linked_to_a_task_by_the_task_agent_lands_there(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("Two things: fix the build, then tidy the docs")
    c.bash("make", "make: *** [all] Error 2", exit_code=2)
    c.track()
    task = task_store.insert_task(db, "h", "Fix the build", status="running")
    run = db.execute("SELECT MAX(id) FROM messages").fetchone()[0]
    task_store.link_messages(db, task["id"], [run])
    c.track()
    assert _evidence(db, task["id"]) == [("build", "failed", "make")]


def test_commits_and_failed_commands_are_evidence_but_answers_are_not(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("Release it")
    c.todos(("release", "in_progress"))
    c.bash("python3 -m pytest -q", "2 passed in 0.1s")
    c.bash("grep -n TODO src/app.py", "", exit_code=1)  # no match: an answer, not a failure
    c.bash("python3 deploy.py --dry-run", "Traceback ...\nKeyError: 'HOST'", exit_code=1)
    c.bash("git add -A && git commit -m 'release'", "[main 1a2b3c4] release\n 1 file changed")
    c.track()
    (task,) = task_store.session_tasks(db, "h")
    rows = task_store.task_evidence(db, task["id"])
    assert [(e["kind"], e["result"]) for e in rows] == [
        ("test", "passed"),
        ("tool_failure", "failed"),
        ("commit", "passed"),
    ]
    assert rows[1]["detail"] == "failed with exit code 1 (Traceback ...)"
    assert rows[2]["detail"] == "[main 1a2b3c4] release"


class TestUserReplies:
    """The user's next prompt is evidence on the request before it."""

    def _fixed(self, c: Convo) -> None:
        c.prompt("Fix the failing greeting test")
        c.todos(("fix greet()", "in_progress"))
        c.bash("python -m pytest -q", "1 failed, 2 passed", exit_code=1)
        c.bash("python -m pytest -q", "3 passed in 0.02s")
        c.todos(("fix greet()", "completed"))

    def test_passing_runs_settle_success_and_a_correction_turns_it_to_failure(
        self, db, settings
    ) -> None:
        c = Convo(db, settings)
        self._fixed(c)
        c.track()
        assert _outcomes(db) == [("Fix the failing greeting test", "success", "verified_success")]
        reply = c.prompt("No, that's wrong: it must greet by first name.")
        counts = c.track()
        assert counts["replies"] == 1 and counts["outcomes"] == 1
        assert _outcomes(db) == [("Fix the failing greeting test", "success", "verified_failure")]
        (task,) = task_store.session_tasks(db, "h")
        last = task_store.task_evidence(db, task["id"])[-1]
        assert (last["kind"], last["result"], last["message_id"]) == (
            "user_reply",
            "corrected",
            reply,
        )
        assert reply in task_store.linked_message_ids(db, task["id"])

    def test_work_after_a_correction_continues_the_same_request(self, db, settings) -> None:
        c = Convo(db, settings)
        self._fixed(c)
        c.prompt("still failing on CI")
        c.bash("python -m pytest -q", "4 passed in 0.02s")
        c.track()
        assert _outcomes(db) == [("Fix the failing greeting test", "success", "verified_success")]
        (task,) = task_store.session_tasks(db, "h")
        assert [e["kind"] for e in task_store.task_evidence(db, task["id"])] == [
            "test",
            "test",
            "user_reply",
            "test",
        ]

    def test_dropping_it_is_abandoned_and_a_new_request_is_a_new_task(self, db, settings) -> None:
        c = Convo(db, settings)
        c.prompt("Migrate the db to postgres")
        c.todos(("write migration", "completed"))
        c.prompt("never mind, leave it")
        c.prompt("Add a README")
        c.todos(("write README", "completed"))
        c.track()
        assert _outcomes(db) == [
            ("Migrate the db to postgres", "success", "abandoned"),
            ("Add a README", "success", "unverified"),  # nothing verified it
        ]

    def test_a_confirmation_verifies_and_a_near_miss_does_not(self, db, settings) -> None:
        c = Convo(db, settings)
        c.prompt("Rename the flag")
        c.todos(("rename", "completed"))
        c.prompt("that worked before but now the CLI crashes on start")
        c.todos(("fix the crash", "completed"))
        c.prompt("perfect, thanks")
        c.track()
        assert _outcomes(db) == [
            ("Rename the flag", "success", "unverified"),
            ("that worked before but now the CLI crashes on start", "success", "verified_success"),
        ]

    def test_a_reply_waits_for_the_task_agent_to_link_its_request(self, db, settings) -> None:
        c = Convo(db, settings)
        prompt = c.prompt("Explain and fix the flaky test")
        c.prompt("that didn't work")
        assert c.track()["replies"] == 0  # no task holds the request yet
        task = task_store.insert_task(db, "h", "Fix the flaky test", status="failed")
        task_store.link_messages(db, task["id"], [prompt])
        assert c.track()["replies"] == 1
        assert _outcomes(db) == [("Fix the flaky test", "failed", "verified_failure")]
        assert get_cursor(db, cursor_key("h"))["held"] == []


def test_host_task_completed_events_are_evidence_on_the_steps_request(db, settings) -> None:
    from acontext_mcp.store.events import add_event

    c = Convo(db, settings)
    c.prompt("Track as tasks: run the tests")
    c.call(
        "TaskCreate",
        {"subject": "Run the tests", "description": "pytest"},
        result="Task #1 created successfully: Run the tests",
    )
    c.call("TaskUpdate", {"taskId": "1", "status": "completed"})
    add_event(db, "h", "task_completed", {"task_id": "1", "task_subject": "Run the tests"})
    c.track()
    (task,) = task_store.session_tasks(db, "h")
    assert _evidence(db, task["id"]) == [("task_completed", "completed", "#1")]
    assert task["outcome"] == "unverified"  # the agent's own say-so verifies nothing
    assert c.track()["evidence"] == 0  # an event is read once


def test_parts_added_to_an_already_tracked_message_are_read(db, settings) -> None:
    c = Convo(db, settings)
    c._store("assistant", [{"type": "text", "text": "planning"}])
    c.track()
    args = json.dumps({"todos": [{"content": "late todo", "status": "pending"}]})
    call = {"type": "tool-call", "id": "late", "name": "TodoWrite", "arguments": args}
    assert extend_message(db, settings, "h", "id:m1", [call]) == 1
    c.result("late", "Todos have been modified successfully.")
    c.track()
    assert _tasks(db, "h") == [(1, "late todo", "running", [])]


def test_unknown_sessions_and_disabled_messages_change_nothing(db, settings) -> None:
    assert track_session(db, settings, "nope")["messages"] == 0
    assert get_cursor(db, cursor_key("nope")) is None
    c = Convo(db, settings)
    c.todos(("secret plan", "pending"))
    db.execute(
        "UPDATE messages SET status = 'disabled' WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = 'h')"
    )
    assert c.track()["tasks_created"] == 0 and _tasks(db, "h") == []


def test_a_rerun_with_nothing_new_does_not_rewrite_the_cursor(db, settings) -> None:
    c = Convo(db, settings)
    c.todos(("x", "pending"))
    c.track()
    db.execute("UPDATE cursors SET updated_at = 0")
    c.track()
    assert db.execute("SELECT updated_at FROM cursors").fetchone()[0] == 0


# -- evidence parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("pytest tests/test_x.py -q", "test"),
        ("python3 -m pytest -q", "test"),
        (".venv/bin/python -m unittest discover", "test"),
        ("cd app && uv run pytest", "test"),
        ("FOO=1 timeout 60 npm test", "test"),
        ("npm run build", "build"),
        ("yarn test --watch=false", "test"),
        ("pnpm run lint", "lint"),
        ("cargo test --all", "test"),
        ("cargo build --release", "build"),
        ("go test ./...", "test"),
        ("go build ./cmd/x", "build"),
        ("make", "build"),
        ("make check", "test"),
        ("npx tsc --noEmit", "typecheck"),
        ("mvn -q test", "test"),
        ("./gradlew build", "build"),
        ("ls -la", None),
        ("cat pytest.ini", None),
        ("npm install", None),
        ("git commit -m 'run tests'", None),
        ("python3 script.py", None),
        ("", None),
        ("echo 'unterminated", None),
    ],
)
def test_check_kind(command: str, kind: str | None) -> None:
    assert check_kind(command) == kind


@pytest.mark.parametrize(
    ("command", "text", "is_error", "line"),
    [
        ("pytest", "....\n=== 3 failed, 12 passed, 1 skipped in 2.1s ===", False,
         "Ran `pytest`: 3 failed, 12 passed, 1 skipped"),
        ("python -m unittest", "Ran 5 tests in 0.01s\n\nFAILED (failures=1, errors=1)", True,
         "Ran `python -m unittest`: 1 failed, 1 errors, 3 passed"),
        ("python -m unittest", "Ran 5 tests in 0.01s\n\nOK", False,
         "Ran `python -m unittest`: 5 passed"),
        ("cargo test", "Exit code 101\ntest result: FAILED. 3 passed; 1 failed; 0 ignored", True,
         "Ran `cargo test`: 1 failed, 3 passed"),
        ("npx mocha", "  4 passing (10ms)\n  1 failing", True,
         "Ran `npx mocha`: 1 failed, 4 passed"),
        ("tsc --noEmit", "Exit code 2\nsrc/a.ts(1,7): error TS2322: no\nFound 1 error in src/a.ts",
         True, "Ran `tsc --noEmit`: 1 errors (src/a.ts(1,7): error TS2322: no)"),
        ("go test ./...", "Exit code 1\n--- FAIL: TestX (0.00s)\nFAIL\tpkg\t0.1s", True,
         "Ran `go test ./...`: failed with exit code 1 (--- FAIL: TestX (0.00s))"),
        ("npm run build", "Command timed out after 2m", True, "Ran `npm run build`: failed"),
        ("pytest `echo x`", "1 passed", False, "Ran `pytest 'echo x'`: 1 passed"),
        ("pytest " + "a" * 200, "1 passed", False, "Ran `pytest " + "a" * 112 + "…`: 1 passed"),
    ],
)  # fmt: skip
def test_outcome_lines(command: str, text: str, is_error: bool, line: str) -> None:
    evidence = read_outcome(command, text, is_error)
    assert evidence is not None and evidence.line() == line


def test_no_outcome_for_other_commands_or_background_runs() -> None:
    assert read_outcome("ls", "x", False) is None
    assert read_outcome("pytest", "Command running in background with ID: x", False) is None
    assert read_outcome("pytest", None, False) is None  # type: ignore[arg-type]


def test_at_session_end_running_tasks_are_settled_by_their_evidence(db, settings) -> None:
    from acontext_mcp.store.events import add_event

    c = Convo(db, settings)
    c.prompt("Speed up the importer")
    c.todos(("profile", "completed"), ("optimise", "in_progress"))
    c.bash("python -m pytest -q", "1 failed, 9 passed", exit_code=1)
    c.track()
    assert _outcomes(db) == [("Speed up the importer", "running", None)]
    add_event(db, "h", "session_end", {"reason": "other"})
    assert c.track()["outcomes"] == 1
    assert _outcomes(db) == [("Speed up the importer", "running", "verified_failure")]
    c.bash("python -m pytest -q", "10 passed")  # resumed: the settled task follows its evidence
    c.track()
    assert _outcomes(db) == [("Speed up the importer", "running", "verified_success")]


def test_a_housekeeping_command_does_not_separate_a_reply_from_its_request(db, settings) -> None:
    c = Convo(db, settings)
    c.prompt("Fix the flaky test")
    c.todos(("fix", "completed"))
    c.prompt("<command-name>/compact</command-name>\n<command-args></command-args>")
    c.prompt("that worked, thanks")
    c.track()
    assert _outcomes(db) == [("Fix the flaky test", "success", "verified_success")]
