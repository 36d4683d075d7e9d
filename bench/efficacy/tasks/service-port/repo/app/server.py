"""The orders API: a health endpoint and an order count, served with the standard library."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ORDERS = [{"id": 1, "item": "tea"}, {"id": 2, "item": "cups"}]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            body = {"status": "ok", "orders": len(ORDERS)}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server() -> ThreadingHTTPServer:
    port = int(os.environ.get("API_PORT", "8000"))
    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
