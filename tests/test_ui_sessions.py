"""The Sessions page over real HTTP on a seeded store: filters, keyset pages, search, and the
transcript (paired tool calls, collapsed thinking, media, redaction markers, events, subagent
links), with hostile stored text shown as text."""

from __future__ import annotations

import base64
import datetime as dt
import re
import sqlite3
import time
from typing import Any

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store.db import atomic
from acontext_mcp.store.forget import forget
from acontext_mcp.store.turns import store_turn
from acontext_mcp.store.ui_sessions import index_pending, search_backlog
from tests.support.ui_client import UiClient, UiServer, serve_ui
from tests.support.ui_seed import HOSTILE, PNG, PROJECT, Seeded, seed

HREF = re.compile(r'href="([^"]+)"')


def _ok(client: UiClient, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:500])
    return str(answer.text)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _session_links(html: str) -> list[str]:
    return re.findall(r'<a href="/sessions/([^"?#]+)">', html.split("<tbody>", 1)[-1])


def _turns(conn: sqlite3.Connection, settings: Settings, n: int, **kw: Any) -> str:
    """A session of n user/assistant pairs (positions 0 .. 2n-1)."""
    sid = None
    for i in range(n):
        sid = store_turn(
            conn,
            settings,
            [
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": f"answer {i}"},
            ],
            session_id=sid,
            **kw,
        )["session_id"]
    assert sid
    return sid


# --- the list -----------------------------------------------------------------------------


def test_lists_sessions_newest_first_with_title_agent_and_subagent_mark(
    client: UiClient, seeded: Seeded
) -> None:
    html = _ok(client, "/sessions")
    ids = _session_links(html)
    assert set(ids) == {seeded.session, seeded.subagent, seeded.older}
    assert ids[-1] == seeded.older  # two days old: last
    assert "Fix the failing login test, then run the suite." in html  # the first prompt
    assert "subagent</span>" in html
    assert 'value="/work/other"' in html  # the project suggestions
    assert 'value="openclaw"' in html


def test_filters_by_project_agent_and_dates(client: UiClient, seeded: Seeded) -> None:
    assert _session_links(_ok(client, "/sessions?project=/work/other")) == [seeded.older]
    assert _session_links(_ok(client, "/sessions?agent=openclaw")) == [seeded.older]
    by_agent = _session_links(_ok(client, f"/sessions?agent=claude-code&project={PROJECT}"))
    assert set(by_agent) == {seeded.session, seeded.subagent}
    today = dt.date.today().isoformat()
    two_days = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    assert seeded.older not in _session_links(_ok(client, f"/sessions?since={today}"))
    assert _session_links(_ok(client, f"/sessions?since={two_days}&until={two_days}")) == [
        seeded.older
    ]
    html = _ok(client, "/sessions?project=/nowhere")
    assert "No sessions match these filters" in html


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("since=yesterday", "since must be a date like"),
        ("since=2026-12-05&until=2026-12-01", "since must be on or before until"),
        ("size=0", "size must be at least 1"),
        ("before=notacursor", "cursor"),
    ],
)
def test_bad_filters_are_a_400_that_says_what_to_do(
    client: UiClient, query: str, says: str
) -> None:
    answer = client.get(f"/sessions?{query}")
    assert answer.status_code == 400
    assert says in answer.text


def test_keyset_pages_walk_every_session_once_both_ways_even_on_equal_times(
    settings: Settings, conn: sqlite3.Connection, client: UiClient, seeded: Seeded
) -> None:
    extra = [_turns(conn, settings, 1, agent="mcp") for _ in range(7)]
    with atomic(conn):  # ties on updated_at: the rowid breaks them
        conn.execute(
            f"UPDATE sessions SET updated_at = 1e9 + 5 WHERE id IN ({','.join('?' * 5)})",
            extra[:5],
        )
    url: str | None = "/sessions?size=3&agent=mcp"
    pages, seen = [], []
    while url:
        html = _ok(client, url)
        pages.append((url, _session_links(html)))
        seen += pages[-1][1]
        url = _link(html, "next")
    assert sorted(seen) == sorted(extra) and len(seen) == len(set(seen)) == 7
    assert [len(p) for _, p in pages] == [3, 3, 1]
    assert "size=3" in pages[1][0] and "agent=mcp" in pages[1][0]  # filters stay in the URL
    back = _link(_ok(client, pages[2][0]), "prev")
    assert back and _session_links(_ok(client, back)) == pages[1][1]
    assert _ok(client, pages[1][0]).count('rel="first"') == 1  # a way back to the newest


