"""OpenClaw hook events, forwarded by the native plugin in plugins/openclaw/.

The plugin normalizes OpenClaw's (pi-agent-core) messages to OpenAI Chat Completions form and
pipes one JSON object per event to `acontext-mcp hook openclaw EVENT`:

- `agent_end`: `{messages, sessionId, sessionKey, agentId, cwd, success?, error?, runId?}`.
  OpenClaw hands over the whole session history each time, so a later run resends the
  messages of earlier runs; each message is stored exactly once (see `message_key`).
- `before_compaction` / `before_reset`: the same, with `messages` optional, plus the host's
  counters (`messageCount`, `compactingCount`, `tokenCount`, `reason`); pending messages are
  stored, then a `compaction` / `reset` session event is recorded.
- `before_prompt_build`: `{sessionId, sessionKey, agentId, cwd}`; syncs the skills into the
  agents' skill folders (as Claude Code's SessionStart does), then answers
  `{"additionalContext": brief}` for the project directory, or nothing.
- `prompt`: the same identity plus `prompt`, every turn; answers `{"additionalContext":
  lesson}` with the one learned entry matching the prompt (hooks/prompt_lesson.py), or
  nothing, then records that use.

Reads of our skills' files among newly stored tool calls are recorded as skill uses
(capture/skill_use.py). Capture honours the privacy switches and redacts secrets before
anything is stored; the redaction counts of newly stored messages become one `redaction`
session event. While capture is off, the messages an event carries are remembered as
skipped, so a later resend of the history after `capture on` does not store them.
Stdlib only: this runs inside a hook.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import Counter
from typing import Any

from acontext_mcp.config import Settings

AGENT = "openclaw"
FORMAT = "openai"
CAPTURE_EVENTS = frozenset({"agent_end", "before_compaction", "before_reset"})
EVENTS = CAPTURE_EVENTS | {"before_prompt_build", "prompt"}
ANSWER_FIRST = frozenset({"prompt"})  # the lesson's use is recorded after it: `after_answer`
_chosen: list[tuple[str, str, str, str]] = []
_SESSION_EVENT = {"before_compaction": "compaction", "before_reset": "reset"}
_EVENT_FIELDS = ("messageCount", "compactingCount", "tokenCount", "reason", "sessionKey", "runId")
_KEY_PREFIX = "id:"  # the store's prefix for native ids (store.messages.dedup_key)
_QUERY_CHUNK = 500


def handle(event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Run one event; return the JSON answer for the plugin, or None for no output."""
    if event not in EVENTS:
        raise ValueError(f"unknown OpenClaw hook event {event!r}; expected one of {sorted(EVENTS)}")
    settings = Settings.from_env()
    project_dir = _project_dir(payload)
    if event == "prompt":
        return _prompt_lesson(settings, payload, project_dir)
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)
    try:
        if event == "before_prompt_build":
            # The plugin asks once per session: sync the skills then (never raises), so a
            # skill learned since the last session reaches OpenClaw's skills folder.
            from acontext_mcp.hooks.skill_sync import sync_agent_skills

            synced = sync_agent_skills(settings)
            return _brief(
                conn,
                settings,
                project_dir,
                session_id_for(payload),
                synced.listed.get(AGENT, set()),
                synced.shadowed.get(AGENT, set()),
            )
        session_id = session_id_for(payload)
        if session_id is None:
            raise ValueError(f"{event} payload names no sessionId or sessionKey")
        from acontext_mcp.capture import gaps
        from acontext_mcp.privacy.switches import capture_allowed

        allowed, _why = capture_allowed(settings, project_dir=project_dir, session_id=session_id)
        who = gaps.Subject(AGENT, (session_id,), project_dir)
        if not (allowed and gaps.resume(conn, who, session_id)):
            skip(conn, payload, session_id=session_id)
            return None
        capture(conn, settings, event, payload, session_id=session_id, project_dir=project_dir)
        if event == "agent_end":
            from acontext_mcp.worker.triggers import maybe_queue

            maybe_queue(conn, settings, session_id, event=event)  # never raises; no LLM here
        return None
    finally:
        conn.close()


def _prompt_lesson(
    settings: Settings, payload: dict[str, Any], project_dir: str | None
) -> dict[str, Any] | None:
    """The one learned entry matching this turn's prompt (hooks/prompt_lesson.py), answered
    as `{"additionalContext": text}`; the plugin prepends it to the prompt."""
    prompt = _text(payload, "prompt")
    if prompt is None:
        return None
    from acontext_mcp.hooks.prompt_lesson import choose

    chosen = choose(settings, prompt, project_dir, session_id_for(payload))
    if chosen is None:
        return None
    _chosen.append(chosen)
    return {"additionalContext": chosen[3]}


