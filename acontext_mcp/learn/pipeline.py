"""The learning pipeline: finished task -> distilled learning -> skill-learner run -> commit.

Two job kinds, run by the worker (app/handlers.py hands them to it) or in the foreground by
`acontext-mcp learn` and the `learn_now` tool (app/learning.py):

- `learn_task` {task_id, session_id}: attach the session to its space and turn the task into
  a `learnings` row: no LLM call when it is trivial, was dropped, or its lesson is already in
  the skills (then the row only asks for that entry's evidence to be counted); otherwise one
  distillation call returning a structured lesson. Then it queues the space's learner.
- `learn_space` {space}: one run per skills repository at a time (the repository's learner
  lock). It takes up to MAX_BATCH waiting learnings of the space and, over an overlay of the
  repository, writes each structured lesson as an entry itself (learn/entries.py) with the
  day's log line, dated by the session's own day; the skill learner's tool loop runs only for
  what needs it (a lesson for a skill that does not exist yet, preferences, older answers).
  A valid result is applied as one commit with provenance. Learnings that arrive meanwhile
  wait for the next run (the job is re-queued). Afterwards the search index is refreshed and
  skills are synced into the agents.
  The review policy (learn/review.py) decides per run: learnings it does not accept become one
  proposal instead of a commit; a batch that mixes both is split, the rest waiting for the
  next run.

Preferences the task agent records skip distillation (`queue_preference`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, NotFound
from acontext_mcp.privacy.redact import redact_text
from acontext_mcp.store import learning
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import atomic
from acontext_mcp.store.events import add_event
from acontext_mcp.store.sessions import latest_session_id, session_exists, session_project_dir
from acontext_mcp.text import clip
from acontext_mcp.worker import jobs

if TYPE_CHECKING:
    from acontext_mcp.learn.workspace import SkillWorkspace

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
        if task.get("outcome") == "abandoned":  # the user dropped it: no lesson, no LLM call
            reason = "abandoned: the user dropped this task, so there is nothing to learn"
            learning.add_learning(
                conn,
                session_id=session_id,
                task_id=task_id,
                space=space,
                kind="skip",
                text=reason,
                outcome="abandoned",
            )
            return {"task_id": task_id, "space": space, "kind": "skip", "called_llm": False,
                    "reason": reason}  # fmt: skip
    from acontext_mcp.skills.defaults import prepare

    prepare(settings)  # the default skills exist before anything is learned into them
    skills = _space_skills(conn, settings, space)
    project_dir = session_project_dir(conn, session_id)
    known = _already_known(conn, settings, task, skills, project_dir)
    if known is not None:
        return _count_again(conn, task, space, known, project_dir)
    distilled = distill_task(
        conn,
        _provider(conn, settings),
        task_id,
        skills=[{"name": s["name"], "description": s.get("description") or ""} for s in skills],
        outline=_likely_outline(settings, skills, project_dir),
    )
    plan: dict[str, Any] = {"day": distilled.day, "project_dir": project_dir}
    plan["verified"] = (task.get("outcome") or "").startswith("verified_")
    if distilled.lesson is not None:
        plan["entry"] = distilled.lesson.to_dict()
    with atomic(conn):
        learning.add_learning(
            conn,
            session_id=session_id,
            task_id=task_id,
            space=space,
            kind=distilled.kind,
            text=distilled.text if distilled.kind != "skip" else distilled.reason,
            outcome=task.get("outcome"),
            lesson=json.dumps(plan) if distilled.kind != "skip" else None,
            llm_calls=1 if distilled.called_llm else 0,
            input_tokens=distilled.input_tokens,
            output_tokens=distilled.output_tokens,
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


def _workspace(settings: Settings, skills: list[dict[str, Any]]) -> Any:
    from acontext_mcp.learn.workspace import SkillWorkspace

    return SkillWorkspace(settings.skills_dir, visible={s["name"] for s in skills})


def _already_known(
    conn: sqlite3.Connection,
    settings: Settings,
    task: dict[str, Any],
    skills: list[dict[str, Any]],
    project_dir: str | None,
) -> dict[str, Any] | None:
    """Where the task's lesson is already written (entries.find_known), else None. Trivial
    and dropped tasks are left to distill_task, which skips them."""
    from acontext_mcp.learn import distill, entries

    if distill.outcome_of(task) == "abandoned":
        return None
    messages = distill.task_messages(conn, task)
    if distill.is_trivial(task, messages):
        return None
    try:
        known = entries.find_known(
            _workspace(settings, skills),
            task["description"],
            entries.task_commands(messages),
            project_dir=project_dir,
            failed=distill.is_failure(task),
        )
    except Exception as exc:  # a check to save a call must never stop learning
        log.warning("checking task %s against the skills failed: %s", task["id"], exc)
        return None
    if known is None:
        return None
    day = distill.work_day(messages, task.get("updated_at"))
    return {"skill": known.skill, "file": known.file, "title": known.title, "day": day}


def _count_again(
    conn: sqlite3.Connection,
    task: dict[str, Any],
    space: str,
    known: dict[str, Any],
    project_dir: str | None,
) -> dict[str, Any]:
    """A learning that only counts one more sighting of an entry (no LLM call)."""
    from acontext_mcp.learn.distill import is_failure

    where = f"{known['skill']}/{known['file']}"
    text = (
        f"Source: session {task['session_id']}, task {task['order']} ({task['status']}): "
        f"{' '.join(task['description'].split())[:200]}\n\n## Seen again\n"
        f"The entry **{known['title']}** in {where} already holds this lesson; its evidence "
        "is counted once more."
    )
    plan = {
        "day": known["day"],
        "project_dir": project_dir,
        "verified": (task.get("outcome") or "").startswith("verified_"),
        "bump": {k: known[k] for k in ("skill", "file", "title")},
    }
    kind = "failure" if is_failure(task) else "success"
    with atomic(conn):
        learning.add_learning(
            conn,
            session_id=task["session_id"],
            task_id=task["id"],
            space=space,
            kind=kind,
            text=text,
            outcome=task.get("outcome"),
            lesson=json.dumps(plan),
        )
    queue_space(conn, space)
    return {
        "task_id": task["id"],
        "space": space,
        "kind": kind,
        "called_llm": False,
        "known": f"{where}: {known['title']}",
    }


def _likely_outline(
    settings: Settings, skills: list[dict[str, Any]], project_dir: str | None
) -> str:
    """The outline of the project's runbook, the file most lessons go to (entries.outline)."""
    from acontext_mcp.learn import entries

    slug = entries.project_slug(project_dir)
    if not slug:
        return ""
    try:
        ws = _workspace(settings, skills)
        path = f"projects/{slug}.md"
        found = entries.outline(ws, entries.RUNBOOKS_SKILL, path)
    except Exception as exc:  # a hint for the model, never a reason to fail
        log.warning("outline of the runbook of %s failed: %s", slug, exc)
        return ""
    return f"{entries.RUNBOOKS_SKILL}/{path}:\n{found}" if found else ""


