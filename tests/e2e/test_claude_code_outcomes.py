"""Task outcomes from what real Claude Code really ran, against a scripted model.

Two sessions in one temp project, with our plugin loaded by `--plugin-dir`:

1. FIXIT: the agent plans two todos, really runs `python -m pytest` (it fails: greet() says
   "Hi"), reads and rewrites greet.py, runs pytest again (it passes) and completes its todos.
   The request is one task, its outcome `verified_success`, its evidence the failing then the
   passing run (exit code 1 with "1 failed, 1 passed", then "2 passed").
2. SHOUT: with Claude Code's task tools, the agent creates a task, changes shout.py, pytest
   passes, the task is completed (`verified_success`; Claude Code's TaskCompleted hook, when
   it fires, adds `task_completed` evidence); then the user's next prompt (`--resume`)
   corrects it: "No, that's wrong ..." -> `verified_failure`, the reply recorded as evidence
   with its message id.

Observation runs through the real CLI (`acontext-mcp flush`, no LLM provider: deterministic
tracking only) and the outcome is read back through `acontext-mcp tasks --json`. The outcome
table of these sessions is printed to the test log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.model_server import model_server
from test_claude_code import MODEL, Project

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ACONTEXT_MCP = Path(sys.executable).parent / "acontext-mcp"
PYTEST = "python -m pytest -q -p no:cacheprovider test_greet.py"
FIXIT = "FIXIT: the greeting test fails; make greet() pass its tests."
SHOUT = "SHOUT: make shout() return the name in upper case."
CORRECTION = "No, that's wrong: shout('ada') must return 'ADA!' with the mark. (REDO)"

GREET_BUGGY = 'def greet(name):\n    return "Hi " + name\n'
GREET_FIXED = 'def greet(name):\n    return f"Hello, {name}!"\n'
TEST_GREET = (
    "from greet import greet\n\n\n"
    "def test_greet():\n    assert greet('Ada') == 'Hello, Ada!'\n\n\n"
    "def test_type():\n    assert isinstance(greet('x'), str)\n"
)


def _todos(*items: tuple[str, str]) -> dict[str, Any]:
    todos = [{"content": c, "status": s, "activeForm": c} for c, s in items]
    return {"type": "tool_use", "name": "TodoWrite", "input": {"todos": todos}}


def _use(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": tool_input}


def _script(project: Path) -> dict[str, Any]:
    greet, shout = str(project / "greet.py"), str(project / "shout.py")
    fixit = [
        [
            {"type": "text", "text": "I will run the tests first."},
            _use("ToolSearch", query="select:TodoWrite", max_results=1),
        ],
        [_todos(("Run the failing test", "in_progress"), ("Fix greet()", "pending"))],
        [_use("Bash", command=PYTEST, description="Run the tests")],
        [
            _todos(("Run the failing test", "completed"), ("Fix greet()", "in_progress")),
            _use("Read", file_path=greet),
        ],
        [_use("Write", file_path=greet, content=GREET_FIXED)],
        [_use("Bash", command=PYTEST, description="Run the tests again")],
        [_todos(("Run the failing test", "completed"), ("Fix greet()", "completed"))],
        [{"type": "text", "text": "greet() now says Hello; both tests pass."}],
    ]
    step = {"subject": "Upper-case the name", "description": "Change shout() in shout.py"}
    shout_steps = [
        [_use("ToolSearch", query="select:TaskCreate,TaskUpdate", max_results=2)],
        [_use("TaskCreate", **step, activeForm="Changing shout()"), _use("Read", file_path=shout)],
        [
            _use("TaskUpdate", taskId="1", status="in_progress"),
            _use("Write", file_path=shout, content="def shout(name):\n    return name.upper()\n"),
        ],
        [_use("Bash", command=PYTEST, description="Run the tests")],
        [_use("TaskUpdate", taskId="1", status="completed")],
        [{"type": "text", "text": "shout() upper-cases the name now."}],
    ]
    return {
        "final": "FAKE-DONE",
        "conversations": [
            {"marker": "FIXIT", "steps": fixit},
            {"marker": "SHOUT", "steps": shout_steps},
            {"marker": "REDO", "steps": []},  # a plain text answer
        ],
    }


def _acontext(project: Project, *args: str) -> Any:
    proc = subprocess.run(
        [str(ACONTEXT_MCP), *args, "--json"],
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _tasks(project: Project, session_id: str) -> list[dict[str, Any]]:
    flushed = _acontext(project, "flush", session_id)
    assert flushed["status"] in ("done", "deferred"), flushed
    return _acontext(project, "tasks", "--session", session_id)["tasks"]


@pytest.fixture(scope="module")
def runs(claude_code: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("cc-outcomes").resolve()
    for name in ("home", "project", "store"):
        (work / name).mkdir()
    project = work / "project"
    (project / "greet.py").write_text(GREET_BUGGY)
    (project / "test_greet.py").write_text(TEST_GREET)
    (project / "shout.py").write_text("def shout(name):\n    return name\n")
    (work / "script.json").write_text(json.dumps(_script(project), indent=1))
    args = ["--log", str(work / "model.jsonl"), "--script", str(work / "script.json")]
    with model_server(MODEL, work / "model.port", *args) as port:
        cc = _OutcomeProject(claude_code, work, port)
        timings = claude_code.timings
        fixit = cc.run(FIXIT)
        cc.settle(timings)
        fixit_tasks = _tasks(cc, fixit.session_id)
        cc.tasks = True
        shout = cc.run(SHOUT)
        cc.settle(timings)
        shout_before = _tasks(cc, shout.session_id)
        cc.run(CORRECTION, "--resume", shout.session_id)
        cc.settle(timings)
        shout_after = _tasks(cc, shout.session_id)
        yield {
            "project": cc,
            "fixit": (fixit, fixit_tasks),
            "shout": (shout, shout_before, shout_after),
        }


class _OutcomeProject(Project):
    """The test_claude_code project, with no LLM provider (tracking is deterministic only)
    and Claude Code's todo tools on: TodoWrite, or with `tasks` its TaskCreate/TaskUpdate
    (2.1.330 offers `claude -p` neither by default; see make_todos_fixture.sh)."""

    tasks = False

    def env(self) -> dict[str, str]:
        todo = {"CLAUDE_CODE_ENABLE_TODO_TOOLS": "1"}
        if not self.tasks:
            todo["CLAUDE_CODE_ENABLE_TASKS"] = "0"
        return {**super().env(), **todo, "ACONTEXT_LLM_PROVIDER": "none"}


def _table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    lines = ["session | task | status | outcome | evidence (kind result: command / detail)"]
    for session, task in rows:
        evidence = "; ".join(
            f"{e['kind']} {e['result']}: {e.get('command') or e.get('detail') or ''}".strip()
            + (f" ({e['detail']})" if e.get("command") and e.get("detail") else "")
            for e in task["evidence"]
        )
        lines.append(
            f"{session} | {task['description'][:60]} | {task['status']} | {task['outcome']} "
            f"| {evidence}"
        )
    return "\n".join(lines)


def test_outcome_table(runs: dict[str, Any]) -> None:
    (_, fixit), (_, _, shout) = runs["fixit"], runs["shout"]
    table = _table([("FIXIT", t) for t in fixit] + [("SHOUT", t) for t in shout])
    print("\nOutcome table (real Claude Code sessions):\n" + table)
    assert len(fixit) == 1 and len(shout) == 1


def test_a_failing_then_passing_pytest_run_is_a_verified_success(runs: dict[str, Any]) -> None:
    run, tasks = runs["fixit"]
    results = {r["tool_use_id"]: r for r in run.tool_results().values()}
    bash = [u for u in run.tool_uses() if u["name"] == "Bash"]
    assert len(bash) == 2 and results[bash[0]["id"]].get("is_error") is True  # really failed
    assert (runs["project"].project / "greet.py").read_text() == GREET_FIXED  # really written
    (task,) = tasks  # one request, its two todos are steps
    assert task["description"] == FIXIT and task["status"] == "success"
    assert task["outcome"] == "verified_success"
    tests = [e for e in task["evidence"] if e["kind"] == "test"]
    assert [(e["result"], e["command"]) for e in tests] == [("failed", PYTEST), ("passed", PYTEST)]
    assert tests[0]["detail"].startswith("1 failed, 1 passed; exit code 1 (")
    assert tests[1]["detail"] == "2 passed; exit code 0"
    assert all(isinstance(e["message_id"], int) for e in tests)
    assert "Finished step: Fix greet()" in task["progresses"]


def test_the_users_correction_turns_the_outcome_to_failure(runs: dict[str, Any]) -> None:
    run, before, after = runs["shout"]
    assert [(t["status"], t["outcome"]) for t in before] == [("success", "verified_success")]
    # Claude Code 2.1.330 sends TaskCompleted when the task is completed: kept as evidence
    done = [e for e in before[0]["evidence"] if e["kind"] == "task_completed"]
    assert [(e["result"], e["command"], e["detail"]) for e in done] == [
        ("completed", "#1", "Upper-case the name")
    ]
    (task,) = after
    assert task["description"] == SHOUT and task["outcome"] == "verified_failure"
    reply = task["evidence"][-1]
    assert (reply["kind"], reply["result"]) == ("user_reply", "corrected")
    assert reply["detail"].startswith("No, that's wrong") and isinstance(reply["message_id"], int)
    assert run.session_id == runs["project"].runs[-1].session_id  # the same, resumed session
