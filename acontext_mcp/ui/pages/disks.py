"""The Disks page: the agents' artifact disks, browsed and read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.store.disks import disk_rows
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.render import render


def index(request: Request) -> Response:
    with read_snapshot(settings_of(request)) as conn:
        disks = [dict(row) for row in disk_rows(conn)]
    return render(request, "disks.html", title="Disks", disks=disks)


routes: list[BaseRoute] = [Route("/disks", index, name="disks")]
