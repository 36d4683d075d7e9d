"""The dashboard's guard over real HTTP (uvicorn on 127.0.0.1): the token, the cookie, Host
and Origin checks, CSRF on POST, and the headers every answer carries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from acontext_mcp.config import Settings
from tests.support.ui_client import UiServer, serve_ui


def _echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"changed {request.method}")


@pytest.fixture
def ui(settings: Settings) -> Iterator[UiServer]:
    with serve_ui(settings) as server:
        # one state-changing route, as the pages' accept/reject/retry buttons are
        server.app.router.routes.append(Route("/poke", _echo, methods=["POST"]))
        yield server


def test_no_token_no_page(ui: UiServer) -> None:
    for path in ("/", "/sessions", "/static/ui.css", "/no-such-page"):
        answer = ui.anonymous().get(path)
        assert answer.status_code == 403, path
        assert "acontext-mcp ui" in answer.text  # says what to do


def test_wrong_token_is_refused_and_sets_no_cookie(ui: UiServer) -> None:
    client = ui.anonymous()
    answer = client.get("/?token=" + "x" * len(ui.token))
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert client.get("/").status_code == 403


def test_the_token_becomes_an_http_only_strict_cookie_and_leaves_the_url(ui: UiServer) -> None:
    client = ui.anonymous()
    answer = client.get(f"/sessions?project=demo&token={ui.token}")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sessions?project=demo"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"acontext_ui_{ui.port}={ui.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    page = client.get("/sessions?project=demo")
    assert page.status_code == 200 and "Sessions" in page.text


def test_a_cookie_for_another_run_is_refused(ui: UiServer) -> None:
    client = ui.anonymous(cookies={f"acontext_ui_{ui.port}": "an-old-token-from-yesterday"})
    assert client.get("/").status_code == 403


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:1", "attacker.test", "localhost.evil.test:{port}"]
)
def test_a_wrong_host_header_is_refused(ui: UiServer, host: str) -> None:
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1."""
    client = ui.client()
    answer = client.get("/", headers={"host": host.format(port=ui.port)})
    assert answer.status_code == 400
    assert "Host" in answer.text


def test_localhost_names_the_same_server(ui: UiServer) -> None:
    client = ui.client()
    assert client.get("/", headers={"host": f"localhost:{ui.port}"}).status_code == 200


def test_cross_origin_requests_are_refused(ui: UiServer) -> None:
    client = ui.client()
    evil = {"origin": "http://evil.example"}
    assert client.post("/poke", headers=evil).status_code == 403
    assert client.get("/", headers=evil).status_code == 403
    other_port = {"origin": f"http://127.0.0.1:{ui.port + 1}"}
    assert client.post("/poke", headers=other_port).status_code == 403
    same = {"origin": f"http://127.0.0.1:{ui.port}"}
    assert client.post("/poke", headers=same).status_code == 200


def test_post_needs_the_csrf_token(ui: UiServer) -> None:
    client = ui.client()
    client.csrf = None  # a forged form: the cookie rides along, the CSRF token cannot
    assert client.post("/poke", data={"x": "1"}).status_code == 403
    assert client.post("/poke", data={"csrf": "guess", "x": "1"}).status_code == 403
    assert client.post("/poke", data={"csrf": ui.csrf}).text == "changed POST"
    assert client.post("/poke", headers={"x-csrf-token": ui.csrf}).status_code == 200


def test_a_checked_form_still_reaches_its_route_whole(ui: UiServer) -> None:
    """The guard reads the body to find the CSRF field, then replays it to the route."""
    got: dict[str, str] = {}

    async def form(request: Request) -> PlainTextResponse:
        got.update({k: str(v) for k, v in (await request.form()).items()})
        return PlainTextResponse("ok")

    ui.app.router.routes.append(Route("/form", form, methods=["POST"]))
    answer = ui.client().post("/form", data={"reason": "é" * 10_000})
    assert answer.status_code == 200
    assert got["reason"] == "é" * 10_000 and got["csrf"] == ui.csrf


def test_an_oversized_form_is_refused(ui: UiServer) -> None:
    answer = ui.client().post("/poke", data={"reason": "a" * 1_100_000})
    assert answer.status_code == 413


def test_post_without_the_cookie_is_refused_even_with_csrf(ui: UiServer) -> None:
    client = ui.anonymous()
    client.csrf = ui.csrf
    assert client.post("/poke").status_code == 403


def test_other_methods_are_refused(ui: UiServer) -> None:
    client = ui.client()
    for method in ("PUT", "DELETE", "PATCH"):
        answer = client.request(method, "/poke", headers={"x-csrf-token": ui.csrf})
        assert answer.status_code == 405, method


def test_every_answer_carries_a_strict_csp(ui: UiServer) -> None:
    client = ui.client()
    for path in ("/", "/static/ui.css", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in ui.anonymous().get("/").headers


def test_pages_do_not_leak_the_token(ui: UiServer) -> None:
    client = ui.client()
    for path in ("/", "/sessions", "/tasks", "/skills", "/learning", "/disks"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert ui.token not in answer.text
