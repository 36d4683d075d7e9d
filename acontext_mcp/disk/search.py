"""Find files on a disk: `glob` by gitignore-style patterns, `grep` by regular expression.

Both walk the filesystem (canonical) in sorted order, so results are stable. `grep` uses the
`regex` module because its `timeout=` can stop a pathological pattern, which `re` cannot;
one deadline covers the whole search, and a timeout returns what was found so far.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from itertools import chain, count, islice
from typing import Any

import pathspec
import regex

from acontext_mcp.config import Settings
from acontext_mcp.disk import grep_pool
from acontext_mcp.disk.confine import DEFAULT_DISK, disk_root
from acontext_mcp.disk.grepwork import BINARY, LARGE, SCANNED, ChunkResult, Job, search_chunk
from acontext_mcp.disk.walk import walk_files
from acontext_mcp.errors import InvalidInput, NotFound, SearchTimeout

MAX_LIMIT = 1000
MAX_CONTEXT = 20
MAX_PATTERN_CHARS = 4096


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


HEAD_FILES = 64  # Searched here first: a capped or small search never waits for workers.
POOL_MIN_FILES = 256  # Fewer files than this after the head: not worth the workers.
CHUNK_FILES = 32  # Files in the first worker jobs: the first answers come back soon.
MAX_CHUNK_FILES = 128  # Jobs grow to this: each costs ~0.2 ms of messages; 128 files, ~4 ms.


class _Replay:
    """Chunk results replayed in walk order, giving what one sequential pass would give."""

    def __init__(self, cap: int):
        self.cap = cap
        self.matches: list[dict[str, Any]] = []
        self.scanned = self.skipped_binary = self.skipped_large = 0
        self.truncated = self.timed_out = False

    @property
    def done(self) -> bool:
        return self.truncated or self.timed_out

    def _add(self, found: list[dict[str, Any]], more: bool) -> None:
        room = self.cap - len(self.matches)
        self.matches.extend(found[:room])
        if more or len(found) > room:
            self.truncated = True

    def add(self, chunk: ChunkResult) -> None:
        status, hits, timed_out = chunk
        for index, letter in enumerate(status):
            if letter == SCANNED:
                if index in hits:
                    self._add(*hits[index])
                self.scanned += 1
                if self.truncated:
                    return
            elif letter == BINARY:
                self.skipped_binary += 1
            elif letter == LARGE:
                self.skipped_large += 1
        if timed_out:
            if len(status) in hits:
                self._add(*hits[len(status)])
                if self.truncated:  # The cap came before the deadline did.
                    self.scanned += 1
                    return
            self.timed_out = True


def _chunks(
    job: tuple[str, int, int, int, float, int], files: Iterator[tuple[str, str]], state: _Replay
) -> Iterator[Job]:
    """Jobs in walk order, of CHUNK_FILES files doubling every two jobs up to MAX_CHUNK_FILES;
    each may show what is still room for."""
    pattern, flags, context, _cap, deadline, max_bytes = job
    size = CHUNK_FILES
    for index in count(1):
        batch = list(islice(files, size))
        if index % 2 == 0:
            size = min(size * 2, MAX_CHUNK_FILES)
        if not batch:
            return
        room = state.cap - len(state.matches)
        yield (pattern, flags, context, room, deadline, max_bytes, batch)


def _search(
    state: _Replay, job: tuple[str, int, int, int, float, int], files: Iterator[tuple[str, str]]
) -> None:
    """The first files here, then the rest on the worker processes when there are many."""
    pattern, flags, context, cap, deadline, max_bytes = job
    head = list(islice(files, HEAD_FILES))
    state.add(search_chunk((pattern, flags, context, cap, deadline, max_bytes, head)))
    if state.done or len(head) < HEAD_FILES:
        return
    more = list(islice(files, POOL_MIN_FILES))
    pool = grep_pool.acquire() if len(more) == POOL_MIN_FILES else None
    rest = chain(more, files)
    if pool is None:
        room = cap - len(state.matches)
        state.add(search_chunk((pattern, flags, context, room, deadline, max_bytes, list(rest))))
        return
    try:
        results = pool.imap(_chunks(job, rest, state))
        try:
            for chunk in results:
                state.add(chunk)
                if state.done:
                    break
        finally:
            results.close()  # type: ignore[attr-defined]
    finally:
        grep_pool.release()


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
        regex.compile(pattern, flags)  # Errors here, in plain words, not in a worker.
    except regex.error as exc:
        raise InvalidInput(f"invalid regular expression {pattern!r}: {exc}") from exc
    spec = _compile_glob(glob) if glob is not None else None
    started = time.monotonic()
    real_root = _real_root(settings, disk)
    files = walk_files(real_root, real_root) if real_root is not None else iter(())
    if spec is not None:
        files = (item for item in files if spec.match_file(item[0][1:]))
    state = _Replay(max_results)
    job = (pattern, flags, context, max_results, started + timeout, settings.max_artifact_bytes)
    _search(state, job, files)
    matches, scanned, timed_out = state.matches, state.scanned, state.timed_out
    if timed_out and scanned == 0 and not matches:
        raise SearchTimeout(
            f"the pattern {pattern!r} ran past the {timeout:g}s time limit before a single "
            "file was searched; simplify it (avoid nested repeats like '(a+)+') or narrow the "
            "search with a glob"
        )
    return {
        "matches": matches,
        "files_scanned": scanned,
        "files_skipped_binary": state.skipped_binary,
        "files_skipped_large": state.skipped_large,
        "truncated": state.truncated,
        "timed_out": timed_out,
        "elapsed": round(time.monotonic() - started, 3),
    }
