"""The Overview and Disks pages over real HTTP on a seeded data home: the figures they show
come from the store, stored text stays text, binary files are never rendered."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import quote

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.disk.files import write_file
from acontext_mcp.store.db import open_db
from acontext_mcp.ui.activity import MessageDays
from tests.support.ui_client import UiServer, serve_ui
from tests.support.ui_seed import Seeded, seed


@pytest.fixture
def seeded(settings: Settings) -> Seeded:
    return seed(settings, hostile=True)


def _main(html: str) -> str:
    return html[html.index("<main") :]


# --- Overview ---


def test_overview_shows_the_seeded_figures(ui: UiServer, seeded: Seeded) -> None:
    html = ui.client().get("/").text
    # the seed settles one verified success and one verified failure in the last 30 days
    assert re.search(
        r'id="verified-rate"><span class="num">50%</span>\s*verified success '
        r"\(1 of 2, last 30 days\)",
        html,
    )
    assert "Unverified: 1 of 1 marked done (100%)" in html
    assert html.count("<svg") == 6  # rate, sessions, messages, tasks, learnings, tokens
    # the main session, its subagent and the older session are listed and linked
    assert f'href="/sessions/{seeded.session}"' in html
    assert f'href="/sessions/{seeded.subagent}"' in html and "subagent" in html
    # 5,000 tokens of LLM calls today, against the default budget line
    assert "LLM tokens per day" in html and "daily budget" in html


def test_overview_counts_per_day(ui: UiServer, settings: Settings) -> None:
    html = ui.client().get("/?days=7").text
    # 6 + 2 messages today, 2 two days ago (the older session); 3 sessions in all
    assert 'Messages per day <span class="muted">(10)' in html
    assert 'Sessions per day <span class="muted">(3)' in html
    assert 'Learnings per day <span class="muted">(3)' in html
    titles = re.findall(r"<title>([^<]+)</title>", html)
    assert any(t.endswith(": messages 8") for t in titles)
    assert any(t.endswith(": messages 2") for t in titles)


def test_overview_periods_and_bad_input(ui: UiServer) -> None:
    client = ui.client()
    for days in (7, 30, 90, 365):
        assert client.get(f"/?days={days}").status_code == 200
    weekly = client.get("/?days=90").text
    assert "Task success rate per week" in weekly
    bad = client.get("/?days=12")
    assert bad.status_code == 400 and "days must be one of 7, 30, 90, 365" in bad.text


def test_overview_of_an_empty_home(settings: Settings) -> None:
    with serve_ui(settings) as ui:
        html = ui.client().get("/").text
    assert "Nothing captured yet" in html and "–" in html  # no rate without outcomes


def test_message_days_counts_once_then_only_new_rows_and_recounts_after_removal(
    settings: Settings, seeded: Seeded
) -> None:
    days = MessageDays()
    first = days.counts(settings)
    assert sum(first.values()) == 10
    conn = open_db(settings)
    try:
        from acontext_mcp.store.turns import store_turn

        store_turn(conn, settings, [{"role": "user", "content": "one more"}])
        assert sum(days.counts(settings).values()) == 11
        from acontext_mcp.store.forget import forget

        forget(conn, settings, [seeded.older])
    finally:
        conn.close()
    after = days.counts(settings)
    assert sum(after.values()) == 9  # the older session's 2 messages are gone


def test_the_overview_warms_in_the_background(settings: Settings, seeded: Seeded) -> None:
    days = MessageDays()
    days.warm(settings).join(timeout=30)
    assert days.seen_total == 10


# --- Disks ---


def test_disks_lists_the_disks_and_browses_folders(ui: UiServer) -> None:
    client = ui.client()
    assert 'href="/disks/default/"' in client.get("/disks").text
    root = client.get("/disks/default/").text
    assert 'href="/disks/default/notes/"' in root and 'href="/disks/default/img/"' in root
    notes = _main(client.get("/disks/default/notes/").text)
    assert 'href="/disks/default/notes/plan.md"' in notes
    # a hostile file name is text, and its link is percent-encoded
    assert "&lt;img src=x onerror=&#34;window.__xss=5&#34;&gt;.md" in notes
    assert "<img" not in notes


def test_a_text_file_is_shown_escaped_and_markdown_rendered_safely(ui: UiServer) -> None:
    client = ui.client()
    name = quote('<img src=x onerror="window.__xss=5">.md')
    rendered = _main(client.get(f"/disks/default/notes/{name}").text)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in rendered
    assert "<script" not in rendered and "<img" not in rendered
    source = _main(client.get(f"/disks/default/notes/{name}?view=source").text)
    assert '<pre class="file">&lt;script&gt;' in source
    plan = client.get("/disks/default/notes/plan.md").text
    assert "<h1>Plan</h1>" in plan and "<li>fix login</li>" in plan


def test_a_binary_file_is_described_not_rendered(ui: UiServer) -> None:
    client = ui.client()
    page = _main(client.get("/disks/default/img/pixel.png").text)
    assert "Binary file (66 B, image/png): not shown." in page
    assert "<img" not in page
    download = client.get("/disks/default/img/pixel.png?download=1")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''pixel.png"
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.content.startswith(b"\x89PNG")


def test_disk_paths_stay_inside_the_disk(ui: UiServer) -> None:
    client = ui.client()
    answer = client.get("/disks/default/%2e%2e/%2e%2e/etc/passwd")
    assert answer.status_code == 400 and "root:" not in answer.text
    assert client.get("/disks/no-such-disk/").status_code == 404
    assert client.get("/disks/default/notes/missing.md").status_code == 404


def test_a_big_folder_pages_by_name(settings: Settings, ui: UiServer) -> None:
    conn: sqlite3.Connection = open_db(settings)
    try:
        for i in range(230):
            write_file(conn, settings, "default", f"/many/f{i:03d}.txt", "x")
    finally:
        conn.close()
    client = ui.client()
    first = client.get("/disks/default/many/").text
    assert "230 entries" in first and "f000.txt" in first and "f199.txt" in first
    assert "f200.txt" not in first
    following = re.search(r'href="([^"]+)" rel="next"', first)
    assert following
    second = client.get(following.group(1).replace("&amp;", "&")).text
    assert "f200.txt" in second and "f229.txt" in second and "f199.txt" not in second
    assert 'rel="next"' not in second and 'rel="first"' in second


def test_the_success_rate_rolls_over_seven_days_and_splits_verified_from_unverified(
    settings: Settings,
) -> None:
    """Verified outcomes 2 days ago (success) and 9 days ago (failure); unverified 1 day ago
    (marked done): today's rate counts only the last 7 days."""
    import time

    from acontext_mcp.store import tasks
    from acontext_mcp.store.db import atomic
    from acontext_mcp.store.sessions import ensure_session
    from acontext_mcp.ui.activity import overview

    conn = open_db(settings)
    try:
        sid, _ = ensure_session(conn, agent="claude-code")
        for back, outcome, status in (
            (2, "verified_success", "success"),
            (9, "verified_failure", "failed"),
            (1, "unverified", "success"),
        ):
            task = tasks.insert_task(conn, sid, f"task {back}", status=status)
            with atomic(conn):
                tasks.set_outcome(conn, task["id"], outcome)
                conn.execute(
                    "UPDATE tasks SET updated_at = ? WHERE id = ?",
                    (time.time() - back * 86400, task["id"]),
                )
    finally:
        conn.close()
    data = overview(settings, MessageDays(), 30)
    verified, unverified = data["rates"]["verified"], data["rates"]["unverified"]
    assert len(verified) == 30 == len(data["labels"])
    assert verified[-1] == 100.0  # the failure 9 days ago has rolled out
    assert verified[-8] == 0.0  # 7 days ago: only the failure, two days before, counts
    assert verified[-10] == 0.0 and verified[-11] is None  # before the failure: no outcome
    assert unverified[-1] == 100.0 and unverified[-3] is None
    assert data["rate_totals"]["verified"] == {"won": 1, "total": 2, "rate": 50.0}
    assert sum(data["tasks"]["verified_failure"]) == 1


def test_pages_answer_while_a_writer_holds_the_lock(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    """WAL: the dashboard reads the last committed state while hooks or the worker write."""
    import time

    writer = open_db(settings)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE message_totals SET messages = messages + 1000 WHERE id = 1")
        started = time.monotonic()
        html = ui.client().get("/").text
        assert time.monotonic() - started < 5  # not waiting for the busy timeout
        assert '<span class="num">10</span> messages' in html  # the uncommitted 1,010 unseen
    finally:
        writer.execute("ROLLBACK")
        writer.close()