def after_answer(event: str, payload: dict[str, Any]) -> None:
    """Record the lesson just given as a `prompt` use of its skill (the plugin has its answer).
    OpenClaw's session is stored at its first agent_end, after the first prompt: it is made
    known here when capture may keep it, so the once-per-session rule holds from turn one."""
    from acontext_mcp.hooks.prompt_lesson import record

    settings = Settings.from_env()
    while _chosen:
        record(
            settings,
            _chosen.pop(),
            session_id_for(payload),
            _project_dir(payload),
            agent=AGENT,
        )


# --- Identities ---


def session_id_for(payload: dict[str, Any]) -> str | None:
    """Our session id: OpenClaw's `sessionId` (the transcript identity, new after a reset).

    Trigger: a payload without a usable sessionId. Why: the session key (`agent:main:main`)
    outlives resets and holds `:`, which the per-session capture switch cannot name.
    Outcome: `openclaw-<hash of the session key>`, stable for that key.
    """
    sid = _text(payload, "sessionId")
    if sid and len(sid) <= 128 and all(c.isalnum() or c in "._-" for c in sid):
        return sid
    key = _text(payload, "sessionKey") or sid
    if not key:
        return None
    return "openclaw-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def message_key(session_id: str, message: dict[str, Any], seen: Counter[str]) -> str:
    """The stable identity of one message within its OpenClaw session.

    OpenClaw's agent messages carry no id, and what it resends of earlier runs differs from
    what the run itself reported (observed with 2026.9.6): a user message gets a new
    `timestamp` once persisted, and tool-call ids lose their non-alphanumeric characters
    (`call_ab1` comes back as `callab1`). Assistant and tool-result messages keep their
    `timestamp`. So the key is a digest of:

    - the session and the role;
    - for user messages, their content; for others, their `timestamp` (their content when
      they have none), so two identical replies at different times stay two messages;
    - the tool-call ids the message holds, normalized as OpenClaw persists them;
    - an ordinal among the messages of this payload that share all of the above (the second
      identical "yes" of a conversation is its own message).

    Content is not part of an assistant or tool key: OpenClaw may prune or rewrite what it
    replays of old tool output, and that must not make an old message look new. `seen`
    counts the bases met so far in this payload; it is updated.
    """
    role = message.get("role")
    stamp = message.get("timestamp")
    if role != "user" and isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        basis: Any = ["t", stamp]
    else:
        body = {k: v for k, v in message.items() if k not in ("id", "timestamp")}
        basis = ["c", hashlib.sha256(_canonical(body).encode()).hexdigest()]
    anchors = [c.get("id") for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if message.get("tool_call_id"):
        anchors.append(message.get("tool_call_id"))
    base = _canonical([session_id, role, basis, anchors])
    ordinal = seen[base]
    seen[base] += 1
    digest = hashlib.sha256(f"{base}#{ordinal}".encode()).hexdigest()[:32]
    return f"openclaw:{digest}"


def normalize_call_ids(message: dict[str, Any]) -> dict[str, Any]:
    """A copy whose tool-call ids are in the form OpenClaw persists: letters and digits only.

    The ids a run reports at its own agent_end still hold `_`; later resends do not. Storing
    the persisted form keeps calls and results paired whichever send stored them.
    """
    out = dict(message)
    if isinstance(out.get("tool_call_id"), str):
        out["tool_call_id"] = _persisted_id(out["tool_call_id"])
    calls = out.get("tool_calls")
    if isinstance(calls, list):
        out["tool_calls"] = [
            {**c, "id": _persisted_id(c["id"])}
            if isinstance(c, dict) and isinstance(c.get("id"), str)
            else c
            for c in calls
        ]
    return out


def _persisted_id(call_id: str) -> str:
    return "".join(ch for ch in call_id if ch.isascii() and ch.isalnum()) or call_id


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- Capture ---


def capture(
    conn: sqlite3.Connection,
    settings: Settings,
    event: str,
    payload: dict[str, Any],
    *,
    session_id: str,
    project_dir: str | None,
) -> dict[str, int]:
    """Store the payload's messages not stored yet, then the event's session event.

    Returns {"stored", "duplicates", "skipped"} (skipped: entries that were not messages).
    """
    from acontext_mcp.store.events import add_event
    from acontext_mcp.store.sessions import ensure_session

    raw = payload.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    not_objects = len(raw) - len(messages) if isinstance(raw, list) else 0
    totals = {"stored": 0, "duplicates": 0, "skipped": 0}
    configs = {k: v for k in ("sessionKey", "agentId") if (v := _text(payload, k))}
    ensure_session(
        conn, session_id, agent=AGENT, project_dir=project_dir, configs={"openclaw": configs}
    )
    if messages:
        totals.update(_store_new(conn, settings, session_id, messages, project_dir))
    totals["skipped"] += not_objects
    if event in _SESSION_EVENT:
        data = {k: payload[k] for k in _EVENT_FIELDS if k in payload}
        add_event(conn, session_id, _SESSION_EVENT[event], {**data, "source": AGENT})
    elif payload.get("success") is False:
        error = payload.get("error")
        add_event(conn, session_id, "run_failed", {"error": str(error)[:2000], "source": AGENT})
    return totals


def skip(conn: sqlite3.Connection, payload: dict[str, Any], *, session_id: str) -> int:
    """Capture is off: remember the payload's messages as never to be stored; store nothing.

    Trigger: an event arrives while a capture switch is off. Why: OpenClaw resends the whole
    history at every agent_end, so the first one after `capture on` would otherwise store
    everything said while capture was off. Outcome: their keys join the session's skip list
    (read by `_store_new`); returns how many were added.
    """
    from acontext_mcp.store.cursors import get_cursor, set_cursor
    from acontext_mcp.store.db import atomic

    raw = payload.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    seen: Counter[str] = Counter()
    keys = [message_key(session_id, normalize_call_ids(m), seen) for m in messages]
    with atomic(conn):
        skipped = _skipped_keys(conn, session_id)
        stored = _known_keys(conn, session_id, keys)
        new = [k for k in keys if k not in skipped and _KEY_PREFIX + k not in stored]
        if new:
            before = get_cursor(conn, _skip_cursor(session_id))
            set_cursor(conn, _skip_cursor(session_id), [*(before or []), *new])
    return len(new)


def _skip_cursor(session_id: str) -> str:
    from acontext_mcp.store.cursors import OPENCLAW_SKIPPED_PREFIX

    return OPENCLAW_SKIPPED_PREFIX + session_id


def _skipped_keys(conn: sqlite3.Connection, session_id: str) -> set[str]:
    from acontext_mcp.store.cursors import get_cursor

    value = get_cursor(conn, _skip_cursor(session_id))
    return {k for k in value if isinstance(k, str)} if isinstance(value, list) else set()


def _store_new(
    conn: sqlite3.Connection,
    settings: Settings,
    session_id: str,
    messages: list[dict[str, Any]],
    project_dir: str | None = None,
) -> dict[str, int]:
    """Convert, redact and store the messages whose keys the session does not hold yet.

    Known keys are filtered out before conversion, so a resent history costs one indexed
    lookup per message, and redaction is counted once per stored message. The store's
    UNIQUE(session_id, dedup_key) still decides under concurrency. Messages seen while
    capture was off (`skip`) or stamped inside a capture gap (capture/gaps.py) are not stored.
    """
    from acontext_mcp.capture import gaps
    from acontext_mcp.capture.skill_use import UseFinder
    from acontext_mcp.capture.skill_use import record as record_uses
    from acontext_mcp.errors import InvalidInput
    from acontext_mcp.formats.convert import to_internal
    from acontext_mcp.privacy.redact import redact_message
    from acontext_mcp.store.events import add_event
    from acontext_mcp.store.messages import next_position

    seen: Counter[str] = Counter()
    messages = [normalize_call_ids(m) for m in messages]
    keyed = [(message_key(session_id, m, seen), m) for m in messages]
    known = _known_keys(conn, session_id, [k for k, _ in keyed])
    off_keys = _skipped_keys(conn, session_id)  # seen while capture was off: never stored
    fresh = [(k, m) for k, m in keyed if _KEY_PREFIX + k not in known and k not in off_keys]
    spans = gaps.load(conn)
    if spans:
        who = gaps.Subject(AGENT, (session_id,), project_dir)
        fresh = [(k, m) for k, m in fresh if not gaps.in_gap(spans, who, m.get("timestamp"))]
    if not fresh:
        return {"stored": 0, "duplicates": len(messages), "skipped": 0}
    salt = f"{session_id}:{next_position(conn, session_id)}"
    items: list[tuple[str, Any]] = []
    found: list[Counter[str]] = []
    stamps: list[float | None] = []
    skipped = 0
    for index, (key, message) in enumerate(fresh):
        bare = {k: v for k, v in message.items() if k not in ("id", "timestamp")}
        try:  # one at a time: a message we cannot read must not block the rest forever
            (internal,) = to_internal([bare], FORMAT, id_salt=f"{salt}:{index}")
        except (InvalidInput, ValueError) as exc:
            skipped += 1
            _log_skip(key, exc)
            continue
        clean, counted = redact_message(internal)
        clean["meta"] = {**(clean.get("meta") or {}), "id": key}
        items.append((key, clean))
        found.append(counted)
        stamps.append(gaps.epoch(message.get("timestamp")))
    results = _store(conn, settings, session_id, items) if items else []
    stored = 0
    counts: Counter[str] = Counter()
    uses: UseFinder | None = None
    for result, counted, (_key, clean), at in zip(results, found, items, stamps, strict=True):
        if result["stored"]:
            stored += 1
            counts.update(counted)
            if clean["role"] == "assistant":  # skill uses among its tool calls, once
                uses = uses or UseFinder(settings)
                record_uses(
                    conn,
                    uses.uses(clean["parts"], project_dir),
                    session_id=session_id,
                    project_dir=project_dir,
                    at=at,
                )
    if counts:
        add_event(conn, session_id, "redaction", {"counts": dict(counts), "source": AGENT})
    return {"stored": stored, "duplicates": len(messages) - stored - skipped, "skipped": skipped}


def _store(
    conn: sqlite3.Connection, settings: Settings, session_id: str, items: list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    """Store in one transaction; a message over the size cap is stored clipped instead.

    Trigger: one message is over ACONTEXT_MAX_MESSAGE_BYTES. Why: refusing it would make every
    later agent_end of the session fail the same way. Outcome: stored one by one, clipped.
    """
    from acontext_mcp.errors import TooLarge
    from acontext_mcp.store.messages import store_messages

    keys: list[str | None] = [_KEY_PREFIX + k for k, _ in items]
    messages = [m for _, m in items]
    try:
        return store_messages(conn, settings, session_id, messages, fmt=FORMAT, keys=keys)
    except TooLarge:
        from acontext_mcp.capture.claude_code import clip_message

        out = []
        for key, message in zip(keys, messages, strict=True):
            try:
                one = store_messages(conn, settings, session_id, [message], fmt=FORMAT, keys=[key])
            except TooLarge:
                clipped = clip_message(message, settings.max_message_bytes)
                one = store_messages(conn, settings, session_id, [clipped], fmt=FORMAT, keys=[key])
            out.extend(one)
        return out


def _known_keys(conn: sqlite3.Connection, session_id: str, keys: list[str]) -> set[str]:
    from acontext_mcp.store.messages import existing_dedup_keys

    found: set[str] = set()
    wanted = [_KEY_PREFIX + k for k in keys]
    for start in range(0, len(wanted), _QUERY_CHUNK):
        chunk = wanted[start : start + _QUERY_CHUNK]
        found.update(existing_dedup_keys(conn, session_id, chunk))
    from acontext_mcp.store.forget import forgotten_keys

    return found | forgotten_keys(conn, session_id, wanted)  # `forget` must stay forgotten


def _log_skip(key: str, exc: Exception) -> None:
    from acontext_mcp.hooks.run import _log

    _log(f"openclaw: message {key} not stored: {type(exc).__name__}: {exc}")


# --- Brief ---


def _brief(
    conn: sqlite3.Connection,
    settings: Settings,
    project_dir: str | None,
    session_id: str | None,
    listed: set[str],
    shadowed: set[str],
) -> dict | None:
    """The brief for the session asking; it is not one of its own "recent sessions"."""
    from acontext_mcp.capture.brief import build_brief

    brief = build_brief(
        conn,
        settings,
        project_dir=project_dir,
        session_id=session_id,
        listed=listed,
        shadowed=shadowed,
        agent=AGENT,
    )
    return {"additionalContext": brief} if brief else None


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def _project_dir(payload: dict[str, Any]) -> str | None:
    cwd = _text(payload, "cwd")
    return os.path.normpath(os.path.abspath(os.path.expanduser(cwd))) if cwd else None
