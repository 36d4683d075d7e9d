"""`claude-cli`: the user's own Claude Code CLI in headless mode, so no API key is needed.

One request is one run of

    claude -p --output-format json --model M --system-prompt S --tools "" \\
        --safe-mode --settings '{"disableAllHooks": true}' --strict-mcp-config \\
        --disable-slash-commands --no-session-persistence          (the prompt on stdin)

Trigger: a background call used to be a full Claude Code session: the user's hooks fired on
every call (one user's Stop hook ran 35 times for 3 sessions), leaving a
~/.claude/session-env folder each time, their plugins loaded and their ~/.claude/CLAUDE.md
joined the prompt. Outcome: the run is one bare model turn that leaves no session behind.
`--safe-mode` turns off installed plugins, hooks, MCP servers, CLAUDE.md and skills while
auth (the user's login), settings `env` and the model work as usual; the other flags say the
same again, each for its part, so one of them changing meaning does not bring the user's
setup back: `disableAllHooks` (all but managed hooks), `--strict-mcp-config` (no MCP
server), `--disable-slash-commands` (no skills), `--tools ""` (no built-in tools, so one
model turn), `--no-session-persistence` (no transcript, nothing in the session list).
Claude Code 2.1.330 has all of them (tests/e2e/test_claude_cli_provider.py runs it); an
older `claude` that rejects one gets a non-retried error saying to update it.
The child gets `ACONTEXT_CAPTURE=off`, so our own hooks could not capture it even if they ran,
and runs in `<home>/claude-cli/`, an empty directory, so no project's CLAUDE.md joins the prompt.
`max_tokens` has no CLI flag and is not enforced here.

Tools are emulated: the prompt lists them and asks for exactly one JSON object
`{"text": "...", "tool_calls": [{"name": ..., "arguments": {...}}]}`; the answer is parsed
robustly (code fences, prose around the object, arguments given as JSON text). An answer with
no such object is plain text. `--output-format json` prints one result object: `result` (the
text), `is_error`, `usage` (input/output and cache tokens).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from acontext_mcp.llm import Reply, ToolCall, ToolSpec
from acontext_mcp.llm.guard import CallFailed, tool_call

DEFAULT_MODEL = "haiku"
# Without the user's plugins, hooks, MCP servers, CLAUDE.md and skills, and no saved session.
QUIET = (
    "--safe-mode",
    "--settings",
    json.dumps({"disableAllHooks": True}),
    "--strict-mcp-config",
    "--disable-slash-commands",
    "--no-session-persistence",
)
MAX_ARG_CHARS = 100_000  # one argv string must stay under Linux's 128 KiB limit

PROTOCOL = """\
You are called from a program, not by a person. You cannot run tools yourself; the program
runs them for you. Tools you may call:

{tools}

Answer with exactly one JSON object and nothing else:
{{"text": "<what you want to say, may be empty>",
 "tool_calls": [{{"name": "<tool name>", "arguments": {{<arguments as a JSON object>}}}}]}}
