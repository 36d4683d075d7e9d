"""The curator's deterministic rules, as pure functions over file text (no I/O, no LLM).

Only learned entries are touched: lines with the evidence tail of skills/evidence.py
(`- **Title**: text (seen 4×, verified 3×, 2026-11-02 – 2026-12-04)`). A line without it is
the user's and is never merged, moved or removed. Each rule returns the new text and a list
of `Change`s that name every line it removed and the line that now stands for it, so the
curator's commit can say exactly what happened and why (learn/curate.py).

- `merge_duplicates`: entries of one section with the same title, or near-identical text,
  become one; their evidence adds up (seen, verified, first and last day), the newest text
  stays.
- `drop_superseded`: of two entries of one file that say opposite things about the same
  subject ("format with black" / "never run black"), the older one goes; the rule is the
  brief's (skills/contradict.py).
- `archive_old`: a file over its size budget moves its oldest low-evidence entries (seen
  once, never verified) to an archive file.
- `month_of_logs` / `add_log`: the daily-logs layout, one file per month holding its days
  (`logs/2026-11.md`, `## 2026-11-02`, `### task`), which keeps the skill under the
  files-per-skill cap for years; `roll_up_day` folds a legacy day file into its month.
- `similar_skills`: two skills whose name and description say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from acontext_mcp.skills import contradict
from acontext_mcp.skills.evidence import Entry, parse_entries, parse_line
from acontext_mcp.text import clip

_WORD = re.compile(r"[a-z0-9][a-z0-9_.+-]*[a-z0-9]|[a-z0-9]")
_STOP_WORDS = (
    "a an and any are as at be been but by can could did do does done for from get got has "
    "have i in into is it its just let me my of on once or our out so that the then there "
    "these this those to up us was we were what when with you your it's than which while "
    "before after always use uses used using run runs"
)
_STOP = frozenset(_STOP_WORDS.split())
# Words that turn a statement into its opposite; "instead" is left out on purpose ("uv
# instead of pip" is about both tools at once).
DAY_FILE = re.compile(r"^logs/(?P<month>\d{4}-\d{2})-(?P<dd>\d{2})\.md$")
MONTH_FILE = re.compile(r"^logs/(?P<month>\d{4}-\d{2})\.md$")
_DAY_HEAD = re.compile(r"^## (?P<day>\d{4}-\d{2}-\d{2})\s*$")

DUPLICATE_SIMILARITY = 0.8  # share of content words two entry texts have in common
SKILL_SIMILARITY = 0.7  # same, for two skills' names and descriptions
OLD_DAYS = 90  # an entry last met this long before the file's newest one is "old"
LOG_FILE_BYTES = 80_000  # a month's log fills up to this (edits refuse 100 KB), then part 2


@dataclass
class Change:
    """One line the curator removed or rewrote, and the line that now stands for it."""

    kind: str  # merged | superseded | archived | rolled-up
    path: str  # skill/file
    line: str  # the line removed (or folded into `into`)
    into: str = ""  # the line that replaces or absorbs it ("" for archived, rolled-up)
    why: str = ""

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def words(text: str) -> set[str]:
    """Content words, lower-cased, without stop words; a plural -s dropped."""
    out = set()
    for word in _WORD.findall(text.casefold().replace("`", " ")):
        if word in _STOP or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return out


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


_TITLE_WORD = re.compile(r"[a-z0-9][a-z0-9_]*")


def _key(title: str) -> str:
    """A title's identity: the key learn/entries.py matches "the same title" by."""
    return " ".join(_TITLE_WORD.findall(title.casefold()))


def entries_of(content: str) -> list[Entry]:
    """The learned entries of a file, each with its `## ` section (each keeps its own line,
    so equal lines in two sections stay apart)."""
    return parse_entries(content)


def _rewrite(content: str, replace: dict[str, str | None]) -> str:
    """`content` with each line in `replace` swapped for its value (None: removed); the first
    occurrence of a line only, so a user's identical line elsewhere is left alone."""
    pending = dict(replace)
    out: list[str] = []
    for line in content.split("\n"):
        key = line.rstrip()
        if key in pending:
            new = pending.pop(key)
            if new is not None:
                out.append(new)
            continue
        out.append(line)
    return "\n".join(out)


