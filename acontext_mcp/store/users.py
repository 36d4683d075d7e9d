"""Users: the identifier an application gives its end user, on sessions, disks, learning
spaces and skills (m012). There is no users table: a user exists while something carries
the identifier, as in the reference, where `user` is a field of each object.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.store.db import atomic
from acontext_mcp.store.sessions import check_user

SHARED_DISK = "default"  # every caller's disk: never one user's
SHARED_SPACE = "default"  # where captured sessions learn unless configured otherwise

_OWNED = (
    ("sessions", "SELECT user, COUNT(*) FROM sessions WHERE user IS NOT NULL GROUP BY user"),
    ("disks", "SELECT user, COUNT(*) FROM disks WHERE user IS NOT NULL GROUP BY user"),
    ("spaces", "SELECT user, COUNT(*) FROM learning_spaces WHERE user IS NOT NULL GROUP BY user"),
    ("skills", "SELECT user, COUNT(*) FROM user_skills GROUP BY user"),
)


def list_users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every user identifier in use, with how many sessions, disks, spaces and skills carry it."""
    found: dict[str, dict[str, Any]] = {}
    for kind, sql in _OWNED:
        for user, count in conn.execute(sql):
            row = found.setdefault(user, {"user": user, **{k: 0 for k, _ in _OWNED}})
            row[kind] = count
    return [found[u] for u in sorted(found)]


def user_data(conn: sqlite3.Connection, user: str) -> dict[str, Any]:
    """What carries `user`: session ids, disk names, space names, skill names. NotFound when
    nothing does."""
    check_user(user)
    out = {
        "user": user,
        "sessions": [
            r[0]
            for r in conn.execute(
                "SELECT id FROM sessions WHERE user = ? ORDER BY updated_at DESC, id", (user,)
            )
        ],
        "disks": [
            r[0]
            for r in conn.execute("SELECT name FROM disks WHERE user = ? ORDER BY name", (user,))
        ],
        "spaces": [
            r[0]
            for r in conn.execute(
                "SELECT name FROM learning_spaces WHERE user = ? ORDER BY name", (user,)
            )
        ],
        "skills": [
            r[0]
            for r in conn.execute(
                "SELECT skill FROM user_skills WHERE user = ? ORDER BY skill", (user,)
            )
        ],
    }
    if not any(out[k] for k in ("sessions", "disks", "spaces", "skills")):
        raise NotFound(f"no user {user!r}: `acontext-mcp users list` shows the known ones")
    return out


def skills_only_theirs(conn: sqlite3.Connection, user: str) -> list[str]:
    """The user's skills no other user is associated with."""
    rows = conn.execute(
        "SELECT skill FROM user_skills WHERE user = ? AND skill NOT IN "
        "(SELECT skill FROM user_skills WHERE user != ?) ORDER BY skill",
        (user, user),
    )
    return [r[0] for r in rows]


def disk_totals(conn: sqlite3.Connection, names: list[str]) -> dict[str, int]:
    """Artifact rows and their bytes on these disks."""
    row = conn.execute(
        "SELECT COUNT(a.id), COALESCE(SUM(a.size), 0) FROM artifacts a JOIN disks d "
        "ON d.id = a.disk_id WHERE d.name IN (SELECT value FROM json_each(?))",
        (_json_list(names),),
    ).fetchone()
    return {"artifacts": int(row[0]), "artifact_bytes": int(row[1])}


def _json_list(values: list[str]) -> str:
    from acontext_mcp.store.db import dumps

    return dumps(list(values))


# --- Associating ---

_OWNER = {
    "session": "SELECT user FROM sessions WHERE id = ?",
    "disk": "SELECT user FROM disks WHERE name = ?",
    "space": "SELECT user FROM learning_spaces WHERE name = ?",
}


def check_owned(conn: sqlite3.Connection, user: str, kind: str, names: list[str]) -> None:
    """InvalidInput unless every one of `names` (sessions, disks or spaces) is `user`'s."""
    others = [
        n for n in names if (row := conn.execute(_OWNER[kind], (n,)).fetchone()) and row[0] != user
    ]
    if others:
        raise InvalidInput(
            f"{kind} {', '.join(map(repr, others))} is not {user!r}'s: nothing was changed "
            f"(`acontext-mcp users show {user}` lists theirs)"
        )


def assign_disk(conn: sqlite3.Connection, name: str, user: str | None) -> None:
    """Give the disk (its row must exist) to `user`, or to nobody."""
    check_user(user)
    if user is not None and name == SHARED_DISK:
        raise InvalidInput(
            f"disk {SHARED_DISK!r} is shared by every caller; give the user a disk of their own"
        )
    with atomic(conn):
        if not conn.execute("UPDATE disks SET user = ? WHERE name = ?", (user, name)).rowcount:
            raise NotFound(f"no disk {name!r}: `acontext-mcp disk ls` lists them")


def assign_space(conn: sqlite3.Connection, name: str, user: str | None) -> None:
    """Give the learning space to `user`, or to nobody."""
    check_user(user)
    if user is not None and name == SHARED_SPACE:
        raise InvalidInput(
            f"space {SHARED_SPACE!r} is where every session learns by default; create a space "
            "for the user (`acontext-mcp spaces create NAME`)"
        )
    with atomic(conn):
        cur = conn.execute("UPDATE learning_spaces SET user = ? WHERE name = ?", (user, name))
        if not cur.rowcount:
            raise NotFound(f"no learning space {name!r}: `acontext-mcp spaces` lists them")


def add_skill(conn: sqlite3.Connection, user: str, skill: str) -> None:
    check_user(user)
    with atomic(conn):
        conn.execute(
            "INSERT OR IGNORE INTO user_skills (user, skill, created_at) VALUES (?, ?, ?)",
            (user, skill, time.time()),
        )


def remove_skill(conn: sqlite3.Connection, user: str, skill: str) -> bool:
    with atomic(conn):
        cur = conn.execute("DELETE FROM user_skills WHERE user = ? AND skill = ?", (user, skill))
    return cur.rowcount == 1


# --- Deleting ---


def delete_rows(conn: sqlite3.Connection, user: str, disks: list[str]) -> dict[str, int]:
    """Delete the user's disk rows (their artifact rows cascade), learning spaces (other
    sessions attached to one are detached: their next learn attaches them anew) and skill
    associations, in one transaction. Sessions go through forget, files through the caller."""
    names = _json_list(disks)
    with atomic(conn):
        artifacts = conn.execute(
            "SELECT COUNT(*) FROM artifacts WHERE disk_id IN "
            "(SELECT id FROM disks WHERE name IN (SELECT value FROM json_each(?)))",
            (names,),
        ).fetchone()[0]
        disk_count = conn.execute(
            "DELETE FROM disks WHERE name IN (SELECT value FROM json_each(?))", (names,)
        ).rowcount
        detached = conn.execute(
            "DELETE FROM space_sessions WHERE space IN "
            "(SELECT name FROM learning_spaces WHERE user = ?)",
            (user,),
        ).rowcount
        spaces = conn.execute("DELETE FROM learning_spaces WHERE user = ?", (user,)).rowcount
        skills = conn.execute("DELETE FROM user_skills WHERE user = ?", (user,)).rowcount
    return {
        "disks": disk_count,
        "artifacts": artifacts,
        "spaces": spaces,
        "sessions_detached": detached,
        "skill_links": skills,
    }
