"""Crash-safe file replacement: a reader sees the old file or the new one, never half of it.

The one atomic file writer (issue 11). disk/files.py writes its temp file itself because it
renames inside the database transaction that records the file; exports stream (cli_forget.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def replace_file(
    path: Path,
    data: bytes,
    *,
    prefix: str = ".tmp-",
    suffix: str = "",
    mode: int | None = None,
    owner: tuple[int, int] | None = None,
) -> None:
    """Write `data` to a temp file beside `path` (same file system, so the rename is atomic),
    fsync it, give it `mode` (None: mkstemp's private 0600) and, when given and allowed,
    `owner` (uid, gid), then rename it over `path`. The temp file is removed on any failure."""
    import tempfile  # here: hooks import this module, and most of them never write a file

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if owner is not None and hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # not ours to give away; the mode is kept
                os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `lock_file` (created, its folder owner-only) for the block:
    one writer of a state file at a time across processes. No lock where there is no fcntl."""
    lock_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_file, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
