"""Claude Code's SessionStart answer: built live, or prepared ahead for the next session.

The answer (`compute`) is the brief for the project (capture/brief.py), `reloadSkills` when
the skills directory or a synced copy changed since the last session saw it, and a one-line
note when a foreign folder keeps a skill from being synced (said once per change of that
set). Both "since the last session" facts are cursors in the store, which the answer moves.

Live (`live_answer`): sync the skills into the agents' folders, compute, move the cursors,
answer. It imports the config, the store, the sync and the brief: several times a bare
interpreter's start, while Claude Code waits.

Prepared (`prepare`): the detached children of the hooks (after SessionStart's and Stop's
capture, SessionEnd's) and the worker when its queue empties compute the answer a session
starting in that project would get, without moving the cursors, and store it with what it
depends on (store/prepared.py). SessionStart answers from it when that still holds (the
check needs `os`, `_json` and `_sqlite3` only: hooks/claude_code.py), then, after the
answer, records the brief's uses and moves the cursors as the live path would have, and
prepares the next one.
"""

from __future__ import annotations

import os
import time

from acontext_mcp.config import Settings, claude_config_dir, openclaw_state_dir
from acontext_mcp.skills import SKILL_FILE
from acontext_mcp.store import prepared

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

    from acontext_mcp.hooks.skill_sync import SkillSync

AGENT = "claude-code"
SKILLS_SEEN = "skills-seen:claude-code"
CLASHES_SEEN = "skill-clashes-seen:claude-code"
CURSOR_KEYS = [SKILLS_SEEN, CLASHES_SEEN]
MAX_CLASH_NAMES = 5
WORKER_TRIES = 2  # the worker waits once for fresh files to settle; a hook does not wait
RECENT_PROJECTS = 3  # projects prepared again after a worker's jobs or another session
# The modules whose code shapes the answer: a prepared answer made by other code is stale.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = ("capture/brief.py", "hooks/session_start.py", "hooks/skill_sync.py", "skills/sync.py",
        "skills/catalog.py", "skills/learned.py", "skills/contradict.py", "privacy/redact.py",
        "store/prepared.py", "config.py", "user_config.py")  # fmt: skip


class Answer:
    """What SessionStart says (`output`: the hook's JSON answer, or None for none), the
    brief's skill uses to record, and the cursor values to store once it is said. (A plain
    class: the hook imports this.)"""

    __slots__ = ("cursors", "output", "uses")

    def __init__(
        self, output: dict[str, Any] | None, uses: list[Any], cursors: dict[str, Any]
    ) -> None:
        self.output, self.uses, self.cursors = output, uses, cursors


def compute(
    conn: sqlite3.Connection,
    settings: Settings,
    project_dir: str | None,
    session_id: str | None,
    synced: SkillSync,
    *,
    live: bool,
) -> Answer:
    """The answer for a session starting in `project_dir` after `synced`; moves nothing.
    `live`: the sync ran in this hook, so a copy it wrote asks Claude Code to rescan (a
    prepared answer's sync ran before the session started, which lists it anyway)."""
    from acontext_mcp.capture.brief import build_brief
    from acontext_mcp.store.cursors import get_cursor

    cursors: dict[str, Any] = {}
    seen = _skills_seen(settings)
    before = get_cursor(conn, SKILLS_SEEN)
    changed = before != seen and (before is not None or bool(seen))
    if before != seen:
        cursors[SKILLS_SEEN] = seen
    changed = changed or (live and synced.changed)
    uses: list[Any] = []
    brief = build_brief(
        conn,
        settings,
        project_dir=project_dir,
        session_id=session_id,
        listed=synced.listed.get(AGENT, set()),
        shadowed=synced.shadowed.get(AGENT, set()),
        agent=AGENT,
        uses_out=uses,
    )
    clashes = sorted(synced.clashes)
    shown = get_cursor(conn, CLASHES_SEEN)
    if not (shown == clashes or (shown is None and not clashes)):
        cursors[CLASHES_SEEN] = clashes
        note = _clash_note(clashes)
        if note:
            brief = f"{brief}\n\n{note}" if brief else note
    if not brief and not changed:
        return Answer(None, uses, cursors)
    answer: dict[str, Any] = {"hookEventName": "SessionStart"}
    if brief:
        answer["additionalContext"] = brief
    if changed:
        answer["reloadSkills"] = True
    return Answer({"hookSpecificOutput": answer}, uses, cursors)