# --- the transcript -----------------------------------------------------------------------


def test_transcript_pairs_each_tool_call_with_its_result_and_collapses_thinking(
    client: UiClient, seeded: Seeded
) -> None:
    html = _ok(client, f"/sessions/{seeded.session}")
    call = re.search(r'<details class="tool" id="call-toolu_01">(.*?)</details>', html, re.S)
    assert call, html
    assert "Bash: pytest -q tests/test_login.py" in call.group(1)  # the summary line
    assert "1 failed: test_login_redirect" in call.group(1)  # its result, inside it
    second = re.search(r'id="call-toolu_02">(.*?)</details>', html, re.S)
    assert second and "42 passed" in second.group(1)
    # the user messages holding only those results keep their anchors, folded
    results_msg = seeded.message_ids[2]
    assert f'<div class="msg folded" id="m{results_msg}">' in html
    assert html.count("1 failed: test_login_redirect") == 1
    thinking = re.search(r'<details class="thinking">(.*?)</details>', html, re.S)
    assert thinking and "The test probably needs the fixture." in thinking.group(1)
    assert '<details class="thinking" open' not in html
    for mid in seeded.message_ids:
        assert f'id="m{mid}"' in html


def test_redaction_markers_stand_apart_and_the_secret_is_absent(
    client: UiClient, seeded: Seeded
) -> None:
    html = _ok(client, f"/sessions/{seeded.session}")
    assert re.search(r'<mark class="redacted"[^>]*>\[REDACTED:[a-z_]+\]</mark>', html)
    assert "sk-ant-api03-" not in html


def test_redaction_markers_in_tool_arguments_and_results_stand_apart_too(
    settings: Settings, conn: sqlite3.Connection, client: UiClient
) -> None:
    sid = store_turn(
        conn,
        settings,
        [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_r",
                        "name": "Bash",
                        "input": {"command": "curl -H 'x: [REDACTED:api_key]' host"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_r", "content": "ok [private]"}
                ],
            },
        ],
        fmt="anthropic",
    )["session_id"]
    html = _ok(client, f"/sessions/{sid}")
    call = re.search(r'id="call-toolu_r">(.*?)</details>', html, re.S)
    assert call
    assert (
        '<mark class="redacted" title="removed before it was stored">[REDACTED:api_key]</mark>'
        in (call.group(1))
    )
    assert '<mark class="redacted" title="removed before it was stored">[private]</mark>' in (
        call.group(1)
    )


def test_events_appear_in_order_after_the_messages_they_follow(
    client: UiClient, seeded: Seeded
) -> None:
    html = _ok(client, f"/sessions/{seeded.session}")
    redaction, compaction = html.find("event-redaction"), html.find("event-compaction")
    last = html.find(f'id="m{seeded.message_ids[-1]}"')
    assert 0 < last < redaction < compaction
    assert "&#34;trigger&#34;: &#34;auto&#34;" in html or '"trigger": "auto"' in html


def test_subagent_and_parent_link_each_other(client: UiClient, seeded: Seeded) -> None:
    parent = _ok(client, f"/sessions/{seeded.session}")
    assert f'href="/sessions/{seeded.subagent}"' in parent.split("Subagent sessions", 1)[1]
    child = _ok(client, f"/sessions/{seeded.subagent}")
    assert f'<a href="/sessions/{seeded.session}" rel="up">' in child
    assert "Subagent of" in child


def test_transcript_links_to_the_tasks_of_each_message(client: UiClient, seeded: Seeded) -> None:
    html = _ok(client, f"/sessions/{seeded.session}")
    first = html.split(f'id="m{seeded.message_ids[0]}"', 1)[1].split("</header>", 1)[0]
    for task_id in seeded.task_ids:
        assert f'href="/tasks/{task_id}"' in first


