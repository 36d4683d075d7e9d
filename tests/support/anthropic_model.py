#!/usr/bin/env python3
"""A scripted fake Anthropic Messages API on 127.0.0.1 (stdlib only), for real Claude Code.

Adapted from tests/fixtures/claude_code/fake_model.py (which made the transcript fixtures),
plus a full request log for end-to-end tests.

Routes: HEAD / and GET (connectivity checks: 200 {}), POST /v1/messages[?beta=true] (SSE
stream, or JSON when the request is not streaming), POST .../count_tokens ({"input_tokens"}).

The script file is `{"conversations": [{"marker": M, "steps": [[block, ...], ...]}],
"final": T}`. A request belongs to the conversation whose marker appears in the latest user
message that holds any marker (when it holds several, the one occurring last wins); its step
is the number of assistant messages after that user message. Text blocks that are Claude
Code `<system-reminder>`s are not searched: a SessionStart brief may quote an earlier prompt,
marker included. Past the last step, without a match,
or for a request without tools (titles, summaries), the reply is the text T. Blocks are
`{"type": "text", "text"}`, `{"type": "thinking", "thinking"}` or `{"type": "tool_use",
"name", "input"}`; tool names may be fnmatch patterns, resolved against the offered tools,
and tool_use ids are made up here (`toolu_<hex>`).

Every request is appended to `--log` as one JSON line `{"t", "method", "path", "headers",
"body"}`; every scripted answer as `{"reply": {"path", "blocks", "conversation", "step"}}`.

Usage: anthropic_model.py --port-file F --log L --script FILE
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LOCK = threading.Lock()


class Script:
    def __init__(self, log_path: str, script: dict[str, Any]) -> None:
        self.log_path = log_path
        self.conversations: list[dict[str, Any]] = script.get("conversations", [])
        self.final: str = script.get("final", "FAKE-DONE")

    def log(self, record: dict[str, Any]) -> None:
        with _LOCK, open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def pick(self, body: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
        """(conversation, step) answering this request; (None, 0) when none matches."""
        messages = body.get("messages") or []
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].get("role") != "user":
                continue
            text = _texts(messages[index])
            found = [
                (text.rfind(c["marker"]), c) for c in self.conversations if c["marker"] in text
            ]
            if found:
                conv = max(found, key=lambda pair: pair[0])[1]
                later = messages[index + 1 :]
                return conv, sum(1 for m in later if m.get("role") == "assistant")
        return None, 0

    def reply(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None, int]:
        names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        conv, step = self.pick(body)
        if not names or conv is None or step >= len(conv["steps"]):
            return [{"type": "text", "text": self.final}], conv and conv["marker"], step
        blocks = []
        for block in conv["steps"][step]:
            block = dict(block)
            if block["type"] == "tool_use":
                block["id"] = "toolu_" + uuid.uuid4().hex[:20]
                block["name"] = _resolve(block["name"], names)
            if block["type"] == "thinking":
                block["signature"] = "fake-signature-" + uuid.uuid4().hex[:8]
            blocks.append(block)
        return blocks, conv["marker"], step


def _texts(message: dict[str, Any]) -> str:
    """The message's text blocks, without Claude Code's `<system-reminder>` blocks (which may
    quote earlier prompts, e.g. a SessionStart brief)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = [b.get("text") for b in content if isinstance(b, dict)]
    return "\n".join(
        t for t in texts if isinstance(t, str) and not t.lstrip().startswith("<system-reminder>")
    )


def _resolve(pattern: str, names: list[str]) -> str:
    if pattern in names:
        return pattern
    return next((n for n in names if n and fnmatch.fnmatchcase(n, pattern)), pattern)


def _events(blocks: list[dict[str, Any]], model: str) -> list[tuple[str, dict[str, Any]]]:
    usage = {"input_tokens": 10, "output_tokens": 5}
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    msg = {"id": "msg_" + uuid.uuid4().hex[:20], "type": "message", "role": "assistant"}
    msg.update(model=model, content=[], stop_reason=None, stop_sequence=None, usage=usage)
    out: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": msg})
    ]
    for i, b in enumerate(blocks):
        deltas: list[dict[str, Any]]
        if b["type"] == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": b["text"]}]
        elif b["type"] == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": b["thinking"]},
                {"type": "signature_delta", "signature": b["signature"]},
            ]
        else:
            start = {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps(b["input"])}]
        out.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": start},
            )
        )
        for delta in deltas:
            out.append(
                ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta})
            )
        out.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    end = {"stop_reason": stop, "stop_sequence": None}
    out.append(
        ("message_delta", {"type": "message_delta", "delta": end, "usage": {"output_tokens": 5}})
    )
    out.append(("message_stop", {"type": "message_stop"}))
    return out


def _message(blocks: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """The non-streaming answer (Claude Code streams; kept for completeness)."""
    content = []
    for b in blocks:
        if b["type"] == "tool_use":
            content.append({k: b[k] for k in ("type", "id", "name", "input")})
        else:
            content.append(dict(b))
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {
        "id": "msg_" + uuid.uuid4().hex[:20],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


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
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "x-api-key"}
        self.script.log(
            {
                "t": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": headers,
                "body": body,
            }
        )
        return body if isinstance(body, dict) else {}

    def _json(self, obj: dict[str, Any], code: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self) -> None:
        self._read()
        self._json({})

    def do_GET(self) -> None:
        self._read()
        self._json({})

    def do_POST(self) -> None:
        body = self._read()
        path = self.path.split("?")[0]
        if path.endswith("/count_tokens"):
            return self._json({"input_tokens": 42})
        if not path.endswith("/v1/messages"):
            return self._json({"type": "error", "error": {"message": "fake: no route"}}, 404)
        blocks, marker, step = self.script.reply(body)
        self.script.log(
            {"reply": {"path": path, "blocks": blocks, "conversation": marker, "step": step}}
        )
        model = body.get("model", "fake-model")
        if not body.get("stream"):
            return self._json(_message(blocks, model))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for event, data in _events(blocks, model):
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", required=True, help="path of the script JSON")
    args = ap.parse_args()
    with open(args.script, encoding="utf-8") as fh:
        script = json.load(fh)
    handler = type("ScriptedHandler", (Handler,), {})
    handler.script = Script(args.log, script)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    with open(args.port_file + ".tmp", "w") as fh:
        fh.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
