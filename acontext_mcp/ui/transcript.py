"""A page of stored messages as a transcript: what the Sessions page's templates show.

Messages are stored in one canonical form (formats/parts.py): typed parts on user and
assistant messages. Here each becomes a display block: text (split around redaction markers,
which are shown apart), thinking (collapsed), a tool call with its result paired under it
(results arrive in a later user message), media (served by the page's media route, never
inline SVG), and whatever else as its JSON. Nothing here marks text safe: templates escape it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.formats.parts import text_of
from acontext_mcp.text import clip

TEXT_MAX = 20_000  # characters of one text block shown; the rest is cut with a note
ARGS_PREVIEW = 100  # characters of a tool call's arguments in its one-line summary
# What privacy/redact.py writes in place of a secret or a <private> span.
MARKER = re.compile(r"\[REDACTED:[A-Za-z0-9_.-]{1,64}\]|\[private\]")
# Media a browser may show inline from our origin; anything else (SVG above all) downloads.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MEDIA = ("image", "audio", "file")


@dataclass
class Text:
    """Text as (is_marker, piece) segments; `cut` characters left off the end."""

    segments: list[tuple[bool, str]]
    cut: int = 0

    @property
    def redacted(self) -> int:
        return sum(1 for marker, _ in self.segments if marker)


@dataclass
class Media:
    kind: str  # image | audio | file
    message_id: int  # the message holding it (a paired result's is the next message)
    index: int  # the n-th media source of that message (the media route's {n})
    media_type: str
    source: str  # blob | base64 | url
    inline: bool  # an image the page may show with <img>
    name: str = ""
    url: str = ""  # kind url: where it was (not fetched)


@dataclass
class Block:
    kind: str  # text | thinking | redacted_thinking | tool | result | media | other
    text: Text | None = None
    media: Media | None = None
    # tool: the call; its result (or None when not on this page)
    name: str = ""
    call_id: str = ""
    arguments: Text | None = None
    summary: str = ""
    result: list[Block] | None = None
    is_error: bool = False
    raw: str = ""  # other: the part as JSON


@dataclass
class Shown:
    """One message on the page."""

    id: int
    position: int
    role: str
    created_at: float
    status: str
    blocks: list[Block] = field(default_factory=list)
    original_role: str = ""
    folded: bool = False  # only tool results, all shown with their calls above
    tasks: list[Any] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # events after this message


def text(value: Any) -> Text:
    """Stored text split around redaction markers, cut at TEXT_MAX."""
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    cut = max(0, len(raw) - TEXT_MAX)
    raw = raw[:TEXT_MAX]
    segments: list[tuple[bool, str]] = []
    at = 0
    for m in MARKER.finditer(raw):
        if m.start() > at:
            segments.append((False, raw[at : m.start()]))
        segments.append((True, m.group(0)))
        at = m.end()
    if at < len(raw):
        segments.append((False, raw[at:]))
    return Text(segments, cut)


def media_sources(parts: list[Any]) -> list[dict[str, Any]]:
    """Every media part of a message in order, those inside tool results included: the
    n-th one is what `/sessions/{id}/media/{message}/{n}` serves."""
    found: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("type") in MEDIA and isinstance(part.get("source"), dict):
            found.append(part)
        elif part.get("type") == "tool-result" and isinstance(part.get("content"), list):
            found.extend(media_sources(part["content"]))
    return found


class _Counter:
    """Numbers one message's media sources in media_sources' order."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n - 1


def _media(part: dict[str, Any], counter: _Counter) -> Media:
    source = part.get("source") or {}
    media_type = str(source.get("media_type") or "application/octet-stream").lower()
    kind = str(source.get("kind") or "")
    name = str(part.get("filename") or part.get("title") or "")
    return Media(
        kind=str(part.get("type")),
        message_id=counter.message_id,
        index=counter.next(),
        media_type=media_type,
        source=kind,
        inline=part.get("type") == "image" and media_type in INLINE_IMAGES and kind != "url",
        name=name,
        url=str(source.get("url") or "") if kind == "url" else "",
    )


def _content_blocks(content: Any, media: _Counter) -> list[Block]:
    """A tool result's content (text and media parts, or a bare string)."""
    if isinstance(content, str):
        return [Block("text", text=text(content))]
    blocks: list[Block] = []
    for inner in content if isinstance(content, list) else []:
        if isinstance(inner, dict) and inner.get("type") == "text":
            blocks.append(Block("text", text=text(inner.get("text", ""))))
        elif isinstance(inner, dict) and inner.get("type") in MEDIA:
            blocks.append(Block("media", media=_media(inner, media)))
        else:
            blocks.append(Block("other", raw=json.dumps(inner, ensure_ascii=False, indent=1)))
    return blocks


