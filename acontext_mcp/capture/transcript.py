"""Whole-line incremental reading of an append-only JSONL file, from a byte cursor.

Agents append to their transcripts while hooks read them, so a reader must only consume whole
lines (a last line without "\\n" is still being written) and must notice when the file at the
path is no longer the one the cursor was taken on (replaced, truncated, rewritten): then it
starts again at 0 and the store's dedup keys absorb the re-read. Only regular files are read
(a FIFO, a device such as /dev/zero, a directory is refused without blocking), never past the
size seen when opened, and a line longer than MAX_LINE is skipped without being held in
memory: a path in a hook payload cannot make a hook block or grow. Stdlib only: runs in hooks.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

READ_LIMIT = 4 * 1024 * 1024  # bytes per transaction: short write locks, little lost to a kill
HEAD_BYTES = 4096  # the file's identity hash covers its first line, at most this many bytes
_STEP = 1024 * 1024  # read size while looking for the end of one very long line
MAX_LINE = 32 * 1024 * 1024  # a longer line is skipped and counted (4x the stored-message cap)
MAX_SCAN = 256 * 1024 * 1024  # how far one read looks for the end of a line over MAX_LINE


class NotRegularFile(OSError):
    """A transcript path names a FIFO, a device, a directory or a socket: never read."""


class Cursor:
    """How far a file was consumed: a byte offset just after a "\\n", and the file's identity.

    Plain classes, not dataclasses, here and in claude_code_lines: building a dataclass costs
    about a millisecond at import, and these modules are imported by every hook process.
    """

    __slots__ = ("dev", "head_hash", "ino", "offset")

    def __init__(
        self,
        offset: int = 0,
        dev: int | None = None,
        ino: int | None = None,
        head_hash: str | None = None,
    ) -> None:
        self.offset, self.dev, self.ino, self.head_hash = offset, dev, ino, head_hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cursor) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.offset, self.dev, self.ino, self.head_hash))

    def __repr__(self) -> str:
        return f"Cursor({self.offset}, {self.dev}, {self.ino}, {self.head_hash!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "dev": self.dev,
            "ino": self.ino,
            "head_hash": self.head_hash,
        }

    @classmethod
    def from_json(cls, value: Any) -> Cursor:
        """A cursor from stored JSON; anything unreadable is the start of the file."""
        if not isinstance(value, dict):
            return cls()
        offset = value.get("offset")
        if not isinstance(offset, int) or offset < 0:
            return cls()
        dev, ino, head = value.get("dev"), value.get("ino"), value.get("head_hash")
        return cls(
            offset,
            dev if isinstance(dev, int) else None,
            ino if isinstance(ino, int) else None,
            head if isinstance(head, str) else None,
        )


class Chunk:
    """Complete lines read after a cursor.

    `starts[i]` is the byte offset where `lines[i]` begins, so a caller may stop short and
    commit a cursor at any line start (`cursor_at`). `more` says whole lines may remain past
    the read limit. `reset` says the cursor was discarded and reading began again at 0.
    `oversized` holds the start offsets of lines over MAX_LINE, skipped unread. `skipped`
    holds (start offset, type) of the lines the reader's `skip` passed over undecoded.
    """

    __slots__ = ("cursor", "end", "lines", "more", "oversized", "reset", "skipped", "starts")

    def __init__(self, cursor: Cursor | None = None, *, reset: bool = False, more: bool = False):
        self.lines: list[str] = []
        self.starts: list[int] = []
        self.oversized: list[int] = []
        self.skipped: list[tuple[int, str]] = []
        self.cursor = cursor or Cursor()
        self.end = self.cursor.offset
        self.reset, self.more = reset, more

    def cursor_at(self, offset: int) -> Cursor:
        """The cursor for a line start within this chunk (or its end)."""
        return Cursor(offset, self.cursor.dev, self.cursor.ino, self.cursor.head_hash)


# (chunk bytes, line start, line end) -> the type of a line never stored, or None: decode it
Skip = Callable[[bytes, int, int], str | None]


def read_lines(
    path: str | Path,
    cursor: Cursor | None = None,
    *,
    limit: int = READ_LIMIT,
    skip: Skip | None = None,
) -> Chunk:
    """The complete lines after `cursor` (at most about `limit` bytes, but always at least one
    whole line when one exists), decoded with invalid UTF-8 replaced. A missing file reads as
    empty; a cursor that no longer fits the file resets to 0. Raises NotRegularFile for a
    path that is not a regular file (after following symlinks). A line `skip` names a type
    for is not decoded: it goes to `chunk.skipped` instead of `chunk.lines`."""
    cursor = cursor or Cursor()
    try:
        fh = open_regular(path)
    except FileNotFoundError:
        return Chunk(cursor=cursor)
    with fh:
        st = os.fstat(fh.fileno())
        head = _head_hash(fh)
        reset = cursor.offset > 0 and not _same_file(fh, st, head, cursor)
        offset = 0 if reset else cursor.offset
        data, more, oversized = _read_whole_lines(fh, offset, limit, st.st_size)
    end = Cursor(offset + len(data), st.st_dev, st.st_ino, head)
    chunk = Chunk(end, reset=reset, more=more)
    _split(data, offset, chunk, oversized, skip)
    return chunk


def open_regular(path: str | Path) -> BinaryIO:
    """A binary file object for `path`, opened without blocking and only if it is a regular
    file: opening a FIFO with no writer would wait forever, and reading a device such as
    /dev/zero never ends. Raises NotRegularFile, or the OSError of the open."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(
                f"{path} is {_kind(mode)}, not a regular file: transcripts are read only from "
                "regular files; point transcript_path at the session's .jsonl file"
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


