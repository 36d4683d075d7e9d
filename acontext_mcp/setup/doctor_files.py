"""Doctor's checks of the data home's files: can we write there, is the database whole, are
the modes owner-only.

Each failure names its cause, because the fixes differ: permission bits too tight (chmod), a
file system mounted read-only (no chmod can help: remount, or move the home), a damaged
database (recover into a new file, never keep writing into it), modes too loose (`doctor
--fix` tightens them).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.private import loose_paths, read_only_fs, tighten
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.store import integrity

SHOWN = 5  # loose paths named in the report; the rest are counted


def check_writable(report: Report, settings: Settings) -> bool:
    """Whether the store can be opened for writing; if not, says why and how to fix it."""
    home, db = settings.home, settings.db_path
    if read_only_fs(home):
        report.add(
            "store",
            "fail",
            f"the file system holding {home} is mounted read-only: nothing can be captured "
            "or learned there (permissions are not the problem)",
            "remount it read-write, or point ACONTEXT_HOME at a directory on a writable disk",
        )
        return False
    needs = ((home, os.W_OK | os.X_OK, "u+rwx"), (db, os.R_OK | os.W_OK, "u+rw"))
    tight = [(p, w, f) for p, w, f in needs if p.exists() and not os.access(p, w)]
    if tight:
        names = ", ".join(str(path) for path, _, _ in tight)
        fixes = " && ".join(f"chmod {flag} {path}" for path, _, flag in tight)
        report.add("store", "fail", f"{names} is not readable and writable by this user", fixes)
        return False
    return True


def check_integrity(report: Report, settings: Settings) -> bool:
    """Run SQLite's consistency check before anything writes; False when the store is
    damaged (it is then marked read-only for every writer, see store/integrity.py)."""
    db = settings.db_path
    if not db.exists() or db.stat().st_size == 0:
        integrity.clear_damaged(db)  # the damaged file was moved away
        return True
    try:
        pragma, problems = integrity.check(db)
    except sqlite3.Error as exc:
        report.add("store", "warn", f"could not check {db} for damage: {exc}")
        return True
    if problems:
        integrity.mark_damaged(db, pragma, problems)
        shown = "; ".join(problems[:3])[:400]
        report.add(
            "store",
            "fail",
            f"database {db} is damaged ({pragma} found {_count(problems)}: {shown}); "
            "acontext-mcp no longer writes into it",
            integrity.recovery_steps(db),
        )
        return False
    integrity.clear_damaged(db)
    return True


def check_modes(report: Report, settings: Settings, *, fix: bool) -> None:
    """Flag anything in the data home that group or others can use; with `fix`, tighten it."""
    home = settings.home
    found = list(loose_paths(home))
    if not found:
        if home.exists():
            report.add("modes", "ok", f"{home} is private to its owner (dirs 0700, files 0600)")
        return
    listed = ", ".join(f"{oct(_mode(p))[2:]} {p}" for p in found[:SHOWN])
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    what = f"{len(found)} path(s) in the data home can be read or entered by other users: "
    if read_only_fs(home):
        report.add(
            "modes",
            "fail",
            what + listed + more + "; the file system is mounted read-only, so they cannot be "
            "changed there",
            "remount it read-write, then run acontext-mcp doctor --fix",
        )
        return
    if not fix:
        report.add(
            "modes",
            "fail",
            what + listed + more,
            f"acontext-mcp doctor --fix (or: chmod -R go-rwx {home})",
        )
        return
    failed, kept = [], []
    for path in found:
        try:
            tighten(path)
        except OSError as exc:
            failed.append(f"{path}: {exc.strerror}")
            continue
        if _mode(path) & 0o077:
            kept.append(path)
    if kept:
        report.add(
            "modes",
            "fail",
            f"{len(kept)} path(s) kept their modes after chmod, e.g. {kept[0]}: the file system "
            "does not store Unix permissions (FAT, exFAT, a Windows drive)",
            "move the data home to a Unix file system (set ACONTEXT_HOME), or mount this one "
            "with owner-only umask options (e.g. umask=077)",
        )
    elif failed:
        report.add(
            "modes",
            "fail",
            f"could not tighten {len(failed)} of {len(found)} path(s): {'; '.join(failed[:3])}",
            "they belong to another user: sudo chown -R $USER " + str(home),
        )
    else:
        report.add("modes", "ok", f"tightened {len(found)} path(s) to owner-only: {listed}{more}")


def _count(problems: list[str]) -> str:
    many = len(problems) >= integrity.MAX_PROBLEMS  # SQLite stopped listing there
    return f"{len(problems)}{'+' if many else ''} problem{'s' * (len(problems) > 1)}"


def _mode(path: Path) -> int:
    try:
        return path.lstat().st_mode & 0o777
    except OSError:
        return 0
