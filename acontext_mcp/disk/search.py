"""Find files on a disk: `glob` by gitignore-style patterns, `grep` by regular expression.

Both walk the filesystem (canonical) in sorted order, so results are stable. `grep` uses the
`regex` module because its `timeout=` can stop a pathological pattern, which `re` cannot;
one deadline covers the whole search, and a timeout returns what was found so far.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pathspec
import regex

from acontext_mcp.config import Settings
from acontext_mcp.disk.confine import DEFAULT_DISK, disk_root
from acontext_mcp.disk.content import decode_text, read_regular
from acontext_mcp.disk.walk import walk_files
from acontext_mcp.errors import InvalidInput, NotFound, SearchTimeout

MAX_LIMIT = 1000
MAX_CONTEXT = 20
MAX_PATTERN_CHARS = 4096
LINE_CLIP = 400


def _real_root(settings: Settings, disk: str) -> str | None:
    """Resolved root of a disk; None for a "default" disk nobody has written to yet."""
    root = disk_root(settings, disk)
    if root.is_dir():
        return os.path.realpath(root)
    if disk == DEFAULT_DISK:
        return None
    raise NotFound(f"disk {disk!r} does not exist")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _compile_glob(pattern: str) -> pathspec.PathSpec:
    """One gitignore-style pattern: "*.md" matches at any depth, a leading "/" anchors."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidInput("glob pattern must be a non-empty string such as '**/*.md'")
    if len(pattern) > MAX_PATTERN_CHARS or "\x00" in pattern or "\n" in pattern:
        raise InvalidInput("glob pattern must be one line of at most 4096 characters")
    if ".." in pattern.split("/"):
        raise InvalidInput(f"glob pattern {pattern!r} contains '..'; patterns stay in the disk")
    if pattern.startswith("!"):
        raise InvalidInput(f"glob pattern {pattern!r} is a negation, which matches nothing alone")
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def glob(settings: Settings, disk: str, pattern: str, *, limit: int = 100) -> dict[str, Any]:
    """Disk paths of files matching a gitignore-style pattern, sorted, at most `limit`."""
    _check_range("limit", limit, 1, MAX_LIMIT)
    spec = _compile_glob(pattern)
    real_root = _real_root(settings, disk)
    matches: list[str] = []
    truncated = False
    if real_root is not None:
        for disk_path, _real in walk_files(real_root, real_root):
            if spec.match_file(disk_path[1:]):
                if len(matches) == limit:
                    truncated = True
                    break
                matches.append(disk_path)
    return {"matches": matches, "truncated": truncated}


