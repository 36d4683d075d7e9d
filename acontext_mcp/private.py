"""Owner-only file modes for the data home, and the user's own modes everywhere else.

The data home holds whole conversations (Claude Code keeps its transcripts 0600), so every
directory we create there is 0700 and every file 0600, whichever command runs first. The
simplest way to get that for files we do not open ourselves (SQLite's -wal/-shm, log
rotation, git objects, temp files) is a process umask of 077, set by the console entry
point before anything is written (`umask.restrict_umask`). Files we write outside the data home
(skills synced into ~/.claude/skills, a project's `.acontext-off`, a new settings folder)
belong to the user's own trees: they get the mode the user's umask would have given them
(`user_mode`), as before, not ours.

Standard library only: the hook hot path imports this.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from acontext_mcp.umask import user_mode

DIR_MODE = 0o700
FILE_MODE = 0o600


def user_mkdir(path: Path) -> None:
    """Create `path` and missing parents outside the data home with the user's own modes."""
    missing = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    path.mkdir(parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, user_mode(0o777))


def private_mkdir(path: Path) -> None:
    """Create `path` and any missing parents 0700 (mkdir's own mode covers only the last)."""
    missing = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for made in missing:
        os.chmod(made, DIR_MODE)


def create_private_file(path: Path) -> None:
    """Create an empty `path` 0600 unless it exists (SQLite then gives -wal/-shm that mode).
    Any other failure is left for the caller's open to report, as it always did."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError:
        return
    os.close(fd)


def loose_paths(home: Path) -> Iterator[Path]:
    """Everything under `home` (itself included) that group or others may read, write or
    enter. Symbolic links are not followed (their own mode means nothing)."""
    if home.is_symlink() or not home.exists():
        return
    if stat.S_IMODE(home.stat().st_mode) & 0o077:
        yield home
    for top, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(top, name)
            try:
                st = path.lstat()
            except OSError:
                continue  # gone meanwhile
            if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
                yield path


def tighten(path: Path) -> None:
    """Take group and other permissions off `path` (the owner's bits stay as they are)."""
    os.chmod(path, stat.S_IMODE(path.lstat().st_mode) & ~0o077)


def read_only_fs(path: Path) -> bool:
    """Whether the file system holding `path` (or its nearest existing parent) is mounted
    read-only: no chmod can help there."""
    here = path
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        return bool(os.statvfs(here).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False
