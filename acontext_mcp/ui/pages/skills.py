"""The Skills page (placeholder: its owner replaces this module wholesale)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.ui.render import render


def page(request: Request) -> Response:
    return render(request, "coming.html", title="Skills", command="acontext-mcp skills list")


routes: list[BaseRoute] = [
    Route("/skills", page, name="skills"),
    Route("/skills/{rest:path}", page),
]
