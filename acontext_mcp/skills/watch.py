"""Which skill folders changed since the last look, without walking every file.

A long-lived reader (the MCP server) asks `changed()` before each search. On Linux the answer
comes from inotify watches on the skills directory and every folder below a skill: the kernel
queues a notice the moment a file is written, created, renamed or deleted, so the first search
after any edit (an editor writing in place, a new or deleted skill folder, a learner's commit)
sees it, and a search with nothing changed costs one non-blocking read. Elsewhere, or when the
watch limit is reached, `PollWatch` compares folder mtimes (which catch created, deleted and
renamed files) and asks for a full walk every `full_every` seconds for edits made in place.

`changed()` returns the names of skill folders to re-read, or None when only a full refresh
can tell (the first call, a queue overflow, the skills directory replaced).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import stat
import struct
import time
from pathlib import Path
from typing import Protocol

log = logging.getLogger("acontext.skills.watch")

# <sys/inotify.h>
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
_MASK = (
    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
    | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK
)  # fmt: skip
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name


class Watch(Protocol):
    def changed(self) -> set[str] | None: ...

    def close(self) -> None: ...


def _subdirs(folder: str) -> list[str]:
    """`folder` and every non-hidden real directory below it (links are never followed)."""
    out, pending = [], [folder]
    while pending:
        here = pending.pop()
        out.append(here)
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return out


def _top_folders(root: str) -> list[str]:
    try:
        with os.scandir(root) as entries:
            return [
                e.name
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []


class InotifyWatch:
    """inotify watches on the skills directory and the folders below each skill."""

    def __init__(self, root: Path):
        self.root = os.fspath(root)
        self._libc = _libc()
        fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd = fd
        self.dead = False  # the skills directory itself went: start a new watch
        self._watched: dict[int, tuple[str, str]] = {}  # wd -> (skill folder, path); "" = root
        try:
            self._root_wd = self._add(self.root, "")
            for name in _top_folders(self.root):
                self._add_tree(os.path.join(self.root, name), name)
        except BaseException:
            self.close()
            raise

    def _add(self, path: str, skill: str) -> int:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), _MASK)
        if wd < 0:
            err = ctypes.get_errno()
            if err in (errno.ENOENT, errno.ENOTDIR):  # gone or replaced since we listed it
                return -1
            raise OSError(err, f"inotify_add_watch {path}: {os.strerror(err)}")
        self._watched[wd] = (skill, path)  # a moved folder keeps its wd: this renames it
        return wd

    def _add_tree(self, folder: str, skill: str) -> None:
        for path in _subdirs(folder):
            self._add(path, skill)

    def changed(self) -> set[str] | None:
        names: set[str] = set()
        full = False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = os.fsdecode(data[offset : offset + size].rstrip(b"\0"))
                offset += size
                if mask & IN_Q_OVERFLOW:
                    full = True  # events were dropped
                    continue
                if wd == self._root_wd and mask & _GONE:
                    full = self.dead = True
                    continue
                if mask & IN_IGNORED:
                    self._watched.pop(wd, None)
                    continue
                if wd not in self._watched or not name or name.startswith("."):
                    continue
                skill, where = self._watched[wd]
                skill = skill or name  # an entry of the skills directory is a skill folder
                names.add(skill)
                if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
                    self._add_tree(os.path.join(where, name), skill)
        return None if full else names

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


_GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc on Linux
    if not hasattr(libc, "inotify_init1"):
        raise OSError("no inotify on this platform")
    return libc


class PollWatch:
    """Folder mtimes: a file created, deleted or renamed changes its folder's mtime. An edit
    in place does not, so every `full_every` seconds `changed()` asks for a full refresh."""

    def __init__(self, root: Path, full_every: float):
        self.root = os.fspath(root)
        self.full_every = full_every
        self._full_at = time.monotonic()
        self._mtimes: dict[str, tuple[str, int]] = {}  # folder path -> (skill, mtime_ns)
        self._record_all()

    def _record_all(self) -> None:
        self._mtimes = {}
        self._record(self.root, "")
        for name in _top_folders(self.root):
            for path in _subdirs(os.path.join(self.root, name)):
                self._record(path, name)

    def _record(self, path: str, skill: str) -> None:
        try:
            st = os.lstat(path)
        except OSError:
            return
        if stat.S_ISDIR(st.st_mode):
            self._mtimes[path] = (skill, st.st_mtime_ns)

    def changed(self) -> set[str] | None:
        if time.monotonic() - self._full_at >= self.full_every:
            self._full_at = time.monotonic()
            self._record_all()
            return None
        names: set[str] = set()
        for path, (skill, mtime_ns) in list(self._mtimes.items()):
            try:
                now = os.lstat(path).st_mtime_ns
            except OSError:
                now = -1
            if now == mtime_ns:
                continue
            if skill:
                names.add(skill)
            else:  # the skills directory: folders came or went
                before = {s for s, _ in self._mtimes.values() if s}
                names |= before.symmetric_difference(_top_folders(self.root))
                self._record(path, "")
        for name in names:
            for path in [p for p, (s, _) in self._mtimes.items() if s == name]:
                del self._mtimes[path]
            for path in _subdirs(os.path.join(self.root, name)):
                self._record(path, name)
        return names

    def close(self) -> None:
        self._mtimes = {}


def start(root: Path, *, full_every: float) -> Watch | None:
    """A watch on the skills directory `root`: inotify where the system has it, else folder
    mtimes. None while `root` does not exist (nothing to watch yet)."""
    if not os.path.isdir(root):
        return None
    try:
        return InotifyWatch(root)
    except (OSError, AttributeError) as exc:
        log.info("skills watch falls back to folder mtimes: %s", exc)
    return PollWatch(root, full_every)
