"""The task agent under a scripted in-process model: store state after each batch."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from support.fake_provider import FakeProvider, bad_call, call, tools

from acontext_mcp.config import Settings
from acontext_mcp.learn.pipeline import queue_preference
from acontext_mcp.llm import LLMUnavailable, ProviderFailed, Reply
from acontext_mcp.observe import task_agent
from acontext_mcp.observe.summary import render_tasks, session_summary
from acontext_mcp.observe.task_agent import extract_tasks
from acontext_mcp.observe.task_ops import linked_message_ids, session_tasks
from acontext_mcp.store.turns import store_turn

# The reference product's documented Observe example (README "Observe" section).
LANDING_PAGE = [
    {"role": "user", "content": "I need to write a landing page of iPhone 15 pro max"},
    {
        "role": "assistant",
        "content": "Sure, my plan is below:\n1. Search for the latest news about iPhone 15 pro "
        "max\n2. Init Next.js project for the landing page\n3. Deploy the landing page to the "
        "website",
    },
    {
        "role": "user",
        "content": "That sounds good. Let's first collect the message and report to me before "
        "any landing page coding.",
    },
    {
        "role": "assistant",
        "content": "Sure, I will first collect the message then report to you before any "
        "landing page coding.",
        "tool_calls": [
            {
                "id": "call_001",
                "type": "function",
                "function": {"name": "search_news", "arguments": '{"query": "iPhone news"}'},
            }
        ],
    },
]


def _store(conn, settings, messages, sid="s1", **kw) -> list[int]:
    return store_turn(conn, settings, messages, session_id=sid, **kw)["message_ids"]


def _statuses(conn: sqlite3.Connection, sid: str = "s1") -> list[str]:
    rows = conn.execute(
        "SELECT status FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
        (sid,),
    ).fetchall()
    return [r[0] for r in rows]


def _jobs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT kind, payload, dedup_key, status FROM jobs ORDER BY id")
    return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]


def _results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool-result parts of the last message of a request."""
    return [p for p in request["messages"][-1]["parts"] if p["type"] == "tool-result"]


