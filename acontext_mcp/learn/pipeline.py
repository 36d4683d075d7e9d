"""The learning pipeline: finished task -> distilled learning -> skill-learner run -> commit.

Two job kinds, run by the worker (app/handlers.py hands them to it) or in the foreground by
`acontext-mcp learn` and the `learn_now` tool (app/learning.py):

- `learn_task` {task_id, session_id}: attach the session to its space, distill the task (one
  LLM call, or none for a trivial one) into a `learnings` row, and queue the space's learner.
- `learn_space` {space}: one learner run per skills repository at a time (the repository's
  learner lock). It takes up to MAX_BATCH waiting learnings of the space, runs the learner
  over an overlay of the repository, and applies a valid result as one commit with
  provenance. Learnings that arrive meanwhile wait for the next run (the job is re-queued).
  Afterwards the search index is refreshed and skills are synced into the agents.

Preferences the task agent records skip distillation (`queue_preference`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import date
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, NotFound
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import atomic
from acontext_mcp.store.sessions import latest_session_id, session_exists
from acontext_mcp.worker import jobs

log = logging.getLogger("acontext.learn")

MAX_BATCH = 4  # learnings per learner run; the rest wait for the next run
LOCK_WAIT_S = 60.0
PREFERENCE_DELAY_S = 60.0  # a lone preference waits a little for the task it came with


class LearnFailed(AcontextError):
    """The learner run produced nothing usable (never finished, invalid skills)."""


def space_key(space: str) -> str:
    return f"learn-space:{space}"


def queue_space(conn: sqlite3.Connection, space: str, *, delay_s: float = 0.0) -> int:
    """Queue (or move up) the space's learner run; one queued run absorbs the rest."""
    return jobs.enqueue(
        conn,
        learning.LEARN_SPACE,
        {"space": space},
        dedup_key=space_key(space),
        requeue=True,
        run_after=time.time() + delay_s,
    )


def queue_preference(
    conn: sqlite3.Connection, settings: Settings, session_id: str, task_id: int, text: str
) -> int | None:
    """Send one observed user preference straight to the learner (no distillation)."""
    from acontext_mcp.learn.distill import render_preferences
    from acontext_mcp.learn.spaces import space_for_session

    with atomic(conn):
        space = space_for_session(conn, settings, session_id)
        learning_id = learning.add_learning(
            conn,
            session_id=session_id,
            task_id=task_id,
            space=space,
            kind="preferences",
            text=render_preferences([text]),
        )
    queue_space(conn, space, delay_s=PREFERENCE_DELAY_S)
    return learning_id


def _provider(conn: sqlite3.Connection, settings: Settings) -> Any:
    """The configured provider (raises NoProvider saying why there is none); tests swap it."""
    from acontext_mcp.llm.select import provider_for

    return provider_for(settings, conn)


def _space_skills(conn: sqlite3.Connection, settings: Settings, space: str) -> list[dict[str, Any]]:
    """The skills a space's learner sees: its own and the shared ones (listed once)."""
    from acontext_mcp.skills import catalog

    skills = catalog.list_skills(settings.skills_dir)
    seen = learning.visible_skills(conn, space, [s["name"] for s in skills])
    return [s for s in skills if s["name"] in seen]


# --- learn_task -----------------------------------------------------------------------------