def test_unknown_session_is_a_404(client: UiClient) -> None:
    answer = client.get("/sessions/no-such-session")
    assert answer.status_code == 404
    assert "Sessions page lists them" in answer.text


def test_long_transcripts_page_by_position_and_pair_calls_across_the_page_edge(
    settings: Settings, conn: sqlite3.Connection, client: UiClient
) -> None:
    sid = _turns(conn, settings, 24)  # positions 0..47
    store_turn(  # 48: a question, 49: a tool call, 50: its result (on the next page)
        conn,
        settings,
        [
            {"role": "user", "content": "run it"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_edge", "name": "Bash", "input": {}}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_edge", "content": "edge ok"}
                ],
            },
        ],
        fmt="anthropic",
        session_id=sid,
    )
    _turns_into(conn, settings, sid, 20)  # 51..90
    first = _ok(client, f"/sessions/{sid}")
    positions = [int(p) for p in re.findall(r'<a href="#m\d+">#(\d+)</a>', first)]
    assert positions == list(range(50))
    edge = re.search(r'id="call-toolu_edge">(.*?)</details>', first, re.S)
    assert edge and "edge ok" in edge.group(1)  # its result read from the next page
    later = _link(first, "next")
    assert later == f"/sessions/{sid}?from=50"
    second = _ok(client, later)
    edge_result = re.search(r'<details class="tool result-only">(.*?)</details>', second, re.S)
    assert edge_result and "edge ok" in edge_result.group(1)  # its call is on the page before
    assert re.findall(r'<a href="#m\d+">#(\d+)</a>', second)[0] == "50"
    earlier = _link(second, "prev")
    assert earlier == f"/sessions/{sid}?upto=50"
    assert re.findall(r'<a href="#m\d+">#(\d+)</a>', _ok(client, earlier))[-1] == "49"
    # a message link lands on the page that holds it, scrolled to it
    mid = conn.execute(
        "SELECT id FROM messages WHERE position = 75 AND "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?)",
        (sid,),
    ).fetchone()[0]
    hop = client.get(f"/messages/{mid}")
    assert hop.status_code == 303
    assert hop.headers["location"] == f"/sessions/{sid}?from=50#m{mid}"
    assert f'id="m{mid}"' in _ok(client, hop.headers["location"].split("#")[0])
    assert client.get("/messages/999999").status_code == 404
    assert client.get(f"/sessions/{sid}?from=x").status_code == 400


def _turns_into(conn: sqlite3.Connection, settings: Settings, sid: str, n: int) -> None:
    for i in range(n):
        store_turn(
            conn,
            settings,
            [
                {"role": "user", "content": f"more {i}"},
                {"role": "assistant", "content": f"reply {i}"},
            ],
            session_id=sid,
        )


# --- media --------------------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=9"><script>1</script></svg>'


def _image(media_type: str, data: bytes) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode(),
        },
    }


def test_images_are_served_with_their_type_and_svg_only_as_a_download(
    settings: Settings, conn: sqlite3.Connection, ui: UiServer, client: UiClient
) -> None:
    big_png = PNG + b"\0" * (settings.blob_threshold + 10)  # stored as a blob file
    content = [
        {"type": "text", "text": "look"},
        _image("image/png", PNG),  # small: inline base64 in the row
        _image("image/png", big_png),
        _image("image/svg+xml", SVG),
    ]
    out = store_turn(conn, settings, [{"role": "user", "content": content}], fmt="anthropic")
    sid, mid = out["session_id"], out["message_ids"][0]
    stored = conn.execute("SELECT parts FROM messages WHERE id = ?", (mid,)).fetchone()[0]
    assert '"kind":"blob"' in stored.replace(" ", "")  # the big one went out to a blob
    html = _ok(client, f"/sessions/{sid}")
    base = f"/sessions/{sid}/media/{mid}"
    assert f'<img src="{base}/0"' in html and f'<img src="{base}/1"' in html
    assert f'<img src="{base}/2"' not in html  # SVG: never an <img>, never inline
    assert f'<a href="{base}/2?download=1" download>' in html
    small, big, svg = (client.get(f"{base}/{n}") for n in range(3))
    assert small.headers["content-type"] == "image/png" and small.content == PNG
    assert big.headers["content-type"] == "image/png" and big.content == big_png
    assert svg.headers["content-type"] == "application/octet-stream"
    assert svg.headers["content-disposition"].startswith("attachment")
    assert svg.content == SVG
    for answer in (small, big, svg):
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{base}/3").status_code == 404
    other = _turns(conn, settings, 1)
    assert client.get(f"/sessions/{other}/media/{mid}/0").status_code == 404  # not its message
    assert ui.anonymous().get(f"{base}/0").status_code == 403


