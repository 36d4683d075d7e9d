"""The stdio transport with a reader that answers every line it cannot use.

The SDK's stdio reader drops any line it cannot parse into a JSON-RPC message (not JSON,
nested ~200+ levels deep, a lone surrogate escape such as "\\ud800", invalid UTF-8, a batch)
and only logs it at debug level, so a client waits for its timeout. Here each line is checked
first with the SDK's own parser; a line that would be dropped gets a JSON-RPC error instead
(-32700 parse error, -32600 invalid request) carrying the request's id when it can be found,
null otherwise. Notifications and client responses get no answer (JSON-RPC forbids one) but are
logged. Lines are read with a cap (`MAX_LINE_BYTES`), so one endless line cannot exhaust memory.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, BinaryIO

import anyio
import anyio.to_thread
from mcp import types
from mcp.server.stdio import stdio_server

log = logging.getLogger("acontext.stdio")

# Bigger than any request the tools accept (a 16 MiB artifact is ~22 MiB as base64 in JSON).
MAX_LINE_BYTES = 64 * 1024 * 1024
PARSE_ERROR = -32700
INVALID_REQUEST = -32600

# The id when it comes before anything nested, as clients write it: {"jsonrpc":"2.0","id":7,...
_LEADING_ID = re.compile(
    rb'^\s*\{(?:\s*"(?:jsonrpc|method)"\s*:\s*"[^"\\]*"\s*,)*\s*"id"\s*:\s*(-?\d+|"[^"\\]*")\s*[,}]'
)

RequestId = int | str | None


class Rejected(Exception):
    """A line that cannot become a message; `answer` is False for notifications/responses."""

    def __init__(self, code: int, message: str, request_id: RequestId, answer: bool = True):
        super().__init__(message)
        self.code, self.request_id, self.answer = code, request_id, answer


def error_line(code: int, message: str, request_id: RequestId) -> str:
    """One JSON-RPC error response, newline-terminated, ASCII-safe."""
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return json.dumps(error) + "\n"


def _usable_id(value: Any) -> RequestId:
    """The id to echo back: a JSON-RPC id that survives encoding, else null."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    if isinstance(value, str) and _has_lone_surrogate(value):
        return None
    return value