def _newer(a: Entry, b: Entry) -> Entry:
    """The entry that speaks last: the later last day, then the more often seen."""
    return max((a, b), key=lambda e: (e.last, e.seen, e.verified, e.first))


def near_duplicates(a: Entry, b: Entry) -> bool:
    """The same title, or texts sharing DUPLICATE_SIMILARITY of their words (four at least)."""
    return _near(_key(a.title), words(a.text), _key(b.title), words(b.text))


def _near(key_a: str, words_a: set[str], key_b: str, words_b: set[str]) -> bool:
    if key_a and key_a == key_b:
        return True
    if min(len(words_a), len(words_b)) < 4:
        return False
    small, large = sorted((len(words_a), len(words_b)))
    if small < DUPLICATE_SIMILARITY * large:  # the Jaccard index cannot reach it
        return False
    return _jaccard(words_a, words_b) >= DUPLICATE_SIMILARITY


def merge_duplicates(content: str, path: str) -> tuple[str, list[Change]]:
    """Near-duplicate entries of one section merged into the newest one (see module doc)."""
    by_section: dict[str, list[Entry]] = {}
    for entry in entries_of(content):
        by_section.setdefault(entry.section.casefold(), []).append(entry)
    replace: dict[str, str | None] = {}
    changes: list[tuple[Change, str]] = []  # each with the line its merged entry stands on
    for group in by_section.values():
        kept: list[Entry] = []
        seen: list[tuple[str, set[str]]] = []  # each kept entry's title key and words
        for entry in group:
            mine = (_key(entry.title), words(entry.text))
            at = next((i for i, k in enumerate(seen) if _near(*k, *mine)), None)
            if at is None:
                kept.append(entry)
                seen.append(mine)
                continue
            twin = kept[at]
            keep = _newer(twin, entry)
            gone = entry if keep is twin else twin
            merged = Entry(
                title=keep.title,
                text=keep.text,
                triggers=list(dict.fromkeys([*keep.triggers, *gone.triggers]))[:8],
                seen=twin.seen + entry.seen,
                verified=twin.verified + entry.verified,
                first=min(twin.first, entry.first),
                last=max(twin.last, entry.last),
                section=keep.section,
                line=twin.line,  # the merged entry stands where the first one stood
            )
            replace[twin.line] = merged.render()
            replace[entry.line] = None
            why = "same title" if _key(twin.title) == _key(entry.title) else "near-identical text"
            changes.append((Change("merged", path, gone.line, "", why), twin.line))
            kept[at] = merged
            seen[at] = (_key(merged.title), words(merged.text))
    if not changes:
        return content, []
    for change, anchor in changes:  # three copies merge twice: name the final line
        change.into = replace[anchor] or ""
    return _rewrite(content, replace), [c for c, _ in changes]


def _statement(entry: Entry) -> contradict.Statement:
    """An entry as the contradiction rule (skills/contradict.py, shared with the brief)
    reads it: a procedure or fact, dated by its last day."""
    return contradict.Statement(f"{entry.title}: {entry.text}", 0.0, source=entry.last)


def contradicts(a: Entry, b: Entry) -> bool:
    """One says the opposite of the other, or the same thing (skills/contradict.py)."""
    return contradict.contradicts(_statement(a), _statement(b))


def drop_superseded(content: str, path: str) -> tuple[str, list[Change]]:
    """Of two contradicting entries of one file, the older one removed (a tie on the days
    is left alone: nothing says which is true)."""
    found = entries_of(content)
    said = [_statement(e) for e in found]
    gone: dict[str, Change] = {}
    for i, a in enumerate(found):
        for j in range(i + 1, len(found)):
            b = found[j]
            if a.line in gone or b.line in gone or a.last == b.last:
                continue
            if not contradict.contradicts(said[i], said[j]):
                continue
            keep = _newer(a, b)
            old = b if keep is a else a
            why = f"superseded: {old.last} statement contradicted by the newer one of {keep.last}"
            gone[old.line] = Change("superseded", path, old.line, keep.line, why)
    if not gone:
        return content, []
    return _rewrite(content, dict.fromkeys(gone)), list(gone.values())


