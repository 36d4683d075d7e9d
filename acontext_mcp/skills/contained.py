"""Read the skills directory without ever leaving it: the one gate every skill read goes through.

Rule: below the skills root nothing is followed. A symbolic link anywhere under the root (a
skill folder, its SKILL.md, a file or folder inside it) is refused, whether it points inside or
outside: skills are plain files, `skills pull` never brings a link in, and a link that points
inside today can be swapped for one that points at `~/.ssh/id_rsa` tomorrow. Devices, FIFOs and
sockets are refused too. The root itself may be a link (ACONTEXT_SKILLS_DIR on another disk).

Reads are race-free on POSIX: each folder on the way is opened relative to its parent with
O_NOFOLLOW and the file itself with O_NOFOLLOW, then checked with fstat, so a link swapped in
after a listing is refused rather than followed. Listings use lstat only and never read content.
Standard library only: the hooks (brief, sync) read skills through here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from acontext_mcp.errors import InvalidInput, NotFound, PathEscape, TooLarge
from acontext_mcp.skills import SKILL_FILE

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open; fstat refuses it
_AT = os.open in os.supports_dir_fd and bool(_NOFOLLOW)


def _link_refusal(rel: str) -> PathEscape:
    return PathEscape(
        f"{rel} is a symbolic link inside the skills directory; skills are read only from real "
        "files (replace the link with a copy of the file)"
    )


def _parts(rel: str) -> list[str]:
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise PathEscape(f"{rel!r} is not a path inside the skills directory")
    return parts


def _open_at(root: Path, parts: list[str]) -> int:
    """fd of root/parts opened component by component, never through a link."""
    fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    try:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            flags = (
                os.O_RDONLY
                | _NOFOLLOW
                | (_NONBLOCK | getattr(os, "O_NOCTTY", 0) if last else _DIRECTORY)
            )
            try:
                nxt = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                _raise_for(root, parts[: i + 1], exc)
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _raise_for(root: Path, parts: list[str], exc: OSError) -> None:
    """Translate a failed open of root/parts into our errors (a link, a missing file, ...)."""
    rel = "/".join(parts)
    try:
        st = os.lstat(root.joinpath(*parts))
    except OSError:
        raise NotFound(f"{rel} does not exist in the skills directory") from exc
    if stat.S_ISLNK(st.st_mode):
        raise _link_refusal(rel) from exc
    if isinstance(exc, NotADirectoryError):
        raise NotFound(f"{rel} is not a folder") from exc
    raise InvalidInput(f"{rel} cannot be read: {exc.strerror or exc}") from exc


def _open_checked(root: Path, parts: list[str]) -> int:
    """Fallback without openat: lstat every component, then open the last with O_NOFOLLOW."""
    here = root
    for i, part in enumerate(parts):
        here = here / part
        try:
            st = os.lstat(here)
        except OSError as exc:
            raise NotFound(f"{'/'.join(parts[: i + 1])} does not exist") from exc
        if stat.S_ISLNK(st.st_mode):
            raise _link_refusal("/".join(parts[: i + 1]))
    try:
        return os.open(here, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        _raise_for(root, parts, exc)
        raise  # unreachable: _raise_for always raises


def read_file(
    root: Path, rel: str, *, max_bytes: int | None = None
) -> tuple[bytes, os.stat_result]:
    """Bytes and fstat of the regular file `rel` ("skill/dir/file") under the skills `root`.

    Raises PathEscape for a symbolic link anywhere on the way, NotFound when it is missing,
    InvalidInput for a folder or a special file, TooLarge over `max_bytes`.
    """
    parts = _parts(rel)
    fd = _open_at(Path(root), parts) if _AT else _open_checked(Path(root), parts)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise InvalidInput(f"{rel} is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(f"{rel} is not a regular file (device, FIFO or socket); not read")
        if max_bytes is not None and st.st_size > max_bytes:
            raise TooLarge(f"{rel} is {st.st_size} bytes; files over {max_bytes} are not read")
        data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"{rel} grew past {max_bytes} bytes while being read; not read")
    return data, st


def read_bytes(root: Path, rel: str, *, max_bytes: int | None = None) -> bytes:
    """`read_file` without the stat."""
    return read_file(root, rel, max_bytes=max_bytes)[0]


def skill_folders(root: Path) -> list[Path]:
    """Skill folders of the skills `root`, by name: real (not linked) folders, not hidden,
    holding a regular SKILL.md that is not a link."""
    root = Path(root)
    try:
        with os.scandir(root) as entries:
            names = sorted(
                e.name
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            )
    except OSError:
        return []
    return [root / name for name in names if _holds_skill_md(root / name)]


def is_skill_folder(root: Path, name: str) -> bool:
    """True if `name` is one of `skill_folders(root)`."""
    if not name or name.startswith(".") or "/" in name or name in ("..",):
        return False
    try:
        if not stat.S_ISDIR(os.lstat(Path(root) / name).st_mode):
            return False
    except OSError:
        return False
    return _holds_skill_md(Path(root) / name)


def _holds_skill_md(folder: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(folder / SKILL_FILE).st_mode)
    except OSError:
        return False


def walk(folder: Path) -> Iterator[tuple[str, os.stat_result | None]]:
    """Every non-hidden entry below a skill `folder`, in name order, as (relative path, lstat).

    Regular files come with their lstat; links and special files come with None (to be
    skipped or reported) and are never followed. Folders are descended, not yielded.
    """
    pending = [(Path(folder), "")]
    while pending:
        here, prefix = pending.pop()
        try:
            with os.scandir(here) as entries:
                found = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in found:
            if entry.name.startswith("."):
                continue
            rel = f"{prefix}{entry.name}"
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((Path(entry.path), f"{rel}/"))
            else:
                yield rel, st if stat.S_ISREG(st.st_mode) else None
        pending.extend(reversed(subdirs))
