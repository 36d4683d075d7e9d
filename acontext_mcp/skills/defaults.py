"""The skills every skills directory starts with; each SKILL.md body is the schema its files follow.

`daily-logs` and `user-general-facts` follow the reference product's default skills;
`project-runbooks` is the one that fits coding agents. A folder that already exists is never
touched, whatever it holds: the user may have edited or replaced it. Their descriptions name
what should bring them up (installing a package, formatting code, running tests, "what did we
do yesterday"): an agent picks a skill by its description alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.skills import SKILL_FILE

DAILY_LOGS = """\
---
name: daily-logs
description: >
  A dated journal of the user's work, one file per month (logs/yyyy-mm.md) with a section per
  day and a short summary of each finished task, its outcome and project. Use it when the user
  asks what was done yesterday, last week or on a given day ("what did we do yesterday?",
  "where did we stop", "continue where we left off", "when did we change X"), to pick up
  unfinished work, and to record a finished task.
---

# Daily logs

A dated journal of the user's work sessions, so a later session can answer "what did we do on
Tuesday?" or pick up where the last one stopped.

## File Structure

- One file per month: `logs/yyyy-mm.md` (for example `logs/2026-12.md`), starting with a
  `# yyyy-mm` heading; a month past about 80 KB continues in `logs/yyyy-mm-part2.md`.
- Each day of the month is a `## yyyy-mm-dd` section (for example `## 2026-12-02`), dated by
  the day the work happened, the days in date order.
- Under its day, each task is a `### <short description>` heading holding a 1-3 sentence
  summary: what was done, the outcome, where (project or repository) when it matters.

## Guidelines

- A new month gets a new file and a new day a new `## yyyy-mm-dd` section; the same day
  appends a `###` task to its section.
- Keep entries concise; do not repeat facts that belong in another skill (preferences go to
  `user-general-facts`, build and test procedures to `project-runbooks`).
- Write in the third person ("The user fixed ..."), never "I" or "you".
- Never rewrite earlier days except to correct a mistake the user points out.
"""

USER_GENERAL_FACTS = """\
---
name: user-general-facts
description: >
  What the user said about how they work, one file per topic: preferred tools and package
  managers (uv or pip, pnpm or npm, poetry), formatters and linters (black, ruff, prettier,
  eslint), test runners, languages, frameworks and tech stack, code style, commit and review
  habits, communication style, goals. Use it before installing a package or adding a
  dependency, formatting or linting code, running tests, choosing a library, tool or command,
  writing a commit message or answering in the user's style, and when the user states a
  preference or corrects one ("always use", "never run", "I prefer").
---

# User general facts

Facts the user stated about themselves and their way of working, grouped by topic so one file
can be read when its topic comes up.

## File Structure

- One topic per file: `[topic].md` in lowercase kebab-case at the top of the skill folder, for
  example `coding-preferences.md`, `tech-stack.md`, `communication-style.md`,
  `work-context.md`, `goals.md`.
- Each file holds a `# <Topic>` heading followed by one bullet per fact.

## Guidelines

- Record only facts the user stated or clearly confirmed; no guesses.
- When the user corrects a fact, update or remove the stale bullet instead of adding a
  contradicting one.
- Prefer an existing topic file over creating a near-duplicate topic.
- Write in the third person ("The user prefers ...").
"""

PROJECT_RUNBOOKS = """\
---
name: project-runbooks
description: >
  Per-project runbooks, one file per project (projects/<project>.md): the exact commands to
  install dependencies, build, run the tests or a single test, lint, start and deploy the
  project, and the traps met with their fixes (error messages, failing or flaky tests, broken
  builds, wrong versions, missing env variables). Use it before building, testing, running or
  deploying a project, when a command, test or build fails with an error, when setting up a
  checkout, and update it when a command or a pitfall is learned.
---

# Project runbooks

What a coding agent needs to work on a project without rediscovering it: the commands that
work, the order they go in, and the mistakes already made once.

## File Structure

- One file per project: `projects/<project>.md`, where `<project>` is the repository or folder
  name in lowercase kebab-case (for example `projects/acontext-mcp.md`).
- Each file starts with `# <project>` and a line giving the project's path or repository URL,
  then these sections, left out while empty:
  - `## Build` - setup and build commands, required tools and versions.
  - `## Test` - how to run the whole suite and a single test; slow or flaky parts.
  - `## Run` - how to start it locally.
  - `## Deploy` - release and deploy steps, environments, who or what must approve.
  - `## Traps` - one bullet per pitfall met: the symptom, the cause, the fix or way around.

## Guidelines

- Give exact commands in code spans and say where they run from.
- Replace a command that no longer works instead of keeping both; note the date of the change
  when it explains a trap.
