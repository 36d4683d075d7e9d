"""The wrapper around every LLM call: redaction, the daily budget, retries and recording."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import pytest
from support.fake_llm import FakeLLM, anthropic_reply, openai_reply

from acontext_mcp.llm import BudgetExhausted, LLMUnavailable, ProviderFailed, Reply, ToolSpec
from acontext_mcp.llm.anthropic_provider import AnthropicBackend
from acontext_mcp.llm.guard import CallFailed, Guard, retry_after, tool_call
from acontext_mcp.llm.openai_provider import OpenAIBackend
from acontext_mcp.store import usage

TOOLS = [ToolSpec("finish", "End.", {"type": "object", "properties": {}})]
USER = [{"role": "user", "parts": [{"type": "text", "text": "hello"}]}]
ANTHROPIC_KEY = "sk-ant-api03-" + "Q" * 90 + "AA"
GITHUB_TOKEN = "ghp_" + "a1B2" * 9
OPENAI_KEY = "sk-proj-" + "x9Y" * 16


class Scripted:
    """A backend answering from a list: a Reply, or an exception to raise."""

    name = "scripted"
    model = "scripted-1"

    def __init__(self, *steps: Any) -> None:
        self.steps = list(steps)
        self.sent: list[dict[str, Any]] = []

    def send(self, **kw: Any) -> Reply:
        self.sent.append(kw)
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def _guard(db: sqlite3.Connection, backend: Any, **kw: Any) -> tuple[Guard, list[float]]:
    waits: list[float] = []
    kw.setdefault("daily_tokens", 100_000)
    guard = Guard(backend, db, sleep=waits.append, rng=lambda: 1.0, **kw)
    return guard, waits


def _outcomes(db: sqlite3.Connection) -> list[str]:
    return [row["outcome"] for row in reversed(usage.calls(db))]


# --- budget ---


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_a_spent_budget_sends_nothing_raises_and_records_a_budget_stop(
    db: sqlite3.Connection, protocol: str
) -> None:
    usage.record_call(
        db,
        provider="openai",
        model="m",
        purpose="task_extraction",
        outcome="ok",
        input_tokens=900,
        output_tokens=100,
    )
    with FakeLLM() as fake:
        if protocol == "openai":
            backend: Any = OpenAIBackend(model="m", base_url=fake.url + "/v1", api_key="k")
        else:
            backend = AnthropicBackend(model="m", base_url=fake.url, api_key="k")
        guard, _ = _guard(db, backend, daily_tokens=1000)
        with pytest.raises(BudgetExhausted) as caught:
            guard.complete(
                system="s", messages=USER, tools=TOOLS, purpose="task_extraction", session_id="s1"
            )
        backend.close()
    assert fake.received == []
    assert isinstance(caught.value, LLMUnavailable)  # callers leave the work queued
    assert "ACONTEXT_LLM_DAILY_TOKENS" in str(caught.value) and "nothing is lost" in str(
        caught.value
    )
    last = usage.calls(db)[0]
    assert (last["outcome"], last["session_id"], last["input_tokens"]) == ("budget", "s1", 0)
    assert usage.tokens_on(db) == 1000  # a budget stop costs nothing


def test_the_budget_counts_what_earlier_calls_spent(db: sqlite3.Connection) -> None:
    reply = Reply("ok", input_tokens=60, output_tokens=30)
    backend = Scripted(reply, Reply("ok", input_tokens=60, output_tokens=30))
    guard, _ = _guard(db, backend, daily_tokens=150)
    guard.complete(system="", messages=USER, tools=[], purpose="p")
    with pytest.raises(BudgetExhausted, match="90 of 150"):
        guard.complete(system="", messages=USER + USER * 20, tools=TOOLS, purpose="p")
    assert len(backend.sent) == 1
    assert _outcomes(db) == ["ok", "budget"]


def test_yesterdays_spending_does_not_count_today(db: sqlite3.Connection) -> None:
    yesterday = time.time() - 86_400 * 1.5
    usage.record_call(
        db,
        provider="p",
        model="m",
        purpose="p",
        outcome="ok",
        input_tokens=10_000,
        started=yesterday,
    )
    guard, _ = _guard(db, Scripted(Reply("fine")), daily_tokens=1000)
    assert guard.complete(system="", messages=USER, tools=[], purpose="p").text == "fine"


def test_the_budget_is_checked_before_every_retry(db: sqlite3.Connection) -> None:
    backend = Scripted(
        CallFailed("HTTP 500", input_tokens=400, output_tokens=0), Reply("never reached")
    )
    guard, _ = _guard(db, backend, daily_tokens=405)
    with pytest.raises(BudgetExhausted):
        guard.complete(system="", messages=USER, tools=[], purpose="p")
    assert len(backend.sent) == 1
    assert _outcomes(db) == ["error", "budget"]


# --- redaction ---


def _secret_history() -> list[dict[str, Any]]:
    return [
        {"role": "user", "parts": [{"type": "text", "text": f"deploy with {ANTHROPIC_KEY} now"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool-call",
                    "id": "c1",
                    "name": "bash",
                    "arguments": json.dumps({"env": {"GITHUB_TOKEN": GITHUB_TOKEN}}),
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "c1",
                    "content": [
                        {
                            "type": "text",
                            "text": f"OPENAI_API_KEY={OPENAI_KEY}\n<private>my diary</private>",
                        }
                    ],
                }
            ],
        },
    ]


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_no_secret_reaches_the_provider(db: sqlite3.Connection, protocol: str) -> None:
    history = _secret_history()
    before = json.dumps(history)
    with FakeLLM() as fake:
        if protocol == "openai":
            fake.add(openai_reply("ok"))
            backend: Any = OpenAIBackend(model="m", base_url=fake.url + "/v1", api_key="k")
        else:
            fake.add(anthropic_reply("ok"))
            backend = AnthropicBackend(model="m", base_url=fake.url, api_key="k")
        guard, _ = _guard(db, backend)
        guard.complete(
            system=f"the admin token is {GITHUB_TOKEN}", messages=history, tools=TOOLS, purpose="p"
        )
        backend.close()
    sent = fake.raw_bodies()
    for secret in (ANTHROPIC_KEY, GITHUB_TOKEN, OPENAI_KEY, "my diary"):
        assert secret not in sent
    assert "[REDACTED:anthropic_key]" in sent and "[REDACTED:github_token]" in sent
    assert "[REDACTED:openai_key]" in sent and "deploy with" in sent
    assert json.dumps(history) == before  # the caller's messages are not mutated


def test_error_text_is_redacted_before_it_is_recorded(db: sqlite3.Connection) -> None:
    backend = Scripted(CallFailed(f"bad key {OPENAI_KEY}", retryable=False))
    guard, _ = _guard(db, backend)
    with pytest.raises(ProviderFailed) as caught:
        guard.complete(system="", messages=USER, tools=[], purpose="p")
    assert OPENAI_KEY not in str(caught.value)
    assert OPENAI_KEY not in (usage.calls(db)[0]["error"] or "")


# --- retries ---


def test_backoff_grows_exponentially_and_honours_retry_after(db: sqlite3.Connection) -> None:
    backend = Scripted(
        CallFailed("a", outcome="timeout"),
        CallFailed("b"),
        CallFailed("c", outcome="rate_limited", retry_after=9.0),
        Reply("ok"),
    )
    guard, waits = _guard(db, backend, max_retries=3, backoff_base=1.0)
    assert guard.complete(system="", messages=USER, tools=[], purpose="p").text == "ok"
    assert waits == [1.0, 2.0, 9.0]  # rng=1.0: the full exponential step; Retry-After wins
    assert _outcomes(db) == ["timeout", "error", "rate_limited", "ok"]


def test_jitter_stays_between_half_and_full_step(db: sqlite3.Connection) -> None:
    guard = Guard(Scripted(), db, daily_tokens=10, backoff_base=2.0, rng=lambda: 0.0)
    assert guard._delay(0, None) == 1.0
    assert guard._delay(10, None) == 15.0  # capped at 30 s, then jittered
    assert guard._delay(0, 500.0) is None  # longer than we wait: give up, work waits


def test_a_long_retry_after_gives_up_at_once(db: sqlite3.Connection) -> None:
    backend = Scripted(CallFailed("429", outcome="rate_limited", retry_after=3600), Reply("x"))
    guard, waits = _guard(db, backend)
    with pytest.raises(ProviderFailed, match="1 attempt"):
        guard.complete(system="", messages=USER, tools=[], purpose="p")
    assert waits == [] and len(backend.sent) == 1


def test_unexpected_backend_errors_are_recorded_not_retried(db: sqlite3.Connection) -> None:
    backend = Scripted(KeyError("surprise"), Reply("x"))
    guard, _ = _guard(db, backend)
    with pytest.raises(ProviderFailed, match="surprise"):
        guard.complete(system="", messages=USER, tools=[], purpose="p", session_id="s")
    row = usage.calls(db)[0]
    assert (row["outcome"], row["session_id"]) == ("error", "s")


def test_zero_retries_means_one_attempt(db: sqlite3.Connection) -> None:
    backend = Scripted(CallFailed("HTTP 503"), Reply("x"))
    guard, waits = _guard(db, backend, max_retries=0)
    with pytest.raises(ProviderFailed):
        guard.complete(system="", messages=USER, tools=[], purpose="p")
    assert waits == [] and _outcomes(db) == ["error"]


def test_reply_model_defaults_to_the_backend_model(db: sqlite3.Connection) -> None:
    guard, _ = _guard(db, Scripted(Reply("x")))
    assert guard.complete(system="", messages=USER, tools=[], purpose="p").model == "scripted-1"
    assert (guard.name, guard.model) == ("scripted", "scripted-1")


# --- helpers ---


def test_retry_after_headers() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None and retry_after(None) is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (retry_after({"retry-after": later}) or 0) <= 31


def test_tool_call_arguments() -> None:
    assert tool_call("1", "f", '{"a": 1}').arguments == {"a": 1}
    assert tool_call("1", "f", {"a": 1}).raw_arguments == '{"a": 1}'
    assert tool_call("1", "f", "  ").arguments == {}
    broken = tool_call("1", "f", '{"a": ')
    assert broken.arguments == {} and "not valid JSON" in (broken.error or "")
    assert "got list" in (tool_call("1", "f", [1]).error or "")
