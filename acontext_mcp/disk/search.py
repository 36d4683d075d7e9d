"""Find files on a disk: `glob` by gitignore-style patterns, `grep` by regular expression.

Both walk the filesystem (canonical) in sorted order, so results are stable. `grep` uses the
`regex` module because its `timeout=` can stop a pathological pattern, which `re` cannot;
one deadline covers the whole search, and a timeout returns what was found so far.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Any, TypeVar

import pathspec
import regex

from acontext_mcp.config import Settings
from acontext_mcp.disk.confine import DEFAULT_DISK, disk_root
from acontext_mcp.disk.content import decode_text, looks_binary, read_regular
from acontext_mcp.disk.walk import walk_files
from acontext_mcp.errors import InvalidInput, NotFound, SearchTimeout

MAX_LIMIT = 1000
MAX_CONTEXT = 20
MAX_PATTERN_CHARS = 4096
LINE_CLIP = 400
_T = TypeVar("_T")


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

    def scan(self, disk_path: str, text: str, first: int = 0) -> None:
        """Add one result per matching line; raises TimeoutError past the deadline.

        Line numbers come from counting newlines between consecutive matches (`str.count`,
        memchr speed) rather than from a per-file newline index: building that index was a
        Python-level pass over every line of every matching file.
        """
        rx, end = self.rx, len(text)
        # `pos` is the start of line number `line`; the search starts on the line of `first`,
        # where the prefilter found the first match (nothing before it can match).
        pos = text.rfind("\n", 0, first) + 1
        line = 1 + text.count("\n", 0, pos)
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


# --- Reading and prefiltering files on worker threads ---

_GONE, _LARGE, _BINARY, _TIMEOUT, _MISS, _HIT, _REREAD = range(7)
_CARRY_MAX = 256 * 1024  # a matching file bigger than this is read again by the caller
_LOOKAHEAD = 2  # batches queued per worker beyond the one it reads
_BATCH = 32  # files per batch, at most; a batch holds the text of its matching files only
_INLINE = 64  # files searched on the caller's thread before any worker starts


def _workers() -> int:
    """Threads reading and prefiltering files: reads and `regex` matching release the GIL."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _ascii_twin(pattern: str, flags: int) -> regex.Pattern[bytes] | None:
    """The pattern compiled for bytes, to search ASCII files without decoding them. On ASCII
    text both match at the same places (tests/test_disk_search.py checks every ASCII character
    against the classes); None for the few constructs where they differ (`\\X` graphemes, the
    WORD flag) or that bytes cannot express (non-ASCII, \\N{...}, (?u))."""
    if not pattern.isascii() or "\\X" in pattern:
        return None
    try:
        twin = regex.compile(pattern.encode("ascii"), flags)
    except (regex.error, ValueError):
        return None
    return None if twin.flags & (regex.WORD | regex.FULLCASE) else twin


