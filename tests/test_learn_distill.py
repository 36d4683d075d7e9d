"""Distillation of finished tasks under a scripted in-process model, on a real SQLite store."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from support.fake_provider import FakeProvider, bad_call, call, request_chars, tools

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.learn import distill
from acontext_mcp.learn.distill import (
    DistillFailed,
    distill_task,
    is_trivial,
    render_preferences,
)
from acontext_mcp.llm import ProviderFailed, Reply
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.turns import store_turn

FLAKY_TEST = [
    {"role": "user", "content": "The CI job test_login is flaky, please fix it"},
    {
        "role": "assistant",
        "content": "Running the test in a loop to reproduce.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "Bash",
                    "arguments": '{"command": "pytest tests/test_login.py --count 50"}',
                },
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "3 failed, 47 passed: TimeoutError"},
    {
        "role": "assistant",
        "content": "The fixture shares a port; I switched it to an ephemeral port in "
        "tests/conftest.py and now 50/50 pass.",
    },
]

SKILLS = [
    {"name": "pytest-debugging", "description": "How flaky pytest suites were fixed in this repo"},
    {"name": "user-general-facts", "description": "Facts about the user"},
]


def _store(
    conn: sqlite3.Connection, settings: Settings, messages: list[dict[str, Any]], sid: str = "s1"
) -> list[int]:
    return store_turn(conn, settings, messages, session_id=sid, project_dir="/repo/app")[
        "message_ids"
    ]


def _task(
    conn: sqlite3.Connection,
    description: str,
    status: str,
    *,
    sid: str = "s1",
    links: list[int] | None = None,
    progress: list[str] | None = None,
    preferences: list[str] | None = None,
) -> dict[str, Any]:
    task = task_store.insert_task(conn, sid, description, status=status)
    for text in progress or []:
        task_store.update_task_by_id(conn, task["id"], add_progress=text)
    for text in preferences or []:
        task_store.update_task_by_id(conn, task["id"], add_preference=text)
    if links:
        task_store.link_messages(conn, task["id"], links)
    return task_store.get_task_by_id(conn, task["id"])  # type: ignore[return-value]


def _flaky(conn: sqlite3.Connection, settings: Settings, status: str = "success") -> int:
    """A session with an unrelated first task and the flaky-test task linked to its messages."""
    other = _store(conn, settings, [{"role": "user", "content": "Rename UNRELATED_MODULE"}])
    ids = _store(conn, settings, FLAKY_TEST)
    _task(conn, "Rename UNRELATED_MODULE", "success", links=other)
    task = _task(
        conn,
        "Fix the flaky test_login CI job",
        status,
        links=ids,
        progress=["I switched the login fixture to an ephemeral port; 50/50 runs pass."],
        preferences=["The user wants CI fixes verified with 50 repeated runs."],
    )
    return task["id"]


SUCCESS_ARGS = {
    "task_goal": "Fix the flaky test_login CI job",
    "approach": "Reproduce with pytest --count 50, then give the fixture an ephemeral port.",
    "key_decisions": ["Loop the test 50 times before and after", "Never hard-code ports"],
    "generalizable_pattern": "Shared fixed ports make pytest suites flaky under parallel CI.",
    "applies_when": "pytest fixtures in /repo/app that bind network ports",
}
FAILURE_ARGS = {
    "task_goal": "Fix the flaky test_login CI job",
    "failure_point": "The agent added a retry decorator instead of finding the port clash.",
    "flawed_reasoning": "It assumed the timeout was network noise.",
    "what_should_have_been_done": "Run the test 50 times and read the TimeoutError trace.",
    "prevention_principle": "Reproduce a flaky failure before changing code.",
    "applies_when": "Flaky pytest tests in /repo/app CI",
}


def test_success_analysis_is_rendered_with_every_label(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings)
    model = FakeProvider([tools(call("report_success_analysis", **SUCCESS_ARGS))])

    out = distill_task(conn, model, task_id, skills=SKILLS)

    assert out.kind == "success" and out.called_llm and out.reason == ""
    lines = out.text.splitlines()
    assert lines[0] == "Source: session s1, task 2 (success): Fix the flaky test_login CI job"
    assert lines[2:] == [
        "## Task Analysis (Success)",
        f"**Goal:** {SUCCESS_ARGS['task_goal']}",
        f"**Approach:** {SUCCESS_ARGS['approach']}",
        "**Key Decisions:**",
        "  - Loop the test 50 times before and after",
        "  - Never hard-code ports",
        f"**Generalizable Pattern:** {SUCCESS_ARGS['generalizable_pattern']}",
        f"**Applies When:** {SUCCESS_ARGS['applies_when']}",
    ]
    (request,) = model.requests
    assert request["purpose"] == "skill_distillation" == distill.PURPOSE
    assert request["session_id"] == "s1" and request["max_tokens"] == 1500
    # Offered: skip or one structured lesson; the older analysis is still understood.
    assert [t.name for t in request["tools"]] == ["skip_learning", "record_lesson"]
    assert all(t.parameters["required"] for t in request["tools"])
    assert "skip_learning" in request["system"] and "project-runbooks" in request["system"]

    prompt = model.prompt(0)
    finished, session_tasks, messages, skills, _ = prompt.split("\n\n")
    assert finished.splitlines()[:5] == [
        "## Finished Task",
        "Status: success",
        "Project: app (/repo/app)",
        "Description: Fix the flaky test_login CI job",
        "Outcome: unverified",  # not settled counts as unverified
    ]
    assert "- I switched the login fixture to an ephemeral port; 50/50 runs pass." in finished
    assert "User preferences:\n- The user wants CI fixes verified" in finished
    assert session_tasks.splitlines() == [
        "## All Session Tasks",
        "1. [success] Rename UNRELATED_MODULE",
        "2. [success] Fix the flaky test_login CI job  <- this task",
    ]
    # The task's linked messages, compact; the other task's message is not among them.
    assert messages.startswith("## Task Messages\n[0] user: The CI job test_login is flaky")
    assert "-> Bash(command=pytest tests/test_login.py" in messages
    assert "<- Bash: 3 failed, 47 passed: TimeoutError" in messages
    assert "[3] agent: The fixture shares a port" in messages
    assert "UNRELATED_MODULE" not in messages
    assert skills.splitlines() == [
        "## Existing Skills",
        "- **pytest-debugging**: How flaky pytest suites were fixed in this repo",
        "- **user-general-facts**: Facts about the user",
    ]


def test_factual_content_is_rendered_as_context_and_facts(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings)
    facts = ["The user runs CI on GitHub Actions.", "The project tests with pytest 8."]
    model = FakeProvider([tools(call("report_factual_content", task_goal="CI setup", facts=facts))])

    out = distill_task(conn, model, task_id)

    assert out.kind == "factual"
    assert out.text.split("\n\n", 1)[1].splitlines() == [
        "## Factual Content",
        "**Context:** CI setup",
        "**Facts:**",
        "  - The user runs CI on GitHub Actions.",
        "  - The project tests with pytest 8.",
    ]
    assert "## Existing Skills" not in model.prompt(0)  # no skills given, no section


def test_a_failed_task_is_offered_only_the_failure_tool(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings, status="failed")
    model = FakeProvider([tools(call("report_failure_analysis", **FAILURE_ARGS))])

    out = distill_task(conn, model, task_id)

    (request,) = model.requests
    (offered,) = request["tools"]
    assert offered.name == "record_lesson"
    assert offered.parameters["properties"]["kind"]["enum"] == ["trap"]
    assert request["system"] == distill.FAILURE_SYSTEM != distill.SUCCESS_SYSTEM
    assert "Status: failed" in model.prompt(0)
    assert out.kind == "failure"
    assert out.text.startswith("Source: session s1, task 2 (failed): Fix the flaky")
    assert out.text.split("\n\n", 1)[1].splitlines() == [
        "## Task Analysis (Failure)",
        f"**Goal:** {FAILURE_ARGS['task_goal']}",
        f"**Failure Point:** {FAILURE_ARGS['failure_point']}",
        f"**Flawed Reasoning:** {FAILURE_ARGS['flawed_reasoning']}",
        f"**What Should Have Been Done:** {FAILURE_ARGS['what_should_have_been_done']}",
        f"**Prevention Principle:** {FAILURE_ARGS['prevention_principle']}",
        f"**Applies When:** {FAILURE_ARGS['applies_when']}",
    ]


def test_a_failed_task_answered_with_a_success_tool_is_refused(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings, status="failed")
    model = FakeProvider([tools(call("skip_learning", reason="nothing to learn"))])
    with pytest.raises(DistillFailed, match="unexpected tool 'skip_learning'"):
        distill_task(conn, model, task_id)


def test_skip_learning_gives_a_skip_with_the_models_reason(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings)
    model = FakeProvider([tools(call("skip_learning", reason="A one-off status check."))])

    out = distill_task(conn, model, task_id)

    assert (out.kind, out.text, out.reason, out.called_llm, out.lesson) == (
        "skip",
        "",
        "A one-off status check.",
        True,
        None,
    )


def test_only_the_first_tool_call_is_used(conn: sqlite3.Connection, settings: Settings) -> None:
    task_id = _flaky(conn, settings)
    model = FakeProvider(
        [
            tools(
                call("report_factual_content", task_goal="CI", facts=["The user uses CI."]),
                call("report_success_analysis", **SUCCESS_ARGS),
            )
        ]
    )
    out = distill_task(conn, model, task_id)
    assert out.kind == "factual" and "Task Analysis" not in out.text


def test_a_trivial_task_is_skipped_without_a_call(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    ids = _store(
        conn,
        settings,
        [
            {"role": "user", "content": "what time is it in Tokyo?"},
            {"role": "assistant", "content": "It is 09:14 in Tokyo."},
        ],
    )
    task = _task(conn, "Tell the time in Tokyo", "success", links=ids)
    model = FakeProvider([tools(call("report_success_analysis", **SUCCESS_ARGS))])

    out = distill_task(conn, model, task["id"])

    assert out.kind == "skip" and out.text == "" and not out.called_llm
    assert out.reason.startswith("trivial:")
    assert model.requests == []


def test_the_same_small_task_is_distilled_when_it_failed(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    ids = _store(
        conn,
        settings,
        [
            {"role": "user", "content": "what time is it in Tokyo?"},
            {"role": "assistant", "content": "I cannot tell."},
        ],
    )
    task = _task(conn, "Tell the time in Tokyo", "failed", links=ids)
    model = FakeProvider([tools(call("report_failure_analysis", **FAILURE_ARGS))])
    assert distill_task(conn, model, task["id"]).kind == "failure"
    assert len(model.requests) == 1


def test_is_trivial_rule() -> None:
    def msg(role: str, *parts: dict[str, Any]) -> dict[str, Any]:
        return {"role": role, "parts": list(parts), "meta": {}}

    def text(t: str) -> dict[str, Any]:
        return {"type": "text", "text": t}

    small = {"status": "success", "progresses": []}
    chat = [msg("user", text("hi there")), msg("assistant", text("Hello! How can I help?"))]
    assert is_trivial(small, chat) is not None
    assert is_trivial(small, []) is not None
    assert is_trivial({**small, "status": "failed"}, chat) is None
    assert is_trivial({**small, "progresses": ["I ran make."]}, chat) is None
    assert is_trivial(small, [msg("user", text("x" * 120)), msg("agent", text("y" * 80))]) is None
    assert is_trivial(small, [msg("user", text("x" * 120)), msg("agent", text("y" * 79))])
    tool_call = {"type": "tool-call", "id": "c", "name": "Bash", "arguments": "{}"}
    assert is_trivial(small, [*chat, msg("assistant", tool_call)]) is None
    image = {"type": "image", "source": {"type": "url", "url": "http://x/y.png"}}
    assert is_trivial(small, [msg("user", text("what is this?"), image)]) is None


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(text="This task was about fixing a test."), "without a tool call"),
        (tools(call("delete_skill", skill_name="x")), "unexpected tool 'delete_skill'"),
        (tools(call("report_success_analysis", task_goal="g", approach="a")), "key_decisions"),
        (tools(call("report_success_analysis", **{**SUCCESS_ARGS, "approach": 3})), "string"),
        (tools(call("report_success_analysis", **{**SUCCESS_ARGS, "applies_when": " "})), "empty"),
        (tools(call("report_factual_content", task_goal="g", facts=[1, 2])), "list of strings"),
        (tools(call("report_factual_content", task_goal="g", facts=[])), "facts is empty"),
        (tools(call("skip_learning")), "'reason'"),
        (tools(bad_call("report_success_analysis", '{"task_goal": ')), "not a JSON object"),
    ],
)
def test_unusable_answers_raise_distill_failed(
    conn: sqlite3.Connection, settings: Settings, reply: Reply, message: str
) -> None:
    task_id = _flaky(conn, settings)
    model = FakeProvider([reply])
    with pytest.raises(DistillFailed, match=message):
        distill_task(conn, model, task_id)
    assert len(model.requests) == 1


def test_llm_unavailable_passes_through_untouched(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings)
    down = ProviderFailed("provider kept failing")
    with pytest.raises(ProviderFailed) as caught:
        distill_task(conn, FakeProvider([down]), task_id)
    assert caught.value is down


def test_a_2mb_message_keeps_the_prompt_bounded(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    huge = "START-OF-PASTE " + "x" * (2 * 1024 * 1024) + " END-OF-PASTE"
    many = [{"role": "assistant", "content": f"step {i}: " + "y" * 1500} for i in range(40)]
    ids = _store(
        conn,
        settings,
        [
            {"role": "user", "content": "Migrate the build to uv; here is the log: " + huge},
            *many,
            {"role": "assistant", "content": "FINAL: uv sync && uv run pytest passes."},
        ],
    )
    task = _task(conn, "Migrate the build to uv", "success", links=ids)
    skills = [{"name": f"skill-{i}", "description": "d" * 2000} for i in range(200)]
    model = FakeProvider([tools(call("report_success_analysis", **SUCCESS_ARGS))])

    distill_task(conn, model, task["id"], skills=skills)

    prompt = model.prompt(0)
    assert len(prompt) < 25_000
    assert request_chars(model.requests[0]) < 40_000  # system and tool schemas included
    # The start (the request) and the end (the outcome) both survive; the middle is left out.
    assert "[0] user: Migrate the build to uv; here is the log: START-OF-PASTE" in prompt
    assert "FINAL: uv sync && uv run pytest passes." in prompt
    assert "END-OF-PASTE" not in prompt
    assert "messages in between left out" in prompt
    assert "more skills not shown" in prompt


def test_a_runaway_answer_is_clipped(conn: sqlite3.Connection, settings: Settings) -> None:
    task_id = _flaky(conn, settings)
    args = {**SUCCESS_ARGS, "approach": "z" * 50_000, "key_decisions": ["k" * 5000] * 100}
    model = FakeProvider([tools(call("report_success_analysis", **args))])
    out = distill_task(conn, model, task_id)
    assert len(out.text) < 20_000
    assert out.text.count("  - k") == distill.LIST_ITEMS


def test_without_links_the_messages_between_the_neighbouring_tasks_are_used(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    first = _store(conn, settings, [{"role": "user", "content": "Task one: bump the version"}])
    middle = _store(
        conn,
        settings,
        [
            {"role": "user", "content": "Now MIDDLE: add a --json flag to the CLI"},
            {"role": "assistant", "content": "Added --json in cli.py; tests pass."},
        ],
    )
    last = _store(conn, settings, [{"role": "user", "content": "Task three: update the docs"}])
    _task(conn, "Bump the version", "success", links=first)
    task = _task(conn, "Add a --json flag", "success", progress=["I added --json in cli.py."])
    _task(conn, "Update the docs", "running", links=last)
    assert middle  # stored, but not linked to any task
    model = FakeProvider([tools(call("report_success_analysis", **SUCCESS_ARGS))])

    distill_task(conn, model, task["id"])

    messages = model.prompt(0).split("## Task Messages\n", 1)[1]
    assert "MIDDLE: add a --json flag" in messages and "Added --json in cli.py" in messages
    assert "Task one" not in messages and "Task three" not in messages


def test_without_any_links_the_sessions_last_messages_are_used(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(
        conn,
        settings,
        [{"role": "user", "content": f"message {i} " + "w" * 300} for i in range(60)],
    )
    task = _task(conn, "Do the thing", "success")
    model = FakeProvider([tools(call("skip_learning", reason="nothing"))])
    distill_task(conn, model, task["id"])
    messages = model.prompt(0).split("## Task Messages\n", 1)[1]
    assert "message 59 " in messages and "message 0 " not in messages


@pytest.mark.parametrize("status", ["pending", "running"])
def test_an_unfinished_task_is_refused(
    conn: sqlite3.Connection, settings: Settings, status: str
) -> None:
    ids = _store(conn, settings, FLAKY_TEST)
    task = _task(conn, "Fix the flaky test", status, links=ids)
    model = FakeProvider()
    with pytest.raises(InvalidInput, match=f"is {status}; only success or failed"):
        distill_task(conn, model, task["id"])
    with pytest.raises(InvalidInput, match="no task with id 999"):
        distill_task(conn, model, 999)
    assert model.requests == []


def test_render_preferences() -> None:
    assert render_preferences([]) == ""
    assert render_preferences(["  ", ""]) == ""
    assert render_preferences(
        ["The user wants pytest.", "the user wants pytest.", "The user\nprefers  uv."]
    ) == ("## User Preferences Observed\n- The user wants pytest.\n- The user prefers uv.")


LESSON_ARGS = {
    "kind": "procedure",
    "skill": "project-runbooks",
    "file": "projects/app.md",
    "section": "Test",
    "title": "Flaky **test_login**: ephemeral port",
    "text": "`pytest tests/test_login.py --count 50` showed 3 TimeoutErrors; the fixture in\n"
    "tests/conftest.py shared port 8080. (seen 9×, 2020-01-01)",
    "triggers": ["flaky", "test_login", "port (8080)", "Flaky", "a; b"],
    "summary": "Fixed the flaky test_login job; 50/50 runs pass.",
}


def test_a_lesson_is_one_clean_structured_entry(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings)
    model = FakeProvider([tools(call("record_lesson", **LESSON_ARGS))])

    out = distill_task(conn, model, task_id)

    assert out.kind == "success" and out.lesson is not None and out.called_llm
    lesson = out.lesson
    assert (lesson.kind, lesson.skill, lesson.file, lesson.section) == (
        "procedure", "project-runbooks", "projects/app.md", "Test",
    )  # fmt: skip
    # One line, no bold inside the title, no evidence the model made up, triggers usable.
    assert lesson.title == "Flaky test_login: ephemeral port"
    assert "\n" not in lesson.text and "seen 9×" not in lesson.text
    assert lesson.triggers == ["flaky", "test_login", "port 8080", "a b"]
    assert (
        out.text.splitlines()[2]
        == "## Lesson (procedure) for project-runbooks/projects/app.md (Test)"
    )
    assert out.input_tokens > 0  # what it cost is known
    assert out.day == out.day[:10] and len(out.day) == 10


def test_a_verified_failure_yields_a_trap_framed_by_its_evidence(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings)  # the task agent said success, the tests say otherwise
    task_store.set_outcome(conn, task_id, "verified_failure")
    task_store.add_evidence(
        conn, task_id, "test", "fail", command="pytest tests/test_login.py", detail="3 failed"
    )
    model = FakeProvider([tools(call("record_lesson", **LESSON_ARGS))])

    out = distill_task(conn, model, task_id)

    (request,) = model.requests
    assert request["system"] == distill.FAILURE_SYSTEM
    assert [t.parameters["properties"]["kind"]["enum"] for t in request["tools"]] == [["trap"]]
    prompt = model.prompt(0)
    assert (
        "Outcome: verified_failure\nEvidence:\n- test: fail `pytest tests/test_login.py` (3 failed)"
        in prompt
    )
    assert out.lesson is not None and out.lesson.kind == "trap"  # never a procedure


def test_an_abandoned_task_is_skipped_without_a_call(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    task_id = _flaky(conn, settings, status="failed")
    task_store.set_outcome(conn, task_id, "abandoned")
    model = FakeProvider([])
    out = distill_task(conn, model, task_id)
    assert out.kind == "skip" and not out.called_llm and "abandoned" in out.reason
    assert model.requests == []


def test_the_day_is_the_messages_own_time_not_today(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    messages = [
        {**m, "meta": {"timestamp": "2026-11-02T10:15:00Z"}} if m["role"] == "user" else m
        for m in FLAKY_TEST
    ]
    ids = store_turn(
        conn, settings, messages, session_id="s1", meta={"timestamp": "2026-11-02T10:20:00Z"}
    )["message_ids"]
    task = _task(conn, "Fix the flaky test_login CI job", "success", links=ids)
    model = FakeProvider([tools(call("record_lesson", **LESSON_ARGS))])
    out = distill_task(conn, model, task["id"])
    assert out.day == "2026-11-02"
    assert distill.work_day([{"meta": {"timestamp": 1_762_000_000_000}}]) == "2025-11-01"


def test_a_long_tool_results_verdict_at_its_end_reaches_the_prompt(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    output = (
        "collected 214 items\n" + "tests/test_x.py ....\n" * 80 + "FAILED tests/test_a.py::t - "
    )
    output += "KeyError: 'invoice_id'\n1 failed, 213 passed in 9.8s"
    messages = [{**m, "content": output} if m["role"] == "tool" else m for m in FLAKY_TEST]
    task = _task(
        conn, "Fix the flaky test_login CI job", "success", links=_store(conn, settings, messages)
    )
    model = FakeProvider([tools(call("skip_learning", reason="x"))])
    distill_task(conn, model, task["id"])
    prompt = model.prompt(0)
    assert "<- Bash: collected 214 items" in prompt
    assert "KeyError: 'invoice_id' 1 failed, 213 passed in 9.8s" in prompt
