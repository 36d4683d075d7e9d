"""`acontext-mcp ui`: the local web dashboard (acontext_mcp/ui), served until Ctrl-C.

It binds 127.0.0.1 on a free port unless told otherwise, prints a URL carrying a fresh
secret token (the only way in; see ui/security.py) and opens it in the browser. Binding any
other address must be asked for with --host and is warned about: others on that network can
then reach the login page (the token still guards it, but travels over plain HTTP).
"""

from __future__ import annotations

import argparse
import logging
import secrets
import socket
import sys
from collections.abc import Callable

from acontext_mcp.config import Settings

WILDCARDS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (got {port}); 0 picks a free one")
    return port


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), so the URL is known up front."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, token: str) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from acontext_mcp.logsetup import setup_logging
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.readonly import home_is_read_only
    from acontext_mcp.ui.app import build_app

    setup_logging(settings, name="ui")
    if not home_is_read_only(settings):
        open_db(settings).close()  # create or upgrade the store once; pages only read
    host = "127.0.0.1" if args.host == "localhost" else args.host.strip("[]")
    if host in WILDCARDS:
        print(
            f"acontext-mcp ui: --host {args.host!r} would answer on every address, and the "
            "Host check (no DNS rebinding) needs the one address the browser uses: give that "
            "address (e.g. this machine's LAN IP)",
            file=sys.stderr,
        )
        return 2
    if not is_loopback(host):
        print(
            f"acontext-mcp ui: WARNING: serving on {host}, not loopback: anyone who can reach "
            "this address can try the login (the token is sent over plain HTTP)",
            file=sys.stderr,
        )
    try:
        sock = bind(host, args.port)
    except OSError as exc:
        print(
            f"acontext-mcp ui: cannot listen on {host}:{args.port} ({exc.strerror or exc}); "
            "pick another --port, or leave it out for a free one",
            file=sys.stderr,
        )
        return 1
    token = secrets.token_urlsafe(32)
    app = build_app(settings, token=token)
    app.state.message_days.warm(settings)  # the overview's one slow count, before it is asked
    url = url_of(sock, token)
    print(f"acontext-mcp dashboard: {url}\n(Ctrl-C stops it)", flush=True)
    if not args.no_open:
        import webbrowser

        try:
            webbrowser.open(url)
        except webbrowser.Error as exc:
            print(f"acontext-mcp ui: could not open a browser ({exc}); open the URL above")
    config = uvicorn.Config(
        app,
        log_config=None,  # our root logger (the ui.log file under the data home) takes it all
        access_log=False,  # an access log would record the token of the first URL
        lifespan="off",
        server_header=False,
    )
    logging.getLogger("acontext.ui").info("dashboard on %s", url.split("?")[0])
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("ui", cmd_ui, "Open the local web dashboard (sessions, tasks, skills, learning).")
    p.add_argument(
        "--port", type=port_number, default=0, help="port to serve on (default: a free one)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; anything else is reachable by others: warned)",
    )
    p.add_argument("--no-open", action="store_true", help="print the URL, do not open a browser")
