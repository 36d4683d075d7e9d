"""Claude Code hook events: capture the transcript incrementally, answer SessionStart.

Every event captures what the transcript gained since the last committed cursor; events that
end a turn (Stop, SubagentStop, PreCompact, SessionEnd) also flush the assistant message that
may still have been growing, and the subagent transcripts of the session. Stop checks the
payload's `last_assistant_message` against the store, since the transcript may lag the hook.
While capture is off, events move the cursors past what the transcripts hold, storing
nothing, so switching capture on never stores what was written while it was off.
Uses of our skills among the stored tool calls (the Skill tool, reads of a synced copy) are
recorded as capture stores them (capture/skill_use.py).
TaskCompleted (a task of the agent's own list was completed) and SessionEnd are also kept as
session events: outcome evidence for the request the task belongs to, and the moment running
tasks are settled by their evidence. SessionStart answers with the brief for the project
directory, asking Claude Code to rescan skills when the skills directory, or a synced copy,
changed since the last session (hooks/session_start.py): from the answer prepared for that
project when it still holds (store/prepared.py, read before config.py is imported), else
live, syncing our skills into the agents' folders first. Its capture runs after the answer is
out (`after_answer`), so Claude Code does not wait for it, and so does the preparing of the
next session's answer, again after Stop's and SessionEnd's capture. UserPromptSubmit answers
the same way with the one learned entry that matches the prompt, if any
(hooks/prompt_lesson.py), then captures.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

    from acontext_mcp.config import Settings

FINAL_EVENTS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd"})
EVENTS = frozenset(
    {
        "SessionStart",
        "UserPromptSubmit",
        "PostToolUse",
        "PostToolUseFailure",
        "TaskCompleted",
        *FINAL_EVENTS,
    }
)
TASK_COMPLETED_FIELDS = ("task_id", "task_subject", "task_description")
TASK_TEXT_CHARS = 500
STOP_WAIT = 0.6  # seconds Stop re-reads a lagging transcript before storing the text itself
STOP_POLL = 0.05
AGENT = "claude-code"
PREPARE_AFTER = frozenset({"Stop", "SessionEnd"})  # then the next session's answer is made


ANSWER_FIRST = frozenset({"SessionStart", "UserPromptSubmit"})  # see `after_answer`
_chosen: list[tuple[str, str, str, str]] = []  # the prompt's lesson, recorded after the answer
_used: list[dict[str, Any]] = []  # the prepared SessionStart answer given, if it was one
_served: list[bool] = []  # whether it was (for the hook log line: `served_prepared`)


def handle(event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Run one event; return the JSON answer for Claude Code, or None for no output.

    SessionStart and UserPromptSubmit only answer here (Claude Code waits for them); their
    capture runs in `after_answer`, which the runner calls once the answer is out, detached
    where it can."""
    if event not in EVENTS:
        raise ValueError(f"unknown Claude Code hook event {event!r}")
    if event == "UserPromptSubmit":
        return _prompt_lesson(payload)  # before config.py: the user waits for this answer
    if event == "SessionStart":
        ready = _prepared_answer(payload)  # before config.py too: Claude Code waits
        if ready is not None:
            return ready.get("output")
    from acontext_mcp.config import Settings
    from acontext_mcp.store.db import open_db

    settings = Settings.from_env()

    if event in ANSWER_FIRST:
        from acontext_mcp.hooks.session_start import live_answer

        conn = open_db(settings)
        try:
            return live_answer(conn, settings, _text(payload, "cwd"), _text(payload, "session_id"))
        finally:
            conn.close()
    _capture_event(settings, event, payload)
    if event in PREPARE_AFTER:  # the capture moved the store: the next session's answer
        from acontext_mcp.hooks.session_start import prepare_quietly, prepare_recent

        project_dir = _text(payload, "cwd")
        prepare_quietly(settings, project_dir)
        if event == "SessionEnd":  # and the other recent projects': what this session's sync
            # or skill changes touched made theirs stale too
            prepare_recent(settings, skip=(project_dir,), tries=1)
    return None


def _prepared_answer(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The answer prepared for a session starting in this project, when it still holds
    (store/prepared.py), else None: the live path answers. Reads with `os`, `_json` and
    `_sqlite3`; a failure is logged and costs only the live path."""
    from acontext_mcp.hooks import _home
    from acontext_mcp.store import prepared

    try:
        home = _home()
        data = prepared.load(home, AGENT, _text(payload, "cwd"))
        if data is None or not prepared.check(data, home, _text(payload, "session_id")):
            return None
    except Exception as exc:
        _log_capture_failure("SessionStart", exc, "prepared answer")
        return None
    _used.append(data)
    _served.append(True)
    return data


def served_prepared() -> bool:
    """Whether this process answered SessionStart from a prepared answer: its hook log line
    says so ("ok (detached, prepared answer)"), which `doctor` and the tests read."""
    return bool(_served)


def after_answer(event: str, payload: dict[str, Any]) -> None:
    """The capture of an ANSWER_FIRST event: what the transcript gained (a resumed session's
    history), then the skill uses the brief or the prompt's lesson delivered. A bad
    transcript is logged: the answer has gone out already."""
    from acontext_mcp.config import Settings

    settings = Settings.from_env()
    try:
        _capture_event(settings, event, payload)
    except Exception as exc:
        _log_capture_failure(event, exc)
    if event == "SessionStart":
        from acontext_mcp.hooks.session_start import after_answer as brief_given

        # The brief's uses, and the next session's answer, off the answer's path; never raises.
        used = _used.pop() if _used else None
        brief_given(settings, _text(payload, "session_id"), _text(payload, "cwd"), used)
    while _chosen:
        from acontext_mcp.hooks.prompt_lesson import record

        chosen = _chosen.pop()
        try:
            record(settings, chosen, _text(payload, "session_id"), _text(payload, "cwd"))
        except Exception as exc:
            _log_capture_failure(event, exc, "recording the lesson's use")


def _prompt_lesson(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The one learned entry matching the prompt, as additional context (hooks/
    prompt_lesson.py), or None. A failure is logged, not raised: the prompt's capture runs
    after this answer and must not be lost to it."""
    prompt = _text(payload, "prompt")
    if prompt is None:
        return None
    from acontext_mcp.hooks import HookPaths
    from acontext_mcp.hooks.prompt_lesson import choose

    try:
        paths = HookPaths.from_env()
        chosen = choose(paths, prompt, _text(payload, "cwd"), _text(payload, "session_id"))
    except Exception as exc:
        _log_capture_failure("UserPromptSubmit", exc, "lesson")
        return None
    if chosen is None:
        return None
    _chosen.append(chosen)
    return {
        "hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": chosen[3]}
    }


