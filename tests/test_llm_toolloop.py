"""The one tool loop (llm/toolloop.py) on its own, under a scripted model: argument checks
against each tool's schema, call order, finish and its refusals, the required first tool,
max rounds, and what a refused call leaves behind in a real SQLite transaction."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from support.fake_provider import FakeProvider, bad_call, call, tools

from acontext_mcp.errors import InvalidInput
from acontext_mcp.llm import ToolSpec
from acontext_mcp.llm.toolloop import (
    FINISHED,
    Tool,
    ToolLoop,
    ToolResult,
    check_arguments,
)
from acontext_mcp.store.db import atomic

NOTE = ToolSpec(
    "note",
    "Note a line.",
    {
        "type": "object",
        "properties": {
            "line": {"type": "integer"},
            "text": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "integer"}},
            "mood": {"type": "string", "enum": ["calm", "busy"]},
        },
        "required": ["line", "text"],
        "additionalProperties": False,
    },
)
PLAN = ToolSpec(
    "plan",
    "Say the plan.",
    {"type": "object", "properties": {"plan": {"type": "string"}}, "required": ["plan"]},
)
LOOK = ToolSpec("look", "Read something.", {"type": "object", "properties": {}})
FINISH = ToolSpec("finish", "Stop.", {"type": "object", "properties": {}})


class Recorder:
    """Handlers that log what ran, in order; `finish_answers` scripts the finish check."""

    def __init__(self, finish_answers: list[ToolResult] | None = None) -> None:
        self.ran: list[tuple[str, dict[str, Any]]] = []
        self.finish_answers = list(finish_answers or [])

    def handler(self, name: str) -> Any:
        def handle(args: dict[str, Any]) -> ToolResult:
            self.ran.append((name, args))
            if name == "finish":
                if self.finish_answers:
                    return self.finish_answers.pop(0)
                return ToolResult.done(FINISHED)
            return ToolResult.done(f"{name} ok")

        return handle

    def loop(self, **options: Any) -> ToolLoop:
        specs = [NOTE, PLAN, LOOK, FINISH]
        settings: dict[str, Any] = dict(
            system="sys",
            purpose="test",
            max_rounds=5,
            max_tokens=100,
            not_finished="Not finished: fix the errors above",
        )
        settings.update(options)
        return ToolLoop(
            tools=[Tool(s, self.handler(s.name), ungated=s.name == "look") for s in specs],
            **settings,
        )


def answers(model: FakeProvider, request: int) -> list[tuple[str, str, bool]]:
    """(tool name, text, is_error) of each tool result sent in request `request`."""
    parts = model.requests[request]["messages"][-1]["parts"]
    return [(p["name"], p["content"][0]["text"], bool(p.get("is_error"))) for p in parts]


def test_bad_arguments_are_refused_with_the_schema_error_and_the_model_is_told() -> None:
    rec = Recorder()
    model = FakeProvider(
        [
            tools(
                call("note", text="x"),
                call("note", line="first", text="x"),
                call("note", line=1, text=["x"]),
                call("note", line=1, text="x", mood="angry"),
                call("note", line=1, text="x", tags=["a"]),
                bad_call("note", '{"line": 1, "text": '),
                call("erase"),
            ),
            tools(call("finish")),
        ]
    )
    run = rec.loop().run(model, "go")

    assert rec.ran == [("finish", {})]  # no handler saw a bad call
    got = answers(model, 1)
    assert all(is_error for _, _, is_error in got)
    texts = [text for _, text, _ in got]
    assert texts[0] == "Error: note needs 'line'"
    assert texts[1] == "Error: note: line must be an integer, got 'first'"
    assert texts[2] == "Error: note: text must be a string, got ['x']"
    assert texts[3].startswith("Error: note: mood must be one of ['calm', 'busy']")
    assert texts[4].startswith("Error: note: tags.0 must be an integer")
    assert "not a JSON object" in texts[5]
    assert texts[6] == "Error: unknown tool 'erase'; use one of: note, plan, look, finish"
    assert run.refused == 7 and run.finished and run.rounds == 2
    assert run.last_refusal == texts[6]


def test_the_forgiveness_the_loops_always_had_happens_before_the_schema_check() -> None:
    args, problem = check_arguments(
        NOTE, {"line": "3", "text": "x", "tags": 4, "mood": None, "extra": "ignored"}
    )
    assert problem is None and args == {"line": 3, "text": "x", "tags": [4]}
    assert check_arguments(NOTE, {"line": 2.0, "text": "x"}) == ({"line": 2, "text": "x"}, None)
    assert check_arguments(NOTE, {"line": 2.5, "text": "x"})[1] == (
        "note: line must be an integer, got 2.5"
    )
    assert check_arguments(NOTE, {"line": True, "text": "x"})[1] == (
        "note: line must be an integer, got True"
    )
    assert check_arguments(NOTE, {"line": 1, "text": None})[1] == "note needs 'text'"
    assert check_arguments(NOTE, "line 1")[1] == "note takes a JSON object of arguments"


def test_handlers_run_in_call_order_and_every_call_is_answered_in_that_order() -> None:
    rec = Recorder()
    first = [call("finish"), call("note", line=2, text="b"), call("look"), call("plan", plan="p")]
    model = FakeProvider([tools(*first)])
    run = rec.loop().run(model, "go")

    # finish came first but is judged after the turn's other calls ran
    assert [name for name, _ in rec.ran] == ["note", "look", "plan", "finish"]
    assert rec.ran[0] == ("note", {"line": 2, "text": "b"})
    assert len(model.requests) == 1 and run.finished and run.rounds == 1 and run.tool_calls == 4


def test_answers_keep_call_order_and_ids_in_the_next_request() -> None:
    rec = Recorder()
    calls = [call("look"), call("finish"), call("note", line=1, text="a"), call("nope")]
    model = FakeProvider([tools(*calls), tools(call("finish"))])
    run = rec.loop().run(model, "go")

    parts = model.requests[1]["messages"][-1]["parts"]
    assert [p["tool_call_id"] for p in parts] == [c.id for c in calls]
    assert answers(model, 1) == [
        ("look", "look ok", False),
        ("finish", "Not finished: fix the errors above", True),
        ("note", "note ok", False),
        ("nope", "Error: unknown tool 'nope'; use one of: note, plan, look, finish", True),
    ]
    assert run.finished and run.rounds == 2 and run.refused == 1


def test_a_refused_finish_keeps_the_loop_going_until_the_check_passes() -> None:
    rec = Recorder([ToolResult.refused("not finished; skill x is broken")])
    model = FakeProvider([tools(call("finish")), tools(call("finish"))])
    run = rec.loop().run(model, "go")

    assert answers(model, 1) == [("finish", "Error: not finished; skill x is broken", True)]
    assert run.finished and run.rounds == 2 and len(model.requests) == 2
    assert run.refused == 0  # a refused finish is not a failed tool call
    assert run.last_refusal == "Error: not finished; skill x is broken"


def test_a_reply_without_tool_calls_ends_the_loop_finished_only_if_the_check_passes() -> None:
    rec = Recorder([ToolResult.refused("not finished; skill x is broken")])
    run = rec.loop().run(FakeProvider([]), "go")
    assert not run.finished and run.rounds == 1
    assert run.last_refusal == "Error: not finished; skill x is broken"

    run = Recorder().loop().run(FakeProvider([]), "go")
    assert run.finished and run.rounds == 1


def test_the_loop_stops_after_max_rounds() -> None:
    rec = Recorder()
    model = FakeProvider(exhausted=lambda _request: tools(call("look")))
    run = rec.loop(max_rounds=3).run(model, "go")
    assert len(model.requests) == 3 and run.rounds == 3 and not run.finished
    assert [name for name, _ in rec.ran] == ["look"] * 3


def test_the_required_first_tool_gates_every_tool_but_reads_and_finish() -> None:
    rec = Recorder()
    model = FakeProvider(
        [
            tools(
                call("note", line=1, text="a"),
                call("look"),
                call("plan", plan="p"),
                call("note", line=2, text="b"),
                call("finish"),
            ),
        ]
    )
    loop = rec.loop(required_first="plan", required_first_why="with the plan", max_rounds=1)
    run = loop.run(model, "go")

    # the first note was refused; after the plan, the same turn's second note ran
    assert [name for name, _ in rec.ran] == ["look", "plan", "note", "finish"]
    assert run.refused == 1 and not run.finished
    model2 = FakeProvider([tools(call("finish"))])
    assert Recorder().loop(required_first="plan").run(model2, "go").finished
    rec3 = Recorder()
    model3 = FakeProvider([tools(call("note", line=1, text="a")), tools(call("finish"))])
    rec3.loop(required_first="plan", required_first_why="with the plan").run(model3, "go")
    assert answers(model3, 1) == [
        ("note", "Error: note refused: call plan first with the plan", True)
    ]


def test_a_refused_call_leaves_nothing_behind_and_a_bug_is_not_a_refusal(
    tmp_path: Any,
) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    conn.execute("CREATE TABLE notes (line INTEGER)")

    def note(args: dict[str, Any]) -> ToolResult:
        conn.execute("INSERT INTO notes VALUES (?)", (args["line"],))
        if args["line"] == 2:
            return ToolResult.refused("line 2 is taken")
        if args["line"] == 3:
            raise InvalidInput("line 3 is reserved")
        if args["line"] == 4:
            raise ZeroDivisionError("a bug")
        return ToolResult.done("noted")

    def finish(_args: dict[str, Any]) -> ToolResult:
        return ToolResult.done(FINISHED)

    loop = ToolLoop(
        system="sys",
        tools=[Tool(NOTE, note), Tool(FINISH, finish)],
        purpose="test",
        max_rounds=3,
        max_tokens=100,
        not_finished="Not finished",
        round_scope=lambda: atomic(conn),
        call_scope=lambda: atomic(conn),
    )
    model = FakeProvider(
        [
            tools(*(call("note", line=n, text="x") for n in (1, 2, 3))),
            tools(call("note", line=5, text="x"), call("note", line=4, text="x")),
        ]
    )
    with pytest.raises(ZeroDivisionError):
        loop.run(model, "go")

    assert answers(model, 1) == [
        ("note", "noted", False),
        ("note", "Error: line 2 is taken", True),
        ("note", "Error: line 3 is reserved", True),
    ]
    # round 1 committed without the refused calls; round 2 died with a bug and left nothing
    assert [r[0] for r in conn.execute("SELECT line FROM notes")] == [1]


def test_a_loop_without_finish_or_with_an_unknown_first_tool_is_a_programming_error() -> None:
    handle = Recorder().handler("x")
    with pytest.raises(ValueError, match="finish"):
        ToolLoop(
            system="s",
            tools=[Tool(NOTE, handle)],
            purpose="p",
            max_rounds=1,
            max_tokens=1,
            not_finished="n",
        )
    with pytest.raises(ValueError, match="plan"):
        ToolLoop(
            system="s",
            tools=[Tool(FINISH, handle)],
            purpose="p",
            max_rounds=1,
            max_tokens=1,
            not_finished="n",
            required_first="plan",
        )


# --- the learner's file tools on the loop ------------------------------------------------------

BUILD_MD = "---\nname: build\ndescription: Use when building.\n---\n\n# Build\n\n- run make\n"


def _skills(tmp_path: Any, notes: str) -> Any:
    skills = tmp_path / "skills"
    (skills / "build").mkdir(parents=True)
    (skills / "build" / "SKILL.md").write_text(BUILD_MD)
    (skills / "build" / "notes.md").write_text(notes)
    return skills


def test_the_learners_file_tools_answer_with_typed_results(tmp_path: Any) -> None:
    from acontext_mcp.learn.workspace import SkillWorkspace

    ws = SkillWorkspace(_skills(tmp_path, "- a note\n"))
    read = ws.call("get_skill_file", {"skill_name": "build", "file_path": "SKILL.md"})
    assert read == ToolResult(True, BUILD_MD)
    missing = ws.call("get_skill", {"skill_name": "nope"})
    assert not missing.ok and missing.text.startswith("no skill named 'nope'")
    escape = ws.call("get_skill_file", {"skill_name": "build", "file_path": "../../etc/passwd"})
    assert not escape.ok and not escape.text.startswith("Error")
    assert escape.wire_text() == f"Error: {escape.text}"


def test_a_file_that_starts_with_error_is_an_answer_not_a_failed_call(tmp_path: Any) -> None:
    """The learner used to call every answer starting with "Error" a failure, so reading such a
    file refused the finish of that turn; the typed result tells them apart."""
    from acontext_mcp.learn.learner import run_learner
    from acontext_mcp.learn.workspace import SkillWorkspace

    notes = "Error: ECONNRESET from the registry means the proxy dropped the connection.\n"
    ws = SkillWorkspace(_skills(tmp_path, notes))
    model = FakeProvider(
        [tools(call("get_skill_file", skill_name="build", file_path="notes.md"), call("finish"))]
    )
    run = run_learner(model, ws, [{"text": "x"}], today="2026-12-05", rounds=1)
    assert run.finished and run.tool_errors == 0 and run.rounds == 1
