"""Search one contiguous chunk of files for `grep`, in this process or in a pool worker.

A chunk's answer is compact and order-preserving, so the caller can replay chunks in walk order
and get exactly what one sequential pass would give (caps, counts, timeouts): one status letter
per file handled, and the matching lines of the files that had any. Kept free of the server's
imports so a worker process starts quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import regex

from acontext_mcp.disk.content import looks_binary, read_regular
from acontext_mcp.disk.prefilter import for_pattern
from acontext_mcp.errors import InvalidInput

LINE_CLIP = 400

SCANNED, BINARY, LARGE, UNREADABLE = "T", "B", "L", "-"

# (pattern, flags, context, cap, deadline, max_bytes, [(disk path, real path), ...])
Job = tuple[str, int, int, int, float, int, list[tuple[str, str]]]
# (status letters, {file index: (matches, more matches past the cap)}, timed out)
Hits = dict[int, tuple[list[dict[str, Any]], bool]]
ChunkResult = tuple[str, Hits, bool]


def clip(line: str, column: int = 0) -> str:
    """A line cut to about LINE_CLIP characters, keeping the window around `column`."""
    line = line.removesuffix("\r")
    if len(line) <= LINE_CLIP:
        return line
    start = max(0, min(column - LINE_CLIP // 4, len(line) - LINE_CLIP))
    head = "…" if start else ""
    tail = "…" if start + LINE_CLIP < len(line) else ""
    return head + line[start : start + LINE_CLIP] + tail


def _result(
    disk_path: str, text: str, context: int, line: int, start: int, stop: int, column: int
) -> dict[str, Any]:
    before: list[str] = []
    cursor = start
    while len(before) < context and cursor > 0:
        prev = text.rfind("\n", 0, cursor - 1) + 1
        before.append(clip(text[prev : cursor - 1]))
        cursor = prev
    before.reverse()
    after: list[str] = []
    cursor = stop + 1
    while len(after) < context and cursor < len(text):
        nxt = text.find("\n", cursor)
        nxt = len(text) if nxt == -1 else nxt
        after.append(clip(text[cursor:nxt]))
        cursor = nxt + 1
    return {
        "path": disk_path,
        "line": line,
        "text": clip(text[start:stop], column),
        "before": before,
        "after": after,
    }


def scan(
    rx: regex.Pattern[str],
    disk_path: str,
    text: str,
    context: int,
    room: int,
    deadline: float,
    found: list[dict[str, Any]],
    lead: Any = None,
    lines: Callable[[int], int] | None = None,
) -> bool:
    """Append one result per matching line to `found`, at most `room`; True if a further
    match exists past that room. Raises TimeoutError past the deadline (`found` keeps what
    was appended).

    Line numbers come from counting newlines between consecutive matches (`str.count`,
    memchr speed) rather than from a per-file newline index. `lead`, a pattern that matches
    wherever `rx` starts a match, finds the places to try `rx` at; `lines`, where the next
    needle is, the lines to search (see `_search`).
    """
    end = len(text)
    pos, line = 0, 1  # `pos` is the start of line number `line`.
    while pos <= end:
        match = _search(rx, lead, text, pos, deadline, lines)
        if match is None:
            return False
        at = match.start()
        if at == end and (end == 0 or text[-1] == "\n"):
            return False  # Only the empty "line" after a final newline: not a line.
        if room <= 0:
            return True
        line += text.count("\n", pos, at)
        start = text.rfind("\n", 0, at) + 1
        stop = text.find("\n", at)
        stop = end if stop == -1 else stop
        found.append(_result(disk_path, text, context, line, start, stop, at - start))
        room -= 1
        pos, line = stop + 1, line + 1  # Next line: one result per matching line.
    return False


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    return remaining


def _search(
    rx: Any,
    lead: Any,
    text: str,
    pos: int,
    deadline: float,
    lines: Callable[[int], int] | None = None,
) -> Any:
    """`rx.search(text, pos)` for a `pos` at a line start, or the same match found by trying
    `rx` only where `lead` matches (every match of `rx` starts at a match of `lead`, the pattern
    without its leading word boundary, which the engine finds 2x faster), or only on the lines
    that hold a needle (`lines`: every match holds one and lies within one line)."""
    if lines is not None:
        while True:
            at = lines(pos)
            if at < 0:
                return None
            start = max(pos, text.rfind("\n", 0, at) + 1)
            stop = text.find("\n", at)
            stop = len(text) if stop < 0 else stop + 1
            match = rx.search(text, start, stop, timeout=_remaining(deadline))
            if match is not None:
                return match
            pos = stop
    if lead is None:
        return rx.search(text, pos, timeout=_remaining(deadline))
    while True:
        hint = lead.search(text, pos, timeout=_remaining(deadline))
        if hint is None:
            return None
        match = rx.match(text, hint.start(), timeout=_remaining(deadline))
        if match is not None:
            return match
        pos = hint.start() + 1


def search_chunk(job: Job) -> ChunkResult:
    """Search files in order until they end, `cap` matches are exceeded, or the deadline.

    A file is a letter in the status string once handled; a file cut short by the deadline has
    no letter, but its matches so far are under the next index.
    """
    pattern, flags, context, cap, deadline, max_bytes, files = job
    rx = regex.compile(pattern, flags)  # The module caches compiled patterns.
    pre = for_pattern(pattern, flags)
    status: list[str] = []
    hits: Hits = {}
    total = 0
    for disk_path, real in files:
        if time.monotonic() >= deadline:
            return "".join(status), hits, True
        try:
            data, _size = read_regular(real, max_bytes)
        except (OSError, InvalidInput):
            status.append(UNREADABLE)  # Vanished or replaced by something that is not a file.
            continue
        if data is None:
            status.append(LARGE)
            continue
        if looks_binary(data):
            status.append(BINARY)
            continue
        ascii = data.isascii()
        found: list[dict[str, Any]] = []
        try:
            if pre is not None and ascii and pre.rules_out_ascii(data, deadline):
                status.append(SCANNED)  # ASCII is UTF-8: the file is text, with no match.
                continue
            text = data.decode("utf-8")
            if pre is not None and pre.rules_out_text(text, ascii, deadline):
                status.append(SCANNED)
                continue
            lead = lines = None
            if pre is not None:
                lead = pre.weak
                if pre.by_line and (ascii or not pre.fold):
                    lines = pre.finder(text)
            more = scan(rx, disk_path, text, context, cap - total, deadline, found, lead, lines)
        except UnicodeDecodeError:
            status.append(BINARY)
            continue
        except TimeoutError:
            if found:
                hits[len(status)] = (found, False)
            return "".join(status), hits, True
        if found or more:
            hits[len(status)] = (found, more)
        status.append(SCANNED)
        total += len(found)
        if more:
            break  # Past the cap: nothing after this file can be shown.
    return "".join(status), hits, False


def serve(fd: int) -> None:
    """A pool worker's loop: answer jobs from the socket `fd` until it closes (our parent has
    exited or let us go), then exit. A failed job is reported, and the parent searches it."""
    conn = Connection(fd)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", search_chunk(job))
        except Exception as exc:
            reply = ("error", repr(exc))
        try:
            conn.send(reply)
        except OSError:
            return