def size(content: str) -> int:
    return len(content.encode("utf-8"))


def archive_old(content: str, path: str, budget: int) -> tuple[str, list[Entry], list[Change]]:
    """While `content` is over `budget` bytes, its oldest low-evidence entries (seen once,
    never verified, last met OLD_DAYS before the file's newest entry) leave it. Returns the
    new text, the entries moved out (for the archive file) and the changes."""
    if size(content) <= budget:
        return content, [], []
    found = entries_of(content)
    if not found:
        return content, [], []
    newest = max(e.last for e in found)
    cutoff = _days_before(newest, OLD_DAYS)
    weak = sorted(
        (e for e in found if e.seen <= 1 and e.verified == 0 and e.last <= cutoff),
        key=lambda e: (e.last, e.first, e.title),
    )
    moved: list[Entry] = []
    over = size(content) - budget
    for entry in weak:
        if over <= 0:
            break
        moved.append(entry)
        over -= size(entry.line) + 1
    if not moved:
        return content, [], []
    text = _rewrite(content, dict.fromkeys(e.line for e in moved))
    why = f"archived: file over its {budget}-byte budget; seen once, unverified, last {{}}"
    changes = [Change("archived", path, e.line, "", why.format(e.last)) for e in moved]
    return text, moved, changes


def _days_before(day: str, days: int) -> str:
    from datetime import date, timedelta

    try:
        return (date.fromisoformat(day) - timedelta(days=days)).isoformat()
    except ValueError:
        return ""


def add_to_archive(archive: str | None, title: str, moved: Iterable[Entry]) -> str:
    """The archive file's text with `moved` appended under their own sections."""
    text = archive if archive and archive.strip() else f"# {title} (archive)\n"
    for entry in moved:
        text = insert_line(text, entry.section, entry.line)
    return text


def insert_line(content: str, section: str, line: str) -> str:
    """`content` with `line` at the end of `## section` (added when missing), or at the end."""
    lines = content.rstrip("\n").split("\n")
    if section:
        want = section.casefold()
        heads = [i for i, ln in enumerate(lines) if ln.startswith("## ")]
        start = next((i for i in heads if lines[i][3:].strip().casefold() == want), None)
        if start is None:
            return "\n".join([*lines, "", f"## {section}", line]) + "\n"
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "# "))),
            len(lines),
        )
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        return "\n".join([*lines[:end], line, *lines[end:]]) + "\n"
    last = lines[-1] if lines else ""
    gap = [] if last.startswith("- ") else [""]
    return "\n".join([*lines, *gap, line]) + "\n"


# --- reading a large file by its parts ------------------------------------------------------


def outline(content: str, limit: int) -> str:
    """A file as its headings and entry titles with counts: enough to find the entry to
    update, for a fraction of the whole file (the distiller's hint, the learner's view of a
    large file)."""
    lines: list[str] = []
    for line in content.splitlines():
        entry = parse_line(line)
        if line.startswith("#"):
            lines.append(line)
        elif entry is not None:
            lines.append(f"- **{entry.title}** (seen {entry.seen}×)")
        elif line.startswith("- "):
            lines.append(clip(line, 100))
    return clip("\n".join(lines), limit, tail="\n[… {n} chars left out]")


def section(content: str, heading: str) -> str | None:
    """The exact text of the section whose heading reads `heading` (any level, `#`s and case
    aside): its heading line through the line before the next heading of the same or a
    higher level. None when there is no such heading."""
    want = heading.strip().lstrip("#").strip().casefold()
    lines = content.split("\n")
    for i, line in enumerate(lines):
        level = len(line) - len(line.lstrip("#"))
        if not level or line[level : level + 1] != " " or line[level:].strip().casefold() != want:
            continue
        end = i + 1
        while end < len(lines):
            other = len(lines[end]) - len(lines[end].lstrip("#"))
            if other and other <= level and lines[end][other : other + 1] == " ":
                break
            end += 1
        return "\n".join(lines[i:end])
    return None


