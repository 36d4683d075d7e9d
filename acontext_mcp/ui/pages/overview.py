"""The Overview page: activity per day, the task success rate (verified vs unverified
outcomes), learnings per day and LLM tokens against the daily budget, as SVG charts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.errors import InvalidInput
from acontext_mcp.store.stats import store_stats
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui import charts
from acontext_mcp.ui.activity import PERIODS, MessageDays, overview
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.charts import Series
from acontext_mcp.ui.render import render

OUTCOME_BARS = (
    ("verified_success", "verified success", "ok"),
    ("verified_failure", "verified failure", "bad"),
    ("unverified", "unverified", "unv"),
    ("abandoned", "abandoned", "warn"),
    ("open", "no outcome yet", "bar"),
)
LEARNING_BARS = (
    ("learned", "learned", "ok"),
    ("failed", "failed", "bad"),
    ("distilled", "waiting", "bar"),
    ("running", "running", "bar"),
    ("skipped", "skipped", "unv"),
)


def message_days(request: Request) -> MessageDays:
    """The app's message-per-day counter (one per app run; see ui/activity.py)."""
    found: MessageDays = request.app.state.message_days
    return found


def page(request: Request) -> Response:
    settings = settings_of(request)
    raw = request.query_params.get("days", "30")
    if not raw.isdigit() or int(raw) not in PERIODS:
        raise InvalidInput(f"days must be one of {', '.join(map(str, PERIODS))} (got {raw!r})")
    days = int(raw)
    data = overview(settings, message_days(request), days)
    with read_snapshot(settings) as conn:
        stats = store_stats(conn, settings)
    labels = data["labels"]
    per = "week" if data["weekly"] else "day"
    charts_ = {
        "sessions": charts.bars(
            labels, [Series("sessions", data["sessions"])], caption="Sessions started per day"
        ),
        "messages": charts.bars(
            labels, [Series("messages", data["messages"])], caption="Messages stored per day"
        ),
        "tasks": charts.bars(
            labels,
            [
                Series(name, data["tasks"][key], css)
                for key, name, css in OUTCOME_BARS
                if key in data["tasks"]
            ],
            caption="Tasks per day by outcome",
        ),
        "rate": charts.lines(
            data["rate_buckets"],
            [
                Series("verified success rate", data["rates"]["verified"], "line"),
                Series("unverified: marked done", data["rates"]["unverified"], "line unv"),
            ],
            caption=f"Task success rate per {per}",
        ),
        "learnings": charts.bars(
            labels,
            [
                Series(name, data["learnings"][key], css)
                for key, name, css in LEARNING_BARS
                if key in data["learnings"]
            ],
            caption="Learnings per day by status",
        ),
        "tokens": charts.bars(
            labels,
            [
                Series("input tokens", data["tokens_in"]),
                Series("output tokens", data["tokens_out"], "unv"),
            ],
            caption="LLM tokens per day",
            limit=data["budget"],
            limit_name="daily budget",
        ),
    }
    return render(
        request,
        "overview.html",
        title="Overview",
        stats=stats,
        data=data,
        charts=charts_,
        periods=PERIODS,
        per=per,
        outcome_bars=OUTCOME_BARS,
        learning_bars=LEARNING_BARS,
    )


routes: list[BaseRoute] = [Route("/", page, name="overview")]
