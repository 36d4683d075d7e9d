"""The Learning pages: learning status per session (failures with their reasons, a Retry
button) and the usage ledger (LLM calls and tokens by day and purpose, against the budget).

Statuses are store/learning.session_status, as `acontext-mcp learn` prints them; the usage
ledger is store/usage.report, as `acontext-mcp usage` prints it. Retry is `learn_now`'s
queueing path (app/learning.learn_later): failed learnings are reset, the session's finished
tasks are queued for the worker, which is started when allowed; the page never waits for an
LLM.

URLs: /learning (?failed=1, keyset pages), /learning/sessions/ID, POST
/learning/sessions/ID/retry, /learning/usage (?days=).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.store import learning, ui_learning, usage
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.paging import Keyset
from acontext_mcp.ui.render import render

PAGE_SIZE = 20
MAX_DAYS = 366


def _status(conn: Any, session_id: str, jobs: dict[str, int] | None = None) -> dict[str, Any]:
    status = learning.session_status(conn, session_id, jobs=jobs)
    status["failed_jobs"] = ui_learning.failed_jobs(conn, session_id)
    status["retry"] = status["status"] == "failed" or bool(status["failed_jobs"])
    return status


def index(request: Request) -> Response:
    keys = Keyset.from_request(request, "learning", default=PAGE_SIZE, maximum=100)
    failed_only = request.query_params.get("failed") == "1"
    with read_snapshot(settings_of(request)) as conn:
        rows = ui_learning.learning_sessions(
            conn, before=keys.before, after=keys.after, limit=keys.fetch, failed_only=failed_only
        )
        page = keys.page(request, rows, lambda row: row)
        sids = [sid for _, sid in page.items]
        counts_of = learning.job_counts(conn, sids)  # one scan of the jobs for the page
        statuses = [_status(conn, sid, counts_of[sid]) for sid in sids]
        counts = learning.status_counts(conn)
    return render(
        request,
        "learning/index.html",
        title="Learning",
        page=page,
        statuses=statuses,
        counts=counts,
        failed_only=failed_only,
    )


def session(request: Request) -> Response:
    sid = request.path_params["session_id"]
    with read_snapshot(settings_of(request)) as conn:
        status = _status(conn, sid)  # NotFound for an unknown session
    q = request.query_params
    retried = q.get("retried")
    return render(
        request,
        "learning/session.html",
        title=f"Learning of {sid}",
        s=status,
        retried=int(retried) if retried and retried.isdigit() else None,
        worker=q.get("worker"),
    )


def _retry(settings: Settings, session_id: str) -> dict[str, Any]:
    from acontext_mcp.app.learning import learn_later

    return learn_later(settings, session_id)


async def retry(request: Request) -> Response:
    sid = request.path_params["session_id"]
    done = await run_in_threadpool(_retry, settings_of(request), sid)
    worker = "started" if done["worker_started"] else "not-started"
    target = request.url_for("learning_session", session_id=sid).path
    return RedirectResponse(
        f"{target}?retried={done['queued_tasks']}&worker={worker}", status_code=303
    )


def _days(request: Request) -> int:
    raw = request.query_params.get("days") or "7"
    try:
        days = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"days must be a whole number (got {raw!r})") from exc
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS} (got {days})")
    return days


def usage_page(request: Request) -> Response:
    from acontext_mcp.llm.select import describe

    settings = settings_of(request)
    days = _days(request)
    with read_snapshot(settings) as conn:
        found = usage.report(conn, days=days, daily_budget=settings.llm_daily_tokens)
    today = found["today"]
    share = today["tokens_used"] / today["budget"] if today["budget"] else 0.0
    return render(
        request,
        "learning/usage.html",
        title="Usage",
        found=found,
        provider=describe(settings),
        share=min(share, 1.0),
        over=share > 1.0,
    )


routes: list[BaseRoute] = [
    Route("/learning", index, name="learning"),
    Route("/learning/usage", usage_page, name="usage"),
    Route("/learning/sessions/{session_id}", session, name="learning_session"),
    Route("/learning/sessions/{session_id}/retry", retry, methods=["POST"], name="learning_retry"),
]
