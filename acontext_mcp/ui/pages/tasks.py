"""The Tasks page (placeholder: its owner replaces this module wholesale)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.ui.render import render


def page(request: Request) -> Response:
    return render(request, "coming.html", title="Tasks", command="acontext-mcp tasks")


routes: list[BaseRoute] = [Route("/tasks", page, name="tasks"), Route("/tasks/{rest:path}", page)]
