"""The openai, anthropic and claude-cli providers against fakes of their wire protocols.

The real `openai` and `anthropic` SDKs talk HTTP to a scripted server on 127.0.0.1; the
claude-cli provider runs a fake `claude` script put first on PATH.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from support.fake_llm import FakeLLM, anthropic_reply, openai_reply

from acontext_mcp.config import Settings
from acontext_mcp.llm import NoProvider, ProviderFailed, ToolSpec
from acontext_mcp.llm.claude_cli import parse_answer
from acontext_mcp.llm.guard import Guard
from acontext_mcp.llm.select import NO_PROVIDER, choose, describe, provider_for
from acontext_mcp.llm.setting import save
from acontext_mcp.store import usage

TOOLS = [
    ToolSpec(
        "insert_task",
        "Create a task.",
        {
            "type": "object",
            "properties": {"task_description": {"type": "string"}},
            "required": ["task_description"],
        },
    ),
    ToolSpec("finish", "End the round.", {"type": "object", "properties": {}}),
]
USER = [{"role": "user", "parts": [{"type": "text", "text": "Please add dark mode."}]}]
LLM_ENV = (
    "ACONTEXT_LLM_PROVIDER",
    "ACONTEXT_LLM_MODEL",
    "ACONTEXT_LLM_BASE_URL",
    "ACONTEXT_LLM_TIMEOUT",
    "ACONTEXT_LLM_MAX_RETRIES",
    "ACONTEXT_LLM_DAILY_TOKENS",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_llm_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in LLM_ENV:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}{os.environ.get('PATH', '')}")


def _provider(db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, **env: str) -> Guard:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    provider = provider_for(Settings.from_env(), db)
    assert isinstance(provider, Guard)
    provider.sleep = lambda seconds: None  # backoff is tested in test_llm_guard
    return provider


def _openai(db: sqlite3.Connection, fake: FakeLLM, monkeypatch: pytest.MonkeyPatch, **env: str):
    return _provider(
        db,
        monkeypatch,
        ACONTEXT_LLM_PROVIDER="openai",
        OPENAI_API_KEY="sk-test",
        ACONTEXT_LLM_BASE_URL=fake.url + "/v1",
        ACONTEXT_LLM_MODEL="fake-model",
        **env,
    )


def _anthropic(
    db: sqlite3.Connection, fake: FakeLLM, monkeypatch: pytest.MonkeyPatch, **env: str
) -> Guard:
    return _provider(
        db,
        monkeypatch,
        ACONTEXT_LLM_PROVIDER="anthropic",
        ANTHROPIC_API_KEY="sk-ant-test",
        ACONTEXT_LLM_BASE_URL=fake.url,
        **env,
    )


def _outcomes(db: sqlite3.Connection) -> list[str]:
    return [row["outcome"] for row in reversed(usage.calls(db))]


# --- openai ---


def test_openai_tool_calls_come_back_parsed_and_the_call_is_recorded(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        fake.add(
            openai_reply(
                "on it",
                calls=[("insert_task", {"task_description": "dark mode"}), ("finish", {})],
                usage=(120, 30),
            )
        )
        llm = _openai(db, fake, monkeypatch)
        reply = llm.complete(
            system="You track tasks.",
            messages=USER,
            tools=TOOLS,
            purpose="task_extraction",
            session_id="s1",
            max_tokens=512,
        )
    assert reply.text == "on it"
    assert [(c.name, c.arguments, c.error) for c in reply.tool_calls] == [
        ("insert_task", {"task_description": "dark mode"}, None),
        ("finish", {}, None),
    ]
    assert reply.tool_calls[0].id.startswith("call_")
    assert (reply.input_tokens, reply.output_tokens, reply.stop_reason) == (120, 30, "tool_calls")
    (request,) = fake.received
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["model"] == "fake-model"
    assert body["max_tokens"] == 512  # a compatible server: max_tokens, not max_completion_tokens
    assert body["messages"][0] == {"role": "system", "content": "You track tasks."}
    assert body["messages"][1]["role"] == "user"
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == "insert_task"
    assert body["tools"][0]["function"]["parameters"] == TOOLS[0].parameters
    (row,) = usage.calls(db)
    assert row["outcome"] == "ok" and row["provider"] == "openai" and row["model"] == "fake-model"
    assert (row["purpose"], row["session_id"]) == ("task_extraction", "s1")
    assert (row["input_tokens"], row["output_tokens"]) == (120, 30)
    assert row["duration_ms"] > 0


def test_openai_tool_results_go_back_as_tool_messages(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = [
        *USER,
        {
            "role": "assistant",
            "parts": [{"type": "tool-call", "id": "call_1", "name": "finish", "arguments": "{}"}],
        },
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "call_1",
                    "content": [{"type": "text", "text": "ok"}],
                }
            ],
        },
    ]
    with FakeLLM() as fake:
        llm = _openai(db, fake, monkeypatch)
        reply = llm.complete(system="s", messages=history, tools=TOOLS, purpose="t")
    assert reply.text == "FAKE-DONE" and reply.tool_calls == []
    sent = fake.received[0]["body"]["messages"]
    assert sent[2]["tool_calls"][0]["id"] == "call_1"
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": "ok"}


def test_openai_429_then_success_is_retried_after_retry_after_and_both_recorded(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    with FakeLLM() as fake:
        fake.add(
            {"error": {"message": "slow down", "type": "rate_limit"}},
            status=429,
            headers={"retry-after": "7"},
        )
        fake.add(openai_reply(calls=[("finish", {})]))
        llm = _openai(db, fake, monkeypatch)
        llm.sleep = waits.append
        reply = llm.complete(system="s", messages=USER, tools=TOOLS, purpose="task_extraction")
    assert [c.name for c in reply.tool_calls] == ["finish"]
    assert len(fake.received) == 2  # the SDK's own retries are off: one request per attempt
    assert len(waits) == 1 and waits[0] >= 7
    assert _outcomes(db) == ["rate_limited", "ok"]
    assert "429" in usage.calls(db)[1]["error"]


def test_openai_timeout_is_recorded_and_retried(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        fake.add(openai_reply("late"), delay=2.0)
        fake.add(openai_reply("in time"))
        llm = _openai(db, fake, monkeypatch, ACONTEXT_LLM_TIMEOUT="0.3")
        reply = llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert reply.text == "in time"
    assert _outcomes(db) == ["timeout", "ok"]
    assert usage.calls(db)[1]["duration_ms"] < 1500


def test_openai_malformed_tool_arguments_set_the_error_and_do_not_crash(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        fake.add(
            openai_reply(
                calls=[
                    ("insert_task", '{"task_description": "x"'),
                    ("insert_task", '["not", "an", "object"]'),
                    ("finish", ""),
                ]
            )
        )
        llm = _openai(db, fake, monkeypatch)
        reply = llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    bad, listed, empty = reply.tool_calls
    assert bad.arguments == {} and "not valid JSON" in (bad.error or "")
    assert bad.raw_arguments == '{"task_description": "x"'
    assert listed.arguments == {} and "JSON object" in (listed.error or "")
    assert empty.arguments == {} and empty.error is None  # no arguments at all is {}
    assert _outcomes(db) == ["ok"]


def test_openai_5xx_every_time_gives_up_after_the_bounded_retries(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        for _ in range(5):
            fake.add({"error": {"message": "boom"}}, status=503)
        llm = _openai(db, fake, monkeypatch, ACONTEXT_LLM_MAX_RETRIES="2")
        with pytest.raises(ProviderFailed, match="3 attempt"):
            llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert len(fake.received) == 3
    assert _outcomes(db) == ["error", "error", "error"]


def test_openai_bad_key_is_not_retried(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        fake.add({"error": {"message": "invalid api key"}}, status=401)
        llm = _openai(db, fake, monkeypatch)
        with pytest.raises(ProviderFailed, match="401"):
            llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert len(fake.received) == 1
    assert _outcomes(db) == ["error"]


def test_openai_compatible_server_needs_no_key(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        llm = _provider(
            db, monkeypatch, ACONTEXT_LLM_PROVIDER="auto", ACONTEXT_LLM_BASE_URL=fake.url + "/v1"
        )
        assert llm.name == "openai"
        assert llm.complete(system="", messages=USER, tools=[], purpose="t").text == "FAKE-DONE"
    body = fake.received[0]["body"]
    assert "tools" not in body and body["messages"][0]["role"] == "user"


# --- anthropic ---


def test_anthropic_tool_use_comes_back_parsed_and_the_request_is_messages_api(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        fake.add(
            anthropic_reply(
                "thinking aloud",
                calls=[("insert_task", {"task_description": "dark mode"})],
                usage=(200, 40),
            )
        )
        llm = _anthropic(db, fake, monkeypatch)
        reply = llm.complete(
            system="You track tasks.",
            messages=USER,
            tools=TOOLS,
            purpose="task_extraction",
            session_id="s2",
        )
    assert reply.text == "thinking aloud"
    (call,) = reply.tool_calls
    assert (call.name, call.arguments, call.error) == (
        "insert_task",
        {"task_description": "dark mode"},
        None,
    )
    assert call.id.startswith("toolu_")
    assert (reply.input_tokens, reply.output_tokens, reply.stop_reason) == (200, 40, "tool_use")
    (request,) = fake.received
    assert request["path"].startswith("/v1/messages")
    body = request["body"]
    assert body["model"] == "claude-haiku-4-5"  # the default model
    assert body["system"] == "You track tasks."
    assert body["max_tokens"] == 2048
    assert body["tools"][0] == {
        "name": "insert_task",
        "description": "Create a task.",
        "input_schema": TOOLS[0].parameters,
    }
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Please add dark mode."}]}
    ]
    (row,) = usage.calls(db)
    assert (row["provider"], row["outcome"], row["input_tokens"], row["output_tokens"]) == (
        "anthropic",
        "ok",
        200,
        40,
    )


def test_anthropic_429_then_success(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    with FakeLLM() as fake:
        fake.add(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            status=429,
            headers={"retry-after": "2"},
        )
        fake.add(
            {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, status=529
        )
        fake.add(anthropic_reply("done"))
        llm = _anthropic(db, fake, monkeypatch)
        llm.sleep = waits.append
        assert llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t").text == "done"
    assert _outcomes(db) == ["rate_limited", "error", "ok"]
    assert waits[0] >= 2 and len(waits) == 2


def test_anthropic_timeout(db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM() as fake:
        fake.add(anthropic_reply("late"), delay=2.0)
        fake.add(anthropic_reply("in time"))
        llm = _anthropic(db, fake, monkeypatch, ACONTEXT_LLM_TIMEOUT="0.3")
        assert llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t").text == "in time"
    assert _outcomes(db) == ["timeout", "ok"]


def test_anthropic_malformed_tool_input_sets_the_error(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as fake:
        fake.add(anthropic_reply(calls=[("insert_task", "not an object"), ("finish", {})]))
        llm = _anthropic(db, fake, monkeypatch)
        reply = llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    bad, good = reply.tool_calls
    assert bad.arguments == {} and bad.error
    assert good.error is None and good.arguments == {}


def test_anthropic_tool_results_go_back_as_tool_result_blocks(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = [
        *USER,
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool-call",
                    "id": "toolu_1",
                    "name": "insert_task",
                    "arguments": '{"task_description": "x"}',
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "toolu_1",
                    "content": [{"type": "text", "text": "Task 1 created"}],
                }
            ],
        },
    ]
    with FakeLLM() as fake:
        llm = _anthropic(db, fake, monkeypatch)
        llm.complete(system="s", messages=history, tools=TOOLS, purpose="t")
    sent = fake.received[0]["body"]["messages"]
    assert sent[1]["content"][0] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "insert_task",
        "input": {"task_description": "x"},
    }
    assert sent[2]["content"][0]["type"] == "tool_result"
    assert sent[2]["content"][0]["tool_use_id"] == "toolu_1"


# --- claude-cli ---

FAKE_CLAUDE = r"""#!{python}
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
prompt = sys.stdin.read()
with open(os.path.join(here, "calls.jsonl"), "a") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:], "stdin": prompt, "cwd": os.getcwd(),
                          "capture": os.environ.get("ACONTEXT_CAPTURE")}}) + "\n")
