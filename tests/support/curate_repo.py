"""A generated skills repository with planted cases for the curator (learn/curate.py): exact
duplicates, near-identical entries, contradictions, oversize files, legacy day logs and two
skills that say the same thing, among near-miss entries that must stay untouched.

Used by tests/test_curate.py (a small version) and bench/bench_curator.py (200 skills).
`build` writes the files and returns what was planted, so a caller can check that the
curator found every planted case (recall) and touched nothing else (precision).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from acontext_mcp.skills.evidence import Entry

_C = "bdfgklmnprstvz"
_V = "aeiou"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_C) + rng.choice(_V) for _ in range(3))


def _entry(title: str, text: str, seen: int, verified: int, first: str, last: str) -> str:
    return Entry(title, text, [], seen, verified, first, last).render()


@dataclass
class Planted:
    """What `build` planted, by repository-relative path and exact line."""

    merged: set[tuple[str, str]] = field(default_factory=set)  # (file, line that goes)
    superseded: set[tuple[str, str]] = field(default_factory=set)  # (file, older line)
    oversize: set[str] = field(default_factory=set)  # files over the budget
    archivable: set[tuple[str, str]] = field(default_factory=set)  # old unverified filler
    kept: set[tuple[str, str]] = field(default_factory=set)  # verified lines of oversize files
    day_files: set[str] = field(default_factory=set)
    similar: set[frozenset[str]] = field(default_factory=set)
    skills: list[str] = field(default_factory=list)


def _skill_md(name: str, description: str) -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\nSee `entries.md`.\n"


def build(root: Path, *, skills: int = 20, days: int = 30, seed: int = 7) -> Planted:
    """Write `skills` generated skills (and `days` legacy daily-log files) under `root`, a
    skills directory whose default skills already exist."""
    rng = random.Random(seed)
    planted = Planted()
    start = date(2026, 1, 1)
    for i in range(skills):
        tool, w1, w2, w3, w4, w5 = (_word(rng) for _ in range(6))
        name = f"{tool}-{w1}-guide"
        rel = f"{name}/entries.md"
        description = (
            f"How to build, test and release the {tool} {w1} service with {w2} and {w3}; "
            f"its {w4} traps."
        )
        day = (start + timedelta(days=i)).isoformat()
        later = (start + timedelta(days=i + 60)).isoformat()
        base = [
            _entry(f"Build {tool}", f"`{tool} build --{w2}` from the {w3} folder", 3, 2, day, day),
            _entry(
                f"Release {w1}",
                f"tag the {w1} release, push the {w4} branch and wait for the {w5} pipeline "
                f"before announcing it to {w2}",
                2,
                1,
                day,
                day,
            ),
            _entry(f"Format with {tool} fmt", f"run it on {w2} {w3} sources", 2, 2, day, day),
            # Near misses: they share words, never a subject or a text.
            _entry("Run unit tests", f"`pytest tests/unit -q` in {w3}", 4, 4, day, day),
            _entry(
                "Run integration tests",
                f"`pytest tests/integration` needs docker and the {w4} database",
                1,
                1,
                day,
                day,
            ),
            _entry("Never commit .env", "it holds local secrets", 1, 1, day, day),
            _entry(
                "Commit the lockfile",
                f"{w5}.lock goes with every dependency change",
                1,
                0,
                day,
                later,
            ),
            _entry("Do not run migrations on prod", "ask the on-call first", 1, 1, day, day),
            _entry(
                "Migrate locally", f"`make migrate` against the {w4} container", 2, 1, day, later
            ),
        ]
        traps: list[str] = []
        old = (start - timedelta(days=30)).isoformat()
        if i % 10 == 1:  # the same title again, older: merged into the newer one
            dup = _entry(f"Build {tool}", f"run `{tool} build` in {w3}", 1, 1, old, old)
            base.append(dup)
            planted.merged.add((rel, dup))
        if i % 10 == 2:  # near-identical text under another title, older
            dup = _entry(
                f"Releasing {w1}",
                f"tag the {w1} release, push the {w4} branch and wait for the {w5} pipeline "
                f"before announcing it to the {w2}",
                1,
                0,
                old,
                old,
            )
            base.append(dup)
            planted.merged.add((rel, dup))
        if i % 10 == 3:  # a newer statement says the opposite: the older one goes
            newer = (start + timedelta(days=i + 90)).isoformat()
            base.append(
                _entry(
                    f"Never run {tool} fmt",
                    f"on {w2} {w3} sources it breaks the {w5} layout; use the editor's formatter",
                    1,
                    1,
                    newer,
                    newer,
                )
            )
            planted.superseded.add((rel, base[2]))
        if i % 20 == 5:  # oversize: many old unverified entries, some verified ones
            for k in range(260):
                when = (start - timedelta(days=400 - k)).isoformat()
                filler = _entry(
                    f"Note {k} on {_word(rng)}",
                    f"{_word(rng)} {_word(rng)} {_word(rng)} once broke {_word(rng)} and "
                    f"{_word(rng)} after the {_word(rng)} upgrade",
                    1,
                    0,
                    when,
                    when,
                )
                traps.append(filler)
                planted.archivable.add((rel, filler))
            planted.oversize.add(rel)
            planted.kept.update((rel, line) for line in base)
        text = f"# {name}\n\n## Procedures\n" + "\n".join(base) + "\n"
        if traps:
            text += "\n## Traps\n" + "\n".join(traps) + "\n"
        text += "\n- a line the user wrote by hand, never touched\n"
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(_skill_md(name, description), encoding="utf-8")
        (folder / "entries.md").write_text(text, encoding="utf-8")
        planted.skills.append(name)
        if i % 10 == 4:  # the same skill again under another name
            twin = f"{tool}-{w1}-notes"
            (root / twin).mkdir()
            (root / twin / "SKILL.md").write_text(
                _skill_md(twin, description.replace("traps", "pitfalls")), encoding="utf-8"
            )
            (root / twin / "more.md").write_text(f"# {twin}\n\n- {w5} notes\n", encoding="utf-8")
            planted.similar.add(frozenset({name, twin}))
            planted.skills.append(twin)
    logs = root / "daily-logs" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for d in range(days):
        day = (start + timedelta(days=d)).isoformat()
        (logs / f"{day}.md").write_text(
            f"# {day}\n\n## Task {d}\nThe user fixed thing {d}.\n", encoding="utf-8"
        )
        planted.day_files.add(f"daily-logs/logs/{day}.md")
    return planted
