"""File operations on named disks: files under `settings.disks_dir/<name>`, rows in the store.

Content lives on the filesystem; `artifacts` rows are derived from it. Every change to both runs
inside one `atomic(conn)` transaction whose `BEGIN IMMEDIATE` write lock also serializes our
filesystem changes, so concurrent writers (threads with their own connections, or processes)
always leave a row that matches the file. Use one connection per thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import tempfile
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.disk import rows
from acontext_mcp.disk.confine import (
    DEFAULT_DISK,
    check_disk_name,
    confine,
    confine_entry,
    disk_path_of,
    disk_root,
    normalize,
)
from acontext_mcp.disk.content import decode_text, guess_mime, read_regular
from acontext_mcp.disk.walk import TEMP_PREFIX, TEMP_SUFFIX, inside, is_temp_name, scan_dir
from acontext_mcp.errors import InvalidInput, NotFound, PathEscape, TooLarge
from acontext_mcp.store import disks
from acontext_mcp.store.db import atomic, dumps, loads

MAX_META_BYTES = 64 * 1024

# --- Disks ---


def ensure_disk(conn: sqlite3.Connection, name: str) -> int:
    """Id of disk `name`, creating its row if needed (safe under concurrent callers)."""
    check_disk_name(name)
    return disks.add_disk(conn, name)


def list_disks(conn: sqlite3.Connection, settings: Settings | None = None) -> list[dict[str, Any]]:
    """All disks, "default" always among them; with `settings`, directories made by hand too."""
    ensure_disk(conn, DEFAULT_DISK)
    if settings is not None and settings.disks_dir.is_dir():
        for entry in os.scandir(settings.disks_dir):
            if entry.is_dir(follow_symlinks=False) and _valid_name(entry.name):
                ensure_disk(conn, entry.name)
    return [
        {"name": row["name"], "meta": loads(row["meta"], {}), "created_at": row["created_at"]}
        for row in disks.disk_rows(conn)
    ]


def _valid_name(name: str) -> bool:
    try:
        check_disk_name(name)
    except InvalidInput:
        return False
    return True


def _open_disk(
    conn: sqlite3.Connection, settings: Settings, name: str, *, create: bool = False
) -> tuple[int, Path]:
    """(disk id, root directory). Writes create disks; "default" always exists."""
    root = disk_root(settings, name)
    found = disks.disk_id(conn, name)
    if found is None and not (create or name == DEFAULT_DISK or root.is_dir()):
        raise NotFound(
            f"disk {name!r} does not exist; writing a file to it creates it "
            f"(or use the {DEFAULT_DISK!r} disk)"
        )
    disk_id = found if found is not None else ensure_disk(conn, name)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return disk_id, root


# --- Writing ---


def write_file(
    conn: sqlite3.Connection,
    settings: Settings,
    disk: str,
    path: str,
    content: str | bytes,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create or replace a file atomically: readers see the old or the new content, never a mix.

    `meta=None` keeps the metadata an existing file has; a dict replaces it.
    """
    data = _as_bytes(content)
    norm = normalize(path)
    if norm == "/":
        raise InvalidInput("cannot write to '/': give a file path such as '/notes/todo.md'")
    _check_name(norm)
    _check_size(norm, len(data), settings.max_artifact_bytes)
    if meta is not None:
        _check_meta(meta)
    disk_id, root = _open_disk(conn, settings, disk, create=True)
    real = confine(root, norm)
    if real.is_dir():
        raise InvalidInput(f"{norm!r} is a directory; write to a file path inside it")
    _make_parents(root, real.parent, norm)
    disk_path = disk_path_of(root, real)
    digest = sha256(data).hexdigest()
    mime = guess_mime(real.name)
    tmp = _write_temp(real, data)
    try:
        with atomic(conn):
            created = not real.exists()
            rows.upsert(
                conn,
                disk_id,
                disk_path,
                size=len(data),
                sha256=digest,
                mime=mime,
                now=time.time(),
                meta=meta,
            )
            try:
                os.replace(tmp, real)
            except IsADirectoryError as exc:
                raise InvalidInput(f"{norm!r} is a directory; write to a file inside it") from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return {
        "disk": disk,
        "path": disk_path,
        "size": len(data),
        "sha256": digest,
        "mime": mime,
        "created": created,
    }


