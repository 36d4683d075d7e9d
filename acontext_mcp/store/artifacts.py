"""The `artifacts` table: one row of derived metadata per file on a disk (its one writer).

Rows are keyed by (disk, directory "/a/b/", filename); disk/ decides when to write them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from acontext_mcp.store.db import dumps, loads


def split_path(disk_path: str) -> tuple[str, str]:
    """("/a/b.md") -> ("/a/", "b.md"): the row's `path` and `filename` columns."""
    directory, _, filename = disk_path.rpartition("/")
    return directory + "/", filename


def dir_prefix(disk_path: str) -> str:
    """Row `path` of files directly in directory `disk_path` ("/a" -> "/a/", "/" -> "/")."""
    return disk_path.rstrip("/") + "/"


def get(conn: sqlite3.Connection, disk_id: int, disk_path: str) -> sqlite3.Row | None:
    directory, filename = split_path(disk_path)
    return conn.execute(
        "SELECT * FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?",
        (disk_id, directory, filename),
    ).fetchone()


def upsert(
    conn: sqlite3.Connection,
    disk_id: int,
    disk_path: str,
    *,
    size: int,
    sha256: str,
    mime: str,
    now: float,
    meta: dict[str, Any] | None = None,
) -> None:
    """Create or refresh a row; `meta=None` keeps the user metadata a row already has."""
    directory, filename = split_path(disk_path)
    keep_meta = meta is None
    conn.execute(
        "INSERT INTO artifacts "
        "(disk_id, path, filename, size, sha256, mime, meta, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (disk_id, path, filename) DO UPDATE SET "
        "size = excluded.size, sha256 = excluded.sha256, mime = excluded.mime, "
        "meta = CASE WHEN ? THEN artifacts.meta ELSE excluded.meta END, "
        "updated_at = excluded.updated_at",
        (disk_id, directory, filename, size, sha256, mime, dumps(meta or {}), now, now, keep_meta),
    )


def delete(conn: sqlite3.Connection, disk_id: int, disk_path: str, *, tree: bool) -> int:
    """Remove the row of a file, or with `tree` every row below a directory; returns the count."""
    if not tree:
        directory, filename = split_path(disk_path)
        cur = conn.execute(
            "DELETE FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?",
            (disk_id, directory, filename),
        )
        return cur.rowcount
    prefix = dir_prefix(disk_path)
    cur = conn.execute(
        "DELETE FROM artifacts WHERE disk_id = ? AND substr(path, 1, ?) = ?",
        (disk_id, len(prefix), prefix),
    )
    return cur.rowcount


def move(
    conn: sqlite3.Connection, disk_id: int, src: str, dst: str, *, tree: bool, now: float
) -> None:
    """Re-key rows after a rename: one file's row, or with `tree` all rows below a directory."""
    if not tree:
        delete(conn, disk_id, dst, tree=False)
        src_dir, src_name = split_path(src)
        dst_dir, dst_name = split_path(dst)
        conn.execute(
            "UPDATE artifacts SET path = ?, filename = ?, updated_at = ? "
            "WHERE disk_id = ? AND path = ? AND filename = ?",
            (dst_dir, dst_name, now, disk_id, src_dir, src_name),
        )
        return
    old, new = dir_prefix(src), dir_prefix(dst)
    delete(conn, disk_id, dst, tree=True)  # Stale rows under the destination would collide.
    conn.execute(
        "UPDATE artifacts SET path = ? || substr(path, ?), updated_at = ? "
        "WHERE disk_id = ? AND substr(path, 1, ?) = ?",
        (new, len(old) + 1, now, disk_id, len(old), old),
    )


def to_dict(row: sqlite3.Row) -> dict[str, Any]:
    """Public shape of a row's metadata."""
    return {
        "size": row["size"],
        "sha256": row["sha256"],
        "mime": row["mime"],
        "meta": loads(row["meta"], {}),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