# --- learn_space ----------------------------------------------------------------------------


def _label(item: dict[str, Any]) -> str:
    if item["kind"] == "preferences":
        lines = [ln[2:] for ln in (item.get("text") or "").splitlines() if ln.startswith("- ")]
        return "user preference: " + (lines[0] if lines else "(empty)")
    label = item.get("task") or f"task {item.get('task_id')}"
    bump = (item.get("plan") or {}).get("bump")
    return f"{label} (seen again: {bump['title']})" if bump else label


def _commit_message(batch: list[dict[str, Any]], thinking: list[str]) -> str:
    """Subject says what was learned from; the body lists every source and the plan."""
    labels = [" ".join(_label(b).split()) for b in batch]
    count = f"{len(batch)} learning{'s' if len(batch) != 1 else ''}"
    subject = f"Learn from {count}: {clip(labels[0], 60, at_word=True)}"
    body = ["Learned from:"] + [f"- {clip(label, 100, at_word=True)}" for label in labels]
    if thinking:
        body += ["", "Learner notes:", " ".join(" ".join(thinking).split())[:600]]
    return subject + "\n\n" + "\n".join(body)


def _task_descriptions(conn: sqlite3.Connection, batch: list[dict[str, Any]]) -> None:
    for item in batch:
        if item.get("task_id") is not None and item["kind"] != "preferences":
            item["task"] = task_store.task_description(conn, item["task_id"])


