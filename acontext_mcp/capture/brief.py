"""The SessionStart brief: what the next session should know, within a character budget.

Written as facts, in this order:

1. This project's runbook (project-runbooks/projects/<slug>.md): its Build/Test/Run/Deploy
   entries and traps, and the user's own bullets there, best-evidenced first (verified count,
   seen count, last day), each with its counts.
2. The user's facts that apply here (user-general-facts/<topic>.md: the general ones and those
   naming this project or its tools, not those naming another project) and the preferences
   stated in this project's recent tasks, those naming the project or its tools first.
3. Recent tasks of this project with their status and latest progress; recent sessions whose
   tasks are not tracked yet.
4. Learned skills, ranked by relevance to this project: named after it (name, description,
   its runbook file), used in its sessions, learned into from them, then the rest by name.

Runbook entries, facts and preferences pass skills/contradict.py first: of two contradicting
statements only the newer is shown. Each section gets a share of the budget and what a section
leaves unused goes round the others a line at a time, so no single section crowds out the
rest; lines are clipped, the least relevant go first, and the brief never exceeds its budget.

When it is built for a session (a hook passes `session_id`), the skills whose content or
listing line reached the brief are recorded as `brief` uses (store/skill_uses.py), one row per
skill, unless capture is off for that session or project; Claude Code's hook defers that write
until its answer is out (`uses_out`, then `record_uses`). Learned changes that wait for review
are mentioned in one line, counted from the ref files (no git process). Stdlib only: it runs
inside a hook, reading one runbook file, the facts folder and the catalog.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.skills import learned
from acontext_mcp.skills.catalog import list_skills
from acontext_mcp.skills.contradict import PROCEDURE, TRAP, USER, Statement, resolve
from acontext_mcp.skills.evidence import project_slug
from acontext_mcp.skills.proposal_refs import waiting_count
from acontext_mcp.store.messages import user_requests
from acontext_mcp.store.sessions import recent_project_sessions
from acontext_mcp.store.tasks import recent_tasks_for_project
from acontext_mcp.text import clip, one_line

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

_LINE = 160  # a task or skill line is clipped to this many characters
_CONTENT_LINE = 220  # a runbook or fact line (its counts are kept whole)
# Words of commands that name no tool of the project (`cd`, `run`): not a reason to rank a
# fact as this project's.
_COMMON_TOOL_WORDS = frozenset(["cd", "run", "rm", "cp", "mv", "ls", "echo", "cat", "sudo", "env"])
# Each section's share of the budget; what one leaves unused goes round the others.
RECENT_SESSIONS = 5  # recent sessions whose requests the brief may show
SHARES = {"runbook": 0.35, "user": 0.20, "tasks": 0.15, "sessions": 0.10, "skills": 0.20}


class _Line:
    """A line of the brief and the skill (folder, file) whose content or listing it is.
    (Plain classes here, not dataclasses: this module is imported by a hook.)"""

    __slots__ = ("path", "skill", "text", "title")

    def __init__(
        self,
        text: str,
        skill: str | None = None,
        path: str | None = None,
        title: str | None = None,
    ) -> None:
        self.text, self.skill, self.path, self.title = text, skill, path, title


class _Section:
    __slots__ = ("key", "lines", "title")

    def __init__(self, key: str, title: str, lines: list[_Line]) -> None:
        self.key, self.title, self.lines = key, title, lines


# --- Tasks and sessions ---


def _task_line(task: dict[str, Any]) -> _Line:
    line = f"- [{task['status']}] {task['description']}"
    if task["progresses"]:
        line += f" (latest: {task['progresses'][-1]})"
    return _Line(one_line(line, _LINE))


def _session_lines(
    conn: sqlite3.Connection, project_dir: str | None, exclude: str | None, tasks: list
) -> list[_Line]:
    """What the user asked in recent sessions whose tasks are not tracked yet: until the task
    agent has read a session, its requests are the best summary of its work."""
    tracked = {t["session_id"] for t in tasks}
    lines = []
    found = recent_project_sessions(conn, project_dir, exclude=exclude, limit=RECENT_SESSIONS)
    for session in found:
        if session["id"] in tracked:
            continue
        requests = user_requests(conn, session["id"], limit=3)
        if not requests:
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session["updated_at"]))
        asked = "; ".join(one_line(r, 70) for r in requests)
        text = one_line(f"- {when} ({session['agent']}) the user asked: {asked}", _LINE * 2)
        lines.append(_Line(text))
    return lines


# --- Learned content: the runbook, the user's facts and preferences ---


class _Said:
    """A runbook entry, a fact or a task preference, as the brief ranks and shows it;
    `relevant` is 2 when it names this project, 1 one of its tools, else 0."""

    __slots__ = ("line", "relevant", "seen", "statement", "verified")

    def __init__(
        self, line: _Line, statement: Statement, verified: int = 0, seen: int = 0, relevant: int = 0
    ) -> None:
        self.line, self.statement = line, statement
        self.verified, self.seen, self.relevant = verified, seen, relevant


def _counts(bullet: learned.Bullet) -> str:
    if bullet.plain:
        return ""
    verified = f", verified {bullet.verified}×" if bullet.verified else ""
    return f" (seen {bullet.seen}×{verified}, last {bullet.last})"


def _bullet_line(bullet: learned.Bullet, label: str) -> _Line:
    counts = _counts(bullet)
    head = f"- {label}{bullet.title + ': ' if bullet.title else ''}"
    room = max(20, _CONTENT_LINE - len(head) - len(counts))
    text = clip(" ".join(bullet.text.split()), room) if bullet.text else ""
    line = (head + text).rstrip(": ") + counts
    title = bullet.title if not bullet.plain and bullet.title else None
    return _Line(line, bullet.skill, bullet.path, title)


def _from_bullet(bullet: learned.Bullet, kind: str, label: str, relevant: int) -> _Said:
    statement = Statement(
        bullet.statement,
        bullet.when,
        kind=kind,
        source=f"{bullet.skill}/{bullet.path}",
        order=bullet.order,
        dated=not bullet.plain,
    )
    line = _bullet_line(bullet, label)
    return _Said(line, statement, bullet.verified, bullet.seen, relevant)


def _preferences(tasks: list[dict[str, Any]]) -> list[_Said]:
    """The preferences stated in the tasks, once each (newest wording kept), counted."""
    found: dict[str, _Said] = {}
    for task in tasks:
        for i, pref in enumerate(task["user_preferences"]):
            text = one_line(pref, _LINE - 2)
            if not text:
                continue
            when = float(task["updated_at"]) + i * 1e-3  # later in one task: newer
            key = text.casefold()
            said = found.get(key)
            if said is None:
                source = f"task:{task['id']}"
                statement = Statement(text, when, kind=USER, source=source, order=i)
                found[key] = _Said(_Line(f"- {text}"), statement, seen=1)
                continue
            said.seen += 1
            if when > said.statement.when:
                said.statement.when = when
    return list(found.values())


def _applies(bullet: learned.Bullet, slug: str | None, others: set[str]) -> bool:
    """A fact applies unless it names another project (and not this one)."""
    if slug and learned.names_slug(bullet.statement, slug):
        return True
    return not learned.named_slugs(bullet.statement, others)


def _names(text: str, slug: str | None, tools: set[str]) -> int:
    """2 when `text` names the project, 1 when it names one of its tools, else 0."""
    if slug and learned.names_slug(text, slug):
        return 2
    return int(bool(tools & set(learned.slug_words(text).strip("-").split("-"))))


def _learned_sections(
    skills_dir: Path, slug: str | None, tasks: list[dict[str, Any]]
) -> tuple[list[_Line], list[_Line]]:
    """(runbook lines, user lines): contradictions resolved, best-evidenced first."""
    runbook = learned.runbook_bullets(skills_dir, slug) if slug else []
    tools = learned.code_words(runbook) - _COMMON_TOOL_WORDS
    others = learned.project_slugs(skills_dir) - {slug}
    facts = [b for b in learned.fact_bullets(skills_dir) if _applies(b, slug, others)]
    said_runbook = [
        _from_bullet(b, TRAP if b.is_trap else PROCEDURE, f"[{b.section}] " * bool(b.section), 0)
        for b in runbook
    ]
    said_user = [_from_bullet(b, USER, "", _names(b.statement, slug, tools)) for b in facts]
    for pref in _preferences(tasks):
        pref.relevant = _names(pref.statement.text, slug, tools)
        said_user.append(pref)
    everything = said_runbook + said_user
    keep = resolve([s.statement for s in everything])
    kept = {id(s) for s, k in zip(everything, keep, strict=True) if k}

    def rank(s: _Said) -> tuple:
        return (-s.relevant, -s.verified, -s.seen, -s.statement.when, s.statement.order)

    runbook_lines = [s.line for s in sorted(said_runbook, key=rank) if id(s) in kept]
    user_lines = [s.line for s in sorted(said_user, key=rank) if id(s) in kept]
    return runbook_lines, user_lines


# --- Skills, most relevant first ---


def _skill_lines(
    conn: sqlite3.Connection,
    skills_dir: Path,
    project_dir: str | None,
    slug: str | None,
    listed: Collection[str],
    shadowed: Collection[str],
) -> list[_Line]:
    """One line per learned skill the agent does not already list itself, the most relevant
    to this project first; a skill a foreign folder of the same name hides is marked, so two
    skills with one name are not confused."""
    # A skill the agent lists itself is not even read (SessionStart waits for this).
    skills = [s for s in list_skills(skills_dir, skip=listed) if s["name"] not in listed]
    if not skills:
        return []
    uses: dict[str, int] = {}
    taught: dict[str, float] = {}
    if project_dir:
        from acontext_mcp.store.skill_relevance import project_learned, project_uses

        uses, taught = project_uses(conn, project_dir), project_learned(conn, project_dir)
    own_runbook = (
        bool(slug) and (skills_dir / learned.RUNBOOKS / learned.runbook_path(slug or "")).is_file()
    )

    def rank(skill: dict[str, Any]) -> tuple:
        folder = skill["folder"] = os.path.basename(skill["path"])
        about = f"{skill['name']} {skill['description']}"
        named = (folder == learned.RUNBOOKS and own_runbook) or bool(
            slug and slug in about.casefold() and learned.names_slug(about, slug)
        )
        return (not named, -uses.get(folder, 0), -taught.get(folder, 0.0), skill["name"])

    lines = []
    for skill in sorted(skills, key=rank):
        desc = skill["description"] or "(no description)"
        mark = " [ours; your skill list shows another folder of this name]" * (
            skill["name"] in shadowed
        )
        text = one_line(f"- {skill['name']}{mark}: {desc}", _LINE)
        lines.append(_Line(text, skill["folder"]))
    return lines


# --- The brief ---


def build_brief(
    conn: sqlite3.Connection,
    settings: Settings,
    *,
    project_dir: str | None,
    budget: int | None = None,
    skills_changed: bool = False,
    session_id: str | None = None,
    listed: Collection[str] = (),
    shadowed: Collection[str] = (),
    agent: str | None = None,
    uses_out: list[Any] | None = None,
) -> str:
    """The brief for a session starting in `project_dir`; "" when there is nothing to say.

    `session_id` is left out of the recent sessions, and the skills the brief delivers are
    recorded as its uses, or with `uses_out` appended there for the caller to record
    (`record_uses`) once its answer is out (SessionStart: the first write of a hook process
    costs a new WAL file, ~20 ms on a busy disk). `agent` names the host, so a session not
    captured yet is created for the uses. Skills in `listed` are left out (the agent lists
    them itself, synced); those in `shadowed` are marked as hidden from it."""
    budget = settings.brief_chars if budget is None else budget
    if budget < 80:
        raise InvalidInput(f"the brief budget must be at least 80 characters (got {budget})")
    tasks = recent_tasks_for_project(conn, project_dir, limit=30)
    slug = project_slug(project_dir)
    runbook, user = _learned_sections(settings.skills_dir, slug, tasks)
    rel = f"{learned.RUNBOOKS}/{learned.runbook_path(slug or '')}"
    skills_title = (
        "Learned skills, most relevant first (read one with the get_skill tool):"
        if not listed
        else "Learned skills not in your skill list (read one with the get_skill tool):"
    )
    sections = [
        _Section("runbook", f"This project's runbook ({rel}), best-evidenced first:", runbook),
        _Section("user", "User facts and preferences (newer statements replace older):", user),
        _Section(
            "tasks",
            "Recent tasks in this project (newest first):",
            [_task_line(t) for t in tasks[:10]],
        ),
        _Section(
            "sessions",
            "Recent sessions in this project (newest first):",
            _session_lines(conn, project_dir, session_id, tasks),
        ),
        _Section(
            "skills",
            skills_title,
            _skill_lines(conn, settings.skills_dir, project_dir, slug, listed, shadowed),
        ),
    ]
    head = "acontext-mcp memory" + (f" for {project_dir}" if project_dir else "") + ":"
    lines = [clip(head, budget // 2)]
    if skills_changed:
        lines.append("Skills changed since the last session: reload them before relying on them.")
    waiting = waiting_count(settings.skills_dir)
    if waiting:
        lines.append(_proposals_line(waiting))
    if len(lines) == 1 and not any(s.lines for s in sections):
        return ""
    text, delivered = _fit(lines, sections, budget)
    if uses_out is not None:
        uses_out.extend(_uses(delivered))
    elif session_id:
        record_uses(conn, settings, _uses(delivered), session_id, project_dir, agent)
    return text


def _proposals_line(count: int) -> str:
    what = "1 skill proposal waits" if count == 1 else f"{count} skill proposals wait"
    return f"{what} for review: acontext-mcp skills proposals"


def _cost(lines: Iterable[str]) -> int:
    return len("\n".join(lines))


def _fit(head: list[str], sections: list[_Section], budget: int) -> tuple[str, list[_Line]]:
    """The brief's text within `budget`, and the lines that made it in.

    Everything when it fits. Otherwise each section first takes its best lines within its
    share (SHARES) of what the head leaves, then the rest goes to the sections in turn, a
    line at a time, and a note says how many lines were left out. A section shows a prefix
    of its ranked lines, so what is cut is always the least relevant."""
    sections = [s for s in sections if s.lines]
    everything = [
        *head,
        *(x for s in sections for x in ["", s.title, *(ln.text for ln in s.lines)]),
    ]
    if _cost(everything) <= budget:
        return "\n".join(everything).strip(), [ln for s in sections for ln in s.lines]
    total = sum(len(s.lines) for s in sections)
    note_room = len(_note(total)) + 1
    while head and _cost(head) + note_room > budget:
        head = head[:-1]
    avail = budget - _cost(head) - note_room
    taken = [0] * len(sections)
    spent = [0] * len(sections)

    def grow(i: int, allowance: int) -> int:
        """Take section i's next lines while they fit `allowance`; return what they cost."""
        section, used = sections[i], 0
        while taken[i] < len(section.lines):
            line = section.lines[taken[i]].text
            cost = len(line) + 1 + (len(section.title) + 2 if taken[i] == 0 else 0)
            if used + cost > allowance:
                break
            used += cost
            taken[i] += 1
        spent[i] += used
        return used

    for i, section in enumerate(sections):
        grow(i, int(SHARES.get(section.key, 0.0) * avail))
    more = True
    while more:  # the rest, a line at a time to each section in turn
        more = False
        for i, section in enumerate(sections):
            if taken[i] < len(section.lines):
                line = section.lines[taken[i]].text
                title = len(section.title) + 2 if taken[i] == 0 else 0
                if sum(spent) + len(line) + 1 + title <= avail:
                    grow(i, len(line) + 1 + title)
                    more = True
    out = list(head)
    delivered: list[_Line] = []
    for section, n in zip(sections, taken, strict=True):
        if n:
            out += ["", section.title, *(ln.text for ln in section.lines[:n])]
            delivered += section.lines[:n]
    left = total - len(delivered)
    if left:
        out.append(_note(left))
    return "\n".join(out).strip(), delivered


