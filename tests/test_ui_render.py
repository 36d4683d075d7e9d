"""Stored content rendered by the dashboard: escaped templates, Markdown without raw HTML or
script links, and keyset paging links."""

from __future__ import annotations

import sqlite3

import pytest
from starlette.requests import Request

from acontext_mcp.errors import InvalidInput
from acontext_mcp.ui.paging import Keyset
from acontext_mcp.ui.render import environment, markdown, safe_link


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "<a href='javascript:alert(1)'>x</a>",
        "[x]: javascript:alert(1)\n\n[y][x]",
        "<javascript:alert(1)>",
    ],
)
def test_markdown_never_emits_script(text: str) -> None:
    html = str(markdown(text)).lower()
    assert "<script" not in html and '<img src="x"' not in html
    assert 'href="javascript' not in html and 'src="javascript' not in html
    assert 'href="data:' not in html and 'href="vbscript' not in html
    assert 'onerror="' not in html


def test_markdown_keeps_what_skills_use() -> None:
    html = str(
        markdown(
            "# Deploy\n\n- `make release`\n- [docs](https://example.com/a)\n"
            "- [local](../other/SKILL.md)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        )
    )
    assert "<h1>Deploy</h1>" in html and "<code>make release</code>" in html
    assert 'href="https://example.com/a"' in html and 'href="../other/SKILL.md"' in html
    assert "<table>" in html


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://x.test", True),
        ("http://x.test", True),
        ("mailto:a@b.c", True),
        ("/skills/x", True),
        ("../a.md", True),
        ("#top", True),
        ("?q=1", True),
        ("javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("file:///etc", False),
        ("java\nscript:x", False),
        ("\\\\evil/x", False),
    ],
)
def test_safe_link(url: str, ok: bool) -> None:
    assert safe_link(url) is ok


def test_templates_escape_by_default() -> None:
    out = environment().from_string("{{ v }}").render(v='<script>x</script>"')
    assert out == "&lt;script&gt;x&lt;/script&gt;&#34;"


def _request(query: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/sessions",
            "query_string": query.encode(),
            "headers": [],
        }
    )


def test_keyset_pages_link_both_ways_and_keep_filters() -> None:
    rows = list(range(100, 0, -1))  # newest first
    first = Keyset.from_request(_request("agent=claude-code&size=10"), "sessions")
    page = first.page(_request("agent=claude-code&size=10"), rows[: first.fetch], lambda r: (r,))
    assert page.items == list(range(100, 90, -1))
    assert page.newer_url is None and page.newest_url is None and page.older_url
    assert "agent=claude-code" in page.older_url and "size=10" in page.older_url
    query = page.older_url.split("?", 1)[1]
    older = Keyset.from_request(_request(query), "sessions")
    assert older.before == (91,) and older.after is None
    below = [r for r in rows if r < 91][: older.fetch]
    page2 = older.page(_request(query), below, lambda r: (r,))
    assert page2.items == list(range(90, 80, -1))
    assert page2.newer_url and page2.older_url
    back = Keyset.from_request(_request(page2.newer_url.split("?", 1)[1]), "sessions")
    assert back.after == (90,)
    above = sorted(r for r in rows if r > 90)[: back.fetch]  # ascending, per the contract
    page3 = back.page(_request(page2.newer_url.split("?", 1)[1]), above, lambda r: (r,))
    assert page3.items == list(range(100, 90, -1))
    assert page3.newer_url is None  # back at the top


def test_bad_paging_input_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        Keyset.from_request(_request("before=garbage!"), "sessions")
    with pytest.raises(InvalidInput, match="size"):
        Keyset.from_request(_request("size=0"), "sessions")
    other = Keyset.from_request(_request(), "tasks").cursor((1,))
    with pytest.raises(InvalidInput, match="another list"):
        Keyset.from_request(_request(f"before={other}"), "sessions")


def test_keyset_pages_over_a_real_table_see_every_row_once_despite_ties(
    db: sqlite3.Connection,
) -> None:
    """Sessions with equal updated_at: pages by (updated_at, id) neither skip nor repeat one,
    forwards (older) and back (newer)."""
    from acontext_mcp.store.db import atomic
    from acontext_mcp.store.ui_queries import keyset_clause

    with atomic(db):
        for i in range(23):
            db.execute(
                "INSERT INTO sessions (id, created_at, updated_at) VALUES (?, 0, ?)",
                (f"s{i:02d}", float(i // 4)),  # four sessions per timestamp
            )

    def fetch(keys: Keyset) -> list[sqlite3.Row]:
        where, params, order = keyset_clause(("updated_at", "id"), keys.before, keys.after)
        return db.execute(
            f"SELECT id, updated_at FROM sessions WHERE {where} ORDER BY {order} LIMIT ?",
            [*params, keys.fetch],
        ).fetchall()

    def key(row: sqlite3.Row) -> tuple[float, str]:
        return (row["updated_at"], row["id"])

    query, seen, pages = "size=5", [], []
    while True:
        keys = Keyset.from_request(_request(query), "sessions")
        page = keys.page(_request(query), fetch(keys), key)
        seen += [r["id"] for r in page.items]
        pages.append(query)
        if not page.older_url:
            break
        query = page.older_url.split("?", 1)[1]
    expected = [f"s{i:02d}" for i in sorted(range(23), key=lambda i: (i // 4, f"s{i:02d}"))]
    assert seen == expected[::-1] and len(pages) == 5
    # and back up from the last page with the newer links
    back: list[str] = []
    while page.newer_url:
        query = page.newer_url.split("?", 1)[1]
        keys = Keyset.from_request(_request(query), "sessions")
        page = keys.page(_request(query), fetch(keys), key)
        back = [r["id"] for r in page.items] + back
    assert back == expected[::-1][:20]