def _clip(line: str, column: int = 0) -> str:
    """A line cut to about LINE_CLIP characters, keeping the window around `column`."""
    line = line.removesuffix("\r")
    if len(line) <= LINE_CLIP:
        return line
    start = max(0, min(column - LINE_CLIP // 4, len(line) - LINE_CLIP))
    head = "…" if start else ""
    tail = "…" if start + LINE_CLIP < len(line) else ""
    return head + line[start : start + LINE_CLIP] + tail


class _Grep:
    """State of one grep call: the compiled pattern, its deadline, and what it found."""

    def __init__(self, rx: regex.Pattern[str], context: int, max_results: int, deadline: float):
        self.rx = rx
        self.context = context
        self.max_results = max_results
        self.deadline = deadline
        self.matches: list[dict[str, Any]] = []
        self.truncated = False

    def scan(self, disk_path: str, text: str) -> None:
        """Add one result per matching line; raises TimeoutError past the deadline.

        Line numbers come from counting newlines between consecutive matches (`str.count`,
        memchr speed) rather than from a per-file newline index: building that index was a
        Python-level pass over every line of every matching file.
        """
        rx, end = self.rx, len(text)
        pos, line = 0, 1  # `pos` is the start of line number `line`.
        while pos <= end:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            found = rx.search(text, pos, timeout=remaining)
            if found is None:
                return
            at = found.start()
            if at == end and (end == 0 or text[-1] == "\n"):
                return  # Only the empty "line" after a final newline: not a line.
            if len(self.matches) == self.max_results:
                self.truncated = True
                return
            line += text.count("\n", pos, at)
            start = text.rfind("\n", 0, at) + 1
            stop = text.find("\n", at)
            stop = end if stop == -1 else stop
            self.matches.append(self._result(disk_path, text, line, start, stop, at - start))
            pos, line = stop + 1, line + 1  # Next line: one result per matching line.

    def _result(
        self, disk_path: str, text: str, line: int, start: int, stop: int, column: int
    ) -> dict[str, Any]:
        before: list[str] = []
        cursor = start
        while len(before) < self.context and cursor > 0:
            prev = text.rfind("\n", 0, cursor - 1) + 1
            before.append(_clip(text[prev : cursor - 1]))
            cursor = prev
        before.reverse()
        after: list[str] = []
        cursor = stop + 1
        while len(after) < self.context and cursor < len(text):
            nxt = text.find("\n", cursor)
            nxt = len(text) if nxt == -1 else nxt
            after.append(_clip(text[cursor:nxt]))
            cursor = nxt + 1
        return {
            "path": disk_path,
            "line": line,
            "text": _clip(text[start:stop], column),
            "before": before,
            "after": after,
        }


def grep(
    settings: Settings,
    disk: str,
    pattern: str,
    *,
    glob: str | None = None,
    ignore_case: bool = False,
    context: int = 0,
    max_results: int = 100,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Lines matching a Python regular expression (`regex` module syntax), file by file in
    path order; one result per matching line, `line` 1-based.

    Binary files (NUL in the first 8 KB, or not UTF-8) and files over the artifact cap are
    skipped and counted. Past `timeout` seconds (default settings.grep_timeout) the results so
    far come back with timed_out=True; if nothing at all was searched, SearchTimeout is raised.
    """
    _check_range("context", context, 0, MAX_CONTEXT)
    _check_range("max_results", max_results, 1, MAX_LIMIT)
    timeout = settings.grep_timeout if timeout is None else timeout
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise InvalidInput(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInput("pattern must be a non-empty regular expression")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidInput(f"pattern is {len(pattern)} characters; the limit is 4096")
    flags = regex.MULTILINE | (regex.IGNORECASE if ignore_case else 0)
    try:
        rx = regex.compile(pattern, flags)
    except regex.error as exc:
        raise InvalidInput(f"invalid regular expression {pattern!r}: {exc}") from exc
    spec = _compile_glob(glob) if glob is not None else None
    started = time.monotonic()
    state = _Grep(rx, context, max_results, started + timeout)
    scanned = skipped_binary = skipped_large = 0
    timed_out = False
    real_root = _real_root(settings, disk)
    files = walk_files(real_root, real_root) if real_root is not None else iter(())
    for disk_path, real in files:
        if time.monotonic() >= state.deadline:
            timed_out = True
            break
        if spec is not None and not spec.match_file(disk_path[1:]):
            continue
        try:
            data, _size = read_regular(real, settings.max_artifact_bytes)
        except (OSError, InvalidInput):
            continue  # Vanished or replaced by something that is not a file.
        if data is None:
            skipped_large += 1
            continue
        text = decode_text(data)
        if text is None:
            skipped_binary += 1
            continue
        try:
            state.scan(disk_path, text)
        except TimeoutError:
            timed_out = True
            break
        scanned += 1
        if state.truncated:
            break
    if timed_out and scanned == 0 and not state.matches:
        raise SearchTimeout(
            f"the pattern {pattern!r} ran past the {timeout:g}s time limit before a single "
            "file was searched; simplify it (avoid nested repeats like '(a+)+') or narrow the "
            "search with a glob"
        )
    return {
        "matches": state.matches,
        "files_scanned": scanned,
        "files_skipped_binary": skipped_binary,
        "files_skipped_large": skipped_large,
        "truncated": state.truncated,
        "timed_out": timed_out,
        "elapsed": round(time.monotonic() - started, 3),
    }
