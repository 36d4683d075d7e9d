"""Drive the dashboard over real HTTP: uvicorn in a thread on 127.0.0.1, an httpx client that
logs in with the run's token (cookie) and sends the CSRF token with every POST.

    with serve_ui(settings) as ui:
        client = ui.client()          # logged in
        page = client.get("/sessions")
        client.post("/skills/proposals/x/accept", data={"reason": "ok"})  # csrf added
        ui.anonymous().get("/")       # no cookie: 403
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import uvicorn
from starlette.applications import Starlette

from acontext_mcp.cli.ui import bind
from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.ui.app import build_app

TOKEN = "test-token-0123456789abcdef"
CSRF = "test-csrf-0123456789abcdef"
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


class UiClient(httpx.Client):
    """An httpx client against one dashboard; `post` adds the CSRF field to form data."""

    def __init__(self, base: str, csrf: str | None, **kwargs: Any) -> None:
        super().__init__(base_url=base, timeout=30, **kwargs)
        self.csrf = csrf

    def post(self, url: Any, *, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.csrf is not None and "content" not in kwargs and "json" not in kwargs:
            data = {"csrf": self.csrf, **(data or {})}
        return super().post(url, data=data, **kwargs)

    def csrf_of(self, html: str) -> str | None:
        """The CSRF token a rendered form carries (what a browser would send)."""
        found = CSRF_INPUT.search(html)
        return found.group(1) if found else None


@dataclass
class UiServer:
    base: str  # http://127.0.0.1:PORT
    token: str
    csrf: str
    host: str
    port: int
    app: Starlette  # tests may add routes: app.router.routes.append(Route(...))
    clients: list[UiClient] = field(default_factory=list)  # closed when the server stops

    @property
    def login_url(self) -> str:
        return f"{self.base}/?token={self.token}"

    def client(self, **kwargs: Any) -> UiClient:
        """A client that has logged in (holds the cookie) and sends CSRF on POST."""
        client = UiClient(self.base, self.csrf, **kwargs)
        self.clients.append(client)
        answer = client.get(f"/?token={self.token}")
        assert answer.status_code == 303, answer.text
        return client

    def anonymous(self, **kwargs: Any) -> UiClient:
        """A client with neither the cookie nor the CSRF token."""
        client = UiClient(self.base, None, **kwargs)
        self.clients.append(client)
        return client


@contextlib.contextmanager
def serve_ui(settings: Settings, *, token: str = TOKEN, csrf: str = CSRF) -> Iterator[UiServer]:
    """The dashboard over `settings`' data home on a free 127.0.0.1 port, until the block
    ends."""
    open_db(settings).close()  # as `acontext-mcp ui` does: the store exists before pages read
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = build_app(settings, token=token, csrf=csrf)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.02)
    running = UiServer(f"http://127.0.0.1:{port}", token, csrf, "127.0.0.1", port, app)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