def learn_task(
    conn: sqlite3.Connection, settings: Settings, payload: dict[str, Any]
) -> dict[str, Any]:
    """Distill one finished task into a learning and queue its space's learner."""
    from acontext_mcp.learn.distill import distill_task
    from acontext_mcp.learn.spaces import space_for_session
    from acontext_mcp.store.tasks import get_task_by_id

    task_id = int(payload["task_id"])
    task = get_task_by_id(conn, task_id)
    if task is None:
        return {"task_id": task_id, "outcome": "gone"}
    session_id = task["session_id"]
    if task["status"] not in ("success", "failed"):
        # Reopened since it was queued; finishing it again queues it again (queue_learning).
        return {"task_id": task_id, "outcome": f"not finished ({task['status']})"}
    existing = learning.learning_for_task(conn, task_id)
    if existing is not None:
        return {"task_id": task_id, "outcome": f"already {existing['status']}"}
    with atomic(conn):
        space = space_for_session(conn, settings, session_id)
    from acontext_mcp.skills.defaults import prepare

    prepare(settings)  # the default skills exist before anything is learned into them
    distilled = distill_task(
        conn,
        _provider(conn, settings),
        task_id,
        skills=[
            {"name": s["name"], "description": s.get("description") or ""}
            for s in _space_skills(conn, settings, space)
        ],
    )
    with atomic(conn):
        learning.add_learning(
            conn,
            session_id=session_id,
            task_id=task_id,
            space=space,
            kind=distilled.kind,
            text=distilled.text if distilled.kind != "skip" else distilled.reason,
            outcome=task.get("outcome"),
        )
    if distilled.kind != "skip":
        queue_space(conn, space)
    return {
        "task_id": task_id,
        "space": space,
        "kind": distilled.kind,
        "called_llm": distilled.called_llm,
        **({"reason": distilled.reason} if distilled.kind == "skip" else {}),
    }


# --- learn_space ----------------------------------------------------------------------------


def _label(item: dict[str, Any]) -> str:
    if item["kind"] == "preferences":
        lines = [ln[2:] for ln in (item.get("text") or "").splitlines() if ln.startswith("- ")]
        return "user preference: " + (lines[0] if lines else "(empty)")
    return item.get("task") or f"task {item.get('task_id')}"


def _commit_message(batch: list[dict[str, Any]], thinking: list[str]) -> str:
    """Subject says what was learned from; the body lists every source and the plan."""
    labels = [" ".join(_label(b).split()) for b in batch]
    count = f"{len(batch)} learning{'s' if len(batch) != 1 else ''}"
    subject = f"Learn from {count}: {labels[0][:60]}"
    body = ["Learned from:"] + [f"- {label[:100]}" for label in labels]
    if thinking:
        body += ["", "Learner notes:", " ".join(" ".join(thinking).split())[:600]]
    return subject + "\n\n" + "\n".join(body)


def _task_descriptions(conn: sqlite3.Connection, batch: list[dict[str, Any]]) -> None:
    for item in batch:
        if item.get("task_id") is not None and item["kind"] != "preferences":
            item["task"] = task_store.task_description(conn, item["task_id"])


def learn_space(
    conn: sqlite3.Connection, settings: Settings, payload: dict[str, Any]
) -> dict[str, Any]:
    """One learner run over the space's waiting learnings (see the module docstring)."""
    from acontext_mcp.learn.learner import run_learner
    from acontext_mcp.learn.workspace import SkillWorkspace, recover
    from acontext_mcp.llm import LLMUnavailable
    from acontext_mcp.skills import repo
    from acontext_mcp.skills.defaults import prepare

    space = payload["space"]
    out: dict[str, Any] = {"space": space, "learned": 0}
    prepare(settings)
    root = settings.skills_dir
    with repo.learner_lock(root, timeout=LOCK_WAIT_S):
        recovered = recover(root)
        if recovered:
            out["recovered_commit"] = recovered
        repo.protect_user_edits(root)
        with atomic(conn):
            learning.release_running(conn, space)
        batch = learning.claim_learnings(conn, space, MAX_BATCH)
        if not batch:
            return out
        ids = [b["id"] for b in batch]
        _task_descriptions(conn, batch)
        try:
            visible = {s["name"] for s in _space_skills(conn, settings, space)}
            workspace = SkillWorkspace(root, visible=visible)
            run = run_learner(
                _provider(conn, settings),
                workspace,
                batch,
                today=date.today().isoformat(),
                session_id=batch[0]["session_id"],
            )
            out.update(rounds=run.rounds, tool_errors=run.tool_errors)
            if not run.finished:
                raise LearnFailed(
                    f"the learner did not finish within {run.rounds} rounds"
                    + (f" (last problem: {run.last_error[:300]})" if run.last_error else "")
                    + "; nothing was written"
                )
            sessions = list(dict.fromkeys(b["session_id"] for b in batch))
            tasks = [b["task_id"] for b in batch if b["task_id"] is not None]
            applied = workspace.apply(
                _commit_message(batch, run.thinking),
                session_ids=sessions,
                task_ids=list(dict.fromkeys(tasks)),
            )
        except LLMUnavailable as exc:
            learning.release_learnings(conn, ids, str(exc), count_attempt=False)
            raise
        except LearnFailed as exc:
            learning.release_learnings(conn, ids, str(exc), max_attempts=0)
            out.update(outcome="failed", reason=str(exc))
            log.warning("learning in space %s failed: %s", space, exc)
            return out
        except Exception as exc:
            failed = learning.release_learnings(conn, ids, f"{type(exc).__name__}: {exc}")
            out.update(outcome="error", reason=str(exc), failed_for_good=failed)
            if len(failed) == len(ids):
                return out  # out of attempts: recorded, nothing to retry
            raise
        with atomic(conn):
            for name in applied.created:
                learning.link_skill(conn, space, name)
            learning.finish_learnings(
                conn,
                ids,
                commit_sha=applied.sha,
                note=None if applied.sha else "nothing new worth recording",
            )
    out.update(
        learned=len(ids),
        commit=applied.sha,
        skills=applied.skills,
        created=applied.created,
        merged=applied.merged,
    )
    if applied.sha:
        out["after"] = after_learning(settings, applied.skills)
    if learning.waiting_count(conn, space):
        queue_space(conn, space)
        out["more_waiting"] = True
    return out


