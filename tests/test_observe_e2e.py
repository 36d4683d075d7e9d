"""The whole observe pipeline with real processes: store -> flush/worker -> provider -> tasks.

A session is stored through the real store; `acontext-mcp flush` and `acontext-mcp worker` run
as subprocesses; the real `openai` and `anthropic` SDKs talk HTTP to a fake of their wire
protocol on 127.0.0.1 (tests/support/fake_llm.py) that answers by request content
(tests/support/observe_script.py), and the claude-cli provider runs a fake `claude` first on
PATH. Results are read back through `acontext-mcp tasks|usage --json` and the database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.fake_llm import FakeLLM, anthropic_reply, openai_reply
from support.observe_script import (
    CONVERSATION,
    PREFERENCE,
    PROGRESS,
    SESSION,
    TASKS,
    anthropic_view,
    decide,
    openai_view,
)

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn
from acontext_mcp.worker import triggers

BIN = Path(sys.executable).parent / "acontext-mcp"
SUPPORT = Path(__file__).resolve().parent / "support"
TOOL_NAMES = {
    "insert_task", "update_task", "append_progress", "link_messages", "record_preference",
    "finish",
}  # fmt: skip
# (order, description, status, progresses, user_preferences) after the landing-page batch.
EXPECTED = [
    (1, TASKS[0], "running", [PROGRESS], [PREFERENCE]),
    (2, TASKS[1], "pending", [], []),
    (3, TASKS[2], "pending", [], []),
]
OPENAI_KEY, ANTHROPIC_KEY = "sk-e2e-openai-dummy", "sk-ant-e2e-dummy"


class Scripted:
    """Stands in for FakeLLM's answer queue: each answer is decided from the request just
    received. A request whose number (1-based) is in `stall_at` is held until `release`.
    FakeLLM calls `popleft` under its lock, so a held request also holds any other one: the
    tests here have one client at a time."""

    def __init__(self, fake: FakeLLM, stall_at: tuple[int, ...] = ()) -> None:
        self.fake = fake
        self.stall_at = set(stall_at)
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.sent: list[dict[str, Any]] = []
        fake.answers = self  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> dict[str, Any]:
        number, request = len(self.fake.received), self.fake.received[-1]
        if number in self.stall_at:
            self.stalled.set()
            self.release.wait(60)
        anthropic = request["path"].split("?")[0].endswith("/messages")
        prompt, rounds = (anthropic_view if anthropic else openai_view)(request["body"] or {})
        calls = decide(prompt, rounds)
        usage = (len(request["raw"]) // 4, 20 + 10 * len(calls))
        make = anthropic_reply if anthropic else openai_reply
        body = make(None if calls else "Nothing more to do.", calls=calls or None, usage=usage)
        self.sent.append(body)
        return {"body": body, "status": 200, "headers": {}, "delay": 0.0}

    def tokens(self) -> tuple[int, int]:
        used = [b["usage"] for b in self.sent]
        if used and "prompt_tokens" in used[0]:
            return sum(u["prompt_tokens"] for u in used), sum(u["completion_tokens"] for u in used)
        return sum(u["input_tokens"] for u in used), sum(u["output_tokens"] for u in used)


def _provider_env(provider: str, url: str) -> dict[str, str]:
    if provider == "openai":
        return {
            "ACONTEXT_LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": OPENAI_KEY,
            "ACONTEXT_LLM_BASE_URL": url + "/v1",  # an OpenAI-compatible server, Ollama style
            "ACONTEXT_LLM_MODEL": "fake-model",
        }
    return {
        "ACONTEXT_LLM_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ACONTEXT_LLM_BASE_URL": url,
    }


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(home),
        "ACONTEXT_WORKER": "off",
        "ACONTEXT_LLM_TIMEOUT": "20",
        "ACONTEXT_LLM_MAX_RETRIES": "1",
    }
    for name in ("ACONTEXT_HOOK_INLINE", "ACONTEXT_LLM_DAILY_TOKENS"):
        env.pop(name, None)
    env.update(extra)
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=90)


def _json(env: dict[str, str], *args: str) -> Any:
    done = _cli(env, *args, "--json")
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


def _flush(env: dict[str, str]) -> dict[str, Any]:
    done = _cli(env, "flush", SESSION, "--timeout", "45", "--json")
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout)


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), "worker", "--until-idle", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _store(home: Path, *, queue: bool = False) -> None:
    settings = Settings(home=home, skills_dir=home / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    try:
        out = store_turn(conn, settings, CONVERSATION, session_id=SESSION)
        assert len(out["message_ids"]) == len(CONVERSATION)
        if queue:
            triggers.queue_observe(conn, SESSION)
    finally:
        conn.close()


def _rows(home: Path, sql: str, args: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(home / "acontext.db", timeout=10)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def _db_tasks(home: Path) -> list[tuple]:
    rows = _rows(
        home,
        'SELECT "order", description, status, progresses, user_preferences '
        'FROM tasks WHERE session_id = ? ORDER BY "order"',
        (SESSION,),
    )
    return [(o, d, s, json.loads(p or "[]"), json.loads(u or "[]")) for o, d, s, p, u in rows]


def _cli_tasks(env: dict[str, str]) -> list[tuple]:
    page = _json(env, "tasks", "--session", SESSION)
    return [
        (t["order"], t["description"], t["status"], t["progresses"], t["user_preferences"])
        for t in page["tasks"]
    ]


def _statuses(home: Path) -> list[str]:
    sql = (
        "SELECT status FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position"
    )
    return [r[0] for r in _rows(home, sql, (SESSION,))]


def _purpose(usage: dict[str, Any]) -> dict[str, Any]:
    (row,) = usage["by_purpose"]
    assert row["purpose"] == "task_extraction"
    return row


def _headers(request: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in request["headers"].items()}


# --- 1. The real SDKs, through `acontext-mcp flush` ---


def _check_openai_wire(fake: FakeLLM, script: Scripted) -> None:
    first, second = fake.received
    for request in (first, second):
        assert request["path"] == "/v1/chat/completions"
        headers = _headers(request)
        assert headers["authorization"] == f"Bearer {OPENAI_KEY}"
        assert headers["user-agent"].startswith("OpenAI/Python")
        assert headers["content-type"] == "application/json"
        body = request["body"]
        assert body["model"] == "fake-model" and body["max_tokens"] == 2048
        assert not body.get("stream")
        assert {t["type"] for t in body["tools"]} == {"function"}
        assert {t["function"]["name"] for t in body["tools"]} == TOOL_NAMES
        assert body["messages"][0]["role"] == "system"
        assert body["messages"][0]["content"].startswith("You keep the task list")
    prompt, _ = openai_view(first["body"])
    assert "## Current tasks\n(none yet)" in prompt and "report to me before" in prompt
    assert "-> search_news(query=iPhone news)" in prompt
    messages = second["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", *["tool"] * 3]
    call_ids = [c["id"] for c in script.sent[0]["choices"][0]["message"]["tool_calls"]]
    assert [c["id"] for c in messages[2]["tool_calls"]] == call_ids
    assert [m["tool_call_id"] for m in messages[3:]] == call_ids
    assert [m["content"] for m in messages[3:]] == [
        f"Task {n} created (pending)" for n in (1, 2, 3)
    ]


def _check_anthropic_wire(fake: FakeLLM, script: Scripted) -> None:
    first, second = fake.received
    for request in (first, second):
        assert request["path"] == "/v1/messages"
        headers = _headers(request)
        # The key as this SDK sends it (older releases: x-api-key; 2.x: a bearer token).
        sent = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        assert sent == ANTHROPIC_KEY
        assert headers["anthropic-version"]
        assert headers["user-agent"].startswith("Anthropic/Python")
        body = request["body"]
        assert body["model"] == "claude-haiku-4-5" and body["max_tokens"] == 2048
        assert body["system"].startswith("You keep the task list")
        assert {t["name"] for t in body["tools"]} == TOOL_NAMES
        assert all("input_schema" in t for t in body["tools"])
    prompt, _ = anthropic_view(first["body"])
    assert "## Current tasks\n(none yet)" in prompt and "report to me before" in prompt
    messages = second["body"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    use_ids = [b["id"] for b in script.sent[0]["content"] if b["type"] == "tool_use"]
    assert [b["id"] for b in messages[1]["content"] if b["type"] == "tool_use"] == use_ids
    results = [b for b in messages[2]["content"] if b["type"] == "tool_result"]
    assert [b["tool_use_id"] for b in results] == use_ids
    assert "Task 1 created (pending)" in json.dumps(results[0]["content"])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_flush_tracks_the_landing_page_through_the_real_sdk(tmp_path: Path, provider: str):
    home = tmp_path / "home"
    _store(home)
    with FakeLLM() as fake:
        script = Scripted(fake)
        env = _env(home, **_provider_env(provider, fake.url))
        out = _flush(env)
    assert out["status"] == "done" and out["ran_here"], out
    assert (out["pending_before"], out["pending_after"]) == (4, 0)
    (batch,) = out["result"]["extracted"]
    assert batch["finished"] and batch["rounds"] == 2 and batch["tool_errors"] == 0
    counts = ("tasks_created", "tasks_updated", "progress_added", "preferences_added")
    assert [batch[k] for k in counts] == [3, 1, 1, 1]

    assert _cli_tasks(env) == EXPECTED
    assert _statuses(home) == ["processed"] * 4

    usage = _json(env, "usage")
    assert usage["provider"].startswith(f"{provider} / ")
    row = _purpose(usage)
    tokens_in, tokens_out = script.tokens()
    assert (row["calls"], row["errors"], row["budget_stops"]) == (2, 0, 0)
    assert (row["input_tokens"], row["output_tokens"]) == (tokens_in, tokens_out)
    assert usage["today"]["tokens_used"] == tokens_in + tokens_out
    calls = _rows(home, "SELECT provider, purpose, session_id, outcome FROM llm_calls")
    assert calls == [(provider, "task_extraction", SESSION, "ok")] * 2

    (_check_openai_wire if provider == "openai" else _check_anthropic_wire)(fake, script)


# --- 2. claude-cli, through the same flush ---

FAKE_CLAUDE = r"""#!{python}
import json, os, sys
sys.path.insert(0, {support!r})
from observe_script import cli_answer, cli_view, decide
here = os.path.dirname(os.path.abspath(__file__))
stdin = sys.stdin.read()
with open(os.path.join(here, "calls.jsonl"), "a") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:], "stdin": stdin, "cwd": os.getcwd(),
                          "capture": os.environ.get("ACONTEXT_CAPTURE")}}) + "\n")
