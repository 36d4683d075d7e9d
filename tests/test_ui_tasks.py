"""The Tasks page over real HTTP on a seeded store: statuses and outcomes with filters and
keyset pages, and one task's evidence, progress, preferences, source messages (anchored into
the transcript) and learnings (linked to their commit or proposal)."""

from __future__ import annotations

import re

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store.db import atomic, open_db
from tests.support.ui_client import UiClient, serve_ui
from tests.support.ui_seed import HOSTILE, Seeded, seed


def _ok(client: UiClient, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:500])
    return str(answer.text)


def _tasks(html: str) -> list[int]:
    return [int(t) for t in re.findall(r'<td><a href="/tasks/(\d+)">', html)]


def test_lists_tasks_with_status_and_outcome(client: UiClient, seeded: Seeded) -> None:
    html = _ok(client, "/tasks")
    assert sorted(_tasks(html)) == sorted(seeded.task_ids)
    row = html.split(f'href="/tasks/{seeded.task_ids[1]}"', 1)[1].split("</tr>", 1)[0]
    assert "Make the build reproducible" in row
    assert '<span class="badge status-failed">failed</span>' in row
    assert "verified failure" in row
    assert f'href="/sessions/{seeded.session}"' in row


@pytest.mark.parametrize(
    ("query", "index"),
    [("status=failed", 1), ("outcome=verified_success", 0), ("outcome=unverified", 2)],
)
def test_filters_by_status_and_outcome(
    client: UiClient, seeded: Seeded, query: str, index: int
) -> None:
    assert _tasks(_ok(client, f"/tasks?{query}")) == [seeded.task_ids[index]]


def test_no_match_and_bad_filters(client: UiClient) -> None:
    assert "No tasks match these filters" in _ok(client, "/tasks?outcome=abandoned")
    for query, says in (("status=done", "status must be one of"), ("outcome=ok", "outcome")):
        answer = client.get(f"/tasks?{query}")
        assert answer.status_code == 400 and says in answer.text


def test_keyset_pages_walk_every_task(client: UiClient, seeded: Seeded) -> None:
    url: str | None = "/tasks?size=1"
    seen: list[int] = []
    while url:
        html = _ok(client, url)
        seen += _tasks(html)
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(seeded.task_ids) and len(seen) == 3


def test_task_shows_evidence_progress_preferences_and_its_messages(
    client: UiClient, seeded: Seeded
) -> None:
    html = _ok(client, f"/tasks/{seeded.task_ids[0]}")
    assert "Fix the failing login test" in html
    assert "verified success" in html
    evidence = html.split("<h2>Evidence</h2>", 1)[1].split("<h2>", 1)[0]
    assert "pytest -q" in evidence and "42 passed" in evidence and ">pass<" in evidence
    evidence_msg = seeded.message_ids[-2]
    assert f'href="/sessions/{seeded.session}?from=0#m{evidence_msg}"' in evidence
    assert "<li>ran the suite</li>" in html.split("<h2>Progress</h2>", 1)[1]
    assert "<li>use pytest -q</li>" in html.split("<h2>Preferences</h2>", 1)[1]
    messages = html.split("<h2>Messages</h2>", 1)[1].split("<h2>", 1)[0]
    links = re.findall(r'<a href="(/sessions/[^"]+)">', messages)
    assert links == [f"/sessions/{seeded.session}?from=0#m{m}" for m in seeded.message_ids[:3]]
    # each link opens the transcript page holding that message
    for link in links:
        page, anchor = link.split("#")
        assert f'id="{anchor}"' in _ok(client, page)


def test_task_links_the_learnings_it_produced(client: UiClient, seeded: Seeded) -> None:
    learned = _ok(client, f"/tasks/{seeded.task_ids[0]}").split("<h2>Learnings</h2>", 1)[1]
    assert f'href="/skills/commits/{seeded.learned_commit}"' in learned
    # the skill it changed comes first (the commit's files name it): the page to go on to
    assert learned.index(f'href="/skills/s/{seeded.skill}"') < learned.index("/skills/commits/")
    assert "Run migrations before release." in learned
    proposed = _ok(client, f"/tasks/{seeded.task_ids[1]}").split("<h2>Learnings</h2>", 1)[1]
    assert f'href="/skills/proposals/{seeded.proposal}"' in proposed and "(pending)" in proposed
    failed = _ok(client, f"/tasks/{seeded.task_ids[2]}").split("<h2>Learnings</h2>", 1)[1]
    assert "the model timed out after 300 s" in failed
    assert "No evidence: nothing verified this task" in _ok(client, f"/tasks/{seeded.task_ids[2]}")


def test_a_distilled_lesson_names_its_skill(
    settings: Settings, client: UiClient, seeded: Seeded
) -> None:
    conn = open_db(settings)
    try:
        with atomic(conn):
            conn.execute(
                "UPDATE learnings SET lesson = ? WHERE task_id = ?",
                ('{"skill": "release <notes>", "text": "x"}', seeded.task_ids[1]),
            )
    finally:
        conn.close()
    learned = _ok(client, f"/tasks/{seeded.task_ids[1]}").split("<h2>Learnings</h2>", 1)[1]
    assert 'href="/skills/s/release%20%3Cnotes%3E">skill release &lt;notes&gt;</a>' in learned


def test_session_page_lists_its_tasks(client: UiClient, seeded: Seeded) -> None:
    html = _ok(client, f"/sessions/{seeded.session}")
    tasks = html.split("<h2>Tasks</h2>", 1)[1].split("</section>", 1)[0]
    assert [int(t) for t in re.findall(r'href="/tasks/(\d+)"', tasks)] == seeded.task_ids


def test_unknown_task_is_a_404(client: UiClient) -> None:
    answer = client.get("/tasks/999999")
    assert answer.status_code == 404 and "Tasks page lists them" in answer.text
    assert client.get("/tasks/abc").status_code == 404


def test_hostile_task_text_shows_as_text(settings: Settings) -> None:
    hostile = seed(settings, hostile=True)
    with serve_ui(settings) as server:
        client = server.client()
        for url in ("/tasks", f"/tasks/{hostile.task_ids[0]}"):
            html = _ok(client, url)
            assert HOSTILE[0] not in html and "<script>window" not in html
            assert 'onerror="window' not in html and "<svg" not in html
            assert 'href="javascript:' not in html.lower()
            assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