def after_learning(settings: Settings, skills: list[str] | None = None) -> dict[str, Any]:
    """Refresh the search index (only the `skills` the commit touched, when given) and sync
    skills into the agents (the user folders, and the projects configured in
    `sync.claude_code_project_dirs`; never a project's own folder unasked). Failures are
    logged: the commit stands, and SessionStart syncs again."""
    done: dict[str, Any] = {}
    try:
        from acontext_mcp.skills import index

        done["index"] = (
            index.refresh(settings) if skills is None else index.refresh_skills(settings, skills)
        )
    except Exception as exc:  # an index is a cache: the next search rebuilds it
        log.warning("skills index refresh failed: %s", exc)
        done["index_error"] = str(exc)
    try:
        from acontext_mcp.skills.sync import sync_all

        done["sync"] = [r.to_dict() for r in sync_all(settings)]
    except Exception as exc:
        log.warning("skills sync after learning failed: %s", exc)
        done["sync_error"] = str(exc)
    return done


# --- a session's learning (the use cases in app/learning.py build on these) ------------------


def require_session(conn: sqlite3.Connection, session_id: str) -> None:
    if not session_exists(conn, session_id):
        raise NotFound(
            f"no session {session_id!r}; list_sessions (or `acontext-mcp sessions`) shows them"
        )


def queue_session(
    conn: sqlite3.Connection, settings: Settings, session_id: str, *, space: str | None = None
) -> dict[str, Any]:
    """Attach the session and queue every finished task that has no learning yet (failed
    learnings are retried). Returns {space, queued: [job ids], tasks: n}."""
    from acontext_mcp.learn.spaces import space_for_session

    require_session(conn, session_id)
    with atomic(conn):
        chosen = space_for_session(conn, settings, session_id, explicit=space)
    rows = task_store.task_ids(conn, session_id, ("success", "failed"))
    queued: list[int] = []
    for task_id in rows:
        with atomic(conn):
            learning.reset_failed(conn, task_id)
            if learning.learning_for_task(conn, task_id) is not None:
                continue
        payload = {"task_id": task_id, "session_id": session_id}
        key = f"learn:{task_id}"
        job_id = jobs.enqueue(
            conn, learning.LEARN_TASK, payload, dedup_key=key, requeue=True, run_after=time.time()
        )
        queued.append(job_id)
    if learning.waiting_count(conn, chosen):
        queue_space(conn, chosen)
    return {"space": chosen, "queued": queued, "tasks": len(rows)}


def current_session(conn: sqlite3.Connection, project_dir: str | None) -> str | None:
    """The most recently active session of `project_dir`, else of any project."""
    found = latest_session_id(conn, project_dir) if project_dir else None
    return found or latest_session_id(conn)
