"""The evidence line of a learned entry: its format, parsed back. Standard library only: the
SessionStart brief (hook path) reads it as well as the learning pipeline (learn/entries.py).

    - **Title**: text (when: trigger, words; seen 4×, verified 3×, 2026-11-02 – 2026-12-04)

`seen` counts the finished tasks that taught or met the entry, `verified` those whose outcome
captured evidence verified, and the dates are the sessions' own days (first and last). A line
without the trailing counts is the user's: never parsed as an entry, never rewritten.
"""

from __future__ import annotations

import re

from acontext_mcp.skills.slug import project_slug as project_slug  # re-exported

ENTRY = re.compile(r"^- \*\*(?P<title>[^*\n]+?)\*\*: (?P<body>.*)$")
EVIDENCE = re.compile(
    r"\s*\((?:when: (?P<when>[^;()]*); )?seen (?P<seen>\d+)×(?:, verified (?P<verified>\d+)×)?"
    r", (?P<first>\d{4}-\d{2}-\d{2})(?: – (?P<last>\d{4}-\d{2}-\d{2}))?\)\s*$"
)


class Entry:
    """One entry line as parsed back; `line` is the text it was read from. Equal when every
    field is. (Written out, not a dataclass: the SessionStart brief parses a project's traps
    while Claude Code waits, and importing dataclasses costs ~8 ms.)"""

    title: str
    text: str
    triggers: list[str]
    seen: int
    verified: int
    first: str
    last: str
    section: str
    line: str

    def __init__(
        self,
        title: str,
        text: str,
        triggers: list[str],
        seen: int,
        verified: int,
        first: str,
        last: str,
        section: str = "",
        line: str = "",
    ) -> None:
        values = dict(locals())
        del values["self"]
        self.__dict__.update(values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and vars(self) == vars(other)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Entry({shown})"

    def render(self) -> str:
        when = f"when: {', '.join(self.triggers)}; " if self.triggers else ""
        counts = f"seen {self.seen}×" + (f", verified {self.verified}×" if self.verified else "")
        days = self.first if self.first == self.last else f"{self.first} – {self.last}"
        return f"- **{self.title}**: {self.text} ({when}{counts}, {days})"

    def is_trap(self) -> bool:
        return is_trap_section(self.section)


def is_trap_section(section: str) -> bool:
    """Whether a `## ` section holds traps (Traps, Pitfalls, Warnings), not procedures."""
    return section.casefold().startswith(("trap", "pitfall", "warning"))


def parse_line(line: str, section: str = "") -> Entry | None:
    """An entry the pipeline wrote (it has the evidence tail), else None."""
    head = ENTRY.match(line.rstrip())
    if head is None:
        return None
    body = head.group("body")
    tail = EVIDENCE.search(body)
    if tail is None:
        return None
    when = tail.group("when") or ""
    first = tail.group("first")
    return Entry(
        title=head.group("title").strip(),
        text=body[: tail.start()].strip(),
        triggers=[w.strip() for w in when.split(",") if w.strip()],
        seen=int(tail.group("seen")),
        verified=int(tail.group("verified") or 0),
        first=first,
        last=tail.group("last") or first,
        section=section,
        line=line.rstrip(),
    )


def parse_entries(content: str) -> list[Entry]:
    """The entries of a file, each with the `## ` section it stands in."""
    out: list[Entry] = []
    section = ""
    for line in content.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        entry = parse_line(line, section)
        if entry is not None:
            out.append(entry)
    return out


def recurring_traps(content: str, *, least: int = 2, limit: int = 3) -> list[Entry]:
    """The traps of a file (entries under a `## Traps` heading) met at least `least` times,
    the most often met first: what a session starting in the project should hear first."""
    traps = [e for e in parse_entries(content) if e.is_trap() and e.seen >= least]
    return sorted(traps, key=lambda e: (-e.seen, -e.verified, e.title))[:limit]
