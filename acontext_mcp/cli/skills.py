"""`acontext-mcp skills ...`: read, search, review, undo, share and sync the skill memory.

The skills directory is a git repository (skills/repo.py), created on first use with the
default skills; every command here works on it as the user would with git, but says what
happened in our terms (learnings, user edits, provenance).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from acontext_mcp.cli.args import int_range, project_dir
from acontext_mcp.cli.output import add_json_option, emit
from acontext_mcp.config import Settings

# Every action with its one-line help: `skills --help` lists them all (a test checks).
ACTION_HELP = {
    "init": "create the skills repository and the default skills (done on first use anyway)",
    "list": "every skill with its description",
    "show": "NAME: a skill's SKILL.md",
    "search": "QUERY: full-text search over the skills' files (--limit)",
    "log": "the history of learnings and edits, with provenance (--limit)",
    "diff": "[COMMIT|RANGE]: what changed (default: uncommitted edits)",
    "revert": "COMMIT: undo one learning or edit in a new commit",
    "remote": "URL: share the skills through a git remote (origin)",
    "pull": "fetch and merge the remote's skills (refuses links and submodules)",
    "push": "send the skills to the remote",
    "sync": "copy the skills into the agents' skill folders now (--project DIR: one more)",
    "unsync": "remove what sync copied into the agents' folders",
    "validate": "check every skill against the Agent Skills rules",
    "proposals": "learned changes waiting for review (--all: decided ones too)",
    "show-proposal": "ID: a proposal's diff, sessions, tasks, outcomes and evidence",
    "accept": "ID: merge a proposal into the skills (then index and sync)",
    "reject": "ID: drop a proposal (--reason TEXT; --relearn: learn its tasks again)",
    "retire": "propose retiring unused, failing and stale learned skills (--dry-run)",
    "curate": "merge duplicates, drop superseded entries, compact and roll up logs (--dry-run)",
    "stats": "uses per skill, sessions, outcome rate with vs without it, size (--skill, --days)",
}
ACTIONS = tuple(ACTION_HELP)
REVIEW = ("proposals", "show-proposal", "accept", "reject")


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
    if action in REVIEW:
        return _review(args, settings)
    if action == "retire":
        from acontext_mcp.cli.retire import cmd_retire

        return cmd_retire(args, settings)
    if action == "curate":
        from acontext_mcp.cli.curate import cmd_curate

        return cmd_curate(args, settings)
    if action == "stats":
        return _stats(args, settings)
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
        from acontext_mcp.skills import proposals
        from acontext_mcp.skills.sync import sync_all

        reports = sync_all(settings, project_dir=args.project, proposals=proposals)
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


def _review(args: argparse.Namespace, settings: Settings) -> int:
    """proposals, show-proposal, accept, reject: review learned changes before agents see them."""
    from acontext_mcp.learn import review
    from acontext_mcp.skills import proposals

    if args.action == "proposals":
        from acontext_mcp.skills import workshop

        workshop.reconcile(settings, proposals)  # decisions taken in OpenClaw's Skill Workshop
        states = proposals.STATES if args.all else ("pending", "stale")
        found = [review.to_dict(p) for p in proposals.list_proposals(settings.skills_dir, states)]
        return emit(args, found, _proposals_text)
    from acontext_mcp.store.db import open_db

    target = _need(args, "a proposal id (see `acontext-mcp skills proposals`)")
    conn = open_db(settings)
    try:
        if args.action == "show-proposal":
            return emit(args, review.show(conn, settings, target), _proposal_text)
        if args.action == "accept":
            done = review.accept(conn, settings, target)
            return emit(
                args,
                done,
                lambda v: (
                    f"accepted proposal {v['proposal']} as commit {v['commit'][:12]}; "
                    "synced to the agents"
                ),
            )
        done = review.reject(conn, settings, target, args.reason, relearn=args.relearn)
    finally:
        conn.close()
    again = "; its learnings wait to be learned again" if done["relearn"] else ""
    return emit(args, done, lambda v: f"rejected proposal {v['proposal']}{again}")


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    """Per skill: uses by kind, sessions, last use, outcome rate with vs without it, size."""
    from acontext_mcp.errors import NotFound
    from acontext_mcp.learn.skill_usage import skill_usage
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)
    try:
        records = skill_usage(conn, settings, skill=args.skill, days=args.days)
    finally:
        conn.close()
    if args.skill and not records:
        raise NotFound(
            f"no skill {args.skill!r} and no recorded use of it: `acontext-mcp skills list` "
            "shows the names"
        )
    value = {
        "days": args.days,
        "skills": [r.to_dict() for r in records],
        "never_used": [r.skill for r in records if not r.uses],
    }
    return emit(args, value, _stats_text)


def _percent(rate: float | None, settled: int) -> str:
    return "-" if rate is None else f"{rate:.0%} of {settled}"


def _stats_text(value: dict[str, Any]) -> str:
    window = f"last {value['days']:g} days" if value["days"] else "all recorded"
    lines = [f"skill uses ({window}); success rate of settled tasks with / without the skill"]
    for r in value["skills"]:
        if not r["uses"]:
            continue
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(r["by_kind"].items()))
        gone = "  (no longer in the skills repository)" if not r["exists"] else ""
        lines.append(
            f"{r['skill']}: {r['uses']} uses ({kinds}) in {r['sessions']} sessions, "
            f"last {_when(r['last_used'])}; {r['tokens']} tokens{gone}"
        )
        lines.append(
            f"    with: {_percent(r['with_rate'], r['with_settled'])}  without: "
            f"{_percent(r['without_rate'], r['without_settled'])} "
            f"({r['comparable_sessions']} comparable sessions)"
        )
    if value["never_used"]:
        sizes = {r["skill"]: r["tokens"] for r in value["skills"]}
        shown = ", ".join(f"{n} ({sizes[n]} tokens)" for n in value["never_used"])
        lines.append(f"never used: {shown}")
    if len(lines) == 1:
        lines.append("no skills yet")
    return "\n".join(lines)


def _when(stamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _proposals_text(found: list[dict[str, Any]]) -> str:
    if not found:
        return "no skill proposals wait for review"
    lines = []
    for p in found:
        lines.append(f"{p['id']}  {p['state']:<8} {_when(p['created_at'])}  {p['subject']}")
        where = [f"skills {', '.join(p['skills'])}"]
        if p["session_ids"]:
            where.append(f"sessions {', '.join(p['session_ids'])}")
        if p["task_ids"]:
            where.append(f"tasks {', '.join(p['task_ids'])}")
        lines.append("    " + "; ".join(where))
    lines.append(
        "review: acontext-mcp skills show-proposal ID; then skills accept ID or "
        "skills reject ID [--reason TEXT]"
    )
    return "\n".join(lines)


def _proposal_text(p: dict[str, Any]) -> str:
    lines = [f"proposal {p['id']} ({p['state']}, {_when(p['created_at'])}): {p['subject']}"]
    if p["state"] == "stale":
        lines.append(
            f"  stale: main changed {', '.join(p['stale_files'])} since; accepting merges 3-way"
        )
    if p.get("reason"):
        lines.append(f"  rejected: {p['reason']}")
    if p["session_ids"]:
        lines.append(f"  sessions: {', '.join(p['session_ids'])}")
    for task in p["tasks"]:
        if task.get("missing"):
            lines.append(f"  task {task['id']}: no longer in the store")
            continue
        lines.append(
            f"  task {task['id']} [{task['status']}, {task['outcome'] or 'no outcome'}]: "
            f"{task['description']}"
        )
        for ev in task["evidence"]:
            command = f" `{ev['command']}`" if ev.get("command") else ""
            lines.append(f"      {ev['kind']}: {ev['result']}{command}")
        if not task["evidence"]:
            lines.append("      no evidence captured")
    return "\n".join([*lines, "", p["diff"]]).rstrip()


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
    p = add("skills", cmd_skills, "The skill memory: " + ", ".join(ACTIONS) + ".")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    width = max(map(len, ACTIONS))
    p.epilog = "actions:\n" + "\n".join(
        f"  {name:<{width}}  {about}" for name, about in ACTION_HELP.items()
    )
    p.add_argument("action", choices=ACTIONS)
    p.add_argument(
        "target", nargs="?", help="skill name, query, commit, diff range, git URL or proposal id"
    )
    p.add_argument("--reason", help="reject: why (recorded with the proposal and its learnings)")
    p.add_argument(
        "--relearn",
        action="store_true",
        help="reject: learn its tasks again from the skills as they are now (a stale proposal)",
    )
    p.add_argument("--all", action="store_true", help="proposals: accepted and rejected too")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="retire, curate: say what would be proposed or changed, change nothing",
    )
    p.add_argument(
        "--limit", type=int_range(1), default=20, help="results or log entries (default 20)"
    )
    p.add_argument(
        "--project", type=project_dir, help="sync: also into this project's .claude/skills"
    )
    p.add_argument("--skill", metavar="NAME", help="stats: only this skill")
    p.add_argument(
        "--days", type=int_range(1), metavar="N", help="stats: only the last N days (default: all)"
    )
    add_json_option(p)
