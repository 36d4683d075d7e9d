"""The Sessions page: sessions filtered by project, agent and date, message search, and each
session's transcript (tool calls paired with their results, thinking collapsed, images,
redaction markers, events in order, subagents linked both ways).

URLs (all stable; a cursor or position in the query picks the page):
  /sessions?project=&agent=&since=YYYY-MM-DD&until=YYYY-MM-DD[&before=|&after=]
  /sessions?q=words (search hits, newest first, same filters)
  /sessions/{id}[?from=<position>|?upto=<position>]  the transcript, oldest first
  /sessions/{id}/media/{message}/{n}                  the n-th image or file of a message
  /messages/{id}                                      redirects into its transcript (#m<id>)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.store import ui_sessions
from acontext_mcp.store.db import loads
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui import search_index, transcript
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.paging import Keyset, Page
from acontext_mcp.ui.render import query_with, render

TRANSCRIPT_SIZE = 50  # messages per transcript page
LOOKAHEAD = 20  # messages after a page read for the results of its last tool calls
SEARCH_BUDGET_S = 0.08  # indexing done inside a search request before it reads
QUERY_MAX = 200
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_WORD = re.compile(r"\w+", re.UNICODE)


def _day(value: str | None, name: str, *, end: bool = False) -> float | None:
    """`YYYY-MM-DD` as local epoch seconds: its start, or with `end` the next day's start."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a date like 2026-12-05 (got {value!r})") from exc
    if end:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day).timestamp()


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    since, until = _day(q.get("since"), "since"), _day(q.get("until"), "until", end=True)
    if since is not None and until is not None and since >= until:
        raise InvalidInput("since must be on or before until")
    return {
        "project": q.get("project") or None,
        "agent": q.get("agent") or None,
        "since": since,
        "until": until,
    }


def fts_query(text: str) -> str:
    """The words of a search box as an FTS5 query: every word must occur (each quoted, so
    FTS5 syntax in the box is plain text); a trailing `*` on a word matches its prefix."""
    terms = []
    for raw in text.split():
        prefix = raw.endswith("*")
        for word in _WORD.findall(raw):
            terms.append(f'"{word}"')
        if prefix and terms:
            terms[-1] += "*"
    return " ".join(terms)


def message_url(session_id: str, position: int, message_id: int) -> str:
    """The transcript page holding a message, scrolled to it (pages start at multiples of
    TRANSCRIPT_SIZE, so the link stays the same as the session grows)."""
    start = position - position % TRANSCRIPT_SIZE
    return f"/sessions/{quote(session_id, safe='')}?from={start}#m{message_id}"


def index(request: Request) -> Response:
    settings = settings_of(request)
    filters = _filters(request)
    words = (request.query_params.get("q") or "").strip()
    if len(words) > QUERY_MAX:
        raise InvalidInput(f"search for at most {QUERY_MAX} characters")
    match = fts_query(words) if words else ""
    if words and not match:
        raise InvalidInput("search for at least one word (letters or digits)")
    keys = Keyset.from_request(request, "search" if match else "sessions")
    behind = 0
    if match and not search_index.catch_up(settings, budget_s=SEARCH_BUDGET_S):
        search_index.start(settings)
    with read_snapshot(settings) as conn:
        projects = ui_sessions.distinct_values(conn, "project_dir")
        agents = ui_sessions.distinct_values(conn, "agent")
        if match:
            behind = ui_sessions.search_backlog(conn)
            rows, edge = ui_sessions.search_page(
                conn,
                match,
                before=keys.before,
                after=keys.after,
                limit=keys.fetch,
                scan=ui_sessions.SEARCH_SCAN,
                **filters,
            )
            page = _scanned(request, keys, keys.page(request, rows, lambda r: (r["rk"],)), edge)
            words_shown = _WORD.findall(words)
            hits = [_hit(r, words_shown) for r in page.items]
            sessions: list[dict[str, Any]] = []
        else:
            rows = ui_sessions.session_page(
                conn, before=keys.before, after=keys.after, limit=keys.fetch, **filters
            )
            page = keys.page(request, rows, lambda r: (r["updated_at"], r["rk"]))
            summaries = ui_sessions.session_summaries(conn, [r["seq"] for r in page.items])
            sessions = [_session(r, summaries[r["seq"]]) for r in page.items]
            hits = []
            behind = ui_sessions.search_backlog(conn, cap=1)  # index ahead of a search
    if behind:
        search_index.start(settings)
    return render(
        request,
        "sessions/index.html",
        title="Search" if match else "Sessions",
        page=page,
        sessions=sessions,
        hits=hits,
        q=words,
        behind=behind if match else 0,
        projects=projects,
        agents=agents,
        form=request.query_params,
    )


def _scanned(request: Request, keys: Keyset, page: Page[Any], edge: int | None) -> Page[Any]:
    """A search page whose scan window ran out before it filled: link on from the window's
    edge (the filters dropped what was looked through; older or newer hits may pass)."""
    if edge is None:
        return page
    cursor = keys.cursor((edge,))
    if keys.after is None:
        link = query_with(request, before=cursor, after=None)
        return replace(page, older_url=link, extra={"scanned": ui_sessions.SEARCH_SCAN})
    link = query_with(request, after=cursor, before=None)
    return replace(page, newer_url=link, extra={"scanned": ui_sessions.SEARCH_SCAN})


def _session(row: Any, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **dict(row),
        "messages": summary["messages"],
        "title": transcript.preview(summary["first_parts"]),
    }


def _hit(row: Any, words: list[str]) -> dict[str, Any]:
    return {
        **dict(row),
        "url": message_url(row["session_id"], row["position"], row["id"]),
        "preview": transcript.preview(loads(row["parts"], []), limit=300, near=words),
    }


