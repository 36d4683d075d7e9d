"""Landing a learner run on disk: atomic writes, three-way merges and the crash journal.

Before `SkillWorkspace.apply()` writes a file it records in the journal (`JOURNAL`, in the git
directory) what it is about to write, so a run killed between writing and committing is finished
by `recover()` as the learner's commit, never mistaken for the user's edits.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import subprocess
import tempfile
from pathlib import Path

from acontext_mcp.fsio import replace_file
from acontext_mcp.learn.paths import Refused, check_rel_path
from acontext_mcp.skills import repo

log = logging.getLogger(__name__)

JOURNAL = "acontext-learn.json"
_TMP_PREFIX = ".acontext-write-"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace atomically, keeping an existing file's mode (a script stays executable); a new
    file is owner-only like the rest of the skills store."""
    mode: int | None
    try:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        mode = None
    replace_file(path, data, prefix=_TMP_PREFIX, mode=mode)
    _fsync_dir(path.parent)


def merge3(base: str | None, current: str | None, theirs: str | None) -> str | None:
    """Three-way merge (ours = the user's disk file, theirs = the learner's); None = conflict."""
    if current is None or theirs is None:
        return None  # one side deleted a file the other changed
    with tempfile.TemporaryDirectory(prefix="acontext-merge-") as tmp:
        names = []
        for label, text in (("current", current), ("base", base or ""), ("learner", theirs)):
            path = Path(tmp) / label
            path.write_bytes(text.encode("utf-8"))
            names.append(str(path))
        proc = subprocess.run(
            ["git", "merge-file", "-p", "-L", "yours", "-L", "base", "-L", "learner", *names],
            capture_output=True,
            timeout=60,
            check=False,
        )
    if proc.returncode != 0:
        if not 0 < proc.returncode < 128:
            raise repo.SkillsRepoError(f"git merge-file failed: {proc.stderr.decode().strip()}")
        return None
    try:
        return proc.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def recover(skills_dir: Path) -> str | None:
    """Finish a learner run that died between writing files and committing them.

    Files still holding what the journal says the learner wrote are committed as that learning;
    files the user changed since are left for the user-edit commit. Call before
    `repo.protect_user_edits`. Returns the commit sha, or None when there was nothing to do.
    """
    root = Path(skills_dir).expanduser().absolute()
    if not (root / ".git").exists():
        return None
    with contextlib.closing(repo.ensure_repo(root)) as git_repo:
        journal = Path(git_repo.git_dir) / JOURNAL
    if not journal.is_file():
        return None
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        files = data["files"]
        message = str(data["message"])
        if not isinstance(files, dict):
            raise TypeError("files is not a mapping")
    except (ValueError, KeyError, TypeError, OSError) as exc:
        log.warning("unreadable learner journal %s left aside: %s", journal, exc)
        journal.replace(journal.with_suffix(".broken"))
        return None
    real = Path(os.path.realpath(root))
    ours: list[str] = []
    for rel, digest in files.items():
        try:
            check_rel_path(rel)
        except Refused:
            log.warning("learner journal names a bad path %r; skipped", rel)
            continue
        _drop_temp_files((real / rel).parent)
        if _disk_digest(real / rel) == digest:
            ours.append(rel)
    sha = None
    if ours:
        sha = repo.commit_learning(
            root,
            message,
            session_id=data.get("session_ids") or None,
            task_id=data.get("task_ids") or None,
            paths=ours,
        )
    journal.unlink(missing_ok=True)
    return sha


def _disk_digest(path: Path) -> str | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return "not-a-file"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _drop_temp_files(folder: Path) -> None:
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if entry.name.startswith(_TMP_PREFIX) and entry.is_file() and not entry.is_symlink():
                entry.unlink()