script = os.path.join(here, "script.json")
steps = json.load(open(script))
n = sum(1 for _ in open(os.path.join(here, "calls.jsonl"))) - 1
step = steps[min(n, len(steps) - 1)]
time.sleep(step.get("sleep", 0))
if "stdout" in step:
    sys.stdout.write(step["stdout"])
else:
    usage = {{"input_tokens": 3, "cache_read_input_tokens": 100, "output_tokens": 20}}
    sys.stdout.write(json.dumps({{"type": "result", "subtype": "success",
                                  "is_error": step.get("is_error", False),
                                  "result": step["result"], "usage": usage,
                                  "session_id": "fake"}}))
sys.stderr.write(step.get("stderr", ""))
sys.exit(step.get("exit", 0))
"""


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bin_dir = tmp_path / "fake-claude-bin"
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    exe.write_text(FAKE_CLAUDE.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def script(*steps: dict) -> Path:
        (bin_dir / "script.json").write_text(json.dumps(list(steps)))
        return bin_dir

    return script


def _cli_calls(bin_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (bin_dir / "calls.jsonl").read_text().splitlines()]


def test_claude_cli_emulates_tools_with_a_json_answer(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, fake_claude
) -> None:
    answer = (
        "Here you go:\n```json\n"
        + json.dumps(
            {
                "text": "one task",
                "tool_calls": [
                    {"name": "insert_task", "arguments": {"task_description": "dark mode"}},
                    {"name": "finish", "arguments": "{}"},
                ],
            }
        )
        + "\n```"
    )
    bin_dir = fake_claude({"result": answer})
    save(Settings.from_env(), "claude-cli")  # chosen in config.json, as `config llm` does
    llm = _provider(db, monkeypatch)
    assert (llm.name, llm.model) == ("claude-cli", "haiku")
    history = [
        *USER,
        {
            "role": "assistant",
            "parts": [{"type": "tool-call", "id": "c1", "name": "finish", "arguments": "{}"}],
        },
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "c1",
                    "content": [{"type": "text", "text": "round over"}],
                }
            ],
        },
    ]
    reply = llm.complete(
        system="You track tasks.",
        messages=history,
        tools=TOOLS,
        purpose="task_extraction",
        session_id="s3",
    )
    assert reply.text == "one task"
    assert [(c.name, c.arguments, c.error) for c in reply.tool_calls] == [
        ("insert_task", {"task_description": "dark mode"}, None),
        ("finish", {}, None),
    ]
    assert (reply.input_tokens, reply.output_tokens) == (103, 20)
    (call,) = _cli_calls(bin_dir)
    argv = call["argv"]
    assert argv[:3] == ["-p", "--output-format", "json"]
    assert argv[argv.index("--model") + 1] == "haiku"
    assert argv[argv.index("--tools") + 1] == ""
    # None of the user's hooks, plugins, MCP servers, CLAUDE.md or skills; no session saved.
    for flag in (
        "--safe-mode",
        "--strict-mcp-config",
        "--disable-slash-commands",
        "--no-session-persistence",
    ):
        assert flag in argv
    assert json.loads(argv[argv.index("--settings") + 1]) == {"disableAllHooks": True}
    system = argv[argv.index("--system-prompt") + 1]
    assert system.startswith("You track tasks.") and "insert_task" in system
    assert "Please add dark mode." in call["stdin"] and "round over" in call["stdin"]
    assert call["capture"] == "off"  # our own hooks do not capture this run
    assert call["cwd"] == str(Settings.from_env().home / "claude-cli")  # no project CLAUDE.md
    (row,) = usage.calls(db)
    assert (row["provider"], row["outcome"], row["input_tokens"]) == ("claude-cli", "ok", 103)


def test_claude_cli_failures_are_retried_and_recorded(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, fake_claude
) -> None:
    bin_dir = fake_claude(
        {"stdout": "", "stderr": "API Error: 529 overloaded", "exit": 1},
        {"result": "API Error: 500 internal", "is_error": True, "exit": 1},
        {"result": "no JSON here, just words"},
    )
    llm = _provider(db, monkeypatch, ACONTEXT_LLM_PROVIDER="claude-cli")
    reply = llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert reply.text == "no JSON here, just words" and reply.tool_calls == []
    assert _outcomes(db) == ["rate_limited", "error", "ok"]
    assert len(_cli_calls(bin_dir)) == 3


def test_claude_cli_timeout(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, fake_claude
) -> None:
    fake_claude({"result": "late", "sleep": 3}, {"result": "late", "sleep": 3})
    llm = _provider(
        db,
        monkeypatch,
        ACONTEXT_LLM_PROVIDER="claude-cli",
        ACONTEXT_LLM_TIMEOUT="0.5",
        ACONTEXT_LLM_MAX_RETRIES="1",
    )
    with pytest.raises(ProviderFailed, match="timed out"):
        llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert _outcomes(db) == ["timeout", "timeout"]


def test_claude_cli_not_logged_in_is_not_retried(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, fake_claude
) -> None:
    fake_claude({"result": "Invalid API key · Please run /login", "is_error": True, "exit": 1})
    llm = _provider(db, monkeypatch, ACONTEXT_LLM_PROVIDER="claude-cli")
    with pytest.raises(ProviderFailed, match="login"):
        llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert _outcomes(db) == ["error"]


def test_a_claude_too_old_for_the_quiet_flags_says_to_update_and_is_not_retried(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, fake_claude
) -> None:
    fake_claude({"stdout": "", "stderr": "error: unknown option '--safe-mode'", "exit": 1})
    llm = _provider(db, monkeypatch, ACONTEXT_LLM_PROVIDER="claude-cli")
    with pytest.raises(ProviderFailed, match="update Claude Code"):
        llm.complete(system="s", messages=USER, tools=TOOLS, purpose="t")
    assert _outcomes(db) == ["error"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('{"text": "hi", "tool_calls": []}', ("hi", [])),
        ('Sure! {"tool_calls": [{"name": "finish"}]} done', ("", [("finish", {}, False)])),
        (
            '{"tool_calls": [{"name": "insert_task", "arguments": "{broken"}]}',
            ("", [("insert_task", {}, True)]),
        ),
        (
            '{"tool_calls": [{"name": "drop_table", "arguments": {}}]}',
            ("", [("drop_table", {}, True)]),
        ),
        ('{"tool_calls": [{"arguments": {}}]}', ("", [("", {}, True)])),
        ('{"tool_calls": {"name": "finish", "input": {}}}', ("", [("finish", {}, False)])),
        ("plain words {not json}", ("plain words {not json}", [])),
        ('{"note": 1} then {"text": "second"}', ("second", [])),
    ],
)
def test_claude_cli_answers_are_parsed_robustly(answer: str, expected: tuple) -> None:
    text, calls = parse_answer(answer, ["insert_task", "finish"])
    assert text == expected[0]
    assert [(c.name, c.arguments, c.error is not None) for c in calls] == expected[1]


# --- selection ---


def _settings(**kw) -> Settings:
    return Settings(home=Path("/nonexistent"), skills_dir=Path("/nonexistent"), **kw)


def _no_claude(name: str) -> None:
    return None


def _has_claude(name: str) -> str:
    return "/usr/bin/claude"


@pytest.mark.parametrize(
    ("env", "which", "expected"),
    [
        ({"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"}, _has_claude, "anthropic"),
        ({"OPENAI_API_KEY": "o"}, _has_claude, "openai"),
        ({}, _has_claude, "claude-cli"),
        ({}, _no_claude, "none"),
    ],
)
def test_auto_detection_order(env: dict, which, expected: str) -> None:
    assert choose(_settings(llm_provider="auto"), env, which).name == expected


def test_auto_with_only_a_base_url_uses_openai() -> None:
    settings = _settings(llm_provider="auto", llm_base_url="http://127.0.0.1:11434/v1")
    choice = choose(settings, {}, _has_claude)
    assert choice.name == "openai" and "base URL" in choice.reason


EVERYTHING = {
    "ANTHROPIC_API_KEY": "a", "ANTHROPIC_AUTH_TOKEN": "t", "OPENAI_API_KEY": "o",
    "OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "ANTHROPIC_BASE_URL": "http://127.0.0.1:2",
}  # fmt: skip


def test_without_a_choice_nothing_leaves_whatever_the_environment_holds(
    settings: Settings,
) -> None:
    """The attack: hooks inherit keys and `claude` on PATH the user's shell may not have; a
    provider picked from them sent conversations out with no choice made. No choice is none."""
    choice = choose(settings, EVERYTHING, _has_claude)
    assert (choice.name, choice.model) == ("none", None)
    assert "no llm.provider in config.json" in choice.reason
    assert "acontext-mcp config llm claude-cli" in choice.reason


def test_config_json_chooses_and_the_env_overrides_it(settings: Settings) -> None:
    save(settings, "claude-cli", model="sonnet")
    choice = choose(settings, EVERYTHING, _has_claude)
    assert (choice.name, choice.model) == ("claude-cli", "sonnet")
    assert choice.reason == "config.json llm.provider=claude-cli"
    assert choose(settings, {}, _no_claude).reason == (
        "config.json llm.provider=claude-cli but `claude` is not on PATH"
    )
    over = settings.replace(llm_provider="openai")
    choice = choose(over, EVERYTHING, _has_claude)
    # The file's model belongs to its provider: openai gets its own default.
    assert (choice.name, choice.model) == ("openai", "gpt-4.1-mini")
    assert (
        choice.reason
        == "env ACONTEXT_LLM_PROVIDER=openai overrides config.json llm.provider=claude-cli"
    )
    off = choose(settings.replace(llm_provider="none"), EVERYTHING, _has_claude)
    assert off.name == "none" and "overrides config.json llm.provider=claude-cli" in off.reason
    model = choose(settings.replace(llm_model="opus"), EVERYTHING, _has_claude).model
    assert model == "opus"


def test_config_json_base_url_reaches_the_backend(settings: Settings, db) -> None:
    save(settings, "openai", model="qwen3", base_url="http://127.0.0.1:11434/v1")
    choice = choose(settings, {}, _no_claude)  # no key: a local server needs none
    assert (choice.name, choice.model, choice.base_url) == (
        "openai",
        "qwen3",
        "http://127.0.0.1:11434/v1",
    )
    assert "at http://127.0.0.1:11434/v1" in describe(settings)
    assert provider_for(settings, db).backend.base_url == "http://127.0.0.1:11434/v1"


@pytest.mark.parametrize(
    "content",
    [
        "{broken",
        "[]",
        '{"llm": "claude-cli"}',
        '{"llm": {"provider": 3}}',
        '{"llm": {"provider": "gemini"}}',
    ],
)
def test_a_config_json_that_cannot_be_used_means_none(settings: Settings, content: str) -> None:
    (settings.home / "config.json").write_text(content)
    choice = choose(settings, EVERYTHING, _has_claude)
    assert choice.name == "none" and "config.json" in choice.reason


def test_explicit_choices_and_their_reasons() -> None:
    assert choose(_settings(llm_provider="none"), {"OPENAI_API_KEY": "o"}, _has_claude).name == (
        "none"
    )
    missing = choose(_settings(llm_provider="openai"), {}, _has_claude)
    assert missing.name == "none" and "OPENAI_API_KEY" in missing.reason
    odd = choose(_settings(llm_provider="gemini"), {}, _has_claude)
    assert odd.name == "none" and "gemini" in odd.reason
    chosen = choose(
        _settings(llm_provider="anthropic", llm_model="claude-x"),
        {"ANTHROPIC_API_KEY": "k"},
        _no_claude,
    )
    assert (chosen.name, chosen.model) == ("anthropic", "claude-x")
    assert choose(_settings(llm_provider="openai"), {"OPENAI_API_KEY": "o"}, _no_claude).model == (
        "gpt-4.1-mini"
    )


def test_describe_and_provider_for_with_no_provider(db: sqlite3.Connection) -> None:
    settings = _settings()
    assert describe(settings).startswith(NO_PROVIDER)
    with pytest.raises(NoProvider, match="LLM work waits"):
        provider_for(settings, db)
    with pytest.raises(NoProvider, match="ACONTEXT_LLM_PROVIDER=none"):
        provider_for(_settings(llm_provider="none"), db)


def test_describe_names_provider_model_and_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    line = describe(_settings(llm_provider="auto"))
    assert line.startswith("openai / gpt-4.1-mini") and "OPENAI_API_KEY is set" in line
    assert "env ACONTEXT_LLM_PROVIDER=auto" in line
    assert "sk-test" not in line