def _position(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a message position (got {value!r})") from exc
    if number < 0:
        raise InvalidInput(f"{name} must be 0 or more")
    return number


def show(request: Request) -> Response:
    settings = settings_of(request)
    session_id = request.path_params["id"]
    start, upto = _position(request, "from"), _position(request, "upto")
    if start is not None and upto is not None:
        raise InvalidInput("give ?from= or ?upto=, not both")
    with read_snapshot(settings) as conn:
        session = ui_sessions.session_by_id(conn, session_id)
        if session is None:
            raise NotFound(f"no session {session_id!r}: the Sessions page lists them")
        seq = session["seq"]
        rows = [
            _parsed(r)
            for r in ui_sessions.transcript_rows(
                conn, seq, start=start, before=upto, limit=TRANSCRIPT_SIZE + 1
            )
        ]
        more = False
        if upto is None and len(rows) > TRANSCRIPT_SIZE:
            more, rows = True, rows[:TRANSCRIPT_SIZE]
        elif upto is not None:
            rows = rows[-TRANSCRIPT_SIZE:]
            more = True  # there is at least the message at `upto`
        following: list[dict[str, Any]] = []
        if rows and more:
            following = [
                _parsed(r)
                for r in ui_sessions.transcript_rows(
                    conn, seq, start=rows[-1]["position"] + 1, limit=LOOKAHEAD
                )
            ]
        earlier = bool(rows) and ui_sessions.has_before(conn, seq, rows[0]["position"])
        shown = transcript.build(rows, following)
        links = ui_sessions.tasks_of_messages(conn, [m.id for m in shown])
        for m in shown:
            m.tasks = links.get(m.id, [])
        since = rows[0]["created_at"] if earlier and rows else None
        until = following[0]["created_at"] if following else None
        events = ui_sessions.events_between(conn, session_id, since, until)
        leading = _place_events(shown, events)
        parent = (
            ui_sessions.session_by_id(conn, session["parent_id"]) if session["parent_id"] else None
        )
        children = ui_sessions.child_sessions(conn, session_id)
        tasks = ui_sessions.session_task_rows(conn, session_id)
    base = f"/sessions/{quote(session_id, safe='')}"
    return render(
        request,
        "sessions/show.html",
        title=f"Session {session_id}",
        session=session,
        messages=shown,
        leading_events=leading,
        parent=parent,
        children=children,
        tasks=tasks,
        base=base,
        first_url=base if earlier else None,
        earlier_url=f"{base}?upto={rows[0]['position']}" if earlier else None,
        later_url=f"{base}?from={rows[-1]['position'] + 1}" if rows and more else None,
    )


def _parsed(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["parts"] = loads(row["parts"], [])
    out["meta"] = loads(row["meta"], {})
    return out


def _place_events(shown: list[transcript.Shown], events: list[dict[str, Any]]) -> list[Any]:
    """Put each event after the last message stored before it; return those before all."""
    leading: list[Any] = []
    for event in events:
        event["json"] = json.dumps(event["data"], ensure_ascii=False)  # shown escaped
        holder = None
        for m in shown:
            if m.created_at <= event["created_at"]:
                holder = m
            else:
                break
        (holder.events if holder is not None else leading).append(event)
    return leading


def media(request: Request) -> Response:
    """The n-th image or file of a message: an allowed raster image inline with its own type,
    anything else (SVG, HTML, unknown) as a download; nosniff comes from the guard."""
    settings = settings_of(request)
    session_id = request.path_params["id"]
    message_id, n = request.path_params["message"], request.path_params["n"]
    with read_snapshot(settings) as conn:
        parts = ui_sessions.message_parts(conn, session_id, message_id)
    if parts is None:
        raise NotFound(f"no message {message_id} in session {session_id!r}")
    found = transcript.media_sources(parts)
    if n >= len(found):
        raise NotFound(f"message {message_id} has {len(found)} media parts, not {n + 1}")
    part = found[n]
    source = part["source"]
    media_type = str(source.get("media_type") or "application/octet-stream").lower()
    body = _media_bytes(settings, source)
    headers = {}
    if part.get("type") == "image" and media_type in transcript.INLINE_IMAGES:
        shown_type = media_type
    else:
        shown_type = "application/octet-stream"
        name = str(part.get("filename") or f"message-{message_id}-{n}")
        headers["content-disposition"] = "attachment; filename*=UTF-8''" + quote(name, safe="")
    return Response(body, media_type=shown_type, headers=headers)


def _media_bytes(settings: Any, source: dict[str, Any]) -> bytes:
    from acontext_mcp.store.blobs import read_blob

    kind = source.get("kind")
    if kind == "blob":
        digest = str(source.get("blob") or "")
        if not _SHA256.match(digest):
            raise NotFound("this media part points at no stored blob")
        return read_blob(settings, digest)
    if kind == "base64":
        try:
            return base64.b64decode(str(source.get("data") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NotFound("this media part's stored data is not valid base64") from exc
    raise NotFound("this media part is a link; the dashboard does not fetch it")


def message(request: Request) -> Response:
    """/messages/{id}: into the transcript page that holds it."""
    message_id = request.path_params["id"]
    with read_snapshot(settings_of(request)) as conn:
        place = ui_sessions.message_place(conn, message_id)
    if place is None:
        raise NotFound(f"no message {message_id}: it may have been forgotten")
    return RedirectResponse(
        message_url(place["session_id"], place["position"], message_id), status_code=303
    )


routes: list[BaseRoute] = [
    Route("/sessions", index, name="sessions"),
    Route("/sessions/{id}", show, name="session"),
    Route("/sessions/{id}/media/{message:int}/{n:int}", media, name="session_media"),
    Route("/messages/{id:int}", message, name="message"),
]
