"""The dashboard's Starlette app: pages from `ui/pages/`, static files, and the guard.

Each page module exposes `routes` (a list of Starlette routes, handlers usually plain
functions run in the thread pool); `PAGES` lists them in mount order. Domain errors become
error pages: InvalidInput 400, NotFound 404, anything else 500 (logged, never shown in full).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, InvalidInput, NotFound
from acontext_mcp.ui.activity import MessageDays
from acontext_mcp.ui.pages import disks, learning, overview, sessions, skills, tasks
from acontext_mcp.ui.render import render
from acontext_mcp.ui.security import Guard

log = logging.getLogger("acontext.ui")

STATIC = Path(__file__).resolve().parent / "static"

# Mount order: the first route that matches a path wins.
PAGES = (overview, sessions, tasks, skills, learning, disks)


def page_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for page in PAGES:
        routes.extend(page.routes)
    return routes


def build_app(
    settings: Settings,
    *,
    token: str,
    csrf: str | None = None,
    allowed_hosts: set[str] | None = None,
) -> Starlette:
    """The dashboard over `settings`' data home, guarded by `token` (see ui/security.py).
    `allowed_hosts` defaults to the address the server is bound to (read per request)."""
    csrf = csrf or secrets.token_urlsafe(32)
    app = Starlette(
        routes=[*page_routes(), Mount("/static", StaticFiles(directory=STATIC), name="static")],
        middleware=[
            Middleware(Guard, token=token, csrf=csrf, allowed_hosts=allowed_hosts),
        ],
        exception_handlers={
            AcontextError: _domain_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.settings = settings
    app.state.csrf = csrf
    app.state.message_days = MessageDays()  # the overview's count, kept per run
    return app


def _error(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", status=status, title=title, message=message)


async def _domain_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        return _error(request, 404, "Not found", str(exc))
    if isinstance(exc, InvalidInput):
        return _error(request, 400, "Bad request", str(exc))
    log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc)
    return _error(request, 500, "Could not answer", str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = "Not found" if exc.status_code == 404 else "Error"
    return _error(request, exc.status_code, title, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("the dashboard failed on %s", request.url.path)
    return _error(
        request, 500, "Internal error", "this page failed; the log under the data home says why"
    )
