"""Learned bullets of the default skills, read for the SessionStart brief: the current project's
runbook (`project-runbooks/projects/<slug>.md`) and the user's facts (`user-general-facts/
<topic>.md`).

Both evidence entries (skills/evidence.py) and the user's own plain bullets are read; a bullet
knows its file, section, line and the file's modification time, so contradictions can be
resolved by age (skills/contradict.py). Only those files are read, never the whole skills
directory: a brief at thousands of skills costs what it costs at three. Bounded reads through
skills/contained.py (no link followed); a file that cannot be read gives no bullets, never an
error. Standard library only: it runs inside a hook.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from acontext_mcp.skills import SKILL_FILE, contained
from acontext_mcp.skills.evidence import is_trap_section, parse_line

RUNBOOKS = "project-runbooks"
FACTS = "user-general-facts"
MAX_BYTES = 512 * 1024  # one file; a bigger one gives no bullets (the curator compacts it)
MAX_FACT_FILES = 64
# Patterns as text: compiled by `re` on first use, not at the hook's import.
_PLAIN = r"^- \*\*(?P<title>[^*\n]+?)\*\*:?\s*(?P<body>.*)$"
_SLUG_CHARS = r"[^a-z0-9]+"


class Bullet:
    """One top-level bullet of a skill file. `last` is "" for a plain bullet (no evidence).
    A plain class, not a dataclass: the hook imports this module."""

    __slots__ = (
        "last", "mtime", "order", "path", "section", "seen", "skill", "text", "title", "verified",
    )  # fmt: skip

    def __init__(
        self,
        skill: str,
        path: str,
        section: str,
        title: str,
        text: str,
        seen: int,
        verified: int,
        last: str,
        order: int,
        mtime: float,
    ) -> None:
        self.skill = skill
        self.path = path
        self.section = section
        self.title = title
        self.text = text
        self.seen = seen
        self.verified = verified
        self.last = last
        self.order = order
        self.mtime = mtime

    @property
    def plain(self) -> bool:
        return not self.last

    @property
    def is_trap(self) -> bool:
        return is_trap_section(self.section)

    @property
    def statement(self) -> str:
        return f"{self.title}: {self.text}" if self.title else self.text

    @property
    def when(self) -> float:
        """The day it was last seen (local midnight), or the file's mtime for a plain one."""
        if self.plain:
            return self.mtime
        try:  # not strptime: its first call costs a hook ~10 ms of locale set-up
            year, month, day = (int(part) for part in self.last.split("-"))
            return time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
        except (ValueError, OverflowError):
            return 0.0


def runbook_path(slug: str) -> str:
    return f"projects/{slug}.md"


def read_bullets(skills_dir: Path, skill: str, path: str) -> list[Bullet]:
    """The bullets of `skill/path`, in file order; [] when it cannot be read."""
    rel = f"{skill}/{path}"
    try:
        data, st = contained.read_file(skills_dir, rel, max_bytes=MAX_BYTES)
    except Exception:  # missing, a link, too large, unreadable: no bullets, no brief error
        return []
    mtime = st.st_mtime
    text = data.decode("utf-8", errors="replace")
    out: list[Bullet] = []
    section = ""
    for number, line in enumerate(text.splitlines()):
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("- "):
            continue
        entry = parse_line(line, section)
        if entry is not None:
            out.append(
                Bullet(
                    skill, path, section, entry.title, entry.text, entry.seen, entry.verified,
                    entry.last, number, mtime,
                )
            )  # fmt: skip
            continue
        title, body = "", line[2:].strip()
        head = re.match(_PLAIN, line.rstrip())
        if head:
            title, body = head.group("title").strip(), head.group("body").strip()
        if body or title:
            out.append(Bullet(skill, path, section, title, body, 0, 0, "", number, mtime))
    return out


def runbook_bullets(skills_dir: Path, slug: str) -> list[Bullet]:
    return read_bullets(skills_dir, RUNBOOKS, runbook_path(slug))


def fact_bullets(skills_dir: Path) -> list[Bullet]:
    """The bullets of the user-general-facts topic files (`<topic>.md` at the skill's top),
    files in name order; at most MAX_FACT_FILES files."""
    folder = skills_dir / FACTS
    try:
        with os.scandir(folder) as entries:
            names = sorted(
                e.name
                for e in entries
                if e.name.endswith(".md")
                and e.name != SKILL_FILE
                and not e.name.startswith(".")
                and e.is_file(follow_symlinks=False)
            )
    except OSError:
        return []
    out: list[Bullet] = []
    for name in names[:MAX_FACT_FILES]:
        out += read_bullets(skills_dir, FACTS, name)
    return out


def project_slugs(skills_dir: Path) -> set[str]:
    """The projects the runbooks know (one listing of one folder)."""
    try:
        with os.scandir(skills_dir / RUNBOOKS / "projects") as entries:
            return {e.name[:-3] for e in entries if e.name.endswith(".md") and len(e.name) > 3}
    except OSError:
        return set()


def slug_words(text: str) -> str:
    """`text` as `-word-word-`: a slug is named when `-<slug>-` occurs in it."""
    return f"-{re.sub(_SLUG_CHARS, '-', text.casefold()).strip('-')}-"


def names_slug(text: str, slug: str) -> bool:
    return f"-{slug}-" in slug_words(text)


def code_words(bullets: list[Bullet]) -> set[str]:
    """The words of the bullets' code spans: the tools and commands a project uses."""
    words: set[str] = set()
    for bullet in bullets:
        for span in re.findall(r"`([^`]*)`", bullet.text):
            words.update(w for w in re.findall(r"[a-z][a-z0-9_+-]+", span.casefold()))
    return words


def named_slugs(text: str, slugs: set[str], *, least: int = 4) -> set[str]:
    """The slugs of `slugs` that `text` names as whole words (runs of up to four words);
    slugs shorter than `least` characters are too likely to be ordinary words."""
    if not slugs:
        return set()
    words = slug_words(text).strip("-").split("-")
    found: set[str] = set()
    for size in range(1, 5):
        for i in range(len(words) - size + 1):
            run = "-".join(words[i : i + size])
            if len(run) >= least and run in slugs:
                found.add(run)
    return found
