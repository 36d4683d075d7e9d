"""One small error hierarchy. Messages say what to do next; edges translate them once."""

from __future__ import annotations

import errno


class AcontextError(Exception):
    """Base for every error a user or a model can act on."""


class NotFound(AcontextError):
    """A session, message, artifact, disk or skill does not exist."""


class InvalidInput(AcontextError):
    """Arguments or payloads that cannot be accepted as given."""


class PathEscape(InvalidInput):
    """A path would leave the root it is confined to."""


class TooLarge(InvalidInput):
    """A payload is over a configured size cap."""


class SearchTimeout(AcontextError):
    """A search ran past its time bound (results so far may still be returned)."""


class SchemaTooNew(AcontextError):
    """The database was written by a newer acontext-mcp than this one."""


class StorageFull(AcontextError):
    """The file system holding the data home has no space left (SQLITE_FULL, ENOSPC)."""


class StorageReadOnly(AcontextError):
    """The data home cannot be written (read-only mount or database)."""


_SQLITE_FULL, _SQLITE_READONLY = 13, 8
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_READONLY_ERRNOS = {errno.EROFS}

DISK_FULL = (
    "disk full: the file system holding the data home has no space left, so nothing was "
    "stored; free some space (or move ACONTEXT_HOME) and retry"
)
READ_ONLY = (
    "the data home is read-only, so nothing can be stored; make it writable (or point "
    "ACONTEXT_HOME at a writable directory) and retry"
)


def storage_error(exc: BaseException) -> AcontextError | None:
    """The plain cause behind a storage failure anywhere in `exc`'s chain: a full disk or a
    read-only data home (SQLite's follow-on errors, such as `no such savepoint`, hide it)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageFull | StorageReadOnly):
            return current
        code = getattr(current, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        err = current.errno if isinstance(current, OSError) else None
        if primary == _SQLITE_FULL or err in _FULL_ERRNOS:
            return StorageFull(DISK_FULL)
        if primary == _SQLITE_READONLY or err in _READONLY_ERRNOS:
            return StorageReadOnly(READ_ONLY)
        current = current.__cause__ or current.__context__
    return None
