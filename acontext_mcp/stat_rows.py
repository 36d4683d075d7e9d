"""Stat fingerprints of files and folder trees: has anything here changed since last time?

A row is one entry's lstat (name, mode, size, mtime, ctime, inode; for a symlink also its
target's), marked FRESH when the entry changed within the caller's freshness window: a next
change could keep the same timestamps, so a fresh row vouches for nothing. A tree is its rows
depth first in name order; a folder whose row equals the one a stored fingerprint recorded
has the same entries (adding, removing or renaming one moves the folder's mtime and ctime,
and no tool can set a ctime back), so its entries are taken from there instead of listed.

The skill sync's no-change path (skills/sync.py) and SessionStart's prepared answer
(store/prepared.py) decide with these while Claude Code waits: `os` and `stat` only.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this
if TYPE_CHECKING:
    from typing import Any

FRESH_SECONDS = 2.0  # a file modified this recently is not trusted by its fingerprint
FRESH = "fresh"  # the last item of such a file's row

Listings = dict[tuple[str, str], tuple[list, list[str]]]


def stat_row(path: str, rel: str, cutoff: int, rows: list[list[Any]]) -> int | None:
    """Append `rel`'s lstat (and, for a symlink, its target's stat), marked FRESH when it was
    changed (mtime or ctime) after `cutoff` (ns); returns its lstat mode, None when missing."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    row: list[Any] = [rel, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    if stat.S_ISLNK(st.st_mode):
        try:
            real = os.stat(path)
            row += [os.readlink(path), real.st_mode, real.st_size, real.st_mtime_ns, real.st_ino]
            changed = max(changed, real.st_mtime_ns, real.st_ctime_ns)
        except OSError:
            row.append("broken")
    if changed > cutoff:
        row.append(FRESH)  # a row that vouches for nothing (see fresh)
    rows.append(row)
    return st.st_mode


def listings(fingerprint: Any, sections: tuple[str, ...]) -> Listings:
    """From a stored fingerprint, every folder it walked: (section, rel) -> (the folder's
    row, the names of its entries in the order read). A two-item row whose first item is in
    `sections` starts that section. {} for anything not a fingerprint."""
    out: Listings = {}
    if not isinstance(fingerprint, list):
        return out
    section = ""
    for row in fingerprint:
        if not isinstance(row, list) or not row or not isinstance(row[0], str):
            return {}
        if len(row) == 2 and row[0] in sections:
            section = row[0]
            continue
        parent, _, name = row[0].rpartition("/")
        if parent and (section, parent) in out:
            out[(section, parent)][1].append(name)
        if len(row) > 1 and isinstance(row[1], int) and stat.S_ISDIR(row[1]):
            out[(section, row[0])] = (row, [])
    return out


def stat_tree(
    root: str,
    rel: str,
    cutoff: int,
    rows: list[list[Any]],
    known: Listings,
    section: str,
) -> bool:
    """`stat_row` for `root` and, for a real folder, everything under it, in name order.
    A folder whose row is the one the last fingerprint recorded (`known`, see `listings`)
    has the same entries: they are taken from there, not listed. False when an entry
    vanished or a folder could not be listed."""
    todo = [(root, rel)]  # depth first, in name order: a stack, children pushed reversed
    while todo:
        path, name = todo.pop()
        mode = stat_row(path, name, cutoff, rows)
        if mode is None:
            return False
        if not stat.S_ISDIR(mode):  # a file, or a symlink (not followed)
            continue
        seen = known.get((section, name))
        if seen is not None and seen[1] and seen[0] == rows[-1] and rows[-1][-1] != FRESH:
            names = seen[1]
        else:
            try:
                with os.scandir(path) as entries:
                    names = sorted(e.name for e in entries)
            except OSError:
                return False
        todo += [(f"{path}/{n}", f"{name}/{n}") for n in reversed(names)]
    return True


def fresh(rows: list[list[Any]]) -> bool:
    """Whether any row is of a file changed within the freshness window."""
    return any(row and row[-1] == FRESH for row in rows)