def test_landing_page_example_yields_three_tasks_and_the_preference(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    ids = _store(conn, settings, LANDING_PAGE)
    model = FakeProvider(
        [
            tools(
                call(
                    "insert_task",
                    after_order=0,
                    description="Search for the latest news about iPhone 15 Pro Max and "
                    "report it to the user before any landing page coding",
                ),
                call(
                    "insert_task",
                    after_order=1,
                    description="Init a Next.js project for the iPhone 15 Pro Max landing page",
                ),
                call("insert_task", after_order=2, description="Deploy the landing page"),
            ),
            tools(
                call("link_messages", order=1, message_ids=[2, 3]),
                call(
                    "append_progress",
                    order=1,
                    progress="I started collecting news with search_news(query='iPhone news'); "
                    "I will report before any coding.",
                ),
                call(
                    "record_preference",
                    text="The user wants a report on the latest iPhone 15 Pro Max news before "
                    "any landing page coding.",
                ),
                call("finish"),
            ),
        ]
    )
    out = extract_tasks(conn, settings, model, "s1", on_preference=queue_preference)

    tasks = session_tasks(conn, "s1")
    assert [(t["order"], t["status"]) for t in tasks] == [
        (1, "running"),
        (2, "pending"),
        (3, "pending"),
    ]
    assert "Next.js" in tasks[1]["description"] and "Deploy" in tasks[2]["description"]
    assert tasks[0]["user_preferences"] == [
        "The user wants a report on the latest iPhone 15 Pro Max news before any landing "
        "page coding."
    ]
    assert "search_news" in tasks[0]["progresses"][0]
    assert tasks[1]["user_preferences"] == tasks[1]["progresses"] == []
    assert linked_message_ids(conn, tasks[0]["id"]) == ids[2:4]
    assert _statuses(conn) == ["processed"] * 4
    # Nothing finished yet; the preference went straight to the learner (a delayed run).
    assert _jobs(conn) == [
        {
            "kind": "learn_space",
            "payload": {"space": "default"},
            "dedup_key": "learn-space:default",
            "status": "queued",
        }
    ]
    learned = conn.execute("SELECT kind, text FROM learnings").fetchall()
    assert [r["kind"] for r in learned] == ["preferences"]
    assert "report on the latest iPhone 15 Pro Max news" in learned[0]["text"]
    assert out["finished"] and out["rounds"] == 2 and out["tool_errors"] == 0
    assert (out["tasks_created"], out["preferences_added"], out["messages_linked"]) == (3, 1, 2)

    # What the model was shown: both user prompts in full, the plan, the search call compact.
    prompt = model.prompt(0)
    assert "## Current tasks\n(none yet)" in prompt
    assert "[0] user: I need to write a landing page of iPhone 15 pro max" in prompt
    assert f"[2] user: {LANDING_PAGE[2]['content']}" in prompt
    assert "[1] agent: Sure, my plan is below:\n1. Search" in prompt
    assert "-> search_news(query=iPhone news)" in prompt
    first = model.requests[0]
    assert first["purpose"] == "task_extraction" and first["session_id"] == "s1"
    assert {t.name for t in first["tools"]} == {
        "insert_task", "update_task", "append_progress", "link_messages",
        "record_preference", "finish",
    }  # fmt: skip
    # The loop answered round 1 in internal form: assistant tool calls, then user results.
    second = model.requests[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert [p["type"] for p in second[1]["parts"]] == ["tool-call"] * 3
    assert [p["content"][0]["text"] for p in _results(model.requests[1])] == [
        "Task 1 created (pending)",
        "Task 2 created (pending)",
        "Task 3 created (pending)",
    ]

    summary = session_summary(conn, "s1")
    assert summary.splitlines()[0].startswith("Task 1 [running]: Search for the latest news")
    assert "  Preference: The user wants a report" in summary
    assert "Task 3 [pending]: Deploy the landing page" in summary


def test_malformed_and_unknown_tool_calls_are_answered_with_errors_and_the_loop_goes_on(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "Fix the login bug"}])
    model = FakeProvider(
        [
            tools(
                bad_call("insert_task", '{"after_order": 0, "description": '),
                call("update_task", order=5, status="success"),
                call("delete_everything"),
                call("insert_task", after_order="first", description="Fix the login bug"),
                call("insert_task", description="Fix the login bug"),
                call("update_task", order=1, status="done"),
                call("insert_task", after_order=0, description="Fix the login bug"),
            ),
            tools(call("finish")),
        ]
    )
    out = extract_tasks(conn, settings, model, "s1")

    assert [t["description"] for t in session_tasks(conn, "s1")] == ["Fix the login bug"]
    results = _results(model.requests[1])
    assert [bool(r.get("is_error")) for r in results] == [True] * 6 + [False]
    texts = [r["content"][0]["text"] for r in results]
    assert "not a JSON object" in texts[0]
    assert "out of range" in texts[1]
    assert "unknown tool 'delete_everything'" in texts[2] and "insert_task" in texts[2]
    assert "after_order must be an integer" in texts[3]
    assert "needs 'after_order'" in texts[4]
    assert "status must be one of" in texts[5]
    assert [r["tool_call_id"] for r in results] == [
        c["id"] for c in model.requests[1]["messages"][1]["parts"]
    ]
    assert out["tool_errors"] == 6 and out["finished"]
    assert _statuses(conn) == ["processed"]


def test_a_model_that_never_finishes_is_stopped_and_its_work_kept(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "Add dark mode"}])
    model = FakeProvider(
        [tools(call("insert_task", after_order=0, description="Add dark mode"))],
        exhausted=lambda _req: tools(
            call("append_progress", order=1, progress="I looked at the theme again.")
        ),
    )
    out = extract_tasks(conn, settings, model, "s1", max_rounds=4)

    assert len(model.requests) == 4
    assert out["rounds"] == 4 and not out["finished"]
    (task,) = session_tasks(conn, "s1")
    assert task["description"] == "Add dark mode" and len(task["progresses"]) == 3
    assert _statuses(conn) == ["processed"]


def test_llm_unavailable_mid_batch_keeps_committed_rounds_and_requeues_messages(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "Rename the config module"}])
    model = FakeProvider(
        [
            tools(call("insert_task", after_order=0, description="Rename the config module")),
            ProviderFailed("provider kept timing out"),
        ]
    )
    with pytest.raises(LLMUnavailable):
        extract_tasks(conn, settings, model, "s1")
    assert [t["description"] for t in session_tasks(conn, "s1")] == ["Rename the config module"]
    assert _statuses(conn) == ["pending"]

    # The deferred job runs again later: the model now sees the task it already made.
    retry = FakeProvider([tools(call("update_task", order=1, status="running"), call("finish"))])
    out = extract_tasks(conn, settings, retry, "s1")
    assert "Task 1 [pending]: Rename the config module" in retry.prompt(0)
    assert out["finished"] and _statuses(conn) == ["processed"]
    assert [t["status"] for t in session_tasks(conn, "s1")] == ["running"]


def test_repeated_errors_mark_the_batch_failed_after_three_attempts(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "hello"}])
    for expected in ("pending", "pending", "failed"):
        with pytest.raises(RuntimeError):
            extract_tasks(conn, settings, FakeProvider([RuntimeError("bug")]), "s1")
        assert _statuses(conn) == [expected]
    assert extract_tasks(conn, settings, FakeProvider(), "s1")["messages"] == 0