def _clash_note(clashes: list[str]) -> str:
    """One line naming the skills a foreign folder kept from being synced."""
    if not clashes:
        return ""
    shown = "; ".join(clashes[:MAX_CLASH_NAMES])
    more = f" and {len(clashes) - MAX_CLASH_NAMES} more" if len(clashes) > MAX_CLASH_NAMES else ""
    return (
        f"Skill sync: not copied, a folder of the same name that acontext did not write is in "
        f"the way (rename one of them): {shown}{more}."
    )


def _skills_seen(settings: Settings) -> list[list[Any]]:
    """Each skill folder's SKILL.md (name, mtime, size): one stat per skill."""
    seen: list[list[Any]] = []
    try:
        for entry in sorted(os.scandir(settings.skills_dir), key=lambda e: e.name):
            try:
                st = os.stat(os.path.join(entry.path, SKILL_FILE))
            except OSError:
                continue
            seen.append([entry.name, st.st_mtime_ns, st.st_size])
    except OSError:
        pass  # no skills directory yet
    return seen


def move_cursors(conn: sqlite3.Connection, cursors: dict[str, Any]) -> None:
    """Store what the answer said it saw (in one transaction; none when nothing moved)."""
    if not cursors:
        return
    from acontext_mcp.store.cursors import set_cursor
    from acontext_mcp.store.db import atomic

    with atomic(conn):
        for key, value in cursors.items():
            set_cursor(conn, key, value)


def live_answer(
    conn: sqlite3.Connection, settings: Settings, project_dir: str | None, session_id: str | None
) -> dict[str, Any] | None:
    """Sync, answer, move the cursors; the brief's uses are recorded after the answer is
    out (`after_answer`, in the hook's detached child)."""
    from acontext_mcp.hooks.skill_sync import sync_agent_skills

    answer = compute(
        conn, settings, project_dir, session_id, sync_agent_skills(settings), live=True
    )
    move_cursors(conn, answer.cursors)
    _given.append(answer)
    return answer.output


_given: list[Answer] = []  # the live answer of this process, until `after_answer`


def after_answer(
    settings: Settings,
    session_id: str | None,
    project_dir: str | None,
    used: dict[str, Any] | None,
) -> None:
    """After the answer is out (the hook's detached child): record the brief's uses for the
    session, move the cursors of `used` (the prepared answer given, if it was one; the live
    path moved its own), then prepare the next session's answer. Never raises."""
    from acontext_mcp.hooks.run import _log

    if used is not None:
        uses, cursors = used.get("uses") or [], used.get("cursors") or {}
    elif _given:
        uses, cursors = _given.pop().uses, {}
    else:
        uses, cursors = [], {}
    try:
        if uses or cursors:
            from acontext_mcp.capture.brief import record_uses
            from acontext_mcp.store.db import open_db

            conn = open_db(settings)
            try:
                move_cursors(conn, cursors)
                if uses and session_id:
                    record_uses(conn, settings, uses, session_id, project_dir, AGENT)
            finally:
                conn.close()
    except Exception as exc:
        _log(f"claude-code SessionStart bookkeeping failed: error {type(exc).__name__}: {exc}")
    prepare_quietly(settings, project_dir)


def prepare_quietly(settings: Settings, project_dir: str | None, *, tries: int = 1) -> None:
    """`prepare`, with a failure logged: it only costs the next session the live path."""
    from acontext_mcp.hooks.run import _log

    try:
        prepare(settings, project_dir, tries=tries)
    except Exception as exc:
        _log(f"claude-code answer not prepared: error {type(exc).__name__}: {exc}")


def prepare_recent(
    settings: Settings, *, skip: tuple[str | None, ...] = (), tries: int = WORKER_TRIES
) -> None:
    """Prepare the answers of the projects of the most recent Claude Code sessions but those
    in `skip`: what a worker's jobs wrote (tasks, learnings of those sessions) or a sync
    placed (a new copy is a new name in every answer's targets) made them stale. The worker
    calls this when its queue empties, SessionEnd for the projects other than its own."""
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.sessions import recent_projects

    conn = open_db(settings)
    try:
        projects = recent_projects(conn, AGENT, RECENT_PROJECTS)
    finally:
        conn.close()
    for project_dir in projects:
        if project_dir not in skip:
            prepare_quietly(settings, project_dir, tries=tries)