def _record_secrets_refused(
    conn: sqlite3.Connection, session_id: str, workspace: SkillWorkspace, out: dict[str, Any]
) -> None:
    """Count the learner's edits refused for holding a secret: a `secret_refused` session
    event (kinds and counts, never the secret) and `secrets_refused` in the run's result."""
    counts = dict(workspace.secrets_refused)
    if counts:
        add_event(conn, session_id, "secret_refused", {"counts": counts, "source": "learner"})
        out["secrets_refused"] = sum(counts.values())


def learn_space(
    conn: sqlite3.Connection, settings: Settings, payload: dict[str, Any]
) -> dict[str, Any]:
    """One learner run over the space's waiting learnings (see the module docstring)."""
    from acontext_mcp.learn import review
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
        policy = review.policy(settings)
        batch, later = review.split(policy, batch)
        with atomic(conn):
            learning.return_learnings(conn, [b["id"] for b in later])
        propose = not all(review.accepts_learning(policy, b) for b in batch)
        ids = [b["id"] for b in batch]
        _task_descriptions(conn, batch)
        visible = {s["name"] for s in _space_skills(conn, settings, space)}
        workspace = SkillWorkspace(root, visible=visible)
        try:
            rest = write_lessons(workspace, batch)  # no LLM: entries, counts, the day's log
            thinking: list[str] = []
            if rest:
                run = run_learner(
                    _provider(conn, settings),
                    workspace,
                    rest,
                    today=rest[0]["plan"].get("day") or date.today().isoformat(),
                    session_id=rest[0]["session_id"],
                )
                out.update(rounds=run.rounds, tool_errors=run.tool_errors)
                if not run.finished:
                    last = redact_text(run.last_error)[0][:300]
                    raise LearnFailed(
                        f"the learner did not finish within {run.rounds} rounds"
                        + (f" (last problem: {last})" if last else "")
                        + "; nothing was written"
                    )
                thinking = run.thinking
                write_lessons(workspace, [b for b in rest if b.get("new_skill")], last=True)
            sessions = list(dict.fromkeys(b["session_id"] for b in batch))
            tasks = [b["task_id"] for b in batch if b["task_id"] is not None]
            applied = workspace.apply(
                redact_text(_commit_message(batch, thinking))[0],
                session_ids=sessions,
                task_ids=list(dict.fromkeys(tasks)),
                propose=propose,
            )
            if rest:
                with atomic(conn):
                    learning.add_cost(
                        conn,
                        [b["id"] for b in rest],
                        calls=run.rounds,
                        input_tokens=run.input_tokens,
                        output_tokens=run.output_tokens,
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
        finally:
            _record_secrets_refused(conn, batch[0]["session_id"], workspace, out)
        with atomic(conn):
            for name in applied.created:
                learning.link_skill(conn, space, name)
            if applied.proposal:
                learning.propose_learnings(conn, ids, applied.proposal)
            else:
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
        **({"proposal": applied.proposal} if applied.proposal else {}),
    )
    if applied.sha:
        out["after"] = after_learning(settings, applied.skills)
    if learning.waiting_count(conn, space):
        queue_space(conn, space)
        out["more_waiting"] = True
    return out


def _plan(item: dict[str, Any]) -> dict[str, Any]:
    try:
        plan = json.loads(item.get("lesson") or "{}")
    except ValueError:
        plan = {}
    return plan if isinstance(plan, dict) else {}