def _capture_event(settings: Settings, event: str, payload: dict[str, Any]) -> None:
    from acontext_mcp.privacy.switches import capture_allowed
    from acontext_mcp.store.db import open_db

    session_id = _text(payload, "session_id")
    project_dir = _text(payload, "cwd")
    if not (session_id and _text(payload, "transcript_path")):
        return
    allowed, _why = capture_allowed(settings, project_dir=project_dir, session_id=session_id)
    conn = open_db(settings)
    try:
        if allowed:
            from acontext_mcp.capture import gaps

            who = gaps.Subject(AGENT, (session_id,), project_dir)
            allowed = gaps.resume(conn, who, session_id)
        if allowed:
            _capture(conn, settings, event, payload, session_id, project_dir)
        else:
            _skip(conn, event, payload, session_id)
    finally:
        conn.close()


def _log_capture_failure(event: str, exc: Exception, what: str = "capture") -> None:
    from acontext_mcp.hooks.run import _log

    # " error " makes `doctor` count it, as it counts the runner's own outcome lines.
    _log(f"claude-code {event} {what} failed: error {type(exc).__name__}: {exc}")


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def _capture(
    conn: sqlite3.Connection,
    settings: Settings,
    event: str,
    payload: dict[str, Any],
    session_id: str,
    project_dir: str | None,
) -> None:
    from acontext_mcp.capture.claude_code import capture_subagents, capture_transcript

    final = event in FINAL_EVENTS
    transcript = payload["transcript_path"]
    args = {"session_id": session_id, "transcript_path": transcript, "project_dir": project_dir}
    capture_transcript(conn, settings, **args, final=final)
    if final:
        agent_path = _text(payload, "agent_transcript_path") if event == "SubagentStop" else None
        capture_subagents(conn, settings, **args, agent_transcript_path=agent_path, final=True)
    if event in ("TaskCompleted", "SessionEnd"):
        _keep_event(conn, event, payload, session_id, project_dir)
    last = _text(payload, "last_assistant_message")
    if event == "Stop" and last and os.path.exists(transcript):
        _cover_last_message(conn, settings, session_id, transcript, project_dir, last)
    from acontext_mcp.worker.triggers import maybe_queue

    maybe_queue(conn, settings, session_id, event=event)  # never raises; no LLM here


def _keep_event(
    conn: sqlite3.Connection,
    event: str,
    payload: dict[str, Any],
    session_id: str,
    project_dir: str | None,
) -> None:
    """Keep TaskCompleted (outcome evidence for the request that task is a step of) and
    SessionEnd (running tasks get the outcome their evidence gives) as session events, read
    by observe/todos.py."""
    from acontext_mcp.privacy.redact import redact_text
    from acontext_mcp.store.events import add_event
    from acontext_mcp.store.sessions import ensure_session

    data: dict[str, Any] = {}
    fields = TASK_COMPLETED_FIELDS if event == "TaskCompleted" else ("reason",)
    for key in fields:
        value = payload.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            data[key] = redact_text(str(value)[:TASK_TEXT_CHARS])[0]
    ensure_session(conn, session_id, agent=AGENT, project_dir=project_dir)
    kind = "task_completed" if event == "TaskCompleted" else "session_end"
    add_event(conn, session_id, kind, {**data, "source": AGENT})


def _skip(conn: sqlite3.Connection, event: str, payload: dict[str, Any], session_id: str) -> None:
    """Capture is off: consume what the transcripts gained without storing it, so switching
    capture on later never stores what was written while it was off."""
    from acontext_mcp.capture.claude_code import skip_session

    agent_path = _text(payload, "agent_transcript_path") if event == "SubagentStop" else None
    skip_session(
        conn,
        session_id=session_id,
        transcript_path=payload["transcript_path"],
        agent_transcript_path=agent_path,
    )


def _cover_last_message(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    transcript: str,
    project_dir: str | None,
    text: str,
) -> None:
    """Make sure the turn's final text is stored: re-read a lagging transcript briefly, then
    store the text as a provisional message that the real line replaces when it arrives."""
    from acontext_mcp.capture.claude_code import capture_transcript
    from acontext_mcp.capture.stop_message import is_stored, store_provisional, text_hash
    from acontext_mcp.privacy.redact import redact_text
    from acontext_mcp.store.sessions import ensure_session

    digest = text_hash(redact_text(text)[0])
    deadline = time.monotonic() + STOP_WAIT
    while not is_stored(conn, session_id, digest):
        if time.monotonic() >= deadline:
            ensure_session(conn, session_id, agent="claude-code", project_dir=project_dir)
            store_provisional(conn, settings, session_id, text)
            return
        time.sleep(STOP_POLL)
        capture_transcript(
            conn, settings, session_id=session_id, transcript_path=transcript, final=True
        )