def _leading_id(raw: bytes) -> RequestId:
    match = _LEADING_ID.match(raw[:4096])
    if match is None:
        return None
    try:
        return _usable_id(json.loads(match.group(1)))
    except ValueError:
        return None


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _first_problem(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            loc = [str(p) for p in first.get("loc", ()) if not str(p).startswith("JSONRPC")]
            where = ".".join(loc)
            return f"{where}: {first['msg']}" if where else str(first["msg"])
        except Exception:  # best effort wording only
            pass
    return str(exc).splitlines()[0]


def check_line(raw: bytes) -> str | None:
    """The line as text when the SDK can parse it, None when it is blank; else `Rejected`."""
    if len(raw) > MAX_LINE_BYTES:
        raise Rejected(
            INVALID_REQUEST,
            f"request line is over the {MAX_LINE_BYTES // (1024 * 1024)} MiB limit; "
            "send large content in smaller requests",
            _leading_id(raw),
        )
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(
            PARSE_ERROR,
            f"Parse error: the line is not valid UTF-8 (byte {exc.start}); send UTF-8 JSON",
            _leading_id(raw),
        ) from None
    try:
        types.jsonrpc_message_adapter.validate_json(text, by_name=False)
        return text
    except Exception as exc:  # explained below, never dropped
        sdk_error = exc
    try:
        obj = json.loads(text)
    except RecursionError:
        raise Rejected(
            PARSE_ERROR,
            "Parse error: JSON nested too deeply to parse; flatten the arguments",
            _leading_id(raw),
        ) from None
    except ValueError as exc:
        raise Rejected(PARSE_ERROR, f"Parse error: not JSON ({exc})", _leading_id(raw)) from None
    if not isinstance(obj, dict):
        kind = "a batch (array)" if isinstance(obj, list) else f"a JSON {type(obj).__name__}"
        raise Rejected(
            INVALID_REQUEST,
            f"Invalid Request: got {kind}; send one JSON-RPC object per line",
            None,
        )
    request_id = _usable_id(obj.get("id"))
    is_request = "method" in obj and "id" in obj
    answer = is_request or not ({"method", "result", "error"} & obj.keys())
    if _has_lone_surrogate(json.dumps(obj, ensure_ascii=False)):
        reason = "a string holds a lone surrogate escape (e.g. \\ud800); send valid UTF-16 pairs"
    elif (depth := _depth(obj)) > 200 or "recursion limit" in str(sdk_error):
        reason = f"nested {depth} levels deep, more than the server parses; flatten the arguments"
    else:
        reason = _first_problem(sdk_error)
    raise Rejected(INVALID_REQUEST, f"Invalid Request: {reason}", request_id, answer)


def _read_line(stream: BinaryIO) -> bytes:
    """One line of at most MAX_LINE_BYTES + 1 bytes; the rest of a longer line is skipped."""
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
        while (rest := stream.readline(1024 * 1024)) and not rest.endswith(b"\n"):
            pass
    return line


class _Output:
    """The wire out: whole lines only, from the SDK's writer and from the guard alike."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = anyio.Lock()

    def _write(self, text: str) -> None:
        self._stream.write(text.encode("utf-8", errors="replace"))
        self._stream.flush()

    async def write(self, text: str) -> None:
        async with self._lock:
            await anyio.to_thread.run_sync(self._write, text)

    async def flush(self) -> None:
        """Each write already flushed (the SDK calls this after every message)."""


class _GuardedInput:
    """Lines the SDK can parse; every other line answered on `out` (or logged)."""

    def __init__(self, stream: BinaryIO, out: _Output) -> None:
        self._stream = stream
        self._out = out

    async def __aiter__(self) -> AsyncIterator[str]:
        # abandon_on_cancel: a blocked read (a terminal, a silent client) must not hold up
        # shutdown; Ctrl-C would otherwise wait for the next line.
        while raw := await anyio.to_thread.run_sync(
            _read_line, self._stream, abandon_on_cancel=True
        ):
            try:
                text = check_line(raw)
            except Rejected as bad:
                log.warning("rejected a %d-byte line (id %r): %s", len(raw), bad.request_id, bad)
                if bad.answer:
                    await self._out.write(error_line(bad.code, str(bad), bad.request_id))
                continue
            if text is not None:
                yield text


def _claim(fd: int, stream: Any) -> tuple[BinaryIO, Callable[[], None] | None]:
    """The SDK's fd claim (fd 0 -> /dev/null, fd 1 -> stderr while serving), else in place."""
    try:
        from mcp.server import stdio as sdk_stdio

        if fd == 0:
            return sdk_stdio._claim_fd(0, stream, "rb", sdk_stdio._open_stdin_diversion)
        return sdk_stdio._claim_fd(1, stream, "wb", sdk_stdio._open_stdout_diversion)
    except AttributeError:  # an SDK without these helpers: serve the buffers in place
        return stream.buffer, None


@asynccontextmanager
async def guarded_stdio() -> AsyncIterator[tuple[Any, Any]]:
    """Like `mcp.server.stdio.stdio_server()`, with the guarded reader."""
    restores: list[Callable[[], None]] = []
    try:
        in_buffer, restore_in = _claim(0, sys.stdin)
        restores += [restore_in] if restore_in else []
        out_buffer, restore_out = _claim(1, sys.stdout)
        restores += [restore_out] if restore_out else []
        out = _Output(out_buffer)
        async with stdio_server(stdin=_GuardedInput(in_buffer, out), stdout=out) as streams:  # type: ignore[arg-type]
            yield streams
    finally:
        for restore in reversed(restores):
            restore()
