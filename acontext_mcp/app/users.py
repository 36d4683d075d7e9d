"""A user's data across the store, the disks and the skills: associate, show, forget.

Forgetting a user deletes, in this order (each step can be run again if one fails): their
sessions through forget's path (messages, tasks, events, learnings, unreferenced blobs;
refused while a learner run works on one), their disks (files, then rows and artifact
rows), their learning spaces and their skill associations.

Skill folders stay in the skills git repository, even those only this user was associated
with (`skills_only_theirs` in the plan names them): the repository is versioned and forget
never rewrites it (a deleted folder would live on in its history anyway), a skill may also
hold lessons from sessions no user was named on, and removing learned knowledge is a
reviewed change (delete the folder and commit, or `acontext-mcp skills revert COMMIT`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.disk.confine import disk_root
from acontext_mcp.disk.files import list_disks
from acontext_mcp.errors import NotFound
from acontext_mcp.skills import catalog
from acontext_mcp.skills import defaults as skill_defaults
from acontext_mcp.store import forget
from acontext_mcp.store import sessions as session_store
from acontext_mcp.store import users as user_store


def assign(
    conn: sqlite3.Connection,
    settings: Settings,
    user: str | None,
    *,
    sessions: Sequence[str] = (),
    disks: Sequence[str] = (),
    spaces: Sequence[str] = (),
    skills: Sequence[str] = (),
    remove: bool = False,
) -> dict[str, Any]:
    """Associate sessions, disks, spaces and skills with `user` (with `remove`: take them
    away from the user again). Everything named must exist."""
    session_store.check_user(user)
    if disks:
        known = {d["name"] for d in list_disks(conn, settings)}  # directories made by hand too
        missing = [d for d in disks if d not in known]
        if missing:
            raise NotFound(f"no disk {', '.join(map(repr, missing))}: `acontext-mcp disk ls`")
    if skills:
        skill_defaults.ensure_ready(settings)  # the default skills exist from first use
    for name in skills:
        catalog.get_skill(settings.skills_dir, name)  # NotFound names the known ones
    if remove and user is not None:  # take away only what is theirs
        for kind, names in (("session", sessions), ("disk", disks), ("space", spaces)):
            user_store.check_owned(conn, user, kind, list(names))
    owner = None if remove else user
    for sid in sessions:
        session_store.set_user(conn, sid, owner)
    for name in disks:
        user_store.assign_disk(conn, name, owner)
    for name in spaces:
        user_store.assign_space(conn, name, owner)
    for name in skills:
        if remove and user is not None:
            user_store.remove_skill(conn, user, name)
        elif user is not None:
            user_store.add_skill(conn, user, name)
    return {"user": user, "removed" if remove else "assigned": {
        "sessions": list(sessions), "disks": list(disks), "spaces": list(spaces),
        "skills": list(skills),
    }}  # fmt: skip


def show(conn: sqlite3.Connection, user: str) -> dict[str, Any]:
    return user_store.user_data(conn, user)


def plan(conn: sqlite3.Connection, user: str) -> dict[str, Any]:
    """What `forget_user` would delete, as counts (sessions as forget counts them)."""
    data = user_store.user_data(conn, user)
    ids = forget.select_sessions(conn, session_ids=data["sessions"]) if data["sessions"] else []
    session_counts = forget.plan(conn, ids) if ids else {"session_ids": [], "sessions": 0}
    return {
        "user": user,
        "sessions": session_counts,
        "disks": data["disks"],
        **user_store.disk_totals(conn, data["disks"]),
        "spaces": data["spaces"],
        "skill_links": len(data["skills"]),
        "skills_kept": data["skills"],
        "skills_only_theirs": user_store.skills_only_theirs(conn, user),
    }


def forget_user(conn: sqlite3.Connection, settings: Settings, user: str) -> dict[str, Any]:
    """Delete everything that carries `user` (see the module docstring); returns counts."""
    data = user_store.user_data(conn, user)
    only_theirs = user_store.skills_only_theirs(conn, user)
    out: dict[str, Any] = {"user": user}
    if data["sessions"]:
        ids = forget.select_sessions(conn, session_ids=data["sessions"])
        forget.refuse_if_learning(conn, ids)
        out["sessions"] = forget.forget(conn, settings, ids)
    else:
        out["sessions"] = {"session_ids": [], "sessions": 0}
    out["disk_files_removed"] = sum(_remove_disk_dir(settings, d) for d in data["disks"])
    out.update(user_store.delete_rows(conn, user, data["disks"]))
    out["skills_kept"] = data["skills"]
    out["skills_only_theirs"] = only_theirs
    return out


def _remove_disk_dir(settings: Settings, name: str) -> int:
    """Delete the disk's directory; returns how many files it held."""
    root: Path = disk_root(settings, name)
    if not root.is_dir() or root.is_symlink():
        return 0
    files = sum(len(f) for _d, _s, f in os.walk(root))
    shutil.rmtree(root)
    return files