def _arguments(raw: Any) -> str:
    """A tool call's JSON arguments, indented when they parse."""
    if not isinstance(raw, str):
        return json.dumps(raw, ensure_ascii=False, indent=2)
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, indent=2)
    except ValueError:
        return raw


def _summary(name: str, raw: Any) -> str:
    """`Bash: pytest -q` style: the tool's name and its arguments' first values, short."""
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        args = raw
    if isinstance(args, dict):
        preview = " ".join(str(v) for v in args.values() if isinstance(v, str | int | float))
    else:
        preview = str(args or "")
    preview = clip(" ".join(preview.split()), ARGS_PREVIEW)
    return f"{name}: {preview}" if preview else name


def _blocks(parts: list[Any], results: dict[str, dict[str, Any]], media: _Counter) -> list[Block]:
    blocks: list[Block] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.append(Block("text", text=text(part.get("text", ""))))
        elif kind == "thinking":
            blocks.append(Block("thinking", text=text(part.get("text", ""))))
        elif kind == "redacted_thinking":
            blocks.append(Block("redacted_thinking"))
        elif kind in MEDIA:
            blocks.append(Block("media", media=_media(part, media)))
        elif kind == "tool-call":
            call_id = str(part.get("id", ""))
            found = results.get(call_id)
            blocks.append(
                Block(
                    "tool",
                    name=str(part.get("name", "")),
                    call_id=call_id,
                    arguments=text(_arguments(part.get("arguments"))),
                    summary=_summary(str(part.get("name", "")), part.get("arguments")),
                    result=None if found is None else found["blocks"],
                    is_error=bool(found and found["is_error"]),
                )
            )
        elif kind == "tool-result":
            call_id = str(part.get("tool_call_id", ""))
            if call_id in results and results[call_id].get("paired"):
                # shown under its call; its media still count for the route's numbering
                media.n += len(media_sources([part]))
                continue
            blocks.append(
                Block(
                    "result",
                    call_id=call_id,
                    name=str(part.get("name", "")),
                    result=_content_blocks(part.get("content"), media),
                    is_error=bool(part.get("is_error")),
                )
            )
        else:
            blocks.append(Block("other", raw=json.dumps(part, ensure_ascii=False, indent=1)))
    return blocks


def _results(rows: list[Any]) -> dict[str, dict[str, Any]]:
    """Tool results by call id, from the page's messages and those just after it, each with
    its display blocks (media numbered as in its own message)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        counter = _Counter(row["id"])
        for part in row["parts"]:
            if not isinstance(part, dict):
                continue
            if part.get("type") in MEDIA:
                counter.next()
            elif part.get("type") == "tool-result":
                call_id = str(part.get("tool_call_id", ""))
                blocks = _content_blocks(part.get("content"), counter)
                out.setdefault(call_id, {"blocks": blocks, "is_error": bool(part.get("is_error"))})
    return out


def build(rows: list[Any], following: list[Any]) -> list[Shown]:
    """The page's messages (dicts with id, position, role, parts (parsed), meta (parsed),
    status, created_at), their tool results paired with their calls; `following` are the
    messages after the page, read only for results of the page's last calls."""
    results = _results([*rows, *following])
    calls = {
        str(p.get("id"))
        for row in rows
        for p in row["parts"]
        if isinstance(p, dict) and p.get("type") == "tool-call"
    }
    for call_id, found in results.items():
        found["paired"] = call_id in calls
    shown = []
    for row in rows:
        meta = row["meta"] if isinstance(row["meta"], dict) else {}
        blocks = _blocks(row["parts"], results, _Counter(row["id"]))
        only_results = bool(row["parts"]) and all(
            isinstance(p, dict) and p.get("type") == "tool-result" for p in row["parts"]
        )
        shown.append(
            Shown(
                id=row["id"],
                position=row["position"],
                role=row["role"],
                created_at=row["created_at"],
                status=row["status"],
                blocks=blocks,
                original_role=str(meta.get("original_role") or ""),
                folded=only_results and not blocks,
            )
        )
    return shown


def preview(parts: list[Any], limit: int = 160, *, near: Sequence[str] = ()) -> str:
    """One line of a message's text (a session's title, a search hit); with `near`, the line
    starts a little before the first of those words (the index keeps no text to cut from)."""
    try:
        plain = text_of({"role": "user", "parts": parts})
    except (KeyError, TypeError):
        plain = ""
    plain = " ".join(plain.split())
    folded = plain.casefold()
    found = [i for i in (folded.find(w.casefold()) for w in near if w) if i >= 0]
    if found and min(found) > limit // 3:
        plain = "…" + plain[min(found) - limit // 4 :].lstrip()
    return clip(plain, limit)