- A trap is only recorded once it was actually met; keep each to one or two sentences.
- Secrets, tokens and personal paths outside the project never go into a runbook.
"""

DEFAULT_SKILLS: dict[str, str] = {
    "daily-logs": DAILY_LOGS,
    "user-general-facts": USER_GENERAL_FACTS,
    "project-runbooks": PROJECT_RUNBOOKS,
}

# sha256 of each SKILL.md text an earlier release wrote for a default skill (their descriptions
# only triggered on "read/edit user memory"). A data home whose SKILL.md still holds one,
# untouched, is offered the current text as a proposal (learn/retire.py); never rewritten.
PREVIOUS_TEXTS: dict[str, frozenset[str]] = {
    "daily-logs": frozenset({"ac7797b96a46029aa7f87f22b4e894359e9e68ac1c75c5f3bce41f75ddd3ab80"}),
    "user-general-facts": frozenset(
        {"1b4ad7913445e86e628225b1f1f296784442e4541d6bdaedd7c68bfcf351a339"}
    ),
    "project-runbooks": frozenset(
        {"6346fface2302f52096e9039fdcd99bd89feb744c1979a10575a19c613b763a1"}
    ),
}


def outdated_defaults(skills_dir: Path) -> list[str]:
    """Default skills whose SKILL.md is an earlier release's text, untouched by anyone."""
    import hashlib

    from acontext_mcp.errors import AcontextError
    from acontext_mcp.skills import contained

    found = []
    for name, previous in PREVIOUS_TEXTS.items():
        try:
            data = contained.read_bytes(Path(skills_dir), f"{name}/{SKILL_FILE}", max_bytes=65536)
        except (AcontextError, OSError):
            continue  # missing, a link, too large: not an untouched default
        digest = hashlib.sha256(data).hexdigest()
        if digest in previous:
            found.append(name)
    return found


def ensure_default_skills(skills_dir: Path) -> list[str]:
    """Create the default skills that are missing; return the names created.

    Each skill is written into a hidden temporary folder and renamed into place, so a crash
    leaves either no folder or a complete one, and an existing folder is never replaced.
    """
    skills_dir = Path(skills_dir)
    skills_dir.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    if all(os.path.lexists(skills_dir / name) for name in DEFAULT_SKILLS):
        return created  # the usual case at SessionStart: nothing to import or write
    import shutil  # here: SessionStart runs this check while Claude Code waits
    import tempfile

    for name, text in DEFAULT_SKILLS.items():
        target = skills_dir / name
        if target.exists() or target.is_symlink():
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=skills_dir))
        try:
            (tmp / SKILL_FILE).write_text(text, encoding="utf-8")
            os.chmod(tmp, 0o700)  # mkdtemp's mode; owner-only like the rest of the store
            try:
                os.rename(tmp, target)  # fails if another process created it meanwhile
            except OSError:
                if not target.exists():
                    raise
                continue
            created.append(name)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return created


def prepare(settings: Settings) -> list[str]:
    """The repository and the default skills, created on first use; returns the default
    skills it committed. Defaults are committed as one learning so `skills log` starts with
    them, and only into a repository without history: a user who reverted or deleted them
    keeps them gone. Defaults a hook already wrote (`ensure_default_skills`, before any
    repository existed) are committed with them while they still hold the default text."""
    from acontext_mcp.skills import repo  # gitpython: imported only when needed

    git_repo = repo.ensure_repo(settings.skills_dir)
    try:
        fresh = not git_repo.head.is_valid()
    finally:
        git_repo.close()
    if not fresh:
        return []
    created = ensure_default_skills(settings.skills_dir)
    placed = [n for n in DEFAULT_SKILLS if n in created or _untouched(settings.skills_dir, n)]
    if placed:
        repo.commit_learning(
            settings.skills_dir,
            f"Add default skills: {', '.join(placed)}",
            session_id=None,
            task_id=None,
            paths=placed,
        )
    return placed


def ensure_ready(settings: Settings) -> None:
    """Trigger: any surface about to read the skills (MCP tools, CLI). Why: on a fresh data
    home the skills repository and its default skills would otherwise appear only after a
    `skills` command or the first learning, so the tools listed nothing. Outcome: `prepare`
    runs once; afterwards this costs one stat (no git). A home that cannot be written is
    logged and the caller reads what is there."""
    if (settings.skills_dir / ".git").exists():
        return
    try:
        prepare(settings)
    except Exception as exc:  # a read-only home, git missing: reading still works
        import logging  # not at the top: hooks import this module for ensure_default_skills

        logging.getLogger(__name__).warning(
            "could not create the skills repository in %s: %s", settings.skills_dir, exc
        )


def _untouched(skills_dir: Path, name: str) -> bool:
    """Whether a default skill's folder holds only its SKILL.md, with the default text."""
    folder = skills_dir / name
    if folder.is_symlink():
        return False
    try:
        entries = os.listdir(folder)
        text = (folder / SKILL_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return entries == [SKILL_FILE] and text == DEFAULT_SKILLS[name]
