"""Claude Code transcripts -> stored messages and session events, exactly once.

The transcript is read from the committed cursor (transcript.py); its lines become internal
messages (one per user line, one per assistant API message merged from its per-block lines)
and session events (compaction); messages, events and the new cursor commit in one
transaction. Exactly-once holds under concurrent hooks because every writer stores the same
lines in file order under BEGIN IMMEDIATE, and dedup keys (`id:<message.id>` for assistant
messages, `id:<uuid>` for other lines) make a re-store a no-op. Stdlib only: runs in hooks.

User lines that are not user intent are stored, marked in meta.kind (see `_user_kind`):
"prompt" (typed by the user), "command" (a slash command the user typed), "tool_result",
"meta" (isMeta lines, `<task-notification>` and other system-injected prompts, local-command
output). They are kept, not dropped, because the model reacted to them; task extraction reads
only "prompt" and "command" as intent.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

from acontext_mcp.capture import gaps as capture_gaps
from acontext_mcp.capture.claude_code_lines import Entry, Parsed, parse_records, skip_type_raw
from acontext_mcp.capture.skill_use import WATCHED, UseFinder
from acontext_mcp.capture.skill_use import record as record_uses
from acontext_mcp.capture.stop_message import settle
from acontext_mcp.capture.transcript import READ_LIMIT, Chunk, Cursor, read_lines
from acontext_mcp.config import Settings
from acontext_mcp.errors import TooLarge
from acontext_mcp.formats.parts import Message
from acontext_mcp.privacy.redact import redact_message, redact_value
from acontext_mcp.store.cursors import get_cursor, set_cursor
from acontext_mcp.store.db import atomic, dumps
from acontext_mcp.store.events import add_event, event_keys
from acontext_mcp.store.messages import extend_message, next_position, store_messages
from acontext_mcp.store.sessions import ensure_session

FORMAT = "anthropic"  # transcript `message` objects are Anthropic Messages API shaped
HOOK_READ_BYTES = 64 * 1024 * 1024  # what one capture call reads at most; the next goes on
HOOK_SECONDS = 10.0  # and how long it runs: well within the hooks' 30 s timeout
_AGENT_ID = re.compile(r"[^A-Za-z0-9._@-]")


def cursor_key(session_id: str, transcript_path: str | Path) -> str:
    """The cursors-table key of one transcript captured into one session."""
    return f"transcript:{session_id}:{os.path.abspath(transcript_path)}"


def subagent_session_id(parent_session_id: str, agent_id: str) -> str:
    """The session id a subagent's transcript is stored under: `<parent>:agent-<agentId>`."""
    return f"{parent_session_id}:agent-{_AGENT_ID.sub('-', agent_id)[:64]}"


def capture_transcript(
    conn: sqlite3.Connection,
    settings: Settings,
    *,
    session_id: str,
    transcript_path: str | Path,
    project_dir: str | None = None,
    parent_session_id: str | None = None,
    agent: str = "claude-code",
    final: bool = False,
    read_limit: int = READ_LIMIT,
    max_bytes: int | None = HOOK_READ_BYTES,
    max_seconds: float | None = HOOK_SECONDS,
) -> dict[str, Any]:
    """Store what the transcript gained since the last committed cursor, exactly once.

    An assistant message at the end of what was read may still be growing (one line per
    content block): it is held back, with the cursor left at its first line, unless `final`
    (the turn or session ended: Stop, SubagentStop, PreCompact, SessionEnd, an import).
    Each step reads about `read_limit` bytes and commits on its own, so a huge file is
    consumed in several transactions. A call stops after reading `max_bytes` or running
    `max_seconds` (None: no bound, as `import` asks); the next call goes on from the cursor.
    Records stamped inside a capture gap (written while capture was off, see
    capture/gaps.py) are passed over. Returns counts: stored, duplicates, events,
    skipped_by_type, invalid_lines, invalid_messages, reset, pending (a message is held
    back), in_gap, skill_uses (uses of our skills found, capture/skill_use.py) and cursor
    (byte offset).
    """
    path = os.path.abspath(transcript_path)
    ctx = _Capture(conn, settings, session_id, path, project_dir, parent_session_id, agent)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    limit = read_limit
    while True:
        before = ctx.totals["cursor"]
        more = ctx.step(final=final, limit=limit)
        if not more:
            break
        if max_bytes is not None and ctx.bytes_read >= max_bytes:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        if ctx.totals["cursor"] == before and not ctx.raced:
            limit *= 2  # one held-back message is larger than the limit: read further
    ctx.totals["skipped_by_type"] = dict(ctx.skipped)
    ctx.totals["redacted"] = dict(ctx.redacted)
    return ctx.totals