def test_finished_tasks_are_queued_for_learning_once(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(
        conn,
        settings,
        [
            {"role": "user", "content": "Fix the flaky test and bump the version"},
            {"role": "assistant", "content": "pytest passes 50 times in a row; bump failed."},
        ],
    )
    model = FakeProvider(
        [
            tools(
                call("insert_task", after_order=0, description="Fix the flaky test"),
                call("insert_task", after_order=1, description="Bump the version"),
            ),
            tools(
                call("update_task", order=1, status="success"),
                call("update_task", order=2, status="failed"),
                call("update_task", order=1, status="success"),
                call("finish"),
            ),
        ]
    )
    out = extract_tasks(conn, settings, model, "s1")
    tasks = session_tasks(conn, "s1")
    expected = [
        {
            "kind": "learn_task",
            "payload": {"task_id": t["id"], "session_id": "s1"},
            "dedup_key": f"learn:{t['id']}",
            "status": "queued",
        }
        for t in tasks
    ]
    assert _jobs(conn) == expected
    assert out["learn_jobs"] == [t["id"] for t in tasks]

    # Reopened and finished again in a later batch: still one job per task.
    _store(conn, settings, [{"role": "user", "content": "The flaky test is back, fix it"}])
    again = FakeProvider(
        [
            tools(
                call("update_task", order=1, status="running"),
                call("append_progress", order=1, progress="User: the flaky test is back."),
                call("update_task", order=1, status="success"),
                call("finish"),
            )
        ]
    )
    assert extract_tasks(conn, settings, again, "s1")["learn_jobs"] == []
    assert _jobs(conn) == expected
    # A success task refuses progress until it is set running again.
    refuse = FakeProvider([tools(call("append_progress", order=1, progress="More."))])
    _store(conn, settings, [{"role": "user", "content": "thanks"}])
    extract_tasks(conn, settings, refuse, "s1")
    assert "set it back to running" in _results(refuse.requests[1])[0]["content"][0]["text"]


def test_batches_are_oldest_first_and_bounded(conn: sqlite3.Connection, settings: Settings) -> None:
    _store(conn, settings, [{"role": "user", "content": f"request {i}"} for i in range(5)])
    model = FakeProvider()
    first = extract_tasks(conn, settings, model, "s1", batch=3)
    assert (first["messages"], first["remaining"]) == (3, 2)
    assert "[2] user: request 2" in model.prompt(0) and "request 3" not in model.prompt(0)
    second = extract_tasks(conn, settings, model, "s1", batch=3)
    assert (second["messages"], second["remaining"]) == (2, 0)
    assert "[0] user: request 3" in model.prompt(1)
    assert _statuses(conn) == ["processed"] * 5


def test_only_typed_prompts_are_user_intent_and_tool_output_is_clipped(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    long_output = "line of test output\n" * 500
    _store(conn, settings, [{"role": "user", "content": "Run the tests"}], meta={"kind": "prompt"})
    _store(
        conn,
        settings,
        [{"role": "user", "content": "<task-notification>agent done</task-notification>"}],
        meta={"kind": "meta"},
    )
    _store(
        conn,
        settings,
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_t",
                        "type": "function",
                        "function": {
                            "name": "Bash",
                            "arguments": json.dumps({"command": "pytest -q " + "x" * 400}),
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_t", "content": long_output},
        ],
    )
    _store(
        conn,
        settings,
        [
            {
                "role": "user",
                "content": "<command-name>/review</command-name>\n  <command-message>review"
                "</command-message>\n  <command-args>PR 12</command-args>",
            }
        ],
        meta={"kind": "command"},
    )
    model = FakeProvider()
    extract_tasks(conn, settings, model, "s1")
    prompt = model.prompt(0)
    assert "[4] user: (slash command) /review PR 12\n" in prompt
    assert "[0] user: Run the tests" in prompt
    assert "[1] note: <task-notification>" in prompt
    assert "[2] agent: -> Bash(command=pytest -q xxx" in prompt
    assert "[3] tool: <- Bash: line of test output" in prompt
    assert "more chars]" in prompt
    assert len(prompt) < 2000


def test_project_criteria_from_config_reach_the_prompt(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    (settings.home / "config.json").write_text(
        json.dumps(
            {
                "projects": {
                    "/work/app": {
                        "task_criteria": {
                            "success": "CI is green on the pushed branch.",
                            "failure": "The user reverts the change.",
                        }
                    }
                }
            }
        )
    )
    store_turn(
        conn,
        settings,
        [{"role": "user", "content": "hi"}],
        session_id="s1",
        project_dir="/work/app",
    )
    store_turn(conn, settings, [{"role": "user", "content": "hi"}], session_id="s2")
    model = FakeProvider()
    extract_tasks(conn, settings, model, "s1")
    extract_tasks(conn, settings, model, "s2")
    assert "Success: CI is green on the pushed branch.\nFailure: The user reverts" in model.prompt(
        0
    )
    assert "evaluation criteria" not in model.prompt(1)

    (settings.home / "config.json").write_text("{broken")
    assert task_agent.task_criteria(settings, "/work/app") == {}


def test_preferences_are_recorded_once_and_a_reply_without_tools_ends_the_batch(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "Use pytest, never unittest. Add tests."}])
    pref = "The user prefers pytest over unittest."
    model = FakeProvider(
        [
            tools(call("record_preference", text=pref)),
            tools(
                call("insert_task", after_order=0, description="Add tests"),
                call("record_preference", text=pref),
                call("record_preference", text=pref.upper()),
            ),
            Reply(text="All done."),
        ]
    )
    out = extract_tasks(conn, settings, model, "s1")
    assert "no task yet" in _results(model.requests[1])[0]["content"][0]["text"]
    texts = [r["content"][0]["text"] for r in _results(model.requests[2])]
    assert texts[1:] == ["Preference recorded on task 1", "Already known; nothing added"]
    assert session_tasks(conn, "s1")[0]["user_preferences"] == [pref]
    assert out["finished"] and out["rounds"] == 3


def test_the_task_list_in_prompts_stays_within_its_budget_keeping_open_tasks() -> None:

    def task(order: int, status: str) -> dict[str, Any]:
        return {
            "order": order,
            "status": status,
            "description": f"Request number {order} " + "words " * 10,
            "progresses": [
                f"I did step {i} of request {order} in src/m{order}.py." for i in range(4)
            ],
            "user_preferences": [],
        }

    tasks = [task(i, "success") for i in range(1, 60)] + [task(60, "running")]
    full = render_tasks(tasks, max_chars=10**6)
    assert full.count("  - ") == 60 * 3
    out = render_tasks(tasks, max_chars=2000)
    assert len(out) <= 2000
    first = out.splitlines()[0]
    assert first.endswith("earlier tasks not shown)")
    assert "Task 60 [running]" in out and "I did step 3 of request 60" in out
    assert "Task 1 [success]" not in out
    assert render_tasks([], max_chars=100) == ""


def test_finish_in_a_round_with_errors_is_not_taken_so_the_model_can_fix_them(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "Add a CHANGELOG entry"}])
    model = FakeProvider(
        [
            tools(
                call("insert_task", after_order=0, description="Add a CHANGELOG entry"),
                call("update_task", order=2, status="running"),
                call("finish"),
            ),
            tools(call("update_task", order=1, status="running"), call("finish")),
        ]
    )
    out = extract_tasks(conn, settings, model, "s1")
    answers = [
        (r["content"][0]["text"], bool(r.get("is_error"))) for r in _results(model.requests[1])
    ]
    assert answers[0] == ("Task 1 created (pending)", False)
    assert answers[1][1] and answers[2] == ("Not finished: fix the errors above, then finish", True)
    assert out["rounds"] == 2 and out["finished"] and out["tool_errors"] == 1
    assert [t["status"] for t in session_tasks(conn, "s1")] == ["running"]