def parse_lines(chunk: Chunk) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
    """(start offset, object) for each JSON-object line, and the start offsets of lines that
    are not one (invalid JSON or another JSON value). Blank lines are neither."""
    records: list[tuple[int, dict[str, Any]]] = []
    invalid: list[int] = []
    for start, line in zip(chunk.starts, chunk.lines, strict=True):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            invalid.append(start)
            continue
        if isinstance(value, dict):
            records.append((start, value))
        else:
            invalid.append(start)
    return records, invalid


# --- Identity ---


def _head_hash(fh: Any) -> str | None:
    """sha256 of the first line (or the first HEAD_BYTES); None while that is still growing."""
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    newline = head.find(b"\n")
    if newline >= 0:
        head = head[: newline + 1]
    elif len(head) < HEAD_BYTES:
        return None
    return hashlib.sha256(head).hexdigest()


def _same_file(fh: Any, st: os.stat_result, head: str | None, cursor: Cursor) -> bool:
    """Trigger: a stored cursor is about to be used. Why: the path may now name another file,
    or the same inode rewritten. Outcome: False (reset) unless device, inode, first-line hash
    all match, the file is still at least as long, and the byte before the offset is "\\n"."""
    if cursor.dev is not None and (cursor.dev, cursor.ino) != (st.st_dev, st.st_ino):
        return False
    if cursor.head_hash is not None and cursor.head_hash != head:
        return False
    if st.st_size < cursor.offset:
        return False
    fh.seek(cursor.offset - 1)
    return fh.read(1) == b"\n"


# --- Reading ---


def _read_whole_lines(fh: Any, offset: int, limit: int, size: int) -> tuple[bytes, bool, int]:
    """Bytes from offset up to the last "\\n" within `limit` bytes, never past `size` (the
    size when opened: a file that grows while read cannot make this read grow). With no
    "\\n" there, the first line alone, read on to its end; a line over MAX_LINE is scanned,
    not kept, and returned as a length to skip. Returns (data, more, skipped bytes); a line
    not finished yet (or whose end lies past MAX_SCAN) reads as (b"", False, 0): it waits."""
    fh.seek(offset)
    remaining = max(0, size - offset)
    data = fh.read(min(limit, remaining))
    cut = data.rfind(b"\n")
    if cut >= 0:
        return data[: cut + 1], offset + len(data) < size, 0
    pieces, length = [data], len(data)
    while length < remaining and length <= MAX_SCAN:
        piece = fh.read(min(_STEP, remaining - length))
        if not piece:
            break  # the file shrank while read: the next read resets
        newline = piece.find(b"\n")
        if newline >= 0:
            length += newline + 1
            more = offset + length < size
            if length > MAX_LINE:
                return b"", more, length
            pieces.append(piece[: newline + 1])
            return b"".join(pieces), more, 0
        length += len(piece)
        if length > MAX_LINE:
            pieces = []  # over the cap: keep scanning for its end, holding nothing
        else:
            pieces.append(piece)
    return b"", False, 0  # no complete line yet: it waits


def _split(
    data: bytes, offset: int, chunk: Chunk, oversized: int, skip: Skip | None = None
) -> None:
    if oversized:  # one line over MAX_LINE: the cursor moves past it, nothing is kept
        chunk.oversized.append(offset)
        chunk.cursor = chunk.cursor_at(offset + oversized)
        chunk.end = chunk.cursor.offset
        return
    # Each line is decoded straight from a view of `data` (it ends with "\n"): splitting the
    # bytes first would copy the whole chunk once more (about a third of this read's time).
    view, find, starts, lines = memoryview(data), data.find, chunk.starts, chunk.lines
    pos = 0
    while (end := find(b"\n", pos)) >= 0:
        if skip is not None and (kind := skip(data, pos, end)) is not None:
            chunk.skipped.append((offset + pos, kind))
        else:
            starts.append(offset + pos)
            lines.append(str(view[pos:end], "utf-8", "replace"))
        pos = end + 1
