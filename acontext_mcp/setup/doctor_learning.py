"""Doctor checks for learning: the skills repository can take a commit, nothing is stuck.

Learning fails quietly in the background, so these say what a user would otherwise only find in
worker.log: a git operation left half done in the skills repository (every learning waits on
it), an interrupted learner run, learnings that failed, skills that break the Agent Skills
rules (agents may skip them), skill files holding a secret (never synced).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

from acontext_mcp.config import Settings
from acontext_mcp.setup.doctor_report import Report


def check_learning(report: Report, settings: Settings) -> None:
    root = settings.skills_dir
    if not (root / ".git").exists():
        report.add(
            "skills",
            "info",
            f"{root} has no repository yet (created, with the default skills, on first use: "
            "a skill tool, a `skills` command, an agent session or a learning)",
        )
        return
    from acontext_mcp.errors import AcontextError
    from acontext_mcp.learn.workspace import JOURNAL
    from acontext_mcp.skills import catalog, repo
    from acontext_mcp.skills.validate import validate_skill

    try:
        repo.check_ready(root)
    except AcontextError as exc:
        report.add("skills", "fail", str(exc), f"run the git command it names in {root}")
        return
    if (root / ".git" / JOURNAL).exists():
        fix = "nothing to do: the next learning run commits it"
        report.add("skills", "warn", "a learner run was interrupted before its commit", fix)
    broken = [s["name"] for s in catalog.list_skills(root) if validate_skill(root / s["name"])]
    if broken:
        report.add(
            "skills",
            "warn",
            f"{len(broken)} skill(s) break the Agent Skills rules: {', '.join(broken[:5])}",
            "acontext-mcp skills validate",
        )
    else:
        report.add("skills", "ok", f"{root} (git, {len(catalog.list_skills(root))} skills)")
    _check_secrets(report, settings)
    _check_learnings(report, settings)


def _check_secrets(report: Report, settings: Settings) -> None:
    """Skill files holding a secret: never synced to an agent, so the user must know."""
    from acontext_mcp.skills.sync import secret_files

    found = secret_files(settings.skills_dir)
    if found:
        report.add(
            "skills",
            "warn",
            f"{len(found)} skill file(s) hold what looks like a secret and are not synced: "
            + "; ".join(found[:3]),
            f"replace the secret with a placeholder in {settings.skills_dir}, commit, then "
            "acontext-mcp skills sync",
        )


def _check_learnings(report: Report, settings: Settings) -> None:
    from acontext_mcp.errors import AcontextError
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.learning import status_counts

    try:
        with closing(open_db(settings)) as conn:
            rows = status_counts(conn)
    except (sqlite3.Error, OSError, AcontextError):
        return  # the store check reports it (a newer schema, a damaged file)
    failed = rows.get("failed", 0)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(rows.items())) or "nothing learned yet"
    if failed:
        fix = "acontext-mcp learn (shows why); acontext-mcp learn SESSION retries"
        report.add("learning", "warn", summary, fix)
    else:
        report.add("learning", "ok" if rows else "info", summary)
