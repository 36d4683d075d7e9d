"""The SessionStart brief: what the next session should know, within a character budget.

Written as facts, newest first: recent tasks of this project with their status and latest
progress, the user's stated preferences, the project's traps met more than once (with their
counts), and the index of learned skills (one line each).
Sections are filled in that priority order and lines are clipped, so the brief never exceeds
its budget however much is stored. Learned changes that wait for review are mentioned in one
line, counted from the ref files (no git process). Stdlib only: it runs inside a hook.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.skills import contained
from acontext_mcp.skills.catalog import list_skills
from acontext_mcp.skills.evidence import project_slug, recurring_traps
from acontext_mcp.skills.proposal_refs import waiting_count
from acontext_mcp.store.messages import user_requests
from acontext_mcp.store.sessions import recent_project_sessions
from acontext_mcp.store.tasks import recent_tasks_for_project
from acontext_mcp.text import one_line

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

_LINE = 160  # a task or skill line is clipped to this many characters


def _task_line(task: dict[str, Any]) -> str:
    line = f"- [{task['status']}] {task['description']}"
    if task["progresses"]:
        line += f" (latest: {task['progresses'][-1]})"
    return one_line(line, _LINE)


def _preferences(tasks: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for task in tasks:
        for pref in reversed(task["user_preferences"]):
            seen.setdefault(one_line(pref, _LINE - 2), None)
    return [f"- {p}" for p in seen]


def _session_lines(
    conn: sqlite3.Connection, project_dir: str | None, exclude: str | None, tasks: list
) -> list[str]:
    """What the user asked in recent sessions whose tasks are not tracked yet: until the task
    agent has read a session, its requests are the best summary of its work."""
    tracked = {t["session_id"] for t in tasks}
    lines = []
    for session in recent_project_sessions(conn, project_dir, exclude=exclude, limit=5):
        if session["id"] in tracked:
            continue
        requests = user_requests(conn, session["id"], limit=3)
        if not requests:
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session["updated_at"]))
        asked = "; ".join(one_line(r, 70) for r in requests)
        lines.append(one_line(f"- {when} ({session['agent']}) the user asked: {asked}", _LINE * 2))
    return lines


def _skill_lines(skills_dir: Path, listed: Collection[str], shadowed: Collection[str]) -> list[str]:
    """One line per learned skill the agent does not already list itself; a skill a foreign
    folder of the same name hides is marked, so two skills with one name are not confused."""
    lines = []
    for skill in list_skills(skills_dir, skip=listed):  # a listed skill is not even read
        if skill["name"] in listed:
            continue
        desc = skill["description"] or "(no description)"
        mark = " [ours; your skill list shows another folder of this name]" * (
            skill["name"] in shadowed
        )
        lines.append(one_line(f"- {skill['name']}{mark}: {desc}", _LINE))
    return lines


def _trap_lines(skills_dir: Path, project_dir: str | None) -> list[str]:
    """The project's runbook traps met more than once, most often first, with their counts:
    a trap met ten times is the first thing a session in that project should hear."""
    slug = project_slug(project_dir)
    if not slug:
        return []
    rel = f"project-runbooks/projects/{slug}.md"
    try:  # folder by folder, never through a link, bounded: a broken file is no brief error
        content = contained.read_bytes(skills_dir, rel, max_bytes=1_000_000).decode("utf-8")
    except Exception:
        return []
    lines = []
    for trap in recurring_traps(content):
        verified = f", verified {trap.verified}×" if trap.verified else ""
        counts = f"(seen {trap.seen}×{verified}, last {trap.last})"
        lines.append(one_line(f"- {trap.title} {counts}: {trap.text}", _LINE))
    return lines


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
) -> str:
    """The brief for a session starting in `project_dir` (`session_id` is left out of the
    recent sessions); "" when there is nothing to say. Skills in `listed` are left out (the
    agent lists them itself, synced); those in `shadowed` are marked as hidden from it."""
    budget = settings.brief_chars if budget is None else budget
    if budget < 80:
        raise InvalidInput(f"the brief budget must be at least 80 characters (got {budget})")
    tasks = recent_tasks_for_project(conn, project_dir, limit=30)
    sections: list[tuple[str, list[str]]] = [
        ("Recent tasks in this project (newest first):", [_task_line(t) for t in tasks[:10]]),
        ("User preferences seen so far:", _preferences(tasks)),
        (
            "Traps met more than once in this project (project-runbooks):",
            _trap_lines(settings.skills_dir, project_dir),
        ),
        (
            "Recent sessions in this project (newest first):",
            _session_lines(conn, project_dir, session_id, tasks),
        ),
        (
            "Learned skills (read one with the get_skill tool):"
            if not listed
            else "Learned skills not in your skill list (read one with the get_skill tool):",
            _skill_lines(settings.skills_dir, listed, shadowed),
        ),
    ]
    lines: list[str] = []
    if skills_changed:
        lines.append("Skills changed since the last session: reload them before relying on them.")
    waiting = waiting_count(settings.skills_dir)
    if waiting:
        lines.append(_proposals_line(waiting))
    for title, items in sections:
        if items:
            lines += ["", title, *items]
    if not lines:
        return ""
    header = "acontext-mcp memory"
    if project_dir:
        header += f" for {project_dir}"
    return _fit([header + ":", *lines], budget)


def _proposals_line(count: int) -> str:
    what = "1 skill proposal waits" if count == 1 else f"{count} skill proposals wait"
    return f"{what} for review: acontext-mcp skills proposals"


def _fit(lines: list[str], budget: int) -> str:
    """Whole lines in order while they fit the budget, then a note of what was left out."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        cost = len(line) + (1 if out else 0)
        if used + cost <= budget:
            out.append(line)
            used += cost
            continue
        left = sum(1 for rest in lines[i:] if rest.startswith("- "))
        note = f"(+{left} more: see the list_tasks and list_skills tools)"
        while out and used + len(note) + 1 > budget:
            used -= len(out.pop()) + (1 if out else 0)
        if used + len(note) + (1 if out else 0) <= budget:
            out.append(note)
        break
    return "\n".join(out).strip()