def prepare(settings: Settings, project_dir: str | None, *, tries: int = 1) -> bool:
    """Prepare the answer for the next session in `project_dir`; True when one was stored.

    Syncs the skills first (what SessionStart would do), so a skill learned since, or an
    edit, is in the agents' folders before the session starts. Nothing is stored while a
    file it depends on changed within stat_rows.FRESH_SECONDS: with `tries` above 1 it waits
    that long and tries again (a hook's detached child does not wait: a later event
    prepares). An answer that still holds is left as it is."""
    from acontext_mcp.hooks.skill_sync import sync_agent_skills
    from acontext_mcp.stat_rows import FRESH_SECONDS, fresh
    from acontext_mcp.store.db import open_db

    home = str(settings.home)
    for attempt in range(tries):
        if attempt:
            time.sleep(FRESH_SECONDS + 0.1)
        # First, so the copies are current whatever happens next: an edit of a listed skill's
        # file other than SKILL.md leaves an answer standing, and is synced only here.
        synced = sync_agent_skills(settings)
        current = prepared.load(home, AGENT, project_dir)
        if current is not None and prepared.check(current, home, None):
            return True
        conn = open_db(settings)
        try:
            reads = _brief_reads(settings, synced.listed.get(AGENT, set()))
            watch = _watch(settings, reads)
            env = prepared.environment()
            # Read before the answer is computed: a change after this makes it stale.
            state = prepared.store_state(conn, project_dir, CURSOR_KEYS)
            rows = prepared.snapshot(watch)
            if fresh(rows):
                continue
            answer = compute(conn, settings, project_dir, None, synced, live=False)
            sessions = _listed_sessions(conn, project_dir)
        finally:
            conn.close()
        prepared.save(
            home,
            {
                "agent": AGENT,
                "project_dir": project_dir,
                "made_at": time.time(),
                "output": answer.output,
                "uses": answer.uses,
                "cursors": answer.cursors,
                "sessions": sessions,
                "brief_reads": reads,
                "cursor_keys": CURSOR_KEYS,
                "store": state,
                "env": env,
                "watch": watch,
                "rows": rows,
            },
        )
        return True
    return False


def _brief_reads(settings: Settings, listed: set[str]) -> list[str]:
    """The skill folders whose files the brief reads: the runbooks, the user's facts, and
    every skill the agent does not list itself (the brief lists it). A change to any other
    skill leaves the answer as it is (store/prepared.BEHIND)."""
    from acontext_mcp.skills.learned import FACTS, RUNBOOKS

    try:
        names = [n for n in os.listdir(settings.skills_dir) if not n.startswith(".")]
    except OSError:
        names = []
    return sorted({RUNBOOKS, FACTS, *(n for n in names if n not in listed)})


def _listed_sessions(conn: sqlite3.Connection, project_dir: str | None) -> list[str]:
    """The sessions the brief may list as recent: a session asking that is one of them is
    left out of its own brief, so a prepared brief is not its answer."""
    from acontext_mcp.capture.brief import RECENT_SESSIONS
    from acontext_mcp.store.sessions import recent_project_sessions

    rows = recent_project_sessions(conn, project_dir, exclude=None, limit=RECENT_SESSIONS)
    return [row["id"] for row in rows]


def _watch(settings: Settings, reads: list[str]) -> list[list[Any]]:
    """What the answer reads, for store/prepared.snapshot: the skill folders the brief reads
    (`reads`) whole, and every skill's SKILL.md (what the agent lists: an edit there is
    synced before the answer, which asks for a rescan); the skills repository's proposal
    refs and the top of .git (an unfinished merge holds the sync); each sync target's names
    (our copies, a folder in the way) and its manifest; what chooses the targets; the user
    config, the local time zone and the answering code. (An edit of another file of a skill
    the agent lists changes no answer: the detached child's sync copies it right after.) A
    linked skills folder is watched through its link (whose own row has the target's stat,
    so pointing it elsewhere shows)."""
    from acontext_mcp.skills import sync
    from acontext_mcp.skills.handover import state_path
    from acontext_mcp.user_config import CONFIG_FILE

    skills = str(settings.skills_dir)
    real = os.path.realpath(skills)
    git = os.path.join(real, ".git")
    watch: list[list[Any]] = [["file", skills], ["skills", real]]
    watch += [["tree", os.path.join(real, name)] for name in reads]
    watch += [
        ["names", git],
        ["file", os.path.join(git, "packed-refs")],
        ["tree", os.path.join(git, "refs", "heads", "proposals")],
    ]
    for target in sync.targets(settings):  # written only by our sync, by renames
        watch += [
            ["names", str(target.skills_dir), "own"],
            ["file", str(target.manifest_path), "own"],
        ]
    watch += [
        ["isdir", str(claude_config_dir())],
        ["isdir", str(openclaw_state_dir())],
        ["names", str(settings.home / "installs")],
        ["file", str(settings.home / CONFIG_FILE)],
        ["file", str(state_path(settings))],
        ["file", "/etc/localtime"],
    ]
    watch += [["file", os.path.join(_PACKAGE, rel)] for rel in CODE]
    return watch