def capture_subagents(
    conn: sqlite3.Connection,
    settings: Settings,
    *,
    session_id: str,
    transcript_path: str | Path,
    project_dir: str | None = None,
    agent_transcript_path: str | Path | None = None,
    agent: str = "claude-code",
    final: bool = False,
) -> dict[str, dict[str, Any]]:
    """Capture each subagent transcript of a session into its own session linked to the
    parent: `<transcript dir>/<session_id>/subagents/agent-*.jsonl`, plus an explicit
    `agent_transcript_path` (SubagentStop). A file is flushed (final) only when the caller
    says final and its `agent-*.meta.json`, if any, says the subagent finished.
    Returns {subagent session id: counts}."""
    results: dict[str, dict[str, Any]] = {}
    for path in _subagent_paths(session_id, transcript_path, agent_transcript_path):
        agent_id = path.name.removeprefix("agent-").removesuffix(".jsonl")
        sub_id = subagent_session_id(session_id, agent_id)
        results[sub_id] = capture_transcript(
            conn,
            settings,
            session_id=sub_id,
            transcript_path=path,
            project_dir=project_dir,
            parent_session_id=session_id,
            agent=agent,
            final=final and _agent_finished(path),
        )
    return results


def _subagent_paths(
    session_id: str, transcript_path: str | Path, agent_transcript_path: str | Path | None
) -> list[Path]:
    folder = Path(transcript_path).parent / session_id / "subagents"
    # Regular files only: a FIFO or device dropped in the folder would fail every flush.
    paths = (
        sorted(p for p in folder.glob("agent-*.jsonl") if p.is_file()) if folder.is_dir() else []
    )
    if agent_transcript_path and Path(agent_transcript_path) not in paths:
        paths.append(Path(agent_transcript_path))
    return paths


def skip_transcript(
    conn: sqlite3.Connection,
    *,
    session_id: str,
    transcript_path: str | Path,
    read_limit: int = READ_LIMIT,
) -> int:
    """Move the transcript's cursor past every whole line it holds now, storing nothing.

    Trigger: a hook finds capture off for the session. Why: what was written
    while capture was off must stay out for good, and the next capture after `capture on`
    (hook or import) reads from this cursor. Outcome: the cursor at the end of the last whole
    line; returns the bytes passed over.
    """
    path = os.path.abspath(transcript_path)
    key = cursor_key(session_id, path)
    passed = 0
    while True:
        # Read outside the write lock (as capture does); move the cursor only if no other
        # writer moved it meanwhile, else read again from where that writer left it.
        cursor = Cursor.from_json(get_cursor(conn, key))
        chunk = read_lines(path, cursor, limit=read_limit)
        end = chunk.cursor_at(chunk.end)
        with atomic(conn):
            if Cursor.from_json(get_cursor(conn, key)) != cursor:
                continue
            if end != cursor:
                set_cursor(conn, key, end.to_json())
        passed += chunk.end - (0 if chunk.reset else cursor.offset)
        if not chunk.more:
            return passed


def skip_session(
    conn: sqlite3.Connection,
    *,
    session_id: str,
    transcript_path: str | Path,
    agent_transcript_path: str | Path | None = None,
) -> int:
    """`skip_transcript` for a session's transcript and each of its subagents' (the hooks'
    capture switch names the parent session for them too). Returns the bytes passed over."""
    passed = skip_transcript(conn, session_id=session_id, transcript_path=transcript_path)
    for path in _subagent_paths(session_id, transcript_path, agent_transcript_path):
        sub_id = subagent_session_id(
            session_id, path.name.removeprefix("agent-").removesuffix(".jsonl")
        )
        passed += skip_transcript(conn, session_id=sub_id, transcript_path=path)
    return passed


def _agent_finished(path: Path) -> bool:
    try:
        meta = json.loads(path.with_name(path.stem + ".meta.json").read_text())
    except (OSError, ValueError):
        return True  # no (readable) meta file: older layouts; trust the caller
    return not isinstance(meta, dict) or meta.get("finished", True) is not False


