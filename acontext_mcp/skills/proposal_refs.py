"""Where proposals live in the skills repository, and how many wait, without running git.

Standard library only: the SessionStart brief counts pending proposals inside a hook, so it
reads the ref files and `packed-refs` directly instead of starting a git process.
"""

from __future__ import annotations

import os
from pathlib import Path

PENDING = "refs/heads/proposals/"
ACCEPTED = "refs/acontext/accepted/"
REJECTED = "refs/acontext/rejected/"


def waiting_count(skills_dir: Path) -> int:
    """How many proposals wait for review (pending or stale); 0 when there is no repository.

    Loose refs under .git/refs/heads/proposals/ and packed ones in .git/packed-refs, each
    counted once (a ref can be in both after `git pack-refs` and an update)."""
    gitdir = Path(skills_dir) / ".git"
    names: set[str] = set()
    loose = str(gitdir / PENDING)
    for folder, _, files in os.walk(loose):  # a missing folder yields nothing
        inner = os.path.relpath(folder, loose)
        for name in files:
            if not name.endswith(".lock"):
                names.add(name if inner == "." else f"{inner}/{name}")
    try:
        packed = (gitdir / "packed-refs").read_text(encoding="utf-8", errors="replace")
    except OSError:
        packed = ""
    for line in packed.splitlines():
        _, _, name = line.partition(" ")
        if not line.startswith(("#", "^")) and name.startswith(PENDING):
            names.add(name[len(PENDING) :])
    return len(names)
