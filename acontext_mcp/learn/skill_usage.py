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
from bisect import bisect_left
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
    used_only: bool = False,
) -> list[SkillUsage]:
    """Every skill's record (only `skill`'s when named), most used first, never-used ones
    last; uses and sessions within the last `days` (None: all recorded). `used_only` keeps
    the skills with a use in the window and reads the sizes of those alone (the dashboard's
    table: 10,000 skills are not read for a page of a few used ones)."""
    since = None if days is None else (time.time() if now is None else now) - days * DAY
    uses = skill_uses.uses_in_window(conn, since=since, skill=skill)
    among = {use[0] for use in uses} if used_only else None
    records: dict[str, SkillUsage] = {}
    for name, (tokens, listing) in skill_sizes(
        settings.skills_dir, only=skill, among=among
    ).items():
        records[name] = SkillUsage(name, tokens=tokens, listing_tokens=listing)

    def record(name: str) -> SkillUsage:
        if name not in records:
            records[name] = SkillUsage(name, exists=False)
        return records[name]

    first_in: dict[str, dict[str, float]] = {}
    used_by: dict[str, set[str]] = {}
    for name, kind, session, project, at in uses:
        found = record(name)
        found.uses += 1
        found.by_kind[kind] = found.by_kind.get(kind, 0) + 1
        found.last_used = at if found.last_used is None else max(found.last_used, at)
        if project is not None:
            firsts = first_in.setdefault(name, {})
            firsts[project] = min(firsts.get(project, at), at)
        if session is not None:
            used_by.setdefault(name, set()).add(session)
    outcomes = _Outcomes(skill_uses.settled_sessions(conn, since=since))
    for name, found in records.items():
        users = used_by.get(name, set())
        found.projects = sorted(first_in.get(name, {}))
        found.by_kind = dict(sorted(found.by_kind.items()))
        found.sessions = len(users)
        outcomes.compare(found, users, first_in.get(name, {}))
    return sorted(records.values(), key=lambda r: (-r.uses, -(r.last_used or 0), r.skill))


class _Outcomes:
    """The settled sessions, by id and per project in order of last activity with running
    sums, so a skill's comparison costs a lookup per project and per session that used it
    rather than a pass over every session."""

    def __init__(self, settled: list[tuple[str, str | None, float, int, int]]) -> None:
        self.by_id = {sid: (project, active, ok, bad) for sid, project, active, ok, bad in settled}
        rows: dict[str, list[tuple[float, int, int]]] = {}
        for _sid, project, active, ok, bad in settled:
            if project is not None:
                rows.setdefault(project, []).append((active, ok, bad))
        self.projects: dict[str, tuple[list[float], list[tuple[int, int, int]]]] = {}
        for project, found in rows.items():
            found.sort()
            sums, total = [(0, 0, 0)], (0, 0, 0)
            for _active, ok, bad in reversed(found):  # sums[i]: the sessions from i-th last
                total = (total[0] + ok, total[1] + bad, total[2] + 1)
                sums.append(total)
            self.projects[project] = ([r[0] for r in found], sums[::-1])

    def compare(self, found: SkillUsage, users: set[str], first_in: dict[str, float]) -> None:
        """Fill the outcome rates: settled tasks of the sessions that used the skill, against
        those of comparable sessions (same project, active since its first use there)."""
        with_ok = with_bad = 0
        for sid in users:
            if sid in self.by_id:
                with_ok += self.by_id[sid][2]
                with_bad += self.by_id[sid][3]
        ok = bad = count = 0
        for project, first in first_in.items():
            if project not in self.projects:
                continue
            actives, sums = self.projects[project]
            after = sums[bisect_left(actives, first)]
            ok, bad, count = ok + after[0], bad + after[1], count + after[2]
        for sid in users:  # the users among them are not comparable: take them out
            where, active, u_ok, u_bad = self.by_id.get(sid, (None, 0.0, 0, 0))
            if where in first_in and active >= first_in[where]:
                ok, bad, count = ok - u_ok, bad - u_bad, count - 1
        found.with_settled = with_ok + with_bad
        found.with_rate = _rate(with_ok, with_bad)
        found.without_settled = ok + bad
        found.without_rate = _rate(ok, bad)
        found.comparable_sessions = count


def _rate(ok: int, bad: int) -> float | None:
    return round(ok / (ok + bad), 4) if ok + bad else None


def skill_sizes(
    skills_dir: Path, *, only: str | None = None, among: set[str] | None = None
) -> dict[str, tuple[int, int]]:
    """Folder name -> (tokens of SKILL.md and every file, tokens of name + description),
    with the store's token estimate, for every skill, or `only` that folder, or the folders
    `among`. Links and binary files are left out."""
    sizes: dict[str, tuple[int, int]] = {}
    for info in _skills(skills_dir, only, among):
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


def _skills(skills_dir: Path, only: str | None, among: set[str] | None) -> list[dict[str, Any]]:
    if among is not None:
        names = sorted(n for n in among if only is None or n == only)
        return [
            catalog.describe(Path(skills_dir) / n)
            for n in names
            if contained.is_skill_folder(skills_dir, n)
        ]
    if only is None:
        return catalog.list_skills(skills_dir)
    if not contained.is_skill_folder(skills_dir, only):
        return []
    # The folder is known: describe it alone (a listing of 10,000 skills costs a second);
    # a SKILL.md too large or broken is described with its error, listed all the same.
    return [catalog.describe(Path(skills_dir) / only)]


def _tokens(texts: list[str]) -> int:
    parts: list[Any] = [{"type": "text", "text": t} for t in texts]
    return estimate_tokens({"role": "assistant", "parts": parts}) if texts else 0
