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


class TestRealTodoWrite:
    """todos.jsonl: TodoWrite plans three steps, a failing then a passing pytest, all done."""

    def test_todos_become_tasks_with_statuses_evidence_and_learn_jobs(self, db, settings) -> None:
        _captured(db, settings, TODOS, "s")
        counts = track_session(db, settings, "s")
        assert _tasks(db, "s") == [
            (1, "Write calc.py with an add function", "success", []),
            (2, "Write test_calc.py covering add", "success", []),
            (
                3,
                "Run the tests and fix what fails",
                "success",
                [
                    f"Ran `{PYTEST}`: 1 failed, 1 passed "
                    "(FAILED test_calc.py::test_add - assert -1 == 5)",
                    f"Ran `{PYTEST}`: 2 passed",
                ],
            ),
        ]
        ids = [t["id"] for t in task_store.list_tasks(db, session_id="s")["tasks"]]
        assert _jobs(db) == [
            ("learn_task", {"task_id": i, "session_id": "s"}, f"learn:{i}", "queued") for i in ids
        ]
        assert counts["tasks_created"] == 3 and counts["learn_jobs"] == 3
        assert counts["progress"] == 2 and counts["malformed"] == counts["rejected"] == 0

    def test_each_task_is_linked_to_the_messages_it_came_from(self, db, settings) -> None:
        _captured(db, settings, TODOS, "s")
        track_session(db, settings, "s")
        first, _, third = task_store.list_tasks(db, session_id="s")["tasks"]
        linked = db.execute(
            "SELECT m.parts FROM task_messages l JOIN messages m ON m.id = l.message_id "
            "WHERE l.task_id = ? ORDER BY m.position",
            (first["id"],),
        ).fetchall()
        names = [p.get("name") for r in linked for p in json.loads(r[0])]
        # four TodoWrite calls (plus the results that confirmed them) mention the first todo
        assert names.count("TodoWrite") == 4
        third_links = db.execute(
            "SELECT COUNT(*) FROM task_messages WHERE task_id = ?", (third["id"],)
        ).fetchone()[0]
        # 4 TodoWrite calls and their results, 2 pytest calls and results; the first pytest
        # call shares its assistant message with the third TodoWrite (parallel tool calls)
        assert third_links == 8 + 4 - 1

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
        assert len(keys) == len(set(keys)) == 6


class TestRealTaskTools:
    """tasks.jsonl: TaskCreate x3, TaskUpdate in_progress/completed/deleted, pytest and make."""

    def test_task_tools_become_tasks_and_deleted_keeps_its_status(self, db, settings) -> None:
        _captured(db, settings, TASKS, "k")
        counts = track_session(db, settings, "k")
        assert _tasks(db, "k") == [
            (
                1,
                "Run the unit tests: Run pytest on test_calc.py and make sure every test passes",
                "success",
                [f"Ran `{PYTEST}`: 2 passed"],
            ),
            (
                2,
                "Run make check",
                "running",
                ["Ran `make check`: failed with exit code 2 "
                 "(make: *** No rule to make target 'check'.  Stop.)"],
            ),
            (3, "Write release notes: Write RELEASE.md describing add", "pending", [DELETED]),
        ]  # fmt: skip
        first = task_store.list_tasks(db, session_id="k")["tasks"][0]
        assert [j[2] for j in _jobs(db)] == [f"learn:{first['id']}"]
        assert counts["dropped"] == 1 and counts["unknown_tasks"] == 0
        # the TaskCreate result's "Task #N" id is what TaskUpdate used
        assert get_cursor(db, cursor_key("k"))["ids"] == {
            str(n): t["id"]
            for n, t in enumerate(task_store.list_tasks(db, session_id="k")["tasks"], 1)
        }

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

    def track(self) -> dict[str, Any]:
        return track_session(self.db, self.settings, self.sid)


def test_a_todowrite_that_drops_a_todo_notes_it_and_keeps_its_status(db, settings) -> None:
    c = Convo(db, settings)
    c.todos(("plan", "completed"), ("build", "in_progress"), ("ship", "pending"))
    c.todos(("plan", "completed"), ("build and ship", "in_progress"))
    counts = c.track()
    assert _tasks(db, "h") == [
        (1, "plan", "success", []),
        (2, "build and ship", "running", []),  # a new todo goes after the todo before it
        (3, "build", "running", [DROPPED]),
        (4, "ship", "pending", [DROPPED]),
    ]
    assert counts["dropped"] == 2 and len(_jobs(db)) == 1  # only "plan" finished


