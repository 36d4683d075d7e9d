"""Claude Code transcript lines -> the messages and session events one chunk holds.

Pure: no store, no file access. Claude Code writes one line per assistant content block, so
lines sharing `message.id` merge into one message, placed at its first line. The last
assistant message read may still be growing; `parse_records` says where to stop (`cut`) so
the caller's cursor stays at its first line until something after it shows it ended.
Everything that is not a user/assistant line, a compaction boundary or a compaction summary
(api-request*, attachment, queue-operation, titles, cost-state, other system lines, unknown
types) is skipped and counted by type.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from acontext_mcp.capture.transcript import Chunk
from acontext_mcp.capture.transcript import parse_lines as parse_json_lines
from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats.anthropic import to_internal
from acontext_mcp.formats.parts import Message

ENVELOPE = ("uuid", "parentUuid", "timestamp", "isSidechain", "agentId", "cwd", "gitBranch")
ENVELOPE_MORE = ("version", "promptId")
_META_PREFIXES = ("<task-notification>", "<local-command-", "<system-reminder>")
_COMMAND_PREFIXES = ("<command-name>", "<command-message>")
# system lines after which an assistant message cannot grow any more
_TURN_END_SUBTYPES = ("compact_boundary", "stop_hook_summary")


class Entry:
    """One thing to store: a message (with its dedup key) or an event (type, data)."""

    __slots__ = ("cwd", "event", "key", "message", "start")

    def __init__(
        self,
        start: int,
        key: str,
        *,
        message: Message | None = None,
        event: tuple[str, dict[str, Any]] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.start, self.key, self.message, self.event, self.cwd = start, key, message, event, cwd


class Parsed:
    """What one chunk yields, and how far the cursor may move (`cut`)."""

    __slots__ = ("cut", "entries", "hold_from", "invalid_lines", "invalid_messages", "skipped")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.cut = 0
        self.hold_from: int | None = None  # start of a held-back (maybe growing) message
        self.skipped: Counter[str] = Counter()
        self.invalid_lines = 0
        self.invalid_messages = 0


class _Group:
    """The lines of one assistant API message."""

    __slots__ = ("blocks", "first", "key", "last", "last_index", "start", "tool_ids", "uuids")

    def __init__(self, key: str, start: int, record: dict[str, Any], index: int) -> None:
        self.key, self.start, self.first, self.last = key, start, record, record
        self.last_index = index
        self.blocks: list[Any] = []
        self.uuids: list[str] = []
        self.tool_ids: set[str] = set()


def parse_records(chunk: Chunk, *, final: bool) -> Parsed:
    """Entries of the chunk in file order, up to `cut`: the chunk's end, or the first line of
    a trailing assistant message that may still grow (never held when `final`)."""
    out = Parsed()
    records, invalid_starts = parse_lines(chunk, skip=out.skipped)
    groups = _groups(records)
    out.hold_from = None if final else _open_tail(records, groups)
    out.cut = chunk.end if out.hold_from is None else out.hold_from
    if out.hold_from is not None:  # lines past the cut are read again next time
        out.skipped = Counter(_skipped_before(chunk, out.cut))
    out.invalid_lines = sum(1 for start in invalid_starts if start < out.cut)
    emitted: set[str] = set()
    for start, record in records:
        if start >= out.cut:
            break
        _emit(record, start, groups, emitted, out)
    return out


# --- Lines never stored, known without parsing ---

# Most of a transcript's bytes are lines capture skips (attachments: file contents, tool
# schemas; api-request shapes), and parsing them would cost more than everything else an
# import does. Such a line's type is read from how Claude Code writes it, conservatively: a
# line whose type is not certain from its first bytes is parsed as any other.
_STORED_TYPES = frozenset({"user", "assistant", "system"})
_TYPE_FIRST = '{"type":"'  # queue-operation, api-request*, last-prompt, cost-state, ...
_ATTACHMENT_KEY = ',"attachment":{'  # envelope keys first, then the attachment object


def skip_type(line: str) -> str | None:
    """The type of a line capture skips, when its first bytes say so for certain; else None.

    Certain means: the line opens with its top-level `type` key (a JSON object's first key is
    top-level) naming a type that is never stored; or its top-level keys up to an
    `attachment` object are plain envelope values (no nesting, no escapes) and it ends with
    `"type":"attachment"` outside that object, as Claude Code writes attachment lines."""
    if line.startswith(_TYPE_FIRST):
        end = line.find('"', len(_TYPE_FIRST))
        kind = line[len(_TYPE_FIRST) : end]
        if end < 0 or "\\" in kind or kind in _STORED_TYPES:
            return None
        return kind
    at = line.find(_ATTACHMENT_KEY, 0, 512)
    if at < 0 or not line.startswith('{"'):
        return None
    head = line[1:at]
    if "{" in head or "[" in head or "\\" in head or '"type"' in head:
        return None
    # rfind from `at`, not `in line[at:]`: no copy of a line that may be megabytes long (and
    # on Claude Code's attachment lines the reverse search measured a third faster)
    if line.rfind('},"type":"attachment",', at) < 0 and not line.rstrip().endswith(
        '},"type":"attachment"}'
    ):
        return None
    return "attachment"


_TYPE_FIRST_RAW = _TYPE_FIRST.encode()
_ATTACHMENT_KEY_RAW = _ATTACHMENT_KEY.encode()
_ATTACHMENT_TYPE_RAW = b'},"type":"attachment",'
_ATTACHMENT_END_RAW = b'},"type":"attachment"}'
_ASCII_SPACE = b" \t\n\r\x0b\x0c"


def skip_type_raw(data: bytes, start: int, end: int) -> str | None:
    """`skip_type` of the undecoded line `data[start:end]`, so a skipped line is never decoded
    (most of a transcript's bytes). It answers only where its bytes are plain ASCII (the
    type, the envelope before an attachment) and else None: then the line is decoded and
    `skip_type` judges it. Whenever it names a type, `skip_type` names the same one."""
    if data.startswith(_TYPE_FIRST_RAW, start, end):
        first = start + len(_TYPE_FIRST_RAW)
        close = data.find(b'"', first, end)
        if close < 0:
            return None
        kind = data[first:close]
        if not kind.isascii() or b"\\" in kind:
            return None
        name = kind.decode("ascii")
        return None if name in _STORED_TYPES else name
    at = data.find(_ATTACHMENT_KEY_RAW, start, min(start + 512, end))
    if at < 0 or not data.startswith(b'{"', start, end):
        return None
    head = data[start + 1 : at]
    if not head.isascii() or b"{" in head or b"[" in head or b"\\" in head or b'"type"' in head:
        return None
    if data.rfind(_ATTACHMENT_TYPE_RAW, at, end) < 0:
        stop = end
        while stop > start and data[stop - 1] in _ASCII_SPACE:
            stop -= 1
        if not data.endswith(_ATTACHMENT_END_RAW, start, stop):
            return None
    return "attachment"


def parse_lines(
    chunk: Chunk, *, skip: Counter[str]
) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
    """`transcript.parse_lines` for Claude Code lines: those `skip_type` knows are counted in
    `skip` by type, unparsed (and those the reader passed over, `chunk.skipped`); the rest
    are parsed."""
    skip.update(kind for _start, kind in chunk.skipped)
    kept = Chunk(chunk.cursor)
    for start, line in zip(chunk.starts, chunk.lines, strict=True):
        if (kind := skip_type(line)) is None:
            kept.starts.append(start)
            kept.lines.append(line)
        else:
            skip[kind] += 1
    return parse_json_lines(kept)


def _skipped_before(chunk: Chunk, cut: int) -> list[str]:
    """The types `skip_type` knows of the lines before `cut` (a held-back tail's lines are
    counted when they are consumed)."""
    out = [kind for start, kind in chunk.skipped if start < cut]
    for start, line in zip(chunk.starts, chunk.lines, strict=True):
        if start >= cut:
            break
        kind = skip_type(line)
        if kind is not None:
            out.append(kind)
    return out


# --- Assistant groups ---


def _assistant_id(record: dict[str, Any]) -> str | None:
    message = record.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return None
    mid = message.get("id")
    return mid if isinstance(mid, str) and mid else _line_key(record)


def _groups(records: list[tuple[int, dict[str, Any]]]) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    for index, (start, record) in enumerate(records):
        if record.get("type") != "assistant" or (mid := _assistant_id(record)) is None:
            continue
        group = groups.get(mid)
        if group is None:
            group = groups[mid] = _Group(mid, start, record, index)
        group.last, group.last_index = record, index
        blocks = record["message"]["content"]
        group.blocks.extend(blocks)
        if isinstance(record.get("uuid"), str):
            group.uuids.append(record["uuid"])
        group.tool_ids.update(
            b["id"] for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"
        )
    return groups


def _open_tail(records: list[tuple[int, dict[str, Any]]], groups: dict[str, _Group]) -> int | None:
    """Trigger: deciding how far to consume. Why: Claude Code appends one line per content
    block, and the first store of a message wins its dedup key, so storing a message before
    its last block is written would lose that block for good. Outcome: the start of the last
    assistant message read, unless a later line shows it ended (another assistant message, a
    user line other than results of its own tool calls, the end of a turn); else None.
    Earlier messages are always complete: a later assistant line follows each of them."""
    if not groups:
        return None
    tail = max(groups.values(), key=lambda g: g.last_index)
    for _start, record in records[tail.last_index + 1 :]:
        if _ends(record, tail):
            return None
    return tail.start


def _ends(record: dict[str, Any], group: _Group) -> bool:
    kind = record.get("type")
    if kind == "assistant":
        return _assistant_id(record) not in (None, group.key)
    if kind == "system":
        return record.get("subtype") in _TURN_END_SUBTYPES
    if kind != "user":
        return False
    content = (record.get("message") or {}).get("content")
    if not isinstance(content, list) or not content:
        return True
    results = {b.get("tool_use_id") for b in content if isinstance(b, dict)}
    return not _only_results(content) or not results <= group.tool_ids


def _only_results(content: list[Any]) -> bool:
    return bool(content) and all(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


# --- Entries ---


def _emit(
    record: dict[str, Any], start: int, groups: dict[str, _Group], emitted: set[str], out: Parsed
) -> None:
    kind = record.get("type")
    try:
        if kind == "assistant" and (mid := _assistant_id(record)) is not None:
            if mid not in emitted:  # later lines of a message were merged into its first
                emitted.add(mid)
                out.entries.append(_assistant_entry(mid, groups[mid]))
        elif kind == "user" and isinstance(record.get("message"), dict):
            out.entries.append(_user_entry(start, record))
        elif kind == "system" and record.get("subtype") == "compact_boundary":
            out.entries.append(_compaction_entry(start, record))
        else:
            out.skipped[_skip_name(record)] += 1
    except InvalidInput:
        out.invalid_messages += 1


def _skip_name(record: dict[str, Any]) -> str:
    kind = record.get("type")
    kind = kind if isinstance(kind, str) else "(no type)"
    subtype = record.get("subtype")
    return f"{kind}:{subtype}" if kind == "system" and isinstance(subtype, str) else kind


def _assistant_entry(mid: str, group: _Group) -> Entry:
    message = to_internal([{"role": "assistant", "content": group.blocks, "id": mid}])[0]
    meta = _envelope(group.first)
    last = group.last.get("message") or {}
    for key in ("model", "stop_reason"):
        if isinstance(last.get(key), str):
            meta[key] = last[key]
    if len(group.uuids) > 1:
        meta["uuids"] = group.uuids
    message["meta"] = {**(message.get("meta") or {}), **meta}
    return Entry(group.start, "id:" + mid, message=message, cwd=meta.get("cwd"))


def _user_entry(start: int, record: dict[str, Any]) -> Entry:
    content = record["message"].get("content")
    if record.get("isCompactSummary"):
        data = {**_pick(record, ("uuid", "timestamp")), "text": _text(content)}
        return Entry(start, _line_key(record), event=("compact_summary", data))
    message = to_internal([{"role": "user", "content": content}])[0]
    meta = {**_envelope(record), "kind": _user_kind(record, content)}
    result = record.get("toolUseResult")
    if isinstance(result, dict) and isinstance(result.get("persistedOutputPath"), str):
        meta["persistedOutputPath"] = result["persistedOutputPath"]
    message["meta"] = {**(message.get("meta") or {}), **meta}
    return Entry(start, _line_key(record), message=message, cwd=meta.get("cwd"))


def _compaction_entry(start: int, record: dict[str, Any]) -> Entry:
    data = _pick(record, ("uuid", "timestamp", "logicalParentUuid"))
    compact = record.get("compactMetadata")
    if isinstance(compact, dict):
        data.update(_pick(compact, ("trigger", "preTokens", "postTokens", "durationMs")))
    return Entry(start, _line_key(record), event=("compaction", data), cwd=record.get("cwd"))


def _user_kind(record: dict[str, Any], content: Any) -> str:
    """prompt | command | tool_result | meta (see the capture module's docstring)."""
    if record.get("isMeta"):
        return "meta"
    if isinstance(content, list) and _only_results(content):
        return "tool_result"
    text = _text(content).lstrip()
    if record.get("promptSource") == "system" or text.startswith(_META_PREFIXES):
        return "meta"
    if text.startswith(_COMMAND_PREFIXES):
        return "command"
    return "prompt"


def _envelope(record: dict[str, Any]) -> dict[str, Any]:
    return _pick(record, ENVELOPE + ENVELOPE_MORE)


def _pick(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: record[k] for k in keys if record.get(k) is not None}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict)]
        return "\n".join(t for t in texts if isinstance(t, str))
    return ""


def _line_key(record: dict[str, Any]) -> str:
    """`id:<uuid>`, or for a line without one a hash of its content (stable on re-read)."""
    uuid = record.get("uuid")
    if isinstance(uuid, str) and uuid:
        return "id:" + uuid
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False)
    return "hash:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
