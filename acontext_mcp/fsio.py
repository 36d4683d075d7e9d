"""Crash-safe file replacement: a reader sees the old file or the new one, never half of it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_file(
    path: Path, data: bytes, *, prefix: str = ".tmp-", mode: int | None = None
) -> None:
    """Write `data` to a temp file beside `path` (same file system, so the rename is atomic),
    fsync it, give it `mode` (None: mkstemp's private 0600), then rename it over `path`.
    The temp file is removed on any failure."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
