"""Claude Code hook events: capture the transcript incrementally, answer SessionStart.

Every event captures what the transcript gained since the last committed cursor; events that
end a turn (Stop, SubagentStop, PreCompact, SessionEnd) also flush the assistant message that
may still have been growing. SessionStart answers with the brief for the project directory.
"""

from __future__ import annotations

from typing import Any

from acontext_mcp.config import Settings

FINAL_EVENTS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd"})
EVENTS = frozenset(
    {"SessionStart", "UserPromptSubmit", "PostToolUse", "PostToolUseFailure", *FINAL_EVENTS}
)


def handle(event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Run one event; return the JSON answer for Claude Code, or None for no output."""
    if event not in EVENTS:
        raise ValueError(f"unknown Claude Code hook event {event!r}")
    from acontext_mcp.capture.privacy import capture_allowed
    from acontext_mcp.store.db import open_db

    settings = Settings.from_env()
    session_id = _text(payload, "session_id")
    project_dir = _text(payload, "cwd")
    allowed, _why = capture_allowed(settings, project_dir=project_dir, session_id=session_id)
    conn = open_db(settings)
    try:
        if allowed and session_id and _text(payload, "transcript_path"):
            _capture(conn, settings, event, payload, session_id, project_dir)
        if event == "SessionStart":
            return _session_start(conn, settings, project_dir)
        return None
    finally:
        conn.close()


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def _capture(conn, settings, event, payload, session_id, project_dir) -> None:
    from acontext_mcp.capture.claude_code import capture_transcript

    capture_transcript(
        conn,
        settings,
        session_id=session_id,
        transcript_path=payload["transcript_path"],
        project_dir=project_dir,
        final=event in FINAL_EVENTS,
    )
    agent_transcript = _text(payload, "agent_transcript_path")
    if event == "SubagentStop" and agent_transcript:
        capture_transcript(
            conn,
            settings,
            session_id=f"{session_id}:agent-{_text(payload, 'agent_id') or 'unknown'}",
            transcript_path=agent_transcript,
            project_dir=project_dir,
            parent_session_id=session_id,
            final=True,
        )


def _session_start(conn, settings: Settings, project_dir: str | None) -> dict[str, Any] | None:
    from acontext_mcp.capture.brief import build_brief

    brief = build_brief(conn, settings, project_dir=project_dir)
    if not brief:
        return None
    return {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": brief}}