class _Capture:
    """One capture_transcript call: its identity, running totals, and one step per chunk."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        session_id: str,
        path: str,
        project_dir: str | None,
        parent_id: str | None,
        agent: str,
    ) -> None:
        self.conn, self.settings, self.session_id, self.path = conn, settings, session_id, path
        self.project_dir, self.parent_id, self.agent = project_dir, parent_id, agent
        self.key = cursor_key(session_id, path)
        self.bytes_read = 0
        self.raced = False  # the last step's chunk was stored by another writer first
        self.gaps = capture_gaps.load(conn)  # spans whose records are never stored
        self.skipped: Counter[str] = Counter()
        self.redacted: Counter[str] = Counter()  # over the whole call
        self.step_redacted: Counter[str] = Counter()  # this step: becomes its redaction event
        self.meta_memo: dict[tuple[str, str], tuple[Any, Counter[str]]] = {}
        self.totals: dict[str, Any] = {
            "stored": 0,
            "duplicates": 0,
            "events": 0,
            "skipped_by_type": {},
            "invalid_lines": 0,
            "invalid_messages": 0,
            "reset": False,
            "pending": False,
            "cursor": 0,
            "redacted": {},
            "extended": 0,
            "in_gap": 0,
            "skill_uses": 0,
        }
        self.uses: UseFinder | None = None  # made at the first watched tool call

    def step(self, *, final: bool, limit: int) -> bool:
        """Read one chunk after the committed cursor and store it. Returns whether whole
        lines may remain past the read limit.

        The file is read and parsed before the write lock is taken, so a slow or huge file
        never blocks other writers; under the lock the chunk is stored only if the committed
        cursor is still the one it was read from (else another writer stored those lines
        first: `raced`, and the next step reads on from its cursor). Every store is thus in
        file order under the lock, with the cursor in the same transaction, as before."""
        cursor = Cursor.from_json(get_cursor(self.conn, self.key))
        chunk = read_lines(self.path, cursor, limit=limit, skip=skip_type_raw)
        self.bytes_read += chunk.end - (0 if chunk.reset else cursor.offset)
        parsed = parse_records(chunk, final=final and not chunk.more)
        with atomic(self.conn):
            self.raced = Cursor.from_json(get_cursor(self.conn, self.key)) != cursor
            if self.raced:
                return True
            return self._commit(cursor, chunk, parsed)

    def _commit(self, cursor: Cursor, chunk: Chunk, parsed: Parsed) -> bool:
        """Store one chunk read from `cursor` and move the cursor; inside the transaction."""
        self.totals["reset"] = self.totals["reset"] or chunk.reset
        self.totals["pending"] = parsed.hold_from is not None
        self.totals["invalid_lines"] += parsed.invalid_lines
        self.totals["invalid_messages"] += parsed.invalid_messages
        self.skipped.update(parsed.skipped)
        if chunk.oversized:  # skipped unread: too long to hold (transcript.MAX_LINE)
            self.skipped["line-over-limit"] += len(chunk.oversized)
        if self.gaps:
            kept = [e for e in parsed.entries if not self._in_gap(e)]
            self.totals["in_gap"] += len(parsed.entries) - len(kept)
            parsed.entries = kept
        if parsed.entries or self.project_dir:
            self._ensure_sessions(parsed.entries)
        self._store(parsed.entries)
        if self.step_redacted:
            add_event(self.conn, self.session_id, "redaction", {"counts": dict(self.step_redacted)})
            self.redacted.update(self.step_redacted)
        new = chunk.cursor_at(parsed.cut)
        if new != cursor:
            set_cursor(self.conn, self.key, new.to_json())
        self.totals["cursor"] = new.offset
        return chunk.more

    def _in_gap(self, entry: Entry) -> bool:
        """Whether the entry was written while capture was off (see capture/gaps.py)."""
        if entry.message is not None:
            stamp = (entry.message.get("meta") or {}).get("timestamp")
        else:
            stamp = entry.event[1].get("timestamp") if entry.event else None
        who = capture_gaps.Subject(
            self.agent, (self.session_id, self.parent_id), self.project_dir or entry.cwd
        )
        return capture_gaps.in_gap(self.gaps, who, stamp)

    def _ensure_sessions(self, entries: list[Entry]) -> None:
        """Create the session (and a subagent's parent) if new, starting when its transcript
        does: an import of last month's sessions must not date them today."""
        project_dir = self.project_dir or next((e.cwd for e in entries if e.cwd), None)
        at = _stamp(entries)
        if self.parent_id:
            ensure_session(
                self.conn, self.parent_id, agent=self.agent, project_dir=project_dir, at=at
            )
        ensure_session(
            self.conn,
            self.session_id,
            agent=self.agent,
            project_dir=project_dir,
            parent_id=self.parent_id,
            at=at,
        )

    def _store(self, entries: list[Entry]) -> None:
        """Messages in batches, in file order; an event flushes the batch before it so its
        recorded position is where it happened. Secrets are redacted first; the counts of
        what was newly stored become one `redaction` event per step."""
        self.step_redacted = Counter()
        self.event_keys: dict[str, set[str]] = {}  # read under this step's write lock
        batch: list[tuple[Entry, Message]] = []
        for entry in entries:
            if entry.message is not None:  # an entry is a message or an event, never both
                batch.append((entry, entry.message))
                continue
            self._store_messages(batch)
            batch = []
            self._store_event(entry)
        self._store_messages(batch)

    def _store_messages(self, batch: list[tuple[Entry, Message]]) -> None:
        if not batch:
            return
        redacted = [self._redact(message) for _, message in batch]
        messages = [m for m, _ in redacted]
        keys: list[str | None] = [e.key for e, _ in batch]
        at = _stamp([e for e, _ in reversed(batch)])  # the session was active until then
        try:
            results = store_messages(
                self.conn, self.settings, self.session_id, messages, fmt=FORMAT, keys=keys, at=at
            )
        except TooLarge:
            results = [
                self._store_one(e.key, m, at) for (e, _), m in zip(batch, messages, strict=True)
            ]
        said: list[list[Any]] = []
        for (entry, _), result, (message, counted) in zip(batch, results, redacted, strict=True):
            if message["role"] != "assistant":
                if result["stored"]:
                    self.step_redacted.update(counted)
                continue
            new_parts: list[Any] = []
            if result["stored"]:
                new_parts = list(message["parts"])
                added = len(new_parts)
            else:  # stored earlier: late content blocks of the same API message extend it
                added = extend_message(
                    self.conn,
                    self.settings,
                    self.session_id,
                    entry.key,
                    message["parts"],
                    added=new_parts,
                )
                self.totals["extended"] += 1 if added else 0
            if added:
                self.step_redacted.update(counted)
                said.append(list(message["parts"]))
                self._record_uses(entry, message, new_parts)
        if said:
            settle(self.conn, self.session_id, said)
        stored = sum(1 for r in results if r["stored"])
        self.totals["stored"] += stored
        self.totals["duplicates"] += len(results) - stored

    def _record_uses(self, entry: Entry, message: Message, parts: list[Any]) -> None:
        """Skill uses among the tool calls just stored (capture/skill_use.py), dated when the
        message was written; counted once, as the message is stored once."""
        if not any(p.get("type") == "tool-call" and p.get("name") in WATCHED for p in parts):
            return
        if self.uses is None:
            self.uses = UseFinder(self.settings)
        found = self.uses.uses(parts, self.project_dir or entry.cwd)
        if found:
            stamp = (message.get("meta") or {}).get("timestamp")
            record_uses(
                self.conn,
                found,
                session_id=self.session_id,
                project_dir=self.project_dir or entry.cwd,
                at=capture_gaps.epoch(stamp),
            )
            self.totals["skill_uses"] += len(found)

    def _redact(self, message: Message) -> tuple[Message, Counter[str]]:
        """`redact_message`, with the transcript envelope in `meta` judged value by value.

        Trigger: every captured message. Why: its meta holds about ten envelope strings
        (uuids, a timestamp, cwd, branch, version), and scanning each for secrets cost more
        than the message's own text. Outcome: a value in its field's known shape (a UUID, an
        ISO stamp, a version...) cannot hold a secret and is kept as is; any other value is
        redacted as before, once per distinct value in this call (cwd and branch repeat on
        every line); parts are redacted in full."""
        meta = message.get("meta")
        if not isinstance(meta, dict):
            return redact_message(message)
        bare: Message = {"role": message["role"], "parts": message["parts"], "meta": {}}
        red, counts = redact_message(bare)
        out: dict[str, Any] = {}
        memos = self.meta_memo
        for key, value in meta.items():
            # `_plain_envelope`, inlined for the common shapes: this loop runs ten times a
            # message
            if value is None or value is True or value is False:
                out[key] = value
                continue
            if type(value) is str:
                shape = _ENVELOPE_SHAPES.get(key)
                if shape is not None and shape.fullmatch(value) is not None:
                    out[key] = value
                    continue
            elif _plain_envelope(key, value):
                out[key] = value
                continue
            memo = (key, value) if isinstance(value, str) and len(value) <= 1024 else None
            found = memos.get(memo) if memo else None
            if found is None:
                found = redact_value({key: value})
                if memo:
                    memos[memo] = found
            out[key] = found[0][key]
            if found[1]:
                counts.update(found[1])
        red["meta"] = out
        return red, counts

    def _store_one(self, key: str, message: Message, at: float | None) -> dict[str, Any]:
        """Trigger: a batch holds a message over the store's size cap. Why: refusing it would
        wedge the cursor forever. Outcome: that message is stored with its texts clipped."""
        args = (self.conn, self.settings, self.session_id)
        try:
            return store_messages(*args, [message], fmt=FORMAT, keys=[key], at=at)[0]
        except TooLarge:
            clipped = clip_message(message, self.settings.max_message_bytes)
            return store_messages(*args, [clipped], fmt=FORMAT, keys=[key], at=at)[0]

    def _store_event(self, entry: Entry) -> None:
        type_, data = entry.event  # type: ignore[misc]
        # safe check-then-insert: we hold the write lock (BEGIN IMMEDIATE); the keys already
        # stored are read once per step and type, not once per event
        known = self.event_keys.get(type_)
        if known is None:
            known = self.event_keys[type_] = event_keys(self.conn, self.session_id, type_)
        if entry.key in known:
            self.totals["duplicates"] += 1
            return
        data, counted = redact_value(data)
        data = {**data, "key": entry.key}
        data["position"] = next_position(self.conn, self.session_id)
        add_event(self.conn, self.session_id, type_, data)
        known.add(entry.key)
        self.step_redacted.update(counted)
        self.totals["events"] += 1


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Envelope fields (claude_code_lines.ENVELOPE and what parsing adds) -> the shape a value must
# have to be kept unscanned; cwd, gitBranch and anything unknown are always scanned.
_ENVELOPE_SHAPES = {
    "uuid": _UUID,
    "parentUuid": _UUID,
    "promptId": _UUID,
    "logicalParentUuid": _UUID,
    "agentId": re.compile(r"[0-9a-f]{6,40}"),
    "timestamp": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)?"),
    "version": re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,6}"),
    "id": re.compile(r"msg_[0-9A-Za-z]{8,40}"),
    "model": re.compile(r"claude-[a-z0-9.-]{1,60}|<synthetic>"),
    "stop_reason": re.compile(r"[a-z_]{1,40}"),
    "kind": re.compile(r"[a-z_]{1,20}"),
}