Use "tool_calls": [] when you call no tool. Several calls in one answer are allowed."""


class ClaudeCLIBackend:
    name = "claude-cli"

    def __init__(
        self,
        *,
        model: str | None = None,
        timeout: float = 60.0,
        command: str = "claude",
        cwd: Path | None = None,
    ) -> None:
        self.model = model or DEFAULT_MODEL
        self.timeout = timeout
        self.command = command
        # Trigger: Claude Code reads the working directory (CLAUDE.md, git status) into its
        # context. Why: the caller's project would leak into every prompt and cost tokens.
        # Outcome: runs happen in an empty directory of the data home.
        self.cwd = cwd

    def send(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        max_tokens: int,
    ) -> Reply:
        exe = shutil.which(self.command)
        if exe is None:
            raise CallFailed(f"`{self.command}` is not on PATH", retryable=False)
        instructions = system
        if tools:
            instructions = (system + "\n\n" if system else "") + PROTOCOL.format(
                tools=_tool_list(tools)
            )
        prompt = render(messages)
        argv = [exe, "-p", "--output-format", "json", "--model", self.model]
        if len(instructions) <= MAX_ARG_CHARS:
            argv += ["--system-prompt", instructions]
        else:
            prompt = instructions + "\n\n" + prompt
        argv += ["--tools", "", *QUIET]
        env = {**os.environ, "ACONTEXT_CAPTURE": "off"}
        cwd = None
        if self.cwd is not None:
            self.cwd.mkdir(parents=True, exist_ok=True, mode=0o700)
            cwd = str(self.cwd)
        try:
            done = subprocess.run(
                argv,
                input=prompt,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                cwd=cwd,
            )
        except subprocess.TimeoutExpired as exc:
            raise CallFailed(
                f"claude -p timed out after {self.timeout:g}s", outcome="timeout"
            ) from exc
        except OSError as exc:
            raise CallFailed(f"could not run {exe}: {exc}", retryable=False) from exc
        return _parse_run(done, self.model, [t.name for t in tools])


def _tool_list(tools: list[ToolSpec]) -> str:
    return "\n".join(
        f"- {t.name}: {t.description}\n  arguments (JSON Schema): "
        f"{json.dumps(t.parameters, separators=(',', ':'))}"
        for t in tools
    )


def render(messages: list[dict[str, Any]]) -> str:
    """The conversation as text: one block per message, tool calls and results as JSON."""
    blocks = []
    for message in messages:
        role = message.get("role", "user")
        lines = []
        for part in message.get("parts") or []:
            kind = part.get("type")
            if kind in ("text", "thinking"):
                lines.append(part.get("text", ""))
            elif kind == "tool-call":
                call = {"id": part.get("id"), "name": part.get("name")}
                call["arguments"] = _maybe_json(part.get("arguments", ""))
                lines.append(json.dumps({"tool_call": call}, ensure_ascii=False))
            elif kind == "tool-result":
                texts = [
                    c.get("text", "") if c.get("type") == "text" else f"[{c.get('type')}]"
                    for c in part.get("content") or []
                    if isinstance(c, dict)
                ]
                result = {"tool_call_id": part.get("tool_call_id"), "content": "\n".join(texts)}
                if part.get("is_error"):
                    result["is_error"] = True
                lines.append(json.dumps({"tool_result": result}, ensure_ascii=False))
            elif kind in ("image", "audio", "file"):
                lines.append(f"[{kind}: {part.get('filename') or part.get('title') or 'binary'}]")
        blocks.append(f"<{role}>\n" + "\n".join(lines) + f"\n</{role}>")
    return "\n\n".join(blocks)


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _parse_run(done: subprocess.CompletedProcess[str], model: str, names: list[str]) -> Reply:
    out = (done.stdout or "").strip()
    result: Any = None
    try:
        result = json.loads(out) if out else None
    except ValueError:
        # Trigger: warnings before the JSON. Outcome: take the last line that is an object.
        for line in reversed(out.splitlines()):
            try:
                result = json.loads(line)
                break
            except ValueError:
                continue
    if not isinstance(result, dict):
        detail = (done.stderr or out or "no output").strip()[-500:]
        raise _failure(f"claude -p exited {done.returncode}: {detail}", detail)
    used = result.get("usage")
    if not isinstance(used, dict):
        used = {}
    tokens_in = sum(
        int(used.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    tokens_out = int(used.get("output_tokens") or 0)
    text = result.get("result")
    if done.returncode != 0 or result.get("is_error") or not isinstance(text, str):
        detail = str(text or result.get("subtype") or done.stderr or "")[-500:]
        failure = _failure(f"claude -p failed ({result.get('subtype', 'error')}): {detail}", detail)
        failure.input_tokens, failure.output_tokens = tokens_in, tokens_out
        raise failure
    reply_text, calls = parse_answer(text, names)
    return Reply(
        text=reply_text,
        tool_calls=calls,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        stop_reason="tool_use" if calls else str(result.get("stop_reason") or "end_turn"),
        model=model,
    )


def _failure(message: str, detail: str) -> CallFailed:
    low = detail.lower()
    if "unknown option" in low:
        return CallFailed(
            f"{message}; this `claude` is too old for the flags that keep background calls "
            "quiet: update Claude Code (`claude update`)",
            retryable=False,
        )
    if "rate limit" in low or "429" in low or "overloaded" in low:
        return CallFailed(message, outcome="rate_limited")
    if "login" in low or "api key" in low or "authenticat" in low or "credit" in low:
        return CallFailed(message, retryable=False)
    return CallFailed(message)


def parse_answer(text: str, names: list[str]) -> tuple[str, list[ToolCall]]:
    """(text, tool calls) from the model's answer. The first JSON object holding `tool_calls`
    or `text` wins; without one the whole answer is text."""
    found = _answer_object(text)
    if found is None:
        return text.strip(), []
    said = found.get("text")
    reply_text = said if isinstance(said, str) else ""
    raw_calls = found.get("tool_calls")
    if raw_calls is None:
        raw_calls = []
    if isinstance(raw_calls, dict):
        raw_calls = [raw_calls]
    calls: list[ToolCall] = []
    if not isinstance(raw_calls, list):
        bad = ToolCall(
            "cli_" + uuid.uuid4().hex[:16],
            "",
            {},
            json.dumps(raw_calls),
            "tool_calls must be a list of {name, arguments} objects",
        )
        return reply_text, [bad]
    for raw in raw_calls:
        call_id = "cli_" + uuid.uuid4().hex[:16]
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            calls.append(
                ToolCall(
                    call_id,
                    "",
                    {},
                    json.dumps(raw, default=str),
                    "each tool call needs a string name",
                )
            )
            continue
        arguments = raw.get("arguments", raw.get("input", {}))
        call = tool_call(call_id, raw["name"], arguments)
        if names and call.name not in names and call.error is None:
            call.error = f"unknown tool {call.name!r}; use one of {', '.join(names)}"
        calls.append(call)
    return reply_text, calls


def _answer_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    candidates: list[dict[str, Any]] = []
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            if "tool_calls" in value:
                return value
            if "text" in value:
                candidates.append(value)
        start = text.find("{", end)
    return candidates[0] if candidates else None
