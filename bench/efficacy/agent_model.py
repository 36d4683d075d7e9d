#!/usr/bin/env python3
"""A scripted coding agent behind a fake Anthropic Messages API, for real Claude Code (stdlib).

It wraps tests/support/anthropic_model.py (its SSE framing and request log) with one policy,
so that a B run passes with fewer turns only when the lesson reached the model:

- it acts on the user turn holding the task's prompt (`prompt`); any other user turn (the
  user's confirmation, a title request) gets a short text answer;
- first its `pre` commands (run A reads `.env`; the transcript-search condition greps the
  transcripts folder the prompt names for the first naive command, 8 records after each hit);
- then, if `key_line` (a regex) matches its context so far — system prompt, system
  reminders, tool results, the user's message — it runs `fix` directly ("it knows");
- otherwise it runs `naive`; at the first naive command that fails (the tool result is an
  error) it switches to `fix`; when every naive command passes it is done.

Every decision is logged as `{"decision": {"knows", "step", "command"}}` beside the request
log (`{"t", "method", "path", "headers", "body"}` per request).

Usage: agent_model.py --port-file F --log L --agent AGENT.json
AGENT.json: {"prompt", "key_line", "naive": [...], "fix": [...], "pre": [...]}
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))

import anthropic_model

DONE = "Done: the commands ran as shown above."
TRANSCRIPT_NOTE = re.compile(r"Earlier session transcripts are in (\S+?)[;.,]?\s")


def texts(content: Any) -> list[str]:
    """Every text in a message content: text blocks, tool results (strings or blocks)."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            out.append(block["text"])
        if block.get("type") == "tool_result":
            out.extend(texts(block.get("content")))
    return out


def system_text(body: dict[str, Any]) -> str:
    system = body.get("system")
    return system if isinstance(system, str) else "\n".join(texts(system))


def _tool_uses(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return [b for b in content or [] if isinstance(b, dict) and b.get("type") == "tool_use"]


def _results(message: dict[str, Any]) -> dict[str, bool]:
    """tool_use_id -> is_error of the tool results in a user message."""
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    return {
        b.get("tool_use_id", ""): bool(b.get("is_error"))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "tool_result"
    }


class Agent:
    """The policy above, recomputed from the conversation at every request (stateless)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.prompt: str = config["prompt"]
        self.key_line = re.compile(config["key_line"])
        self.naive: list[str] = list(config["naive"])
        self.fix: list[str] = list(config["fix"])
        self.pre: list[str] = list(config.get("pre") or [])

    def decide(self, body: dict[str, Any]) -> tuple[str | None, bool]:
        """(the next Bash command or None to finish, whether it knows the lesson)."""
        messages = body.get("messages") or []
        start = self._turn_start(messages)
        if start is None:
            return None, False
        pre = list(self.pre)
        note = TRANSCRIPT_NOTE.search(" ".join(texts(messages[start].get("content"))) + " ")
        if note and self.naive:
            needle = self.naive[0].replace("'", "'\\''")
            pre.append(f"grep -rh -F -A8 -- '{needle}' {note.group(1)} | cut -c1-3000 | head -60")
        done: list[bool] = []  # is_error of each command run since the prompt, in order
        seen = len(messages)  # the context it decides on: all before its first non-pre move
        replies = 0
        for index in range(start + 1, len(messages)):
            message = messages[index]
            if message.get("role") == "assistant":
                if replies == len(pre) and seen == len(messages):
                    seen = index
                replies += 1
                done.extend(False for _ in _tool_uses(message))
            elif message.get("role") == "user":
                results = list(_results(message).values())
                done[len(done) - len(results) :] = results
        if len(done) < len(pre):
            return pre[len(done)], False
        context = [system_text(body)]
        for message in messages[:seen]:
            context.extend(texts(message.get("content")))
        knows = self.key_line.search("\n".join(context)) is not None
        ran = done[len(pre) :]
        if knows:
            return (self.fix[len(ran)] if len(ran) < len(self.fix) else None), True
        for i, failed in enumerate(ran[: len(self.naive)]):
            if failed:
                after = ran[i + 1 :]
                return (self.fix[len(after)] if len(after) < len(self.fix) else None), False
        return (self.naive[len(ran)] if len(ran) < len(self.naive) else None), False

    def _turn_start(self, messages: list[dict[str, Any]]) -> int | None:
        """The index of the latest user text message, when it holds the task's prompt."""
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if message.get("role") != "user":
                continue
            said = anthropic_model._texts(message)
            if not said.strip():
                continue  # tool results only
            return index if self.prompt in said else None
        return None


class AgentScript(anthropic_model.Script):
    def __init__(self, log_path: str, agent: Agent) -> None:
        super().__init__(log_path, {"final": DONE})
        self.agent = agent

    def reply(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None, int]:
        names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        command, knows = self.agent.decide(body) if "Bash" in names else (None, False)
        step = sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")
        self.log({"decision": {"knows": knows, "step": step, "command": command}})
        if command is None:
            return [{"type": "text", "text": DONE}], None, step
        block = {"type": "tool_use", "name": "Bash", "input": {"command": command}}
        block["id"] = "toolu_" + os.urandom(10).hex()
        return [block], "agent", step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--agent", required=True, help="path of the agent JSON")
    args = ap.parse_args()
    agent = Agent(json.loads(Path(args.agent).read_text(encoding="utf-8")))
    handler = type("AgentHandler", (anthropic_model.Handler,), {})
    handler.script = AgentScript(args.log, agent)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    Path(args.port_file + ".tmp").write_text(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
