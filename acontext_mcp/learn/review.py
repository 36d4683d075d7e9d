"""Review before use: which learned changes reach the agents at once, and which wait.

The policy is `learning.accept` in `<home>/config.json`:

- `verified` (default): changes learned only from verified outcomes (tests passed or failed,
  exit codes, the user's confirmation: verified_success / verified_failure) are committed;
  the rest become proposals. A repeat of a lesson already in the skills adds no text, only
  counts (learn/entries.py: "seen N×, verified M×"), so it is committed whatever its outcome:
  the counts say how much of it was verified.
- `manual`: every change is a proposal.
- `auto`: every change is committed at once (no review).

A proposal (skills/proposals.py) reaches no agent until `acontext-mcp skills accept ID`. This
module decides, and holds the review use cases that tie a proposal to the store: its
learnings, their tasks, outcomes and evidence.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from acontext_mcp import user_config
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.skills import proposals
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import atomic

log = logging.getLogger("acontext.learn")

POLICIES = ("verified", "manual", "auto")
DEFAULT_POLICY = "verified"
VERIFIED = ("verified_success", "verified_failure")
KEY = "learning"  # config.json: {"learning": {"accept": "..."}}


def check_policy(value: object) -> str:
    """The policy name, or InvalidInput saying which values there are."""
    if not isinstance(value, str) or value.strip().lower() not in POLICIES:
        raise InvalidInput(
            f"learning.accept must be one of {', '.join(POLICIES)} (got {value!r}): verified "
            "commits what verified outcomes taught and proposes the rest, manual proposes "
            "everything, auto commits everything"
        )
    return value.strip().lower()


def configured(settings: Settings) -> tuple[str, str | None]:
    """(the policy in effect, a problem with the file's setting or None). A setting that
    cannot be used falls back to `manual`: when in doubt, a human reviews."""
    data, problem = user_config.read(settings)
    if problem:
        return "manual", f"{problem}; every learned change waits for review"
    section = data.get(KEY)
    value = section.get("accept") if isinstance(section, dict) else None
    if value is None:
        return DEFAULT_POLICY, None
    try:
        return check_policy(value), None
    except InvalidInput as exc:
        return "manual", f"{exc}; every learned change waits for review until it is fixed"


def policy(settings: Settings) -> str:
    found, problem = configured(settings)
    if problem:
        log.warning("review policy: %s", problem)
    return found


def save_policy(settings: Settings, value: str) -> str:
    """Set `learning.accept`, keeping the file's other entries (and other `learning` keys)."""
    chosen = check_policy(value)
    user_config.update_entry(settings, KEY, "accept", chosen)
    return chosen


def accepts(policy: str, outcomes: Iterable[str | None]) -> bool:
    """True when a change learned from tasks with these outcomes is committed without review."""
    if policy == "auto":
        return True
    if policy == "manual":
        return False
    return all(outcome in VERIFIED for outcome in outcomes)


def _only_counts(item: dict[str, Any]) -> bool:
    """Whether a learning is a repeat: it only bumps an entry's counts (its `lesson` is
    {"bump": ...}, see learn/entries.py)."""
    try:
        plan = json.loads(item.get("lesson") or "{}")
    except ValueError:
        return False
    return isinstance(plan, dict) and bool(plan.get("bump"))


def accepts_learning(policy: str, item: dict[str, Any]) -> bool:
    """`accepts` for one learnings row; under `verified`, a repeat's counts are committed."""
    if policy == "verified" and _only_counts(item):
        return True
    return accepts(policy, [item.get("outcome")])


def split(policy: str, batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    """(the learnings decided like the first one, the rest): one learner run learns only
    changes of one kind, committed or proposed; the rest wait for the next run."""
    if not batch:
        return [], []
    first = accepts_learning(policy, batch[0])
    now = [b for b in batch if accepts_learning(policy, b) == first]
    later = [b for b in batch if accepts_learning(policy, b) != first]
    return now, later


# --- the review use cases (the CLI, and the OpenClaw Skill Workshop bridge, call these) -------


def to_dict(found: proposals.Proposal) -> dict[str, Any]:
    out = asdict(found)
    out["stale_files"] = list(found.stale_files)
    return out


def show(conn: sqlite3.Connection, settings: Settings, proposal_id: str) -> dict[str, Any]:
    """A proposal with its diff and, per task, its outcome and evidence."""
    found = proposals.get(settings.skills_dir, proposal_id)
    tasks = []
    for raw in found.task_ids:
        task = task_store.get_task_by_id(conn, int(raw)) if raw.isdigit() else None
        if task is None:
            tasks.append({"id": raw, "missing": True})
            continue
        tasks.append(
            {
                "id": task["id"],
                "session_id": task["session_id"],
                "description": task["description"],
                "status": task["status"],
                "outcome": task.get("outcome"),
                "evidence": task_store.task_evidence(conn, task["id"]),
            }
        )
    return {
        **to_dict(found),
        "diff": proposals.proposal_diff(settings.skills_dir, found.id),
        "tasks": tasks,
    }


def accept(conn: sqlite3.Connection, settings: Settings, proposal_id: str) -> dict[str, Any]:
    """Commit the proposal onto main, record it on its learnings, then index and sync."""
    from acontext_mcp.learn.pipeline import after_learning
    from acontext_mcp.skills import workshop

    found = proposals.get(settings.skills_dir, proposal_id)
    sha = proposals.accept(settings.skills_dir, found.id)
    with atomic(conn):
        learning.review_proposal(conn, found.id, "accepted", commit_sha=sha)
    # Its Skill Workshop copy (OpenClaw) is applied first: the sync then hands the skill over.
    handed = workshop.follow_decision(settings, found.id, "accepted")
    out = {"proposal": found.id, "state": "accepted", "commit": sha, **after_learning(settings)}
    return out | ({} if handed.unavailable else {"workshop": handed.to_dict()})


def reject(
    conn: sqlite3.Connection,
    settings: Settings,
    proposal_id: str,
    reason: str | None = None,
    *,
    relearn: bool = False,
) -> dict[str, Any]:
    """Set the proposal aside with `reason`; with `relearn`, its learnings wait again for the
    learner, which learns them against the skills as they are now (a stale proposal)."""
    from acontext_mcp.learn.pipeline import queue_space
    from acontext_mcp.skills import workshop

    found = proposals.get(settings.skills_dir, proposal_id)
    proposals.reject(settings.skills_dir, found.id, reason)
    workshop.follow_decision(settings, found.id, "rejected", reason)  # problems: in its report
    note = f"proposal {found.id} rejected" + (f": {reason}" if reason else "")
    with atomic(conn):
        count = learning.review_proposal(conn, found.id, "rejected", note=note)
        spaces = learning.relearn_proposal(conn, found.id) if relearn else []
    for space in spaces:
        queue_space(conn, space)
    return {
        "proposal": found.id,
        "state": "rejected",
        "reason": reason,
        "learnings": count,
        "relearn": relearn,
        "queued_spaces": spaces,
    }
