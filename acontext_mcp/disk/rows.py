"""Artifact rows: derived metadata (size, sha256, mime, user meta) about files on a disk.

The filesystem is canonical; a row is rewritten by our own writes and rebuilt from the file when
it is missing or stale. Rows are keyed by (disk, directory "/a/b/", filename); their table
operations are in store/artifacts.py, re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import stat

from acontext_mcp.errors import InvalidInput
from acontext_mcp.store.artifacts import delete, dir_prefix, get, move, split_path, to_dict, upsert

__all__ = ["delete", "dir_prefix", "get", "hash_file", "move", "split_path", "to_dict", "upsert"]

_HASH_CHUNK = 1 << 20


def hash_file(real: str) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in chunks so large files cost no memory."""
    digest = hashlib.sha256()
    size = 0
    # Never block on a FIFO swapped in after the caller checked; never follow a final link.
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidInput(f"{os.path.basename(real)!r} is not a regular file")
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