def _as_bytes(content: str | bytes) -> bytes:
    if isinstance(content, str):
        return content.encode("utf-8")
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    raise InvalidInput(f"content must be text or bytes, got {type(content).__name__}")


def _check_name(norm: str) -> None:
    if is_temp_name(norm.rsplit("/", 1)[-1]):
        raise InvalidInput(
            f"{norm!r} is reserved for in-flight writes ({TEMP_PREFIX}*{TEMP_SUFFIX}); "
            "choose another name"
        )


def _check_size(norm: str, size: int, cap: int) -> None:
    if size > cap:
        raise _too_large(norm, size, cap)


def _too_large(norm: str, size: int, cap: int) -> TooLarge:
    return TooLarge(
        f"{norm!r} is {size} bytes, over the {cap}-byte cap for one disk file; "
        "split it into smaller files or raise ACONTEXT_MAX_ARTIFACT_BYTES"
    )


def _check_meta(meta: dict[str, Any]) -> None:
    if not isinstance(meta, dict) or not all(isinstance(key, str) for key in meta):
        raise InvalidInput("meta must be a JSON object with string keys")
    try:
        encoded = dumps(meta)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"meta must be JSON-serializable: {exc}") from exc
    if len(encoded.encode("utf-8")) > MAX_META_BYTES:
        raise TooLarge(f"meta is over {MAX_META_BYTES} bytes as JSON; keep metadata small")


def _make_parents(root: Path, parent: Path, norm: str) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InvalidInput(f"cannot create {norm!r}: a file is in the way of its folder") from exc
    # The parent was resolved before mkdir; re-check in case a link was swapped in meanwhile.
    if not inside(os.path.realpath(parent), os.path.realpath(root)):
        raise PathEscape(f"cannot create {norm!r}: its folder resolves outside the disk")


def _write_temp(real: Path, data: bytes) -> str:
    """Write `data` to a new, uniquely named file beside `real` (so os.replace is atomic).

    Not fsio.replace_file: the caller renames inside the transaction that records the file,
    so the row and the file change together."""
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=real.parent)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(real).st_mode & 0o7777)  # Keep the mode of a replaced file.
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


# --- Reading ---


def _existing_file(
    conn: sqlite3.Connection, settings: Settings, disk: str, path: str
) -> tuple[int, Path, Path, str]:
    """(disk id, root, real path, disk path) of an existing regular file."""
    norm = normalize(path)
    disk_id, root = _open_disk(conn, settings, disk)
    real = confine(root, norm, must_exist=True)
    if real.is_dir():
        raise InvalidInput(f"{norm!r} is a directory; list it instead of reading it")
    _check_regular(real, norm)
    return disk_id, root, real, disk_path_of(root, real)


def _check_regular(real: Path, norm: str) -> None:
    # A FIFO or device would block or never end a read; only regular files are content.
    if not os.path.isfile(real):
        raise InvalidInput(f"{norm!r} is not a regular file")


def _load(real: Path, disk_path: str, settings: Settings) -> bytes:
    data, size = read_regular(real, settings.max_artifact_bytes)
    if data is None:
        raise _too_large(disk_path, size, settings.max_artifact_bytes)
    return data


def read_bytes(conn: sqlite3.Connection, settings: Settings, disk: str, path: str) -> bytes:
    """Raw content of a file (up to the artifact size cap)."""
    _disk_id, _root, real, disk_path = _existing_file(conn, settings, disk, path)
    return _load(real, disk_path, settings)


