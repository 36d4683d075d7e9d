"""The dashboard's Learning pages over real HTTP on a seeded data home: learning status per
session with failures and their reasons, Retry (queues the learning again; CSRF required),
keyset pages, and the usage ledger by day and purpose as `acontext-mcp usage` reports it."""

from __future__ import annotations

import html
import json
import time

from acontext_mcp.config import Settings
from acontext_mcp.store import learning, usage
from acontext_mcp.store.db import atomic, open_db
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.worker import jobs
from tests.support.ui_client import UiServer
from tests.support.ui_seed import Seeded


def _learn_jobs(settings: Settings) -> list[dict[str, object]]:
    conn = open_db(settings)
    try:
        rows = conn.execute(
            "SELECT kind, status, payload FROM jobs WHERE kind = 'learn_task' ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return [{"status": r["status"], **json.loads(r["payload"])} for r in rows]


def test_status_per_session_shows_failures_and_their_reasons(ui: UiServer, seeded: Seeded) -> None:
    page = ui.client().get("/learning")
    assert page.status_code == 200
    text = page.text
    assert f'href="/learning/sessions/{seeded.session}"' in text
    assert "the model timed out after 300 s" in text  # the failed learning's reason
    assert f'href="/skills/commits/{seeded.learned_commit}"' in text
    assert f'href="/skills/proposals/{seeded.proposal}"' in text
    assert f'href="/tasks/{seeded.task_ids[2]}"' in text
    assert f'action="/learning/sessions/{seeded.session}/retry"' in text
    assert "failed 1" in text and "learned 2" in text  # counts by status


def test_a_failed_distillation_job_shows_its_error(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    conn = open_db(settings)
    try:
        job_id = jobs.enqueue(
            conn,
            "learn_task",
            {"task_id": seeded.task_ids[0], "session_id": seeded.older},
            dedup_key="learn:older",
        )
        with atomic(conn):
            conn.execute(
                "UPDATE jobs SET status = 'failed', attempts = 3, error = ? WHERE id = ?",
                ("provider said 529 overloaded <b>x</b>", job_id),
            )
    finally:
        conn.close()
    client = ui.client()
    only_failed = client.get("/learning?failed=1")
    assert f'href="/learning/sessions/{seeded.older}"' in only_failed.text
    page = client.get(f"/learning/sessions/{seeded.older}")
    assert page.status_code == 200
    assert "provider said 529 overloaded &lt;b&gt;x&lt;/b&gt;" in page.text
    assert "after 3 attempts" in page.text
    assert 'value="' in page.text and "/retry" in page.text
    assert client.get("/learning/sessions/no-such-session").status_code == 404


def test_retry_queues_the_failed_task_again(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    failed_task = seeded.task_ids[2]
    assert not [j for j in _learn_jobs(settings) if j["task_id"] == failed_task]
    client = ui.client()
    done = client.post(f"/learning/sessions/{seeded.session}/retry", follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"/learning/sessions/{seeded.session}?retried=1&worker=not-started"
    )
    queued = [j for j in _learn_jobs(settings) if j["task_id"] == failed_task]
    assert queued == [{"status": "queued", "task_id": failed_task, "session_id": seeded.session}]
    conn = open_db(settings)
    try:
        assert learning.learning_for_task(conn, failed_task) is None  # the failure was reset
    finally:
        conn.close()
    page = client.get(done.headers["location"])
    assert "Queued 1 task to learn again" in page.text
    assert "ACONTEXT_WORKER=off" in page.text
    assert "1 task(s) waiting to be distilled" in page.text


def test_retry_needs_the_csrf_token(ui: UiServer, settings: Settings, seeded: Seeded) -> None:
    client = ui.client()
    client.csrf = None
    answer = client.post(f"/learning/sessions/{seeded.session}/retry")
    assert answer.status_code == 403
    assert ui.anonymous().post(f"/learning/sessions/{seeded.session}/retry").status_code == 403
    assert _learn_jobs(settings) == []


def test_learning_sessions_page_by_last_activity(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    conn = open_db(settings)
    try:
        with atomic(conn):
            for i in range(5):
                sid = f"sess-page-{i}"
                ensure_session(conn, sid)
                learning.add_learning(
                    conn, session_id=sid, task_id=None, space="default", kind="success",
                    text=f"lesson {i}", outcome="verified_success",
                )  # fmt: skip
                conn.execute(
                    "UPDATE learnings SET updated_at = ? WHERE session_id = ?",
                    (time.time() + 100 + i, sid),
                )
    finally:
        conn.close()
    client = ui.client()
    first = client.get("/learning?size=2")
    assert "sess-page-4" in first.text and "sess-page-3" in first.text
    assert "sess-page-2" not in first.text
    older = html.unescape(first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = client.get(older)
    assert "sess-page-2" in second.text and "sess-page-1" in second.text
    assert "sess-page-3" not in second.text
    newer = html.unescape(second.text.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0])
    back = client.get(newer)
    assert "sess-page-4" in back.text and "sess-page-3" in back.text
    assert "sess-page-2" not in back.text
    assert client.get("/learning?before=garbage").status_code == 400


def test_usage_ledger_by_day_and_purpose(ui: UiServer, settings: Settings) -> None:
    conn = open_db(settings)
    try:
        expected = usage.report(conn, days=7, daily_budget=settings.llm_daily_tokens)
    finally:
        conn.close()
    page = ui.client().get("/learning/usage")
    assert page.status_code == 200
    text = page.text
    today = expected["today"]
    assert f"{today['tokens_used']:,} of {today['budget']:,} tokens used" in text
    by_purpose = text.split("By purpose")[1]
    for row in expected["by_purpose"]:
        assert f"<tr><td>{row['purpose']}</td><td>anthropic / claude-haiku</td>" in by_purpose
    skill_row = by_purpose.split("<td>skill_learning</td>")[1].split("</tr>")[0]
    assert '<td class="num">2</td><td class="num">3,000</td>' in skill_row  # 2 calls, 1 error
    assert '<td class="num">1</td><td class="num">0</td></tr>' in skill_row + "</tr>"
    by_day = text.split("By day")[1].split("By purpose")[0]
    assert f"<td>{today['day']}</td>" in by_day
    assert "Provider:" in text
    assert ui.client().get("/learning/usage?days=0").status_code == 400


def test_job_counts_reads_a_page_of_sessions_in_one_pass(
    settings: Settings, seeded: Seeded
) -> None:
    conn = open_db(settings)
    try:
        for n, (sid, status) in enumerate(
            [(seeded.session, "done"), (seeded.session, "failed"), (seeded.older, "queued")]
        ):
            job_id = jobs.enqueue(
                conn, "learn_task", {"task_id": n, "session_id": sid}, dedup_key=f"learn:x{n}"
            )
            with atomic(conn):
                conn.execute("UPDATE jobs SET status = ? WHERE id = ?", (status, job_id))
        sids = [seeded.session, seeded.older, seeded.subagent]
        counts = learning.job_counts(conn, sids)
        assert counts == {
            seeded.session: {"done": 1, "failed": 1},
            seeded.older: {"queued": 1},
            seeded.subagent: {},
        }
        for sid in sids:  # the same as one session's status reads on its own
            assert learning.session_status(conn, sid, jobs=counts[sid]) == (
                learning.session_status(conn, sid)
            )
    finally:
        conn.close()