calls = decide(*cli_view(stdin))
usage = {{"input_tokens": 7, "cache_read_input_tokens": 200, "output_tokens": 30}}
sys.stdout.write(json.dumps({{"type": "result", "subtype": "success", "is_error": False,
                              "result": cli_answer(calls), "usage": usage,
                              "session_id": "fake"}}))
"""


def test_flush_tracks_the_landing_page_through_a_fake_claude_cli(tmp_path: Path):
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    exe.write_text(FAKE_CLAUDE.format(python=sys.executable, support=str(SUPPORT)))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    _store(home)
    env = _env(
        home, ACONTEXT_LLM_PROVIDER="claude-cli", PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    )
    out = _flush(env)
    assert out["status"] == "done" and (out["pending_before"], out["pending_after"]) == (4, 0)
    assert _cli_tasks(env) == EXPECTED
    assert _statuses(home) == ["processed"] * 4

    runs = [json.loads(line) for line in (bin_dir / "calls.jsonl").read_text().splitlines()]
    assert len(runs) == 2
    for run in runs:
        argv = run["argv"]
        assert argv[:3] == ["-p", "--output-format", "json"]
        assert argv[argv.index("--model") + 1] == "haiku"
        assert argv[argv.index("--tools") + 1] == ""
        assert "--no-session-persistence" in argv and "--strict-mcp-config" in argv
        system = argv[argv.index("--system-prompt") + 1]
        assert system.startswith("You keep the task list") and "record_preference" in system
        assert run["capture"] == "off" and run["cwd"] == str(home / "claude-cli")
    assert "report to me before" in runs[0]["stdin"] and "<assistant>" not in runs[0]["stdin"]
    assert "Task 3 created (pending)" in runs[1]["stdin"]

    row = _purpose(_json(env, "usage"))
    assert (row["calls"], row["input_tokens"], row["output_tokens"]) == (2, 2 * 207, 2 * 30)
    calls = _rows(home, "SELECT provider, model, outcome FROM llm_calls")
    assert calls == [("claude-cli", "haiku", "ok")] * 2


# --- 3. A budget stop loses nothing ---


def test_a_budget_stop_defers_without_sending_and_a_bigger_budget_ends_like_a_clean_run(
    tmp_path: Path,
):
    stopped, clean = tmp_path / "stopped", tmp_path / "clean"
    _store(stopped)
    _store(clean)
    with FakeLLM() as fake:
        Scripted(fake)
        provider = _provider_env("openai", fake.url)
        tiny = _env(stopped, ACONTEXT_LLM_DAILY_TOKENS="10", **provider)
        out = _flush(tiny)  # deferred exits 0
        assert out["status"] == "deferred" and out["ran_here"], out
        assert "BudgetExhausted" in out["reason"] and "budget" in out["reason"]
        assert (out["pending_before"], out["pending_after"]) == (4, 4)
        assert fake.received == []  # nothing reached the server
        assert _statuses(stopped) == ["pending"] * 4  # none processing, none failed
        assert _db_tasks(stopped) == []
        usage = _json(tiny, "usage")
        row = _purpose(usage)
        assert (row["calls"], row["budget_stops"], row["input_tokens"]) == (0, 1, 0)
        assert usage["today"]["tokens_used"] == 0
        status = _json(tiny, "worker", "--status")
        (job,) = status["jobs"]
        assert job["state"] == "deferred" and "budget" in job["reason"]

        big = _env(stopped, ACONTEXT_LLM_DAILY_TOKENS="1000000", **provider)
        out = _flush(big)
        assert out["status"] == "done" and (out["pending_before"], out["pending_after"]) == (4, 0)
        assert len(fake.received) == 2
        reference = _flush(_env(clean, ACONTEXT_LLM_DAILY_TOKENS="1000000", **provider))
        assert reference["status"] == "done" and len(fake.received) == 4
    assert _cli_tasks(big) == _db_tasks(clean) == EXPECTED
    assert _statuses(stopped) == _statuses(clean) == ["processed"] * 4
    row = _purpose(_json(big, "usage"))
    assert (row["calls"], row["budget_stops"], row["errors"]) == (2, 1, 0)
    outcomes = "SELECT outcome FROM llm_calls ORDER BY id"
    assert _rows(stopped, outcomes) == [("budget",), ("ok",), ("ok",)]
    # The observe job is done; the preference's delayed learner run waits (no learning here).
    assert _rows(stopped, "SELECT kind, status FROM jobs ORDER BY id") == [
        ("observe_session", "done"),
        ("learn_space", "queued"),
    ]


# --- 4. A worker killed mid-batch ---


def test_a_worker_killed_mid_batch_ends_like_an_uninterrupted_run(tmp_path: Path):
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    _store(crashed, queue=True)
    _store(clean, queue=True)
    lease_s = 1.5
    with FakeLLM() as fake:
        script = Scripted(fake, stall_at=(2,))  # round 2 of the batch hangs
        env = _env(
            crashed,
            ACONTEXT_WORKER_LEASE_S=str(lease_s),
            ACONTEXT_WORKER_IDLE_S="0.3",
            **_provider_env("anthropic", fake.url),
        )
        victim = _worker(env)
        try:
            assert script.stalled.wait(30), "the worker never sent its second request"
            # Mid-batch: round 1 committed its three tasks, the batch is claimed, the job held.
            assert [(t[0], t[2]) for t in _db_tasks(crashed)] == [
                (1, "pending"),
                (2, "pending"),
                (3, "pending"),
            ]
            assert _statuses(crashed) == ["processing"] * 4
            (holder,) = _rows(crashed, "SELECT holder FROM jobs WHERE status = 'running'")
            assert f":{victim.pid}:" in holder[0]
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=10)
        finally:
            if victim.poll() is None:
                victim.kill()
            script.release.set()  # the held answer goes to a dead connection
        time.sleep(lease_s + 0.3)  # the dead worker's leases expire
        survivor = _worker(env, "--json")
        out, err = survivor.communicate(timeout=60)
        assert survivor.returncode == 0, err
        assert json.loads(out)["outcomes"] == {"done": 1}, err
        assert len(fake.received) == 3  # round 1, the held round 2, the resumed batch's round

    with FakeLLM() as fake:
        Scripted(fake)
        env = _env(clean, ACONTEXT_WORKER_IDLE_S="0.3", **_provider_env("anthropic", fake.url))
        reference = _worker(env, "--json")
        out, err = reference.communicate(timeout=60)
        assert reference.returncode == 0 and json.loads(out)["outcomes"] == {"done": 1}, err
        assert len(fake.received) == 2

    assert _db_tasks(crashed) == _db_tasks(clean) == EXPECTED  # no task or line twice
    assert _statuses(crashed) == _statuses(clean) == ["processed"] * 4
    jobs_sql = "SELECT kind, dedup_key, status FROM jobs ORDER BY id"
    done = [
        ("observe_session", f"observe:{SESSION}", "done"),
        ("learn_space", "learn-space:default", "queued"),  # the preference, learned later
    ]
    assert _rows(crashed, jobs_sql) == _rows(clean, jobs_sql) == done
    assert _rows(crashed, "SELECT attempts FROM jobs ORDER BY id") == [(2,), (0,)]
    assert _rows(clean, "SELECT attempts FROM jobs ORDER BY id") == [(1,), (0,)]
    assert _rows(crashed, "SELECT * FROM leases WHERE name = 'worker'") == []
    # The held request died with its worker, so it was never recorded; both others were.
    assert _rows(crashed, "SELECT outcome FROM llm_calls") == [("ok",), ("ok",)]
