"""Where our skills can be read from, and which skill a file path belongs to.

An agent reads a skill through its copy in a skills folder we sync into (Claude Code's
`~/.claude/skills`, a project's `.claude/skills`, OpenClaw's shared skills folder) or, now and
then, straight from the skills repository. The sync manifests under `<home>/sync/`
(skills/sync.py) name each folder we wrote to and the skills we own there, so a path maps back
to a skill only where the copy is ours: a user's own skill of the same name in that folder is
not counted. Standard library only and cheap (a few small JSON reads): capture calls this from
hooks when a transcript holds a file read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from acontext_mcp.config import Settings
from acontext_mcp.skills import SKILL_FILE


@dataclass(frozen=True)
class SkillFolders:
    """Skills folders (absolute, normalized) -> the skill names that are ours there (None:
    every non-hidden folder, the skills repository itself), and every skill name known."""

    roots: dict[str, frozenset[str] | None] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # what a Skill tool call of ours may name

    @property
    def basenames(self) -> frozenset[str]:
        """The folders' last path components: a command that names none of them reads none
        of our files (a cheap test before parsing it)."""
        return frozenset(os.path.basename(root) for root in self.roots)

    def locate(self, path: str, cwd: str | None = None) -> tuple[str, str] | None:
        """(skill, file inside it) for a path into one of our skill copies, else None.
        `~` is expanded and a relative path is taken from `cwd`; nothing is read from disk."""
        if not path:
            return None
        if path.startswith("~"):
            path = os.path.expanduser(path)
        if not os.path.isabs(path):
            if not cwd:
                return None
            path = os.path.join(cwd, path)
        path = os.path.normpath(path)
        for root, owned in self.roots.items():
            if not path.startswith(root + os.sep):
                continue
            skill, _sep, rel = path[len(root) + 1 :].partition(os.sep)
            if not skill or skill.startswith("."):
                continue
            if owned is None or skill in owned:
                return skill, rel.replace(os.sep, "/") or SKILL_FILE
        return None


def skill_folders(settings: Settings) -> SkillFolders:
    """The skills repository (every skill in it) and each folder a sync manifest names (the
    skills recorded there). A manifest that cannot be read is passed over: it only narrows
    what is recognised."""
    roots: dict[str, frozenset[str] | None] = {}
    names: set[str] = set()
    source = os.path.normpath(os.path.abspath(settings.skills_dir))
    try:
        with os.scandir(source) as entries:
            names.update(e.name for e in entries if not e.name.startswith(".") and e.is_dir())
        roots[source] = None
    except OSError:
        pass  # no skills repository yet
    sync_dir = settings.home / "sync"
    try:
        manifests = sorted(p for p in os.listdir(sync_dir) if p.endswith(".json"))
    except OSError:
        manifests = []
    for name in manifests:
        try:
            with open(sync_dir / name, encoding="utf-8") as fh:
                data = json.load(fh)
            target, skills = data["target"], data["skills"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(target, str) and isinstance(skills, dict):
            roots.setdefault(os.path.normpath(target), frozenset(skills))
            names.update(skills)
    return SkillFolders(roots, frozenset(names))
