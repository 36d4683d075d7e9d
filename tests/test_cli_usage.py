"""`acontext-mcp usage`: LLM calls by day and purpose, and today's budget."""

from __future__ import annotations

import json
import time

import pytest

from acontext_mcp.cli import main
from acontext_mcp.config import Settings
from acontext_mcp.store import usage
from acontext_mcp.store.db import open_db

DAY = 86_400


@pytest.fixture(autouse=True)
def _no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ACONTEXT_LLM_BASE_URL",
        "ACONTEXT_LLM_DAILY_TOKENS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACONTEXT_LLM_PROVIDER", "none")


def _fill() -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    conn = open_db(settings)
    now = time.time()
    rows = [
        ("task_extraction", "ok", 1000, 200, now),
        ("task_extraction", "rate_limited", 0, 0, now),
        ("task_extraction", "ok", 500, 100, now),
        ("skill_learning", "timeout", 0, 0, now),
        ("skill_learning", "budget", 0, 0, now),
        ("task_extraction", "ok", 700, 70, now - 2 * DAY),
        ("task_extraction", "ok", 9999, 9999, now - 30 * DAY),
    ]
    for purpose, outcome, tin, tout, started in rows:
        usage.record_call(
            conn,
            provider="openai",
            model="m",
            purpose=purpose,
            outcome=outcome,
            input_tokens=tin,
            output_tokens=tout,
            duration_ms=12.5,
            started=started,
        )
    conn.close()


def test_usage_json_by_day_and_purpose(capsys: pytest.CaptureFixture[str]) -> None:
    _fill()
    assert main(["usage", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    today = usage.local_day()
    assert found["today"] == {"day": today, "tokens_used": 1800, "budget": 200_000, "left": 198_200}
    assert [row["day"] for row in found["by_day"]] == [
        today,
        usage.local_day(time.time() - 2 * DAY),
    ]
    first = found["by_day"][0]
    assert (first["calls"], first["input_tokens"], first["output_tokens"]) == (4, 1500, 300)
    assert (first["errors"], first["budget_stops"]) == (2, 1)
    by_purpose = {row["purpose"]: row for row in found["by_purpose"]}
    assert by_purpose["task_extraction"]["calls"] == 4  # the 30-day-old call is outside 7 days
    assert by_purpose["task_extraction"]["input_tokens"] == 2200
    assert by_purpose["skill_learning"]["errors"] == 1
    assert found["provider"].startswith("none: capture works, learning waits")
    assert found["in_effect"]["provider"] == "none"
    assert {(r["provider"], r["model"]) for r in found["by_day"] + found["by_purpose"]} == {
        ("openai", "m")
    }


def test_usage_days_limits_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    _fill()
    assert main(["usage", "--days", "1", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [row["day"] for row in found["by_day"]] == [usage.local_day()]
    assert main(["usage", "--days", "60", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["by_day"]) == 3


def test_usage_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACONTEXT_LLM_DAILY_TOKENS", "2000")
    _fill()
    assert main(["usage"]) == 0
    out = capsys.readouterr().out
    assert "1,800 of 2,000 tokens used, 200 left" in out
    assert "task_extraction" in out and "skill_learning" in out
    assert "provider / model" in out and "openai / m" in out
    assert usage.local_day() in out


def test_usage_with_no_calls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage"]) == 0
    out = capsys.readouterr().out
    assert "no LLM calls in the last 7 day(s)" in out
    assert "0 of 200,000 tokens used" in out


def test_usage_rows_are_split_by_provider_and_model(capsys: pytest.CaptureFixture[str]) -> None:
    """Where the calls went: one row per provider and model, on each day and purpose."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    conn = open_db(settings)
    for provider, model in (("claude-cli", "haiku"), ("anthropic", "claude-haiku-4-5")):
        usage.record_call(
            conn,
            provider=provider,
            model=model,
            purpose="task_extraction",
            outcome="ok",
            input_tokens=10,
            output_tokens=1,
        )
    conn.close()
    assert main(["usage", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(r["provider"], r["model"], r["calls"]) for r in found["by_day"]] == [
        ("anthropic", "claude-haiku-4-5", 1),
        ("claude-cli", "haiku", 1),
    ]
    assert len(found["by_purpose"]) == 2
