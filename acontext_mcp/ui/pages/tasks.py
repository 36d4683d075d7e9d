"""The Tasks page: every task with its status and verified outcome, and one task's evidence,
progress notes, preferences, the messages it came from and the learnings it produced.

URLs: /tasks?status=&outcome=[&before=|&after=] (newest-updated first), /tasks/{id}.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.skills.repo import changed_skills
from acontext_mcp.store import ui_sessions
from acontext_mcp.store.db import loads
from acontext_mcp.store.tasks import OUTCOMES, TASK_STATUSES
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui import transcript
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.pages.sessions import message_url
from acontext_mcp.ui.paging import Keyset
from acontext_mcp.ui.render import render

log = logging.getLogger("acontext.ui")

MESSAGES_SHOWN = 200  # linked messages listed on a task's page


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def index(request: Request) -> Response:
    status = _choice(request, "status", TASK_STATUSES)
    outcome = _choice(request, "outcome", (*OUTCOMES, "none"))
    keys = Keyset.from_request(request, "tasks")
    with read_snapshot(settings_of(request)) as conn:
        rows = ui_sessions.task_page(
            conn,
            status=status,
            outcome=outcome,
            before=keys.before,
            after=keys.after,
            limit=keys.fetch,
        )
    page = keys.page(request, rows, lambda r: (r["updated_at"], r["id"]))
    return render(
        request,
        "tasks/index.html",
        title="Tasks",
        page=page,
        tasks=[dict(r) for r in page.items],
        statuses=TASK_STATUSES,
        outcomes=OUTCOMES,
        chosen_status=status or "",
        chosen_outcome=outcome or "",
    )


def show(request: Request) -> Response:
    task_id = request.path_params["id"]
    settings = settings_of(request)
    with read_snapshot(settings) as conn:
        row = ui_sessions.task_by_id(conn, task_id)
        if row is None:
            raise NotFound(f"no task {task_id}: the Tasks page lists them")
        task = dict(row)
        sid = task["session_id"]
        evidence = [
            {
                **dict(e),
                "url": None
                if e["position"] is None
                else message_url(sid, e["position"], e["message_id"]),
            }
            for e in ui_sessions.task_evidence_rows(conn, task_id)
        ]
        messages = [
            {
                "id": m["id"],
                "position": m["position"],
                "role": m["role"],
                "created_at": m["created_at"],
                "url": message_url(sid, m["position"], m["id"]),
                "preview": transcript.preview(loads(m["parts"], [])),
            }
            for m in ui_sessions.task_message_refs(conn, task_id, MESSAGES_SHOWN + 1)
        ]
        rows = ui_sessions.task_learnings(conn, task_id)
    learnings = [_learning(settings, r) for r in rows]
    task["progresses"] = _strings(task["progresses"])
    task["user_preferences"] = _strings(task["user_preferences"])
    return render(
        request,
        "tasks/show.html",
        title=f"Task {task['order']}: {task['description'][:60]}",
        task=task,
        evidence=evidence,
        messages=messages[:MESSAGES_SHOWN],
        more_messages=len(messages) > MESSAGES_SHOWN,
        learnings=learnings,
    )


def _strings(stored: str) -> list[str]:
    value = loads(stored, [])
    return [v if isinstance(v, str) else str(v) for v in value] if isinstance(value, list) else []


def _learning(settings: Settings, row: Any) -> dict[str, Any]:
    """A learning with where it went: the skill(s) it changed, its commit or its proposal."""
    out = dict(row)
    out["skills"] = _skills_changed(settings, row)
    out["commit_url"] = (
        f"/skills/commits/{quote(row['commit_sha'], safe='')}" if row["commit_sha"] else None
    )
    out["proposal_url"] = (
        f"/skills/proposals/{quote(row['proposal'], safe='')}" if row["proposal"] else None
    )
    return out


def _skills_changed(settings: Settings, row: Any) -> list[str]:
    """The skill a learning went to: its distilled lesson names it, else its commit's files
    say it (one `git diff --name-only`); unknown when neither does."""
    lesson = loads(row["lesson"], None) if row["lesson"] else None
    if isinstance(lesson, dict) and isinstance(lesson.get("skill"), str) and lesson["skill"]:
        return [lesson["skill"]]
    sha = row["commit_sha"]
    root = Path(settings.skills_dir)
    if not sha or not (root / ".git").exists():
        return []
    try:
        return changed_skills(root, f"{sha}^", sha)
    except Exception as exc:  # a rewritten or pruned history: the commit link still shows
        log.info("no skills for learning %s (commit %s): %s", row["id"], sha, exc)
        return []


routes: list[BaseRoute] = [
    Route("/tasks", index, name="tasks"),
    Route("/tasks/{id:int}", show, name="task"),
]