def _note(left: int) -> str:
    return f"(+{left} more: see the list_tasks and list_skills tools)"


_Uses = list[tuple[str, str | None, str | None]]


def _uses(delivered: list[_Line]) -> _Uses:
    """One use per learned entry that reached the brief, named by its title (so the prompt
    hook does not say it again in the session), and one per skill for its other lines, with
    their file when they all came from one."""
    files: dict[str, set[str | None]] = {}
    entries: dict[str, dict[tuple[str | None, str], None]] = {}
    for line in delivered:
        if not line.skill:
            continue
        if line.title:
            entries.setdefault(line.skill, {})[(line.path, line.title)] = None
        else:
            files.setdefault(line.skill, set()).add(line.path)
    out: _Uses = []
    for skill in sorted({*files, *entries}):
        out += [(skill, path, title) for path, title in entries.get(skill, {})]
        paths = files.get(skill)
        if paths:
            out.append((skill, next(iter(paths)) if len(paths) == 1 else None, None))
    return out


def record_uses(
    conn: sqlite3.Connection,
    settings: Settings,
    uses: _Uses,
    session_id: str,
    project_dir: str | None,
    agent: str | None,
) -> None:
    """The `brief` uses, in one transaction. Not when capture is off for the session or
    project: a use names where the user worked. A store that cannot take the rows costs the
    brief nothing; it is logged."""
    if not uses:
        return
    try:
        from acontext_mcp.privacy.switches import capture_allowed
        from acontext_mcp.store.db import atomic
        from acontext_mcp.store.sessions import ensure_session, session_created_at
        from acontext_mcp.store.skill_uses import record_uses as store_uses

        allowed, _why = capture_allowed(settings, project_dir=project_dir, session_id=session_id)
        if not allowed:
            return
        with atomic(conn):
            if agent and session_created_at(conn, session_id) is None:
                ensure_session(conn, session_id, agent=agent, project_dir=project_dir)
            store_uses(conn, uses, "brief", session_id=session_id, project_dir=project_dir)
    except Exception as exc:  # the brief goes out whatever happens to its bookkeeping
        _log_unrecorded(exc)


def _log_unrecorded(exc: Exception) -> None:
    import logging

    logging.getLogger(__name__).warning("brief uses not recorded: %s", exc)
