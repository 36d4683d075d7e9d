"""Signs of an unfinished merge in the skills repository, found without running git.

A merge, rebase, revert or cherry-pick that stopped on a conflict leaves a marker in `.git`
and conflict markers (`<<<<<<<` ... `>>>>>>>`) in the files. Neither half-merged state may be
copied into an agent's skills or called valid. Standard library only: the session-start sync
(a hook) checks this.
"""

from __future__ import annotations

import re
from pathlib import Path

# What each marker means, and the command that gets out of it.
OPERATIONS = {
    "MERGE_HEAD": ("a merge", "git merge --continue", "git merge --abort"),
    "rebase-merge": ("a rebase", "git rebase --continue", "git rebase --abort"),
    "rebase-apply": ("a rebase", "git rebase --continue", "git rebase --abort"),
    "CHERRY_PICK_HEAD": ("a cherry-pick", "git cherry-pick --continue", "git cherry-pick --abort"),
    "REVERT_HEAD": ("a revert", "git revert --continue", "git revert --abort"),
}
_OPEN = re.compile(r"^<{7}(?: |$)", re.MULTILINE)
_CLOSE = re.compile(r"^>{7}(?: |$)", re.MULTILINE)


def _git_dir(root: Path) -> Path | None:
    dot_git = Path(root) / ".git"
    if dot_git.is_dir():
        return dot_git
    try:  # a worktree or submodule: ".git" is a file saying "gitdir: <path>"
        first = dot_git.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    if not first.startswith("gitdir:"):
        return None
    path = Path(first[len("gitdir:") :].strip())
    return path if path.is_absolute() else Path(root) / path


def operation_in_progress(root: Path) -> str | None:
    """A sentence naming the unfinished git operation in `root` and how to end it, or None."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    for marker, (what, cont, abort) in OPERATIONS.items():
        if (git_dir / marker).exists():
            return (
                f"the skills repository {root} is in the middle of {what} ({marker}); fix the "
                f"conflicted files, `git add` them and run `{cont}`, or undo it with `{abort}`"
            )
    return None


def conflict_marker_line(text: str) -> int | None:
    """1-based line of the first `<<<<<<<` that a later `>>>>>>>` closes, or None."""
    start = _OPEN.search(text)
    if start is None or _CLOSE.search(text, start.end()) is None:
        return None
    return text.count("\n", 0, start.start()) + 1
