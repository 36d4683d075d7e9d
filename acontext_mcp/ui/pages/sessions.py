"""The Sessions page (placeholder: its owner replaces this module wholesale)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.ui.render import render


def page(request: Request) -> Response:
    return render(request, "coming.html", title="Sessions", command="acontext-mcp sessions")


routes: list[BaseRoute] = [
    Route("/sessions", page, name="sessions"),
    Route("/sessions/{rest:path}", page),
]
