"""Skill sync at session start, for both agents' hooks (standard library only).

Trigger: Claude Code's SessionStart; OpenClaw's first prompt of a session. Why: a skill
learned since the last session must be in the agent's folder before the agent lists its
skills. Outcome: what the sync did, logged to the hooks log, and which of our skills the agent
lists on its own (so the brief need not repeat them) or cannot see because a foreign folder of
the same name is in the way. Never raises: a failed sync costs the agent nothing but the new
skills.

Targets are skills.sync's: Claude Code's user folder when Claude Code is installed, the
projects configured in `sync.claude_code_project_dirs`, OpenClaw's shared folder when OpenClaw
is installed (`skills.sync.agent_present`). On a data home without a skills repository the
default skills are written first (`_default_skills`). The
session's own project gets a copy only when configured: Claude Code already sees the user
folder there, and copies in every repository opened would show up as untracked files.
"""

from __future__ import annotations

import os

from acontext_mcp.config import Settings
from acontext_mcp.skills import SKILL_FILE


class SkillSync:
    """One session-start sync. `listed[agent]`: our skills that agent lists this session;
    `shadowed[agent]`: ours that a foreign folder of the same name hides from it. (Not a
    dataclass: Claude Code waits for this, and importing dataclasses costs ~12 ms.)"""

    def __init__(self) -> None:
        self.changed = False  # a copy was written, updated or removed
        self.clashes: list[str] = []  # "name in folder", for the user
        self.listed: dict[str, set[str]] = {}
        self.shadowed: dict[str, set[str]] = {}


def sync_agent_skills(settings: Settings) -> SkillSync:
    """Sync every target; see the module docstring."""
    from acontext_mcp.hooks.run import _log

    out = SkillSync()
    _default_skills(settings)
    try:
        if not _has_skills(settings.skills_dir) and not _ever_synced(settings):
            return out  # nothing at all: no folder created
        from acontext_mcp.skills import sync

        sync.quiet_log()  # the reports are logged below, not on the agent's stderr
        done = [
            (
                target,
                sync.sync_skills(
                    settings.skills_dir,
                    target.skills_dir,
                    manifest_path=target.manifest_path,
                    exclude=target.exclude,
                ),
            )
            for target in sync.targets(settings)
        ]
    except Exception as exc:  # fail open: the brief still goes out
        _log(f"skill sync failed: {type(exc).__name__}: {exc}")
        return out
    for target, report in done:
        acted = bool(report.written or report.updated or report.removed)
        out.changed = out.changed or acted
        out.clashes += [f"{name} in {report.target}" for name in report.clashes]
        if acted or report.errors or report.clashes or report.modified_by_user or report.skipped:
            _log(f"skill sync: {report.summary()}")
        if target.scope == "project" or report.errors:
            continue  # a project folder is seen only in that project; a failed sync, unknown
        # Claude Code rescans after SessionStart (reloadSkills), so it lists new copies now;
        # OpenClaw built this run's list before the hook: new copies show from its next run.
        seen = [*report.updated, *report.unchanged, *report.modified_by_user]
        if target.agent == "claude-code":
            seen += report.written
        out.listed.setdefault(target.agent, set()).update(seen)
        out.shadowed.setdefault(target.agent, set()).update(report.clashes)
    return out


def _default_skills(settings: Settings) -> None:
    """Trigger: a session starts on a data home without a skills repository. Why: the
    default skills exist from the first use of any surface, and a hook is often the first.
    Outcome: they are written (standard library, no git); the repository is created, and
    commits them as its first learning, on the first use that can run git (a skill tool, a
    command, a learning: skills.defaults.prepare)."""
    if os.path.exists(os.path.join(settings.skills_dir, ".git")):
        return
    from acontext_mcp.hooks.run import _log
    from acontext_mcp.skills.defaults import ensure_default_skills

    try:
        created = ensure_default_skills(settings.skills_dir)
    except OSError as exc:  # a read-only home: the session goes on without them
        _log(f"default skills not written: {exc}")
        return
    if created:
        _log(f"default skills written: {', '.join(created)}")


def _has_skills(skills_dir: os.PathLike[str]) -> bool:
    try:
        with os.scandir(skills_dir) as entries:
            return any(
                not e.name.startswith(".") and os.path.isfile(os.path.join(e.path, SKILL_FILE))
                for e in entries
            )
    except OSError:
        return False


def _ever_synced(settings: Settings) -> bool:
    """Whether a sync manifest exists: copies that may need removing."""
    try:
        with os.scandir(settings.home / "sync") as entries:
            return any(e.name.endswith(".json") for e in entries)
    except OSError:
        return False