def test_new_todos_are_placed_after_the_previous_todo(db, settings) -> None:
    c = Convo(db, settings)
    c.todos(("a", "pending"), ("c", "pending"))
    c.todos(("a", "pending"), ("b", "pending"), ("c", "pending"))
    c.track()
    assert [t[1] for t in _tasks(db, "h")] == ["a", "b", "c"]


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
    assert _tasks(db, "h") == [(1, "real one", "pending", [])]
    assert counts["malformed"] >= 9 and counts["unknown_tasks"] == 2
    assert counts["unknown_status"] == 1


def test_unknown_statuses_leave_the_status_as_it_was(db, settings) -> None:
    c = Convo(db, settings)
    c.todos(("fix bug", "in_progress"))
    c.todos(("fix bug", "blocked"), ("new one", "cancelled"))
    c.call(
        "TaskCreate",
        {"subject": "other", "description": ""},
        result="Task #1 created successfully: other",
    )
    c.call("TaskUpdate", {"taskId": "1", "status": "done-ish"})
    counts = c.track()
    assert [(t[1], t[2]) for t in _tasks(db, "h")] == [
        ("fix bug", "running"),
        ("new one", "pending"),
        ("other", "pending"),
    ]
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
    call_id = c.call_only("TodoWrite", {"todos": [{"content": "x", "status": "completed"}]})
    assert c.track()["tasks_created"] == 0  # not applied before Claude Code confirmed it
    c.result(call_id, "Todos have been modified successfully.")
    assert c.track()["tasks_created"] == 1
    assert _tasks(db, "h") == [(1, "x", "success", [])] and len(_jobs(db)) == 1


def test_reopened_task_runs_again_and_is_queued_once(db, settings) -> None:
    c = Convo(db, settings)
    c.todos(("x", "completed"))
    c.todos(("x", "in_progress"))
    c.todos(("x", "completed"))
    counts = c.track()
    assert _tasks(db, "h") == [(1, "x", "success", [])]
    assert counts["status_changes"] == 2 and counts["learn_jobs"] == 1 and len(_jobs(db)) == 1


def test_task_agent_tasks_in_the_same_words_are_reused(db, settings) -> None:
    c = Convo(db, settings)
    task_store.insert_task(db, "h", "Add a dark mode toggle", status="running")
    c.todos(("add a dark mode  toggle", "completed"))
    c.track()
    assert _tasks(db, "h") == [(1, "Add a dark mode toggle", "success", [])]


def test_evidence_goes_to_the_running_task_else_the_last_one(db, settings) -> None:
    c = Convo(db, settings)
    c.call("Bash", {"command": "pytest -q"}, result="3 passed in 0.1s")
    assert c.track()["unassigned_evidence"] == 1
    c.todos(("a", "in_progress"), ("b", "pending"))
    jest = "Exit code 1\nTests:       1 failed, 4 passed, 5 total"
    c.call("Bash", {"command": "cd web && npm test"}, result=jest, is_error=True)
    c.call("Bash", {"command": "ls -la"}, result="total 0")  # not a test: no evidence
    c.todos(("a", "completed"), ("b", "pending"))
    c.call("Bash", {"command": "cargo build"}, result="Finished dev profile")
    c.call(
        "Bash",
        {"command": "pytest -q", "run_in_background": True},
        result="Command running in background with ID: b1",
    )
    c.track()
    assert _tasks(db, "h") == [
        (1, "a", "success", ["Ran `cd web && npm test`: 1 failed, 4 passed"]),
        (2, "b", "pending", ["Ran `cargo build`: succeeded"]),
    ]


def test_parts_added_to_an_already_tracked_message_are_read(db, settings) -> None:
    c = Convo(db, settings)
    c._store("assistant", [{"type": "text", "text": "planning"}])
    c.track()
    args = json.dumps({"todos": [{"content": "late todo", "status": "pending"}]})
    call = {"type": "tool-call", "id": "late", "name": "TodoWrite", "arguments": args}
    assert extend_message(db, settings, "h", "id:m1", [call]) == 1
    c.result("late", "Todos have been modified successfully.")
    c.track()
    assert _tasks(db, "h") == [(1, "late todo", "pending", [])]


def test_unknown_sessions_and_disabled_messages_change_nothing(db, settings) -> None:
    assert track_session(db, settings, "nope")["messages"] == 0
    assert get_cursor(db, cursor_key("nope")) is None
    c = Convo(db, settings)
    c.todos(("secret plan", "pending"))
    db.execute("UPDATE messages SET status = 'disabled' WHERE session_id = 'h'")
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
