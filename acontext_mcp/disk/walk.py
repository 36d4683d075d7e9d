"""Confined directory listing and walking, in a stable sorted order.

Symlinks are shown only when they resolve inside the disk; symlinked directories are listed but
never descended by `walk_files` (no loops, no file found twice under two names). Our own
in-flight temp files and special files (FIFOs, sockets, devices) are never shown.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

TEMP_PREFIX = ".~acx-"
TEMP_SUFFIX = ".tmp"


def is_temp_name(name: str) -> bool:
    """True for the temp files `write_file` renames into place."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def inside(real: str, real_root: str) -> bool:
    """True if resolved path `real` is `real_root` or below it."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True, slots=True)
class DirItem:
    """One visible directory entry. `real` is where to read it (a link's target, if linked)."""

    name: str
    is_dir: bool
    real: str
    is_link: bool


def scan_dir(real_dir: str, real_root: str) -> list[DirItem]:
    """Visible entries of one directory, sorted so that walking them yields sorted paths."""
    items: list[DirItem] = []
    with os.scandir(real_dir) as it:
        for entry in it:
            if is_temp_name(entry.name):
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not inside(target, real_root):
                        continue  # Leads outside the disk: not ours to show.
                    mode = os.stat(target).st_mode
                    is_dir, is_file = stat.S_ISDIR(mode), stat.S_ISREG(mode)
                    real, is_link = target, True
                else:
                    # d_type answers these without a stat call; FIFOs etc. are neither.
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_file = entry.is_file(follow_symlinks=False)
                    real, is_link = entry.path, False
            except OSError:
                continue  # Vanished, dangling or unreadable: skip rather than fail the listing.
            if is_dir or is_file:
                items.append(DirItem(entry.name, is_dir, real, is_link))
    # "a/" sorts the way "a/x" does against "a-b", so a depth-first walk comes out sorted.
    items.sort(key=lambda item: item.name + "/" if item.is_dir else item.name)
    return items


def walk_files(real_dir: str, real_root: str, disk_dir: str = "/") -> Iterator[tuple[str, str]]:
    """Yield (disk path, real path) for every visible file below `real_dir`, sorted by path."""
    try:
        items = scan_dir(real_dir, real_root)
    except OSError:
        return
    for item in items:
        if item.is_dir:
            if not item.is_link:
                yield from walk_files(item.real, real_root, f"{disk_dir}{item.name}/")
        else:
            yield f"{disk_dir}{item.name}", item.real
