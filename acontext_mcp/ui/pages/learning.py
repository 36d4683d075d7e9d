"""The Learning page (placeholder: its owner replaces this module wholesale)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.ui.render import render


def page(request: Request) -> Response:
    return render(request, "coming.html", title="Learning", command="acontext-mcp learn")


routes: list[BaseRoute] = [
    Route("/learning", page, name="learning"),
    Route("/learning/{rest:path}", page),
]
