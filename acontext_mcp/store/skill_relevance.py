"""What a project's recent sessions did with skills: used them, and learned into them.

The SessionStart brief ranks the skills it lists by relevance to the project; these are two of
its signals. Both read through the project's newest sessions (index sessions_project) and then
per session (indexes skill_uses_session, learnings_session), so the cost follows one project's
history, not the whole store. Uses of kind `brief` are left out: the brief listing a skill is
no sign that the skill helped, and counting it would keep whatever was listed first on top.
Standard library only: the brief runs in a hook.
"""

from __future__ import annotations

import sqlite3

SESSIONS = 200  # the project's newest sessions looked at

_PROJECT_SESSIONS = "SELECT id FROM sessions WHERE project_dir = ? ORDER BY updated_at DESC LIMIT ?"


def project_uses(
    conn: sqlite3.Connection, project_dir: str, *, sessions: int = SESSIONS
) -> dict[str, int]:
    """Skill folder -> uses (other than brief listings) in the project's newest sessions."""
    rows = conn.execute(
        f"SELECT u.skill, COUNT(*) FROM ({_PROJECT_SESSIONS}) s "
        "JOIN skill_uses u ON u.session_id = s.id "
        "WHERE u.kind <> 'brief' GROUP BY u.skill",
        (project_dir, sessions),
    )
    return {row[0]: row[1] for row in rows}


def project_learned(
    conn: sqlite3.Connection, project_dir: str, *, sessions: int = SESSIONS
) -> dict[str, float]:
    """Skill folder -> when a lesson of the project's newest sessions last went into it
    (learned and not rejected in review)."""
    rows = conn.execute(
        "SELECT COALESCE(json_extract(l.lesson, '$.entry.skill'), "
        "json_extract(l.lesson, '$.bump.skill')) AS skill, MAX(l.updated_at) "
        f"FROM ({_PROJECT_SESSIONS}) s JOIN learnings l ON l.session_id = s.id "
        "WHERE l.status = 'learned' AND l.lesson IS NOT NULL "
        "AND (l.review IS NULL OR l.review = 'accepted') AND json_valid(l.lesson) "
        "GROUP BY skill HAVING skill IS NOT NULL",
        (project_dir, sessions),
    )
    return {row[0]: row[1] for row in rows if isinstance(row[0], str)}
