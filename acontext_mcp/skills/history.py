"""Each skill's history in the skills repository, read in one `git log`: who made it (a
learning or a person), when it last changed, which sessions taught it.

Retirement (learn/retire.py) only retires what was learned: a skill whose first commit is a
learning (`Acontext-Kind: learning`, the learner's or an accepted proposal's commit). A skill a
person wrote (their own commit, or one kept as `user-edits` before a learning) stays theirs,
even after the learner added entries to it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_KIND = "Acontext-Kind:"
_SESSION = "Acontext-Session:"


@dataclass
class SkillHistory:
    """`created_by`: the kind of the commit that first added the skill ("learning",
    "user-edits", "revert", or "other" for a commit without our trailer)."""

    name: str
    created_by: str = "other"
    created_at: float = 0.0
    last_change: float = 0.0
    sessions: list[str] = field(default_factory=list)

    @property
    def learned(self) -> bool:
        return self.created_by == "learning"


def _kind(message: str) -> str:
    for line in message.splitlines():
        if line.startswith(_KIND):
            return line[len(_KIND) :].strip() or "other"
    return "other"


def _sessions(message: str) -> list[str]:
    return [
        line[len(_SESSION) :].strip() for line in message.splitlines() if line.startswith(_SESSION)
    ]


def skill_histories(root: Path | str) -> dict[str, SkillHistory]:
    """Skill folder name -> its history on the checked-out branch (empty without commits)."""
    done = subprocess.run(
        ["git", "-C", str(root), "log", "--reverse", "--no-renames", "--name-only",
         "--format=%x1e%H%x1f%ct%x1f%B%x1f"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return {}  # no commits yet
    found: dict[str, SkillHistory] = {}
    for record in done.stdout.decode("utf-8", errors="replace").split("\x1e"):
        if not record.strip():
            continue
        _sha, when, message, names = record.split("\x1f", 3)
        at = float(when or 0)
        kind = _kind(message)
        sessions = _sessions(message) if kind == "learning" else []
        for skill in {n.split("/", 1)[0] for n in names.split("\n") if "/" in n}:
            history = found.get(skill)
            if history is None:
                history = found[skill] = SkillHistory(skill, kind, at)
            history.last_change = max(history.last_change, at)
            history.sessions.extend(s for s in sessions if s not in history.sessions)
    return found


def skill_files(root: Path | str, skill: str) -> list[str]:
    """The repository paths of `skill`'s files at HEAD (what retiring it deletes)."""
    done = subprocess.run(
        ["git", "-C", str(root), "--literal-pathspecs", "ls-tree", "-r", "-z", "--name-only",
         "HEAD", "--", f"{skill}/"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return []
    return [p for p in done.stdout.decode("utf-8", errors="replace").split("\0") if p]


def commit_patch(root: Path | str, sha: str, *, max_bytes: int) -> tuple[str, bool]:
    """The patch of commit `sha` (a full sha the caller resolved, e.g. through repo.log) and
    whether it was cut at `max_bytes`: a curation commit over thousands of skills must fill
    neither memory nor a page, so git's output is read only that far."""
    proc = subprocess.Popen(
        ["git", "-C", str(root), "show", "--format=", "--patch", "--no-color", "--no-ext-diff",
         "--no-textconv", sha, "--"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    with proc.stdout:
        data = proc.stdout.read(max_bytes + 1)
    cut = len(data) > max_bytes
    if cut:
        proc.kill()
    proc.wait()
    text = data[:max_bytes].decode("utf-8", errors="replace")
    if cut:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    return text, cut


def commit_files(
    root: Path | str, sha: str, *, limit: int = 500
) -> tuple[list[tuple[str, str]], int]:
    """(status letter A/M/D/T, path) of the first `limit` files commit `sha` changed, and how
    many it changed in all. Compares trees only (no file content is read), so a commit over
    every skill costs little; a merge lists nothing (git diff-tree's default)."""
    done = subprocess.run(
        ["git", "-C", str(root), "diff-tree", "-r", "--root", "--no-commit-id", "--no-renames",
         "--name-status", "-z", sha, "--"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    fields = done.stdout.decode("utf-8", errors="replace").split("\0")
    pairs = [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i + 1]]
    return pairs[:limit], len(pairs)