class _Prefilter:
    """Per file, on a worker thread: read it, sort out binary and oversized files, and find
    whether the pattern matches at all, so only files with a match are decoded and scanned
    line by line (in path order, on the caller's thread)."""

    def __init__(
        self,
        rx: regex.Pattern[str],
        twin: regex.Pattern[bytes] | None,
        cap: int,
        deadline: float,
    ):
        self.rx, self.twin, self.cap, self.deadline = rx, twin, cap, deadline

    def read(self, real: str) -> tuple[int, str | None, int]:
        """(kind, text, first): text and the offset of the first match are set only for a
        file the pattern matches; a big one comes back as (_REREAD, real path, 0), so
        read-ahead holds little memory (see `text_of`)."""
        try:
            data, _size = read_regular(real, self.cap)
        except (OSError, InvalidInput):
            return _GONE, None, 0
        if data is None:
            return _LARGE, None, 0
        if looks_binary(data):
            return _BINARY, None, 0
        kind, text, first = self._match(data)
        if kind == _HIT and len(data) > _CARRY_MAX:
            return _REREAD, real, 0
        return kind, text, first

    def text_of(self, real: str) -> tuple[int, str | None, int]:
        """A big matching file, read again on the caller's thread."""
        try:
            data, _size = read_regular(real, self.cap)
        except (OSError, InvalidInput):
            return _GONE, None, 0
        if data is None:
            return _LARGE, None, 0
        text = decode_text(data)
        return (_BINARY, None, 0) if text is None else (_HIT, text, 0)

    def _match(self, data: bytes) -> tuple[int, str | None, int]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return _TIMEOUT, None, 0
        try:
            if self.twin is not None and data.isascii():  # ASCII is UTF-8: text
                found = self.twin.search(data, timeout=remaining, concurrent=True)
                if found is None:
                    return _MISS, None, 0
                return _HIT, data.decode("ascii"), found.start()  # one byte, one character
            text = decode_text(data)
            if text is None:
                return _BINARY, None, 0
            hit = self.rx.search(text, timeout=remaining, concurrent=True)
        except TimeoutError:
            return _TIMEOUT, None, 0
        return (_MISS, None, 0) if hit is None else (_HIT, text, hit.start())


def _in_order(
    items: Iterator[tuple[str, str]], read: Callable[[str], _T], workers: int
) -> Generator[tuple[str, _T], None, None]:
    """(disk path, read(real path)) in the order of `items`, read ahead on `workers` threads.

    The first _INLINE files are read on the caller's thread (starting threads costs more than
    a short search), the rest go to the threads in batches (a handoff costs ~20 us, as much as
    reading a small file), growing from 1 to _BATCH so that a search stopped early by its cap
    reads little ahead. Closing it stops reading ahead."""
    for count, (disk_path, real) in enumerate(items, 1):  # a small disk, or an early cap
        yield disk_path, read(real)
        if workers > 1 and count == _INLINE:
            break
    else:
        return

    def read_all(reals: list[str]) -> list[_T]:
        return [read(real) for real in reals]

    pool = ThreadPoolExecutor(workers, thread_name_prefix="acontext-grep")
    window: deque[tuple[list[str], Future[list[_T]]]] = deque()
    size = 1
    try:
        batch: list[tuple[str, str]] = []
        for item in items:
            batch.append(item)
            if len(batch) < size:
                continue
            window.append(([d for d, _ in batch], pool.submit(read_all, [r for _, r in batch])))
            batch, size = [], min(size * 2, _BATCH)
            # Hand over what is ready at once (a capped search may stop there), and wait only
            # when the window is full.
            while window and (window[0][1].done() or len(window) > workers * _LOOKAHEAD):
                paths, done = window.popleft()
                yield from zip(paths, done.result(), strict=True)
        if batch:
            window.append(([d for d, _ in batch], pool.submit(read_all, [r for _, r in batch])))
        while window:
            paths, done = window.popleft()
            yield from zip(paths, done.result(), strict=True)
    finally:
        # Stopped early (cap, timeout): drop what has not started; a batch being read ends
        # on its own (within the deadline) without holding up the answer.
        pool.shutdown(wait=False, cancel_futures=True)


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
    wanted = ((d, r) for d, r in files if spec is None or spec.match_file(d[1:]))
    check = _Prefilter(rx, _ascii_twin(pattern, flags), settings.max_artifact_bytes, state.deadline)
    with closing(_in_order(wanted, check.read, _workers())) as prepared:
        for disk_path, (kind, text, first) in prepared:
            if time.monotonic() >= state.deadline:
                timed_out = True
                break
            if kind == _REREAD and text is not None:
                kind, text, first = check.text_of(text)
            if kind == _GONE:
                continue  # Vanished or replaced by something that is not a file.
            if kind == _LARGE:
                skipped_large += 1
                continue
            if kind == _BINARY:
                skipped_binary += 1
                continue
            if kind == _TIMEOUT:
                timed_out = True
                break
            if text is not None:
                try:
                    state.scan(disk_path, text, first)
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
