"""The dashboard's guard: a per-run secret, Host and Origin checks, and CSRF on every POST.

Anyone on the machine can reach a port on 127.0.0.1, and any web page the user visits can
make their browser send requests to it; a DNS name rebound to 127.0.0.1 even makes such a page
same-origin. So every request needs the secret token: printed in the first URL, traded for an
HttpOnly SameSite=Strict cookie and stripped from the address bar by a redirect. The Host
header must name the bound address (a rebound name does not), a request carrying an Origin
must come from that address, and every POST carries the per-run CSRF token in a form field
(`csrf`) or the `X-CSRF-Token` header. GET never changes state; other methods are refused.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from urllib.parse import parse_qs, parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("acontext.ui")

TOKEN_PARAM = "token"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 1_000_000  # a POST form is a button press and a reason, never a file
LOOPBACK = ("127.0.0.1", "::1", "localhost")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with a
    # form POST, which the Origin check must refuse; no URL leaves for another site either way.
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def cookie_name(port: int | None) -> str:
    """Cookies ignore ports: two dashboards on one host must not overwrite each other's."""
    return f"acontext_ui_{port}" if port else "acontext_ui"


def host_names(host: str, port: int | None) -> set[str]:
    """The Host header values that name the bound address (and `localhost` for loopback)."""
    shown = f"[{host}]" if ":" in host else host
    names = {shown} if port is None else {f"{shown}:{port}"}
    if host in LOOPBACK:
        names |= (
            {"localhost", "127.0.0.1", "[::1]"}
            if port is None
            else {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}
        )
    return names


class Guard:
    """ASGI middleware in front of every route, static files included."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        csrf: str,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        if len(token) < 16:
            raise ValueError("the dashboard token must be at least 16 characters")
        self.app = app
        self.token = token
        self.csrf = csrf
        self.allowed_hosts = set(allowed_hosts) if allowed_hosts is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await _plain(send, 403, "only HTTP is served here")
            return
        send = _with_headers(send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        server = scope.get("server") or ("127.0.0.1", None)
        port = server[1] if len(server) > 1 else None
        host = headers.get("host", "")
        allowed = self.allowed_hosts or host_names(str(server[0]), port)
        if host.lower() not in allowed:
            log.warning("refused a request for Host %r (DNS rebinding?)", host[:100])
            await _plain(send, 400, "wrong Host header: open the URL `acontext-mcp ui` printed")
            return
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in allowed}:
            log.warning("refused a request from Origin %r", origin[:100])
            await _plain(send, 403, "cross-origin request refused")
            return
        method = scope["method"]
        if method not in ("GET", "HEAD", "POST"):
            await _plain(send, 405, "only GET and POST are served here")
            return
        name = cookie_name(port)
        query = scope.get("query_string", b"").decode("latin-1")
        given = parse_qs(query).get(TOKEN_PARAM)
        if given and method in ("GET", "HEAD"):
            if not hmac.compare_digest(given[-1].encode(), self.token.encode()):
                await _plain(send, 403, "wrong token: open the URL `acontext-mcp ui` printed")
                return
            await _login(send, scope, query, name, self.token)
            return
        if not hmac.compare_digest(_cookie(headers.get("cookie", ""), name), self.token.encode()):
            await _plain(
                send,
                403,
                "this dashboard needs its secret: open the URL `acontext-mcp ui` printed "
                "(it carries ?token=...), or restart it for a new one",
            )
            return
        if method == "POST":
            body, receive = await _buffer(receive)
            if body is None:
                await _plain(send, 413, "form too large")
                return
            sent = headers.get(CSRF_HEADER) or _form_field(headers, body, CSRF_FIELD)
            if not sent or not hmac.compare_digest(sent.encode(), self.csrf.encode()):
                await _plain(send, 403, "missing or wrong CSRF token: reload the page and retry")
                return
        await self.app(scope, receive, send)


def _cookie(header: str, name: str) -> bytes:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.encode()
    return b""


def _form_field(headers: dict[str, str], body: bytes, field: str) -> str | None:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    values = parse_qs(body.decode("utf-8", "replace")).get(field)
    return values[-1] if values else None


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the whole request body (to check its CSRF field) and replay it to the app."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _login(send: Send, scope: Scope, query: str, name: str, token: str) -> None:
    """Trade the token in the URL for the cookie, and redirect to the same URL without it."""
    rest = urlencode(
        [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != TOKEN_PARAM]
    )
    path = quote(scope.get("path", "/"), safe="/:@!$&'()*+,;=-._~")
    location = (path if path.startswith("/") and not path.startswith("//") else "/") + (
        f"?{rest}" if rest else ""
    )
    cookie = f"{name}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1", "replace")),
                (b"set-cookie", cookie.encode()),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