def test_inserting_shifts_later_tasks_and_later_calls_see_the_new_numbers(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    _store(conn, settings, [{"role": "user", "content": "Do A. Actually, do B before A."}])
    model = FakeProvider(
        [
            tools(
                call("insert_task", after_order=0, description="A"),
                call("insert_task", after_order=0, description="B"),
                call("append_progress", order=2, progress="User: A comes after B."),
                call("record_preference", text="The user orders work explicitly."),
                call("finish"),
            )
        ]
    )
    extract_tasks(conn, settings, model, "s1")
    tasks = session_tasks(conn, "s1")
    assert [(t["order"], t["description"]) for t in tasks] == [(1, "B"), (2, "A")]
    assert tasks[1]["progresses"] == ["User: A comes after B."]
    assert tasks[1]["user_preferences"] == ["The user orders work explicitly."]  # last touched


def test_a_message_extended_while_its_batch_runs_stays_pending_for_the_next_batch(
    conn: sqlite3.Connection, settings: Settings
) -> None:
    ids = _store(
        conn,
        settings,
        [{"role": "user", "content": "Go"}, {"role": "assistant", "content": "On it"}],
    )

    def late_block(_request: dict[str, Any]) -> Reply:
        # What store/messages.extend_message does when a late content block arrives.
        conn.execute("UPDATE messages SET status = 'pending' WHERE id = ?", (ids[1],))
        return tools(call("finish"))

    extract_tasks(conn, settings, FakeProvider([late_block]), "s1")
    assert _statuses(conn) == ["processed", "pending"]