def read_file(
    conn: sqlite3.Connection,
    settings: Settings,
    disk: str,
    path: str,
    *,
    offset: int = 0,
    limit: int | None = 200,
) -> dict[str, Any]:
    """A range of a text file's lines ('\\n'-separated, as grep counts them); offset is 0-based.

    `content` is the exact text of those lines, newlines included. An empty range has
    end_line < start_line.
    """
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"offset must be a line number >= 0, got {offset!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise InvalidInput(f"limit must be >= 1 (or None for the whole file), got {limit!r}")
    _disk_id, _root, real, disk_path = _existing_file(conn, settings, disk, path)
    data = _load(real, disk_path, settings)
    text = decode_text(data)
    if text is None:
        raise InvalidInput(
            f"{disk_path!r} is binary ({len(data)} bytes, {guess_mime(real.name)}) "
            "and cannot be shown as text"
        )
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    total = len(lines)
    if offset and offset >= total:
        raise InvalidInput(
            f"offset {offset} is past the end of {disk_path!r}, which has {total} lines"
        )
    end = total if limit is None else min(total, offset + limit)
    return {
        "path": disk_path,
        "content": "".join(lines[offset:end]),
        "start_line": offset + 1,
        "end_line": end,
        "total_lines": total,
        "truncated": end < total,
    }


def list_dir(
    conn: sqlite3.Connection, settings: Settings, disk: str, path: str = "/"
) -> dict[str, Any]:
    """One directory's entries: subdirectories (names ending in "/") and files, sorted."""
    norm = normalize(path)
    _disk_id, root = _open_disk(conn, settings, disk)
    real = confine(root, norm, must_exist=True)
    if not real.is_dir():
        raise InvalidInput(f"{norm!r} is a file, not a directory; read it instead")
    dirs: list[str] = []
    files: list[dict[str, Any]] = []
    for item in scan_dir(str(real), os.path.realpath(root)):
        if item.is_dir:
            dirs.append(item.name + "/")
            continue
        try:
            size = os.stat(item.real).st_size
        except OSError:
            continue  # Deleted while we listed.
        files.append({"name": item.name, "size": size, "mime": guess_mime(item.name)})
    files.sort(key=lambda f: f["name"])
    return {"path": rows.dir_prefix(disk_path_of(root, real)), "dirs": sorted(dirs), "files": files}


def stat(conn: sqlite3.Connection, settings: Settings, disk: str, path: str) -> dict[str, Any]:
    """Metadata of a file (size, sha256, mime, meta, times) or a directory (type only).

    A file without a row, or whose row is stale, gets its row (re)built here.
    """
    norm = normalize(path)
    disk_id, root = _open_disk(conn, settings, disk)
    real = confine(root, norm, must_exist=True)
    disk_path = disk_path_of(root, real)
    if real.is_dir():
        return {"disk": disk, "path": rows.dir_prefix(disk_path), "type": "dir"}
    _check_regular(real, norm)
    return {
        "disk": disk,
        "path": disk_path,
        "type": "file",
        **_fresh_row(conn, disk_id, real, disk_path),
    }


def update_meta(
    conn: sqlite3.Connection,
    settings: Settings,
    disk: str,
    path: str,
    meta: dict[str, Any],
    *,
    replace: bool = False,
) -> dict[str, Any]:
    """Merge `meta` into a file's user metadata (or replace it all); returns the file's stat."""
    _check_meta(meta)
    disk_id, _root, real, disk_path = _existing_file(conn, settings, disk, path)
    row = _fresh_row(conn, disk_id, real, disk_path, meta=meta, replace=replace)
    return {"disk": disk, "path": disk_path, "type": "file", **row}


