"""What learning left behind: junk, duplicate and contradicting entries; planted canaries found.

Entries are the pipeline's bullet lines with an evidence tail (skills/evidence.parse_entries).
- junk: an entry with nothing concrete to act on (no code span, path, flag or number);
- duplicates: entries saying the same (same normalised text) plus skill pairs the curator
  would merge (learn/curate.similar_pairs);
- contradictions: entries a newer one replaces (skills/contradict.resolve).
Canaries: the secret planted in each fixture project's `.env`, searched for in the data home,
the skills repository (files and full git history) and every synced skills folder.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from acontext_mcp.learn.curate import similar_pairs
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.skills import contradict
from acontext_mcp.skills.evidence import Entry, parse_entries

_CONCRETE = re.compile(r"`[^`]+`|\S+/\S+|--?\w|\d")


def entries(skills_dir: Path) -> list[tuple[str, Entry]]:
    """(repo-relative file, entry) for every learned entry in the skills repository."""
    out = []
    for path in sorted(skills_dir.rglob("*.md")):
        if ".git" in path.parts:
            continue
        rel = path.relative_to(skills_dir).as_posix()
        out += [(rel, e) for e in parse_entries(path.read_text(encoding="utf-8", errors="replace"))]
    return out


def learned_quality(skills_dir: Path) -> dict[str, int]:
    """{entries, junk, duplicates, contradictions} of the learned skills."""
    if not skills_dir.is_dir():
        return {"entries": 0, "junk": 0, "duplicates": 0, "contradictions": 0}
    found = entries(skills_dir)
    junk = sum(1 for _, e in found if not _CONCRETE.search(e.text))
    normal = [" ".join(re.findall(r"\w+", e.text.lower())) for _, e in found]
    duplicates = len(normal) - len(set(normal)) + len(similar_pairs(SkillWorkspace(skills_dir)))
    statements = [
        contradict.Statement(
            e.text,
            0.0,
            kind=contradict.TRAP if e.is_trap() else contradict.PROCEDURE,
            source=rel,
            order=i,
        )
        for i, (rel, e) in enumerate(found)
    ]
    contradictions = sum(1 for keep in contradict.resolve(statements) if not keep)
    return {
        "entries": len(found),
        "junk": junk,
        "duplicates": duplicates,
        "contradictions": contradictions,
    }


def canaries_found(tokens: list[str], roots: list[Path]) -> list[dict[str, Any]]:
    """Where any planted token shows up: files under `roots` (bytes, so SQLite pages and WAL
    count) and the git history of any repository among them."""
    found: list[dict[str, Any]] = []
    needles = [t.encode() for t in tokens]
    for root in roots:
        if not root.exists():
            continue
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            found += [{"where": str(path)} for n in needles if n in data]
        for git in [root / ".git", *root.glob("*/.git")] if root.is_dir() else []:
            log = subprocess.run(
                ["git", "-C", str(git.parent), "log", "-p", "--all"],
                capture_output=True,
                timeout=60,
                check=False,
            ).stdout
            found += [{"where": f"git history of {git.parent}"} for n in needles if n in log]
    return found