# --- search -------------------------------------------------------------------------------


def _hits(html: str) -> list[str]:
    return [
        h.replace("&amp;", "&") for h in re.findall(r'<li class="hit">\s*<a href="([^"]+)"', html)
    ]


def test_search_finds_message_text_and_links_into_the_transcript(
    client: UiClient, seeded: Seeded
) -> None:
    hits = _hits(_ok(client, "/sessions?q=pytest"))
    assert len(hits) == 2  # the two assistant messages calling pytest
    assert all(h.startswith(f"/sessions/{seeded.session}?from=0#m") for h in hits)
    assert _hits(_ok(client, "/sessions?q=test_login_redirect"))  # tool result text
    assert _hits(_ok(client, "/sessions?q=fixture"))  # thinking
    assert _hits(_ok(client, "/sessions?q=changelog")) == [
        f"/sessions/{seeded.older}?from=0#m{_older_first(client, seeded)}"
    ]
    assert _hits(_ok(client, "/sessions?q=changelog&agent=claude-code")) == []
    assert len(_hits(_ok(client, "/sessions?q=pass*"))) >= 1  # prefix: passed, pass
    assert "No message matches." in _ok(client, "/sessions?q=zebra")


def test_a_hit_shows_the_text_around_the_word_found(
    settings: Settings, conn: sqlite3.Connection, client: UiClient
) -> None:
    store_turn(conn, settings, [{"role": "user", "content": "filler " * 500 + "the narwhal"}])
    html = _ok(client, "/sessions?q=narwhal")
    assert len(_hits(html)) == 1
    assert "… filler" in html or "…filler" in html
    assert "the narwhal</a>" in html


def _older_first(client: UiClient, seeded: Seeded) -> int:
    html = _ok(client, f"/sessions/{seeded.older}")
    return int(re.findall(r'id="m(\d+)"', html)[0])


@pytest.mark.parametrize("query", ['"', "NEAR(a b", "a OR", "* AND -", "col:x", "^x"])
def test_search_syntax_in_the_box_is_plain_text(client: UiClient, query: str) -> None:
    answer = client.get("/sessions", params={"q": query})
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert "at least one word" in answer.text


def test_new_messages_are_found_and_forgotten_ones_leave_the_index(
    settings: Settings, conn: sqlite3.Connection, client: UiClient
) -> None:
    assert not _hits(_ok(client, "/sessions?q=aardvark"))
    sid = store_turn(conn, settings, [{"role": "user", "content": "the aardvark escaped"}])[
        "session_id"
    ]
    assert search_backlog(conn) == 1  # capture did not index it
    assert len(_hits(_ok(client, "/sessions?q=aardvark"))) == 1  # the search caught up
    assert search_backlog(conn) == 0
    # a message edited below the mark is indexed again by the trigger
    with atomic(conn):
        conn.execute(
            "UPDATE messages SET parts = ? WHERE session_seq = "
            "(SELECT seq FROM sessions WHERE id = ?)",
            ('[{"type": "text", "text": "the okapi escaped"}]', sid),
        )
    assert not _hits(_ok(client, "/sessions?q=aardvark"))
    assert len(_hits(_ok(client, "/sessions?q=okapi"))) == 1
    forget(conn, settings, [sid])
    assert not _hits(_ok(client, "/sessions?q=okapi"))
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM message_search WHERE message_search MATCH 'okapi'"
        ).fetchone()[0]
        == 0
    )  # gone from the index itself, not only hidden by the join
    conn.execute("INSERT INTO message_search (message_search) VALUES ('integrity-check')")


