"""Run one hook event, inline or in the detached child (see hooks/__init__.py).

Standard library and our stdlib-only modules (config, store, formats, capture) only. It fails
open: whatever goes wrong is logged to <data home>/logs/hooks.log and the hook exits 0 with no
output the host could misread (when that log cannot be written, one line on stderr says so).
Hooks never call an LLM or the network.
"""

from __future__ import annotations

import sys
import time

from acontext_mcp import wirejson
from acontext_mcp.hooklog import append
from acontext_mcp.hooks import MAX_STDIN, _detach

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

AGENTS = ("claude-code", "openclaw")
MAX_STDERR = 300  # characters of the one line said when the log cannot be written


def _log(line: str) -> str | None:
    """Append one line to <home>/logs/hooks.log; never raises (see hooklog.append)."""
    return append(line)


def _redacted(text: str) -> str:
    """Error text as captured text is stored: an error may quote a path or a value holding a
    secret. Imported here, on the error path only (redact is standard library)."""
    try:
        from acontext_mcp.privacy.redact import redact_text

        return redact_text(text)[0]
    except Exception as exc:  # never log what could not be redacted
        return f"(error text withheld: redaction failed with {type(exc).__name__})"


def _say_unlogged(agent: str, event: str, outcome: str, why: str) -> None:
    """Trigger: the hook log could not be written. Why: the failure would otherwise leave
    no trace at all. Outcome: one short line on stderr (exit stays 0; stdout is untouched)."""
    line = f"acontext-mcp hook {agent} {event}: {outcome}; hook log not written ({why})"
    print(" ".join(line.split())[:MAX_STDERR], file=sys.stderr, flush=True)


def parse_payload(raw: bytes) -> dict[str, Any]:
    """The hook's JSON input; {} when empty. Raises ValueError when malformed or too big."""
    if len(raw) > MAX_STDIN:
        raise ValueError(f"hook input is over {MAX_STDIN} bytes")
    if not raw.strip():
        return {}
    payload = wirejson.loads(raw.decode("utf-8", errors="replace"))
    if not isinstance(payload, dict):
        raise ValueError(f"hook input must be a JSON object, got {type(payload).__name__}")
    return payload


def run(argv: list[str], raw: bytes, *, detached: bool = False) -> int:
    """Run one hook; always 0. Prints a JSON answer only when the event has one."""
    started = time.monotonic()
    agent, event = [*argv, "", ""][:2]
    unlogged: str | None = None
    how = " (detached)" if detached else ""
    prepared = False  # answered from an answer prepared ahead (hooks/session_start.py)
    try:
        if agent not in AGENTS or not event:
            raise ValueError(f"usage: acontext-mcp hook {{{'|'.join(AGENTS)}}} EVENT")
        payload = parse_payload(raw)
        if agent == "claude-code":
            from acontext_mcp.hooks import claude_code as handler
        else:
            from acontext_mcp.hooks import openclaw as handler  # type: ignore[no-redef]
        if detached and event in getattr(handler, "ANSWER_FIRST", ()):
            answer = None  # forked before answering (hooks/__init__._answers): capture only
        else:
            answer = handler.handle(event, payload)
        if answer:
            sys.stdout.write(wirejson.dumps(answer, ensure_ascii=False))
            sys.stdout.flush()
        if event in getattr(handler, "ANSWER_FIRST", ()):
            # The host has its answer: the rest (capture) need not keep it waiting.
            if not detached and _detach():
                how = " (detached)"
            handler.after_answer(event, payload)
        prepared = getattr(handler, "served_prepared", lambda: False)()
        outcome = "ok"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # fail open: SystemExit included, the host must not see it
        outcome = _redacted(f"error {type(exc).__name__}: {exc}")
        import traceback  # on the error path only

        trace = _redacted(traceback.format_exc(limit=8).strip())
        unlogged = _log(f"{agent} {event} failed: {trace}")
    if prepared:
        how = f"{how[:-1]}, prepared answer)" if how else " (prepared answer)"
    why = _log(f"{agent} {event} {outcome}{how} {1000 * (time.monotonic() - started):.1f}ms")
    if unlogged or why:
        _say_unlogged(agent, event, outcome, unlogged or why or "")
    return 0
