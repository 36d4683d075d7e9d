"""`acontext-mcp skills ...`: read, search, review, undo, share and sync the skill memory.

The skills directory is a git repository (skills/repo.py), created on first use with the
default skills; every command here works on it as the user would with git, but says what
happened in our terms (learnings, user edits, provenance).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from acontext_mcp.cli.output import add_json_option, emit
from acontext_mcp.config import Settings

ACTIONS = ("init", "list", "show", "search", "log", "diff", "revert", "remote", "pull", "push",
           "sync", "unsync", "validate")  # fmt: skip


def _need(args: argparse.Namespace, what: str) -> str:
    from acontext_mcp.errors import InvalidInput

    if not args.target:
        raise InvalidInput(f"`acontext-mcp skills {args.action}` needs {what}")
    return args.target


def cmd_skills(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.skills import catalog, repo

    action, root = args.action, settings.skills_dir
    from acontext_mcp.skills.defaults import prepare

    created = prepare(settings) if action != "unsync" else []
    if action == "init":
        made = ", ".join(created) or "nothing new"
        note = f"skills repository at {root}; default skills created: {made}"
        return emit(args, {"skills_dir": str(root), "created": created}, lambda v: note)
    if action == "list":
        return emit(args, catalog.list_skills(root), _list_text)
    if action == "show":
        return emit(
            args, catalog.get_skill(root, _need(args, "a skill name")), lambda v: v["content"]
        )
    if action == "search":
        from acontext_mcp.skills import index

        index.refresh(settings)
        hits = index.search(settings, _need(args, "a query"), limit=args.limit)
        return emit(
            args,
            hits,
            lambda v: (
                "\n".join(f"{h['name']}/{h['path']}  {h['snippet']}" for h in v) or "no matches"
            ),
        )
    if action == "log":
        return emit(args, repo.log(root, limit=args.limit), _log_text)
    if action == "diff":
        return emit(args, {"diff": repo.diff(root, args.target)}, lambda v: v["diff"] or "")
    if action == "revert":
        sha = repo.revert(root, _need(args, "the commit to undo (see `skills log`)"))
        _reindex(settings, repo.changed_skills(root, f"{sha}^", sha))
        return emit(args, {"commit": sha}, lambda v: f"reverted in a new commit {sha[:12]}")
    if action == "remote":
        repo.set_remote(root, _need(args, "a git URL"))
        return emit(args, {"remote": args.target}, lambda v: f"origin is {args.target}")
    if action in ("pull", "push"):
        result = repo.pull(root) if action == "pull" else repo.push(root)
        if action == "pull":
            _reindex(settings, repo.changed_skills(root, result["before"], result["after"]))
        return emit(args, result, lambda v: f"{action}: {v['status']}")
    if action == "sync":
        from acontext_mcp.skills.sync import sync_all

        reports = sync_all(settings, project_dir=args.project)
        emit(
            args,
            [r.to_dict() for r in reports],
            lambda v: "\n".join(r.summary() for r in reports) or "no targets",
        )
        return 0 if all(r.ok for r in reports) else 1
    if action == "unsync":
        from acontext_mcp.skills.sync import unsync_all

        reports = unsync_all(settings)
        lines = "\n".join(r.summary() for r in reports) or "nothing was synced"
        emit(args, [r.to_dict() for r in reports], lambda v: lines)
        return 0 if all(r.ok for r in reports) else 1
    from acontext_mcp.skills.gitstate import operation_in_progress
    from acontext_mcp.skills.validate import validate_all

    problems = validate_all(root)
    busy = operation_in_progress(root) or "resolve the conflict, git add the file and commit"
    for path in repo.unmerged(root):  # conflicted in git, with or without markers in the file
        problems.setdefault(path.split("/")[0], []).append(f"{path} is unmerged: {busy}")
    bad = {name: found for name, found in problems.items() if found}
    emit(
        args,
        bad,
        lambda v: "\n".join(f"{n}: {'; '.join(p)}" for n, p in v.items()) or "every skill is valid",
    )
    return 1 if bad else 0


def _reindex(settings: Settings, names: list[str]) -> None:
    """Record the skills a command changed in the search index, so a running server's next
    search finds them without walking every file."""
    if names:
        from acontext_mcp.skills import index

        index.refresh_skills(settings, names)


def _list_text(skills: list[dict[str, Any]]) -> str:
    lines = [f"{s['name']}: {s.get('error') or s['description']}" for s in skills]
    return "\n".join(lines) or "no skills"


def _log_text(entries: list[dict[str, Any]]) -> str:
    lines = []
    for e in entries:
        where = ", ".join(
            f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in e["provenance"].items()
        )
        lines.append(
            f"{e['sha'][:12]} {e['date'][:16]} [{e['kind']}] {e['subject']}"
            + (f" ({where})" if where else "")
        )
    return "\n".join(lines) or "no history yet"


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "skills",
        cmd_skills,
        "The skill memory: list, show, search, log, diff, revert, remote, pull, push, sync, "
        "validate.",
    )
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", help="skill name, query, commit, diff range or git URL")
    p.add_argument("--limit", type=int, default=20, help="results or log entries (default 20)")
    p.add_argument("--project", help="sync: also into this project's .claude/skills")
    add_json_option(p)
