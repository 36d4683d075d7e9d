"""The right lesson at the prompt: one learned entry that matches what the user just asked.

Claude Code's UserPromptSubmit (and OpenClaw's per-turn prompt) gets, as additional context,
the single best-matching learned trap or procedure (skills/entry_index.py: full-text match
with a threshold) from this project's runbook and the shared skills, never the diary, at most
`MAX_CHARS` long and naming the skill and file it came from. Most prompts get nothing: the
threshold wants two content words of the prompt in the entry, so "thanks" or "continue" never
match. Each entry reaches a session at most once: injections are recorded as `prompt` uses
(store/skill_uses.py), after the answer is out (`record`), and read back before choosing.

It runs while the user waits, so it reads only what is indexed (`<home>/skills-index.db`,
read-only; no index yet: no answer, and none is built here) plus one stat of the project's
runbook, whose entries are read from disk when it changed since it was indexed (a lesson
learned a minute ago counts). Standard library only, and not all of it: sqlite3 and os, but
neither `re` nor `json` nor pathlib (config.py) on the way to the answer, ~8 ms of imports the
user would wait for (bench/bench_prompt_hook.py); `paths` is a hooks.HookPaths there.
"""

from __future__ import annotations

import os

from acontext_mcp.skills import entry_index
from acontext_mcp.skills.prompt_words import may_match

TYPE_CHECKING = False  # typing and config stay unimported: the prompt hook imports this
if TYPE_CHECKING:
    import sqlite3

    from acontext_mcp.config import Settings
    from acontext_mcp.hooks import HookPaths
    from acontext_mcp.skills.entry_index import Hit

MAX_CHARS = 400
INDEX_FILE = "skills-index.db"  # skills/index.py INDEX_FILE; not imported: that module is heavy


def choose(
    paths: Settings | HookPaths, prompt: str, project_dir: str | None, session_id: str | None
) -> tuple[str, str, str, str] | None:
    """(skill, file, title, context text) of the entry to inject for `prompt`, or None."""
    if not may_match(prompt):
        return None  # chit-chat: no database opened at all
    from acontext_mcp.store.peek import connect_readonly

    conn = connect_readonly(os.path.join(paths.home, INDEX_FILE), timeout=0.5)
    if conn is None:
        return None
    try:
        if not entry_index.usable(conn):
            return None
        from acontext_mcp.skills.slug import project_slug

        slug = project_slug(project_dir)
        runbook = _changed_runbook(conn, str(paths.skills_dir), slug) if slug else None
        hits = entry_index.best_entries(conn, prompt, project=slug, runbook=runbook)
    finally:
        conn.close()
    if not hits:
        return None
    done: set[tuple[str, str]] = set()
    if session_id:
        from acontext_mcp.store.skill_uses import injected_entries_at

        done = injected_entries_at(str(paths.db_path), session_id)
    for hit in hits:
        if (hit.skill, hit.title) not in done:
            return hit.skill, hit.file, hit.title, render(hit)
    return None


def _changed_runbook(
    conn: sqlite3.Connection, skills_dir: str, slug: str
) -> tuple[str, str] | None:
    """(rel path, text) of the project's runbook when it differs from what is indexed (one
    stat when it does not), else None."""
    rel = f"{entry_index.RUNBOOKS}/projects/{slug}.md"
    path = os.path.join(skills_dir, entry_index.RUNBOOKS, "projects", f"{slug}.md")
    try:
        st = os.stat(path)
    except OSError:
        return None  # no runbook: its stale rows, if any, are dropped at the next refresh
    if entry_index.indexed_stamp(conn, rel) == (st.st_mtime_ns, st.st_size):
        return None
    from pathlib import Path  # only when the runbook changed since it was indexed

    from acontext_mcp.errors import AcontextError
    from acontext_mcp.skills import contained

    try:  # never through a link: a skills remote may carry one pointing anywhere
        data = contained.read_bytes(Path(skills_dir), rel, max_bytes=entry_index.MAX_RUNBOOK_BYTES)
    except (AcontextError, OSError):  # a link, too large (not indexed either), gone
        return None
    return rel, data.decode("utf-8", errors="replace")


def render(h: Hit) -> str:
    """The context text: where the entry comes from (skill, file, section, evidence), then
    the entry, stated as a fact, within MAX_CHARS."""
    from acontext_mcp.text import one_line

    where = h.file + (f", {h.section}" if h.section else "")
    evidence = f"verified {h.verified}×" if h.verified else f"seen {h.seen}×"
    head = f"A lesson learned in earlier sessions (skill {h.skill}, {where}; {evidence}): "
    return one_line(f"{head}{h.title}: {h.text}", MAX_CHARS)


def record(
    settings: Settings,
    chosen: tuple[str, str, str, str],
    session_id: str | None,
    project_dir: str | None,
    *,
    agent: str | None = None,
) -> None:
    """Record the injection as a `prompt` use, once the answer is out. The session must be
    known to the store for the use to name it: Claude Code's prompt capture has made it known
    by then; for `agent` (OpenClaw, whose first capture comes after the first prompt) it is
    made known here, when capture may keep it. A use of a session the store does not know
    is kept without it, and then cannot stop a repeat (capture off)."""
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.skill_uses import record_use

    skill, file, title, _text = chosen
    conn = open_db(settings)
    try:
        if agent and session_id:
            from acontext_mcp.privacy.switches import capture_allowed
            from acontext_mcp.store.sessions import ensure_session

            if capture_allowed(settings, project_dir=project_dir, session_id=session_id)[0]:
                ensure_session(conn, session_id, agent=agent, project_dir=project_dir)
        record_use(
            conn,
            skill,
            "prompt",
            session_id=session_id,
            path=file,
            entry=title,
            project_dir=project_dir,
        )
    finally:
        conn.close()