def _plain_envelope(key: str, value: Any) -> bool:
    """Whether a meta value is a known envelope field in its known shape, or a flag: it cannot
    hold a secret, so it need not be scanned."""
    if isinstance(value, bool) or value is None:
        return True
    if key == "uuids" and isinstance(value, list):
        return all(isinstance(v, str) and _UUID.fullmatch(v) for v in value)
    shape = _ENVELOPE_SHAPES.get(key)
    return shape is not None and isinstance(value, str) and shape.fullmatch(value) is not None


def _stamp(entries: list[Entry]) -> float | None:
    """When the first of `entries` that carries a readable stamp was written (epoch seconds),
    or None (then the store uses now)."""
    for entry in entries:
        if entry.message is not None:
            stamp = (entry.message.get("meta") or {}).get("timestamp")
        else:
            stamp = entry.event[1].get("timestamp") if entry.event else None
        if stamp is not None and (when := capture_gaps.epoch(stamp)) is not None:
            return when
    return None


def clip_message(message: Message, cap: int) -> Message:
    """A copy whose long texts are cut so the whole fits well under `cap` bytes, marked
    meta.clipped. Tool calls and results keep their ids, so pairing survives."""
    texts = sum(1 for _ in _text_slots(message)) or 1
    budget = max(1000, cap // (8 * texts))  # characters; UTF-8 and JSON escaping inflate
    clipped: Message = {"role": message["role"], "parts": [], "meta": {}}
    clipped["meta"] = {**(message.get("meta") or {}), "clipped": True}
    for part in message["parts"]:
        clipped["parts"].append(_clip_part(dict(part), budget))  # type: ignore[arg-type]
    if len(dumps(clipped).encode()) > cap:  # e.g. thousands of parts: keep a note only
        note = f"[message of {len(dumps(message))} characters dropped by capture: too large]"
        clipped["parts"] = [{"type": "text", "text": note}]
    return clipped


def _clip_part(part: dict[str, Any], budget: int) -> dict[str, Any]:
    for key in ("text", "arguments"):
        value = part.get(key)
        if isinstance(value, str) and len(value) > budget:
            part[key] = value[:budget] + f" …[clipped by capture: {len(value)} characters]"
    if part.get("type") == "tool-result":
        part["content"] = [
            _clip_part(dict(p), budget) if isinstance(p, dict) else p for p in part["content"]
        ]
    return part


def _text_slots(message: Message) -> Any:
    for part in message["parts"]:
        yield part
        if part["type"] == "tool-result":
            yield from part["content"]  # type: ignore[typeddict-item]