def _fresh_row(
    conn: sqlite3.Connection,
    disk_id: int,
    real: Path,
    disk_path: str,
    *,
    meta: dict[str, Any] | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    """The file's row, rebuilt from the file if missing or stale, with `meta` merged in."""
    size, digest = rows.hash_file(str(real))
    with atomic(conn):  # Read-merge-write under the write lock: no lost metadata updates.
        row = rows.get(conn, disk_id, disk_path)
        stale = row is None or row["sha256"] != digest or row["size"] != size
        if stale or meta is not None:
            merged = None
            if meta is not None:
                merged = dict(meta) if replace or row is None else loads(row["meta"], {}) | meta
            _check_meta(merged or {})
            rows.upsert(
                conn,
                disk_id,
                disk_path,
                size=size,
                sha256=digest,
                mime=guess_mime(real.name),
                now=time.time(),
                meta=merged,
            )
            row = rows.get(conn, disk_id, disk_path)
    assert row is not None
    return rows.to_dict(row)


# --- Deleting and moving ---


def delete(
    conn: sqlite3.Connection,
    settings: Settings,
    disk: str,
    path: str,
    *,
    recursive: bool = False,
) -> dict[str, Any]:
    """Delete a file or an empty directory; a non-empty directory needs `recursive=True`.

    A symlink is removed itself, never its target.
    """
    norm = normalize(path)
    if norm == "/":
        raise InvalidInput("cannot delete the disk root '/'; delete the files in it instead")
    disk_id, root = _open_disk(conn, settings, disk)
    entry = confine_entry(root, norm)
    if not os.path.lexists(entry):
        raise NotFound(f"{norm!r} does not exist on disk {disk!r}")
    disk_path = disk_path_of(root, entry)
    with atomic(conn):
        if entry.is_symlink() or not entry.is_dir():
            rows.delete(conn, disk_id, disk_path, tree=False)
            os.unlink(entry)
            return {"disk": disk, "path": disk_path, "deleted": "file", "files_removed": 1}
        rows.delete(conn, disk_id, disk_path, tree=True)
        removed = sum(len(files) for _dir, _subdirs, files in os.walk(entry))
        if recursive:
            shutil.rmtree(entry)
        else:
            try:
                os.rmdir(entry)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise InvalidInput(
                    f"{norm!r} is a directory that is not empty; pass recursive=True to delete "
                    "it with everything in it"
                ) from exc
    return {
        "disk": disk,
        "path": rows.dir_prefix(disk_path),
        "deleted": "dir",
        "files_removed": removed,
    }


def move(
    conn: sqlite3.Connection,
    settings: Settings,
    disk: str,
    src: str,
    dst: str,
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Rename a file or directory within a disk (a symlink moves itself, not its target).

    An existing destination file is replaced only with `overwrite=True`; an existing
    destination directory is never replaced.
    """
    src_norm, dst_norm = normalize(src), normalize(dst)
    if "/" in (src_norm, dst_norm):
        raise InvalidInput("cannot move the disk root '/' or onto it; name a file or folder")
    _check_name(dst_norm)
    if dst_norm == src_norm:
        raise InvalidInput(f"source and destination are the same path {src_norm!r}")
    if dst_norm.startswith(src_norm + "/"):
        raise InvalidInput(f"cannot move {src_norm!r} into itself ({dst_norm!r})")
    disk_id, root = _open_disk(conn, settings, disk)
    source = confine_entry(root, src_norm)
    if not os.path.lexists(source):
        raise NotFound(f"{src_norm!r} does not exist on disk {disk!r}")
    target = confine_entry(root, dst_norm)
    is_tree = source.is_dir() and not source.is_symlink()
    with atomic(conn):
        if os.path.lexists(target):
            if target.is_dir() and not target.is_symlink():
                raise InvalidInput(
                    f"{dst_norm!r} is an existing directory; give the full new path instead"
                )
            if is_tree:
                raise InvalidInput(f"cannot replace the file {dst_norm!r} with a directory")
            if not overwrite:
                raise InvalidInput(f"{dst_norm!r} exists; pass overwrite=True to replace it")
        _make_parents(root, target.parent, dst_norm)
        src_path, dst_path = disk_path_of(root, source), disk_path_of(root, target)
        rows.move(conn, disk_id, src_path, dst_path, tree=is_tree, now=time.time())
        os.rename(source, target)
    if is_tree:
        src_path, dst_path = rows.dir_prefix(src_path), rows.dir_prefix(dst_path)
    return {"disk": disk, "src": src_path, "dst": dst_path, "type": "dir" if is_tree else "file"}