def write_lessons(
    workspace: Any, batch: list[dict[str, Any]], *, last: bool = False
) -> list[dict[str, Any]]:
    """Write what needs no model into `workspace`: each structured lesson as an entry (or one
    more sighting of its entry) and the day's log line, dated by the session's own day.
    Returns the learnings the skill learner must handle, each with its `plan` and a `note`
    for the learner. With `last` (after the learner created the skills it was asked for),
    nothing more goes to the learner: a lesson whose skill still does not exist is left
    to what the learner wrote."""
    from acontext_mcp.learn import entries

    rest: list[dict[str, Any]] = []
    for item in batch:
        plan = item["plan"] = _plan(item)
        day = plan.get("day") or date.today().isoformat()
        verified = bool(plan.get("verified"))
        label = item.get("task") or f"task {item.get('task_id')}"
        if plan.get("bump"):
            b = plan["bump"]
            problem = entries.bump(
                workspace, b["skill"], b["file"], b["title"], day=day, verified=verified
            )
            if problem:
                log.info("learning %s: evidence not counted: %s", item["id"], problem)
                continue
            summary = f"Met again: {b['title']} ({b['skill']}/{b['file']})."
            _log_line(workspace, day, label, summary)
            continue
        entry = plan.get("entry")
        if not entry:
            rest.append(item)  # preferences and older answers: the learner decides
            continue
        lesson = entries.Lesson.from_dict(entry)
        done, problem = entries.write_lesson(
            workspace, lesson, day=day, verified=verified, project_dir=plan.get("project_dir")
        )
        if done in ("added", "updated"):
            _log_line(workspace, day, label, lesson.summary or lesson.title)
        elif last:
            log.info("learning %s: entry left to the learner (%s)", item["id"], problem or done)
        else:
            about = lesson.new_skill or "a new domain"
            item["new_skill"] = done == "no-skill"  # its entry is written once the skill is
            item["note"] = (
                f"Create the skill `{lesson.skill}` for this lesson ({about}): its SKILL.md "
                f"only, whose file structure names `{lesson.file}`. {_trigger_hint(lesson)} "
                "The entry itself and the day's log are written for you once you finish."
                if done == "no-skill"
                else f"Record this lesson yourself: writing it into {lesson.skill}/"
                f"{lesson.file} was refused ({problem})."
            )
            rest.append(item)
    return rest


def _trigger_hint(lesson: Any) -> str:
    """What a new skill's description must name: agents pick a skill by its description
    alone, so it carries the words a task that needs it would contain."""
    words = ", ".join(f"`{t}`" for t in lesson.triggers[:6])
    return (
        "Its description (at most 1024 characters) says what it holds and when to use it, "
        "naming the tools, commands and error words that should bring it up"
        + (f" (this lesson's: {words})" if words else "")
        + ", and the project when it only applies to one."
    )


def _log_line(workspace: Any, day: str, label: str, summary: str) -> None:
    from acontext_mcp.learn import entries

    problem = entries.write_log(workspace, day, label, summary)
    if problem:
        log.info("daily log of %s not written: %s", day, problem)


def after_learning(
    settings: Settings, skills: list[str] | None = None, *, curate: bool = True
) -> dict[str, Any]:
    """Run the curator when `learning.curate_every` learnings were committed since its last
    pass (learn/curate.py; `curate=False` after a pass of its own), then refresh the search
    index (only the `skills` the commit touched, when given) and sync skills into the agents
    (the user folders, and the projects configured in `sync.claude_code_project_dirs`; never
    a project's own folder unasked), and at most once a day propose retiring what stopped
    helping (learn/retire.py). Failures are logged: the commit stands, and SessionStart syncs
    again."""
    done: dict[str, Any] = {}
    if curate:
        from acontext_mcp.learn.curate import maybe_curate

        curated = maybe_curate(settings)
        if curated is not None:
            done["curate"] = curated
            if skills is not None:
                skills = sorted({*skills, *curated.get("skills", [])})
    try:
        from acontext_mcp.skills import index

        done["index"] = (
            index.refresh(settings) if skills is None else index.refresh_skills(settings, skills)
        )
    except Exception as exc:  # an index is a cache: the next search rebuilds it
        log.warning("skills index refresh failed: %s", exc)
        done["index_error"] = str(exc)
    try:
        from acontext_mcp.skills import proposals
        from acontext_mcp.skills.sync import sync_all

        # With proposals: pending ones also go to OpenClaw's Skill Workshop (skills/workshop).
        done["sync"] = [r.to_dict() for r in sync_all(settings, proposals=proposals)]
    except Exception as exc:
        log.warning("skills sync after learning failed: %s", exc)
        done["sync_error"] = str(exc)
    try:
        from acontext_mcp.learn import retire

        retired = retire.maybe_run(settings)  # once a day: unused, failing, stale skills
        if retired and retired["proposed"]:
            done["retire"] = retired
    except Exception as exc:  # proposals are advice: the learning stands
        log.warning("retirement pass after learning failed: %s", exc)
        done["retire_error"] = str(exc)
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
