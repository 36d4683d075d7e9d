"""Learned entries: one Markdown bullet per lesson, carrying how often it was seen and verified.

The pipeline writes a lesson into a skill file as one line a person can read and edit:

    - **Title**: text (when: trigger, words; seen 4×, verified 3×, 2026-11-02 – 2026-12-04)

`seen` counts the finished tasks that taught or met it, `verified` those whose outcome was
verified by captured evidence (tests, exit codes, the user), and the dates are the sessions'
own days (the first and the last). A trap met ten times reads differently from one met once,
and the brief and search show the counts as they are, with no second store to drift.

`write_lesson` appends or updates an entry through `SkillWorkspace`'s own file tools (so every
check on a learner's write applies); `bump` adds one sighting to an existing entry;
`find_known` recognises a finished task whose lesson is already written (normalised words and
a full-text match of its commands, no LLM call); `write_log` adds the day's log line. The line
format itself is skills/evidence.py's, which the SessionStart brief reads too.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.skills import SKILL_FILE, tidy
from acontext_mcp.skills.evidence import (
    EVIDENCE,
    Entry,
    parse_entries,
    parse_line,  # noqa: F401 (callers read it here)
    project_slug,
)
from acontext_mcp.text import one_line

KINDS = ("trap", "procedure", "fact", "preference")
TITLE_CHARS = 100
TEXT_CHARS = 700
TRIGGERS = 8
TRIGGER_CHARS = 40
LOGS_SKILL = "daily-logs"
FACTS_SKILL = "user-general-facts"
RUNBOOKS_SKILL = "project-runbooks"
OUTLINE_CHARS = 1200

_WORD = re.compile(r"[a-z0-9][a-z0-9_]*")
_STOP_WORDS = (
    "a an and any are as at be been but by can could did do does done for from get got has "
    "have i in into is it its just let lets me my now of on once or our out please same so "
    "still that the then there these this those to up us was we were what with you again "
    "also more new"
)
_STOP = frozenset(_STOP_WORDS.split())
_COMMAND_TOOLS = {"bash", "exec", "shell", "run", "run_command", "terminal", "process"}


@dataclass
class Lesson:
    """One structured entry from a distillation: where it goes and what it says."""

    kind: str
    skill: str
    file: str
    title: str
    text: str
    triggers: list[str] = field(default_factory=list)
    section: str = ""
    summary: str = ""
    new_skill: str = ""  # the new skill's description when `skill` does not exist yet

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", [])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lesson:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


# --- cleaning what a model gave ---------------------------------------------------------------


def clean_title(text: str) -> str:
    return one_line(text.replace("*", ""), TITLE_CHARS).rstrip(".:")


def clean_text(text: str) -> str:
    # One line; a trailing "(seen ...)" written by the model itself must not fake evidence.
    return EVIDENCE.sub("", one_line(text, TEXT_CHARS)).strip()


def clean_triggers(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        word = one_line(re.sub(r"[;()]", " ", item), TRIGGER_CHARS).strip(" ,")
        if word and word.casefold() not in (w.casefold() for w in out):
            out.append(word)
    return out[:TRIGGERS]


# --- writing ------------------------------------------------------------------------------------


def _key(title: str) -> str:
    return " ".join(_WORD.findall(title.casefold()))


def _seen_again(entry: Entry, day: str, verified: bool) -> Entry:
    entry.seen += 1
    entry.verified += 1 if verified else 0
    entry.first, entry.last = min(entry.first, day), max(entry.last, day)
    return entry


def _replace(ws: SkillWorkspace, skill: str, path: str, old: str, new: str) -> str | None:
    """Write through the learner's own tool (every write check applies); None when done,
    else the refusal."""
    if old == new:
        return None
    result = ws.call(
        "str_replace_skill_file",
        {"skill_name": skill, "file_path": path, "old_string": old, "new_string": new},
    )
    return None if result.ok else result.text


def _create(ws: SkillWorkspace, skill: str, path: str, content: str) -> str | None:
    result = ws.call(
        "create_skill_file", {"skill_name": skill, "file_path": path, "content": content}
    )
    return None if result.ok else result.text


_insert = tidy.insert_line  # `content` with `line` at the end of its `## section`


def _new_file(lesson: Lesson, project_dir: str | None) -> str:
    stem = lesson.file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    project = lesson.file.startswith("projects/")
    head = [f"# {stem if project else stem.replace('-', ' ').capitalize()}"]
    if project and project_dir:
        head += ["", f"Path: `{project_dir}`"]
    return "\n".join(head) + "\n"


def write_lesson(
    ws: SkillWorkspace,
    lesson: Lesson,
    *,
    day: str,
    verified: bool,
    project_dir: str | None = None,
) -> tuple[str, str | None]:
    """Add the lesson as an entry of its file, or update the entry of the same title (new
    text, one more sighting). Returns (what happened, a refusal or None): "added",
    "updated", "no-skill" (the skill does not exist) or "refused"."""
    if lesson.skill not in ws.skill_names():
        return "no-skill", None
    entry = Entry(
        title=clean_title(lesson.title),
        text=clean_text(lesson.text),
        triggers=clean_triggers(lesson.triggers),
        seen=1,
        verified=1 if verified else 0,
        first=day,
        last=day,
    )
    content = ws.read_text(lesson.skill, lesson.file)
    if content is None:
        body = _insert(_new_file(lesson, project_dir), lesson.section, entry.render())
        problem = _create(ws, lesson.skill, lesson.file, body)
        return ("refused", problem) if problem else ("added", None)
    same = [e for e in parse_entries(content) if _key(e.title) == _key(entry.title)]
    if same:
        old = same[0]
        merged = _seen_again(old, day, verified)
        merged.text = entry.text
        merged.triggers = clean_triggers([*entry.triggers, *old.triggers])
        problem = _replace(ws, lesson.skill, lesson.file, old.line, merged.render())
        return ("refused", problem) if problem else ("updated", None)
    if not content.strip():
        return "refused", f"{lesson.skill}/{lesson.file} is empty; it cannot be anchored"
    problem = _replace(
        ws, lesson.skill, lesson.file, content, _insert(content, lesson.section, entry.render())
    )
    return ("refused", problem) if problem else ("added", None)


def bump(
    ws: SkillWorkspace, skill: str, path: str, title: str, *, day: str, verified: bool
) -> str | None:
    """One more sighting of the entry titled `title`; None when done, else why not."""
    content = ws.read_text(skill, path) if skill in ws.skill_names() else None
    if content is None:
        return f"{skill}/{path} is gone"
    found = [e for e in parse_entries(content) if _key(e.title) == _key(title)]
    if not found:
        return f"no entry {title!r} in {skill}/{path} any more"
    old = found[0].line
    return _replace(ws, skill, path, old, _seen_again(found[0], day, verified).render())


def write_log(ws: SkillWorkspace, day: str, title: str, summary: str) -> str | None:
    """The day's log gets `### title` and its summary under `## day` in the month's file
    (`logs/yyyy-mm.md`, daily-logs' own layout: one file per month keeps the skill under the
    files-per-skill cap); None when done or when there is no daily-logs skill."""
    if LOGS_SKILL not in ws.skill_names():
        return None
    block = f"### {one_line(title, 160)}\n{one_line(summary, 400)}\n"
    placed = tidy.place_log(lambda path: ws.read_text(LOGS_SKILL, path), day, block)
    if placed is None:
        return None
    path, content, new = placed
    if content is None:
        return _create(ws, LOGS_SKILL, path, new)
    if not content.strip():
        return f"{LOGS_SKILL}/{path} is empty; it cannot be anchored"
    return _replace(ws, LOGS_SKILL, path, content, new)


# --- recognising a lesson already written -------------------------------------------------------


def words(text: str) -> set[str]:
    """Content words, lower-cased, stop words out, a plural -s dropped."""
    out = set()
    for word in _WORD.findall(text.casefold()):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return out


def _norm(command: str) -> str:
    return " ".join(command.split())


def task_commands(messages: list[dict[str, Any]]) -> list[str]:
    """The shell commands a task ran (its tool calls' `command` arguments), in order."""
    import json

    found: list[str] = []
    for message in messages:
        for part in message.get("parts") or []:
            if not isinstance(part, dict) or part.get("type") != "tool-call":
                continue
            if str(part.get("name") or "").casefold() not in _COMMAND_TOOLS:
                continue
            args = part.get("arguments")
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except ValueError:
                    continue
            command = args.get("command") if isinstance(args, dict) else None
            if isinstance(command, str) and len(command.strip()) >= 4:
                norm = _norm(command)
                if norm not in found:
                    found.append(norm)
    return found


@dataclass
class Known:
    """Where a finished task's lesson is already written."""

    skill: str
    file: str
    title: str
    seen: int


def _candidate_files(ws: SkillWorkspace, slug: str | None) -> list[tuple[str, str]]:
    out = []
    for skill in ws.skill_names():
        if skill == LOGS_SKILL:
            continue
        for path in ws.files(skill):
            if not path.endswith(".md") or path == SKILL_FILE:
                continue
            if path.startswith("projects/") and path != f"projects/{slug}.md":
                continue  # another project's runbook never answers for this one
            out.append((skill, path))
    return out


def find_known(
    ws: SkillWorkspace,
    description: str,
    commands: list[str],
    *,
    project_dir: str | None,
    failed: bool,
) -> Known | None:
    """The entry that already holds this task's lesson, or None (then it is distilled).

    Conservative, since a miss only costs a distillation: every content word of the task's
    description is in the entry (title, text or trigger words) and, when the task ran shell
    commands, one of them appears verbatim in the entry's text (without commands, at least
    three words must match). A failed task only matches a trap (an entry under `## Traps`)."""
    wanted = words(description)
    if not wanted or (not commands and len(wanted) < 3):
        return None
    best: Known | None = None
    for skill, path in _candidate_files(ws, project_slug(project_dir)):
        content = ws.read_text(skill, path) or ""
        for entry in parse_entries(content):
            if failed and not entry.is_trap():
                continue
            have = words(" ".join([entry.title, entry.text, *entry.triggers]))
            if not wanted <= have:
                continue
            text = _norm(entry.text)
            if commands and not any(c in text for c in commands):
                continue
            if best is None or entry.seen > best.seen:
                best = Known(skill, path, entry.title, entry.seen)
    return best


def outline(ws: SkillWorkspace, skill: str, path: str, limit: int = OUTLINE_CHARS) -> str:
    """A file as its headings and entry titles with counts: what a distillation needs to see
    to update an entry rather than add a near-duplicate, for a fraction of the whole file."""
    content = ws.read_text(skill, path) if skill in ws.skill_names() else None
    return tidy.outline(content, limit) if content else ""
