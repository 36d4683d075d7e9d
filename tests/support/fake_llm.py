"""An in-process scripted fake of the OpenAI Chat Completions and Anthropic Messages wire
protocols on 127.0.0.1 (stdlib only), for driving the real SDKs in tests.

    with FakeLLM() as fake:
        fake.add(openai_reply(calls=[("insert_task", {"task_description": "x"})]))
        fake.add({"error": {"message": "slow down"}}, status=429, headers={"retry-after": "1"})
        ... point the SDK at fake.url (OpenAI: fake.url + "/v1") ...
        fake.received  # every request: {"path", "headers", "body"}

Answers are taken in order; when none is left, a plain text answer in the protocol of the
request's path is sent. `delay` holds an answer back (for client timeouts).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def openai_reply(
    text: str | None = None,
    calls: list[tuple[str, Any]] | None = None,
    usage: tuple[int, int] = (10, 5),
) -> dict[str, Any]:
    """A chat.completion body. A call's arguments may be a value (sent as JSON text) or a raw
    string sent verbatim (for malformed arguments)."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [
            {
                "id": "call_" + uuid.uuid4().hex[:20],
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for name, args in calls
        ]
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:20],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def anthropic_reply(
    text: str | None = None,
    calls: list[tuple[str, Any]] | None = None,
    usage: tuple[int, int] = (10, 5),
) -> dict[str, Any]:
    """A Messages API message body. A call's input is sent as given (even if not an object)."""
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    for name, args in calls or []:
        content.append(
            {
                "type": "tool_use",
                "id": "toolu_" + uuid.uuid4().hex[:20],
                "name": name,
                "input": args,
            }
        )
    return {
        "id": "msg_" + uuid.uuid4().hex[:20],
        "type": "message",
        "role": "assistant",
        "model": "fake-model",
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


class FakeLLM:
    def __init__(self) -> None:
        self.answers: deque[dict[str, Any]] = deque()
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def add(
        self,
        body: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> FakeLLM:
        self.answers.append(
            {"body": body, "status": status, "headers": headers or {}, "delay": delay}
        )
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def raw_bodies(self) -> str:
        """Every request body as received, joined: for 'never reached the server' checks."""
        return "\n".join(r["raw"] for r in self.received)

    def __enter__(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(size).decode("utf-8", "replace") if size else ""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                with fake._lock:
                    fake.received.append(
                        {
                            "path": self.path,
                            "raw": raw,
                            "body": body,
                            "headers": dict(self.headers.items()),
                        }
                    )
                    answer = fake.answers.popleft() if fake.answers else None
                if answer is None:
                    path = self.path.split("?")[0]
                    default = anthropic_reply if path.endswith("/messages") else openai_reply
                    answer = {
                        "body": default("FAKE-DONE"),
                        "status": 200,
                        "headers": {},
                        "delay": 0.0,
                    }
                if answer["delay"]:
                    time.sleep(answer["delay"])
                data = json.dumps(answer["body"]).encode()
                try:
                    self.send_response(answer["status"])
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in answer["headers"].items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
