"""LLM usage: one `llm_calls` row per attempt, today's token sum for the budget, and reports.

`day` is the local calendar day an attempt started, so the daily budget resets at the user's
midnight. Tokens count input plus output; attempts that failed before an answer count 0.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime, timedelta
from typing import Any

OUTCOMES = ("ok", "error", "timeout", "rate_limited", "budget")


def local_day(ts: float | None = None) -> str:
    """YYYY-MM-DD of `ts` (default now) in local time."""
    return datetime.fromtimestamp(time.time() if ts is None else ts).strftime("%Y-%m-%d")


def record_call(
    conn: sqlite3.Connection,
    *,
    provider: str,
    model: str,
    purpose: str,
    outcome: str,
    session_id: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    duration_ms: float = 0.0,
    error: str | None = None,
    started: float | None = None,
) -> int:
    """Insert one attempt; returns its row id. `error` is cut to 2,000 characters."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    now = time.time()
    started = now if started is None else started
    cur = conn.execute(
        "INSERT INTO llm_calls (provider, model, purpose, session_id, input_tokens, "
        "output_tokens, duration_ms, outcome, error, day, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            provider,
            model,
            purpose,
            session_id,
            int(input_tokens),
            int(output_tokens),
            float(duration_ms),
            outcome,
            error[:2000] if error else None,
            local_day(started),
            now,
        ),
    )
    return int(cur.lastrowid or 0)


def tokens_on(conn: sqlite3.Connection, day: str | None = None) -> int:
    """Tokens (in + out) spent on `day` (default today)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(input_tokens + output_tokens), 0) FROM llm_calls WHERE day = ?",
        (day or local_day(),),
    ).fetchone()
    return int(row[0])


def calls(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The latest attempts, newest first (for tests and debugging)."""
    cur = conn.execute(
        "SELECT id, provider, model, purpose, session_id, input_tokens, output_tokens, "
        "duration_ms, outcome, error, day, created_at FROM llm_calls ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


_SUMS = (
    "COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), "
    "COALESCE(SUM(outcome IN ('error', 'timeout', 'rate_limited')), 0), "
    "COALESCE(SUM(outcome = 'budget'), 0), COALESCE(SUM(duration_ms), 0)"
)


def _row(key: str, value: str, provider: str, model: str, sums: tuple) -> dict[str, Any]:
    n, tin, tout, errors, budget, ms = sums
    return {
        key: value,
        "provider": provider,
        "model": model,
        "calls": int(n) - int(budget),  # budget stops sent nothing
        "input_tokens": int(tin),
        "output_tokens": int(tout),
        "errors": int(errors),
        "budget_stops": int(budget),
        "duration_ms": round(float(ms), 1),
    }


def report(conn: sqlite3.Connection, *, days: int = 7, daily_budget: int) -> dict[str, Any]:
    """Usage of the last `days` local days (today included): by day, by purpose, and today's
    budget. Each row is one provider and model, so it shows where the conversations went.
    Days without calls are left out."""
    days = max(1, int(days))
    today = local_day()
    first = (date.fromisoformat(today) - timedelta(days=days - 1)).isoformat()
    by_day = [
        _row("day", row[0], row[1], row[2], tuple(row[3:]))
        for row in conn.execute(
            f"SELECT day, provider, model, {_SUMS} FROM llm_calls WHERE day >= ? "
            "GROUP BY day, provider, model ORDER BY day DESC, provider, model",
            (first,),
        )
    ]
    by_purpose = [
        _row("purpose", row[0], row[1], row[2], tuple(row[3:]))
        for row in conn.execute(
            f"SELECT purpose, provider, model, {_SUMS} FROM llm_calls WHERE day >= ? "
            "GROUP BY purpose, provider, model ORDER BY purpose, provider, model",
            (first,),
        )
    ]
    used = tokens_on(conn, today)
    return {
        "days": days,
        "since": first,
        "by_day": by_day,
        "by_purpose": by_purpose,
        "today": {
            "day": today,
            "tokens_used": used,
            "budget": daily_budget,
            "left": max(0, daily_budget - used),
        },
    }
