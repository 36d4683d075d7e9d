"""The Overview page: what the memory holds, at a glance."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.store.stats import store_stats
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.render import render


def page(request: Request) -> Response:
    settings = settings_of(request)
    with read_snapshot(settings) as conn:
        stats = store_stats(conn, settings)
    return render(request, "overview.html", title="Overview", stats=stats)


routes: list[BaseRoute] = [Route("/", page, name="overview")]
