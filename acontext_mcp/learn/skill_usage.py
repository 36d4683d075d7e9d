"""Which skills are used, and whether the sessions that used them went better.

Per skill of the skills repository (and any skill with recorded uses that is gone from it):
its uses by kind (store/skill_uses.py: the host's Skill tool, reads of its files, our MCP
tools, brief and prompt injections), the sessions that used it, the projects, the last use,
and its size in tokens. Efficacy compares task outcomes (issue 8): `with_rate` is the share of
verified successes among the settled tasks (verified_success or verified_failure) of the
sessions that used the skill; `without_rate` the same over comparable sessions that did not:
sessions of the same projects, active since the skill's first use there (so they could have
used it), within the same window. A subagent's uses and tasks count for the session that
started it. Rates are None without settled tasks; few sessions make a rate noise, so
`with_settled` / `without_settled` say how many tasks stand behind each.

`skills stats` prints these; retirement proposals read them through `skill_usage`.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError
from acontext_mcp.formats.parts import estimate_tokens
from acontext_mcp.skills import SKILL_FILE, catalog, contained
from acontext_mcp.store import skill_uses

DAY = 86400.0


@dataclass
class SkillUsage:
    """One skill's record; `tokens` is SKILL.md plus its files, `listing_tokens` what sits in
    the agent's context all the time (name and description)."""

    skill: str
    uses: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    projects: list[str] = field(default_factory=list)
    last_used: float | None = None
    with_rate: float | None = None
    with_settled: int = 0
    without_rate: float | None = None
    without_settled: int = 0
    comparable_sessions: int = 0
    tokens: int = 0
    listing_tokens: int = 0
    exists: bool = True  # still in the skills repository

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def skill_usage(
    conn: sqlite3.Connection,
    settings: Settings,
    *,
    skill: str | None = None,
    days: float | None = None,
    now: float | None = None,
) -> list[SkillUsage]:
    """Every skill's record (only `skill`'s when named), most used first, never-used ones
    last; uses and sessions within the last `days` (None: all recorded)."""
    since = None if days is None else (time.time() if now is None else now) - days * DAY
    records: dict[str, SkillUsage] = {}
    for name, (tokens, listing) in skill_sizes(settings.skills_dir).items():
        if skill is None or name == skill:
            records[name] = SkillUsage(name, tokens=tokens, listing_tokens=listing)

    def record(name: str) -> SkillUsage:
        if name not in records:
            records[name] = SkillUsage(name, exists=False)
        return records[name]

    for name, kind, count, last in skill_uses.use_counts(conn, since=since, skill=skill):
        found = record(name)
        found.uses += count
        found.by_kind[kind] = count
        found.last_used = max(found.last_used or last, last)
    first_in: dict[str, dict[str, float]] = {}
    for name, project, first in skill_uses.use_projects(conn, since=since, skill=skill):
        first_in.setdefault(name, {})[project] = first
        record(name).projects.append(project)
    used_by: dict[str, set[str]] = {}
    for name, session in skill_uses.using_sessions(conn, since=since, skill=skill):
        used_by.setdefault(name, set()).add(session)
    settled = skill_uses.settled_sessions(conn, since=since)
    for name, found in records.items():
        found.projects.sort()
        users = used_by.get(name, set())
        found.sessions = len(users)
        _compare(found, users, first_in.get(name, {}), settled)
    return sorted(records.values(), key=lambda r: (-r.uses, -(r.last_used or 0), r.skill))


def _compare(
    found: SkillUsage,
    users: set[str],
    first_in: dict[str, float],
    settled: list[tuple[str, str | None, float, int, int]],
) -> None:
    """Fill the outcome rates: settled tasks of the sessions that used the skill, against
    those of comparable sessions (same project, active since its first use there)."""
    with_ok = with_bad = without_ok = without_bad = comparable = 0
    for session, project, active, ok, bad in settled:
        if session in users:
            with_ok, with_bad = with_ok + ok, with_bad + bad
        elif project in first_in and active >= first_in[project]:
            without_ok, without_bad = without_ok + ok, without_bad + bad
            comparable += 1
    found.with_settled = with_ok + with_bad
    found.with_rate = _rate(with_ok, with_bad)
    found.without_settled = without_ok + without_bad
    found.without_rate = _rate(without_ok, without_bad)
    found.comparable_sessions = comparable


def _rate(ok: int, bad: int) -> float | None:
    return round(ok / (ok + bad), 4) if ok + bad else None


def skill_sizes(skills_dir: Path) -> dict[str, tuple[int, int]]:
    """Folder name -> (tokens of SKILL.md and every file, tokens of name + description),
    with the store's token estimate. Links and binary files are left out."""
    sizes: dict[str, tuple[int, int]] = {}
    for info in catalog.list_skills(skills_dir):
        folder = Path(info["path"])
        texts: list[str] = []
        for rel, st in contained.walk(folder):
            if st is None or st.st_size > catalog.MAX_FILE_BYTES:
                continue
            try:
                data = contained.read_bytes(skills_dir, f"{folder.name}/{rel}")
            except (AcontextError, OSError):  # gone or swapped for a link since the walk
                continue
            if b"\x00" not in data[:8192]:
                texts.append(data.decode("utf-8", errors="replace"))
        if not texts and not (folder / SKILL_FILE).exists():
            continue
        listing = f"{info['name']}: {info['description']}"
        sizes[folder.name] = (_tokens(texts), _tokens([listing]))
    return sizes


def _tokens(texts: list[str]) -> int:
    parts: list[Any] = [{"type": "text", "text": t} for t in texts]
    return estimate_tokens({"role": "assistant", "parts": parts}) if texts else 0