def test_a_message_stored_below_the_mark_is_indexed_at_once(
    settings: Settings, conn: sqlite3.Connection
) -> None:
    index_pending(conn, 1000)
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
    with atomic(conn):  # as if the newest row had been forgotten and its id given again
        conn.execute("UPDATE message_search_state SET indexed_to = ?", (top + 1,))
    store_turn(conn, settings, [{"role": "user", "content": "a quokka appeared"}])
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM message_search WHERE message_search MATCH 'quokka'"
        ).fetchone()[0]
        == 1
    )


def test_search_hits_page_by_message_id(
    settings: Settings, conn: sqlite3.Connection, client: UiClient
) -> None:
    for i in range(5):
        store_turn(conn, settings, [{"role": "user", "content": f"pelican number {i}"}])
    url: str | None = "/sessions?q=pelican&size=2"
    seen: list[str] = []
    while url:
        html = _ok(client, url)
        seen += _hits(html)
        url = _link(html, "next")
    assert len(seen) == 5 == len(set(seen))
    ids = [int(h.rsplit("#m", 1)[1]) for h in seen]
    assert ids == sorted(ids, reverse=True)  # newest first


def test_the_list_page_indexes_ahead_of_a_search(
    settings: Settings, conn: sqlite3.Connection, client: UiClient
) -> None:
    store_turn(conn, settings, [{"role": "user", "content": "a lemur"}])
    assert search_backlog(conn) > 0
    _ok(client, "/sessions")
    deadline = time.monotonic() + 20
    while search_backlog(conn) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert search_backlog(conn) == 0


def test_a_filtered_search_looks_through_a_window_of_hits_and_links_on(
    settings: Settings, conn: sqlite3.Connection, client: UiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("acontext_mcp.store.ui_sessions.SEARCH_SCAN", 3)
    for project in ("/work/a", "/work/b"):  # b's are newer: the window sees them first
        for i in range(4):
            store_turn(
                conn, settings, [{"role": "user", "content": f"ibis {i}"}], project_dir=project
            )
    first = _ok(client, "/sessions?q=ibis&project=/work/a&size=2")
    assert _hits(first) == [] and 'id="search-scanned"' in first
    url: str | None = _link(first, "next")
    found: list[str] = []
    while url:
        html = _ok(client, url)
        found += _hits(html)
        url = _link(html, "next")
    assert len(found) == 4 == len(set(found))  # every hit of /work/a, none twice
    assert len(_hits(_ok(client, "/sessions?q=ibis&size=50"))) == 8  # unfiltered: no window


def test_a_large_backlog_is_indexed_in_the_background(
    settings: Settings, conn: sqlite3.Connection, client: UiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from acontext_mcp.ui import search_index

    monkeypatch.setattr(search_index, "BATCH", 5)
    monkeypatch.setattr("acontext_mcp.ui.pages.sessions.SEARCH_BUDGET_S", 0.0)
    for i in range(30):
        store_turn(conn, settings, [{"role": "user", "content": f"heron {i}"}])
    html = _ok(client, "/sessions?q=heron")  # one batch now, the rest in a thread
    assert 'id="search-behind"' in html or len(_hits(html)) == 30
    deadline = time.monotonic() + 20
    while search_backlog(conn) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert search_backlog(conn) == 0
    assert len(_hits(_ok(client, "/sessions?q=heron&size=50"))) == 30


# --- hostile stored text ------------------------------------------------------------------


def test_hostile_payloads_in_messages_show_as_text(settings: Settings) -> None:
    hostile = seed(settings, hostile=True)
    with serve_ui(settings) as server:
        client = server.client()
        pages = [
            f"/sessions/{hostile.session}",
            "/sessions",
            "/sessions?q=window",
            "/sessions?" + "q=" + "%3Cscript%3E",
        ]
        for url in pages:
            answer = client.get(url)
            assert answer.status_code in (200, 400), url
            html = answer.text
            assert "<script>window.__xss" not in html, url
            assert 'onerror="window' not in html and 'onload="window' not in html, url
            assert "<svg" not in html and "<img src=x" not in html, url
            for href in HREF.findall(html):
                assert not href.strip().lower().startswith(("javascript:", "data:")), href
        transcript = client.get(pages[0]).text
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in transcript
        assert "[click](javascript:window.__xss=3)" in transcript  # as typed, not a link
        assert HOSTILE[0] not in transcript
