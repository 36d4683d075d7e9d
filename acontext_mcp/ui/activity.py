"""The overview's figures: activity per day, task success rate, learnings, LLM tokens.

Messages per day is the one count no index answers (a full pass over the messages table: about
0.5 s at a million messages), so `MessageDays` counts the table once per dashboard run and
then only the messages stored since (ids only grow). When messages were removed (`forget`)
the stored total no longer adds up and it counts again. `acontext-mcp ui` warms it in the
background before the browser asks.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.store import ui_queries as q

PERIODS = (7, 30, 90, 365)
WEEKLY_FROM = 60  # days: longer periods show the success rate per week
ROLLING = 7  # days: a day's success rate counts the outcomes of the 7 days up to it


@dataclass
class MessageDays:
    """Messages per local day, kept up to date incrementally (thread-safe)."""

    seen_id: int = 0
    seen_total: int = 0
    days: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(self, settings: Settings) -> dict[str, int]:
        with self.lock, q.read_snapshot(settings) as conn:
            top, total = q.message_watermark(conn)
            new = q.messages_per_day(conn, self.seen_id, top) if top > self.seen_id else {}
            if self.seen_total + sum(new.values()) != total:  # some were removed: recount
                self.days = {}
                new = q.messages_per_day(conn, 0, top)
            for day, count in new.items():
                self.days[day] = self.days.get(day, 0) + count
            self.seen_id, self.seen_total = top, sum(self.days.values())
            return dict(self.days)

    def warm(self, settings: Settings) -> threading.Thread:
        """Count in a background thread (the first overview then answers at once)."""
        thread = threading.Thread(
            target=self.counts, args=(settings,), name="ui-message-days", daemon=True
        )
        thread.start()
        return thread


def day_labels(days: int, today: dt.date | None = None) -> list[str]:
    today = today or dt.date.today()
    return [(today - dt.timedelta(days=days - 1 - i)).isoformat() for i in range(days)]


@lru_cache(maxsize=4096)
def _week(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return (d - dt.timedelta(days=d.weekday())).isoformat()


def overview(settings: Settings, message_days: MessageDays, days: int) -> dict[str, Any]:
    """Everything the overview charts show for the last `days` days (today included)."""
    labels = day_labels(days)
    since = time.mktime(dt.date.fromisoformat(labels[0]).timetuple())
    weekly = days >= WEEKLY_FROM
    lead = 0 if weekly else ROLLING - 1  # the rolling rate of the first day looks back
    rate_since = since - lead * 86400
    per_message_day = message_days.counts(settings)
    with q.read_snapshot(settings) as conn:
        sessions = q.sessions_per_day(conn, since)
        tasks = q.tasks_per_day(conn, rate_since)
        learnings = q.learnings_per_day(conn, since)
        tokens = q.tokens_per_day(conn, labels[0])
        recent = q.recent_sessions(conn)
    by_outcome: dict[str, dict[str, int]] = {}
    rates: dict[str, dict[str, list[int]]] = {"verified": {}, "unverified": {}}
    in_window = set(labels)
    for day, outcome, status, count in tasks:
        if day in in_window:
            row = by_outcome.setdefault(outcome or "open", {})
            row[day] = row.get(day, 0) + count
        bucket = _week(day) if weekly else day
        if outcome in ("verified_success", "verified_failure"):
            won = count if outcome == "verified_success" else 0
            cell = rates["verified"].setdefault(bucket, [0, 0])
        elif outcome == "unverified":
            won = count if status == "success" else 0
            cell = rates["unverified"].setdefault(bucket, [0, 0])
        else:
            continue
        cell[0] += won
        cell[1] += count
    buckets = sorted({_week(d) for d in labels}) if weekly else labels
    window = 1 if weekly else ROLLING
    all_days = day_labels(days + lead) if not weekly else buckets
    by_status: dict[str, dict[str, int]] = {}
    for day, status, count in learnings:
        by_status.setdefault(status, {})[day] = count
    totals = {
        "sessions": sum(sessions.get(d, 0) for d in labels),
        "messages": sum(per_message_day.get(d, 0) for d in labels),
        "tasks": sum(sum(v.get(d, 0) for v in by_outcome.values()) for d in labels),
        "learnings": sum(sum(v.get(d, 0) for v in by_status.values()) for d in labels),
        "tokens": sum(sum(tokens.get(d, (0, 0))) for d in labels),
    }
    return {
        "days": days,
        "labels": labels,
        "sessions": [sessions.get(d, 0) for d in labels],
        "messages": [per_message_day.get(d, 0) for d in labels],
        "tasks": {k: [v.get(d, 0) for d in labels] for k, v in by_outcome.items()},
        "rate_buckets": buckets,
        "weekly": weekly,
        "rolling": window,
        "rates": {kind: _rolling(cells, all_days, window) for kind, cells in rates.items()},
        "rate_totals": {
            kind: _sum_cells(v for k, v in cells.items() if k >= buckets[0])
            for kind, cells in rates.items()
        },
        "learnings": {k: [v.get(d, 0) for d in labels] for k, v in by_status.items()},
        "tokens_in": [tokens.get(d, (0, 0))[0] for d in labels],
        "tokens_out": [tokens.get(d, (0, 0))[1] for d in labels],
        "budget": settings.llm_daily_tokens,
        "totals": totals,
        "recent": recent,
    }


def _rolling(cells: dict[str, list[int]], keys: list[str], window: int) -> list[float | None]:
    """The rate at each of the last len(keys) - window + 1 keys over the `window` keys up to
    it (window 1: each key alone)."""
    out: list[float | None] = []
    for end in range(window - 1, len(keys)):
        won = total = 0
        for key in keys[end - window + 1 : end + 1]:
            a, b = cells.get(key, (0, 0))
            won, total = won + a, total + b
        out.append(_percent([won, total]))
    return out


def _percent(cell: Any) -> float | None:
    return None if not cell or not cell[1] else 100.0 * cell[0] / cell[1]


def _sum_cells(cells: Any) -> dict[str, Any]:
    won = total = 0
    for a, b in cells:
        won, total = won + a, total + b
    return {"won": won, "total": total, "rate": _percent([won, total])}
