#!/usr/bin/env python3
"""A scripted fake model speaking OpenAI Chat Completions on 127.0.0.1 (stdlib only).

Adapted from the shared probe's fake_llm.py, for end-to-end tests of real agents.

Routes: POST /v1/chat/completions (stream -> SSE chunks, else JSON), GET /v1/models; anything
else gets 404 and is logged. Behaviour: `--script` is a JSON list of tool calls, e.g.
`[{"name": "*list_skills", "input": {}}, {"name": "exec", "input": {"command": "echo hi"}}]`.
For a request that offers tools, the server counts the `role: "tool"` messages already in the
conversation; while fewer than the script's length it answers with the next call, otherwise
with the plain text `--final-text`. A `name` may be an fnmatch pattern, resolved against the
offered tool names (first exact, then first pattern match). Requests without tools get text.

Every request is appended to `--log` as one JSON line `{"t", "method", "path", "body"}`, and
every answer as `{"reply": {...}}`.

Usage: scripted_model.py --port-file F --log L [--script JSON|@file] [--final-text TEXT]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LOCK = threading.Lock()


class Script:
    def __init__(self, log_path: str, steps: list[dict[str, Any]], final_text: str) -> None:
        self.log_path = log_path
        self.steps = steps
        self.final_text = final_text

    def log(self, record: dict[str, Any]) -> None:
        with _LOCK, open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        """The assistant message answering this request."""
        names = [
            (t.get("function") or {}).get("name") or t.get("name")
            for t in body.get("tools") or []
            if isinstance(t, dict)
        ]
        done = sum(1 for m in body.get("messages") or [] if m.get("role") == "tool")
        if names and done < len(self.steps):
            step = self.steps[done]
            name = _resolve(step["name"], names)
            if name is None:
                text = f"FAKE: no offered tool matches {step['name']!r}; offered={names}"
                return {"role": "assistant", "content": text}
            call = {
                "id": "call_" + uuid.uuid4().hex[:20],
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(step.get("input", {}))},
            }
            return {"role": "assistant", "content": None, "tool_calls": [call]}
        return {"role": "assistant", "content": self.final_text}


def _resolve(pattern: str, names: list[str]) -> str | None:
    if pattern in names:
        return pattern
    return next((n for n in names if n and fnmatch.fnmatchcase(n, pattern)), None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: Script  # set on the subclass made in main()

    def log_message(self, *args: Any) -> None:
        pass

    def _read(self) -> dict[str, Any]:
        size = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(size) if size else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.script.log({"t": time.time(), "method": self.command, "path": self.path, "body": body})
        return body if isinstance(body, dict) else {}

    def _json(self, code: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._read()
        if self.path.startswith("/v1/models"):
            model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}
            return self._json(200, {"object": "list", "data": [model]})
        self._json(404, {"error": {"message": "fake: no route " + self.path}})

    def do_POST(self) -> None:
        body = self._read()
        if not self.path.split("?")[0].endswith("/chat/completions"):
            return self._json(404, {"error": {"message": "fake: no route " + self.path}})
        msg = self.script.decide(body)
        finish = "tool_calls" if msg.get("tool_calls") else "stop"
        self.script.log({"reply": {"message": msg, "offered_tools": len(body.get("tools") or [])}})
        base = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:20],
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
        }
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        if not body.get("stream"):
            choice = {"index": 0, "message": msg, "finish_reason": finish}
            reply = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            return self._json(200, reply)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = {**base, "object": "chat.completion.chunk"}

        def send(delta: dict[str, Any], reason: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": reason}
            self.wfile.write(f"data: {json.dumps({**chunk, 'choices': [choice]})}\n\n".encode())

        send({"role": "assistant", "content": ""})
        if msg.get("tool_calls"):
            send({"tool_calls": [{"index": 0, **msg["tool_calls"][0]}]})
        else:
            send({"content": msg["content"]})
        send({}, finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {**chunk, "choices": [], "usage": usage}
            self.wfile.write(f"data: {json.dumps(tail)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", default="[]", help="JSON list, or @file")
    ap.add_argument("--final-text", default="FAKE-DONE")
    args = ap.parse_args()
    raw = args.script
    if raw.startswith("@"):
        with open(raw[1:], encoding="utf-8") as fh:
            raw = fh.read()
    handler = type("ScriptedHandler", (Handler,), {})
    handler.script = Script(args.log, json.loads(raw), args.final_text)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    with open(args.port_file + ".tmp", "w") as fh:
        fh.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    print(f"scripted model on 127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