def headings(content: str) -> list[str]:
    return [ln for ln in content.split("\n") if re.match(r"#+ ", ln)]


# --- daily logs by month ----------------------------------------------------------------------


def month_path(day: str, part: int = 1) -> str:
    """`logs/yyyy-mm.md`, the file that holds `day` (yyyy-mm-dd); a month past
    LOG_FILE_BYTES continues in `logs/yyyy-mm-part2.md` and so on."""
    return f"logs/{day[:7]}.md" if part == 1 else f"logs/{day[:7]}-part{part}.md"


def place_log(
    read: Callable[[str], str | None], day: str, block: str
) -> tuple[str, str | None, str] | None:
    """Where the day's `block` goes: (path, that file's text now or None, its new text), or
    None when the month's files hold it already. `read` gives a path's text (None: absent)."""
    for part in range(1, 100):
        path = month_path(day, part)
        content = read(path)
        new = add_log(content, day, block)
        if content is not None and new == content:
            return None
        if content is None or size(new) <= LOG_FILE_BYTES:
            return path, content, new
    raise ValueError(f"the logs of {day[:7]} fill 99 files")


def _days(content: str) -> tuple[list[str], dict[str, list[str]]]:
    """(the lines before the first day, day -> its block's lines, heading included)."""
    head: list[str] = []
    days: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in content.rstrip("\n").split("\n"):
        m = _DAY_HEAD.match(line)
        if m:
            current = days.setdefault(m.group("day"), [line])
            continue
        (head if current is None else current).append(line)
    return head, days


def _join(head: list[str], days: dict[str, list[str]]) -> str:
    parts = ["\n".join(head).rstrip()]
    for day in sorted(days):
        parts.append("\n".join(days[day]).strip("\n"))
    return "\n\n".join(p for p in parts if p) + "\n"


def add_log(content: str | None, day: str, block: str) -> str:
    """The month file's text with `block` (`### task` and its summary) at the end of `day`,
    the day added in date order when missing. An identical block already there is kept once."""
    head, days = _days(content) if content and content.strip() else ([f"# {day[:7]}"], {})
    lines = days.get(day) or [f"## {day}"]
    if block.strip() in "\n".join(lines):
        return content or _join(head, days)
    while lines and not lines[-1].strip():
        lines.pop()
    days[day] = [*lines, "", *block.strip("\n").split("\n")]
    return _join(head, days)


def day_blocks(day: str, day_content: str) -> list[str]:
    """A legacy day file (`# yyyy-mm-dd`, `## task` sections) as the blocks its month file
    takes under `## yyyy-mm-dd`: its task headings one level down."""
    body: list[str] = []
    for line in day_content.rstrip("\n").split("\n"):
        if line.strip() == f"# {day}":
            continue
        body.append("#" + line if line.startswith("#") else line)
    text = "\n".join(body).strip("\n")
    return re.split(r"\n(?=### )", text) if text else []


def roll_up_day(month: str | None, day: str, day_content: str) -> str:
    """A legacy day file folded into one month file's text (see day_blocks)."""
    for block in day_blocks(day, day_content):
        month = add_log(month, day, block)
    return month or f"# {day[:7]}\n"


# --- skills that say the same thing ---------------------------------------------------------


def similar_skills(skills: dict[str, str]) -> list[tuple[str, str, float]]:
    """Pairs (a, b, similarity) of skills whose names and descriptions are near-identical;
    `skills` maps name -> description."""
    bags = {name: words(name.replace("-", " ") + " " + desc) for name, desc in skills.items()}
    names = sorted(bags)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            score = _jaccard(bags[a], bags[b])
            if score >= SKILL_SIMILARITY:
                out.append((a, b, round(score, 2)))
    return out
