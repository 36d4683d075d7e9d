"""The dashboard's Skills pages over real HTTP on a seeded data home (a real skills git repo):
the tree per learning space, rendered Markdown with hostile payloads neutralised, untrusted
names and links, history with provenance links, a commit's diff, usage stats, and the
proposals queue with accept and reject (the repository really changes; CSRF is required)."""

from __future__ import annotations

import html
import os
import subprocess
import time
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.skills import proposals, repo
from acontext_mcp.store import learning, skill_uses
from acontext_mcp.store.db import atomic, open_db
from tests.support.ui_client import UiServer, serve_ui
from tests.support.ui_seed import Seeded, seed


def _head(settings: Settings) -> str:
    return repo.log(settings.skills_dir, limit=1)[0]["sha"]


# --- the tree --------------------------------------------------------------------------------


def test_the_tree_lists_skills_with_their_files_and_space(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    conn = open_db(settings)
    try:
        with atomic(conn):
            learning.ensure_space(conn, "frontend")
            learning.link_skill(conn, "frontend", seeded.skill)
    finally:
        conn.close()
    client = ui.client()
    page = client.get("/skills")
    assert page.status_code == 200
    assert f'href="/skills/s/{seeded.skill}"' in page.text
    assert f'href="/skills/s/{seeded.skill}/files/SKILL.md"' in page.text
    assert "How demo-app is deployed" in page.text
    assert '<span class="badge">frontend</span>' in page.text
    assert "1 proposal waits for review" in page.text
    # Space "default" does not see frontend's own skill; space "frontend" does.
    other = client.get("/skills?space=default")
    assert f'href="/skills/s/{seeded.skill}"' not in other.text
    own = client.get("/skills?space=frontend")
    assert f'href="/skills/s/{seeded.skill}"' in own.text
    assert client.get("/skills?space=nope").status_code == 404


def test_the_tree_pages_by_name_and_filters(ui: UiServer, settings: Settings) -> None:
    root = Path(settings.skills_dir)
    for i in range(7):
        folder = root / f"zz-skill-{i}"
        folder.mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: zz-skill-{i}\ndescription: number {i}\n---\n\nbody\n"
        )
    (root / "zz-skill-3a").mkdir()  # a folder without SKILL.md: not a skill, never shown
    (root / "zz-skill-3a" / "notes.md").write_text("not a skill")
    client = ui.client()
    first = client.get("/skills?q=zz-&size=3")
    assert first.status_code == 200
    assert "8 skill folders" in first.text
    names = [f"zz-skill-{i}" for i in range(7)]
    assert all(f'/skills/s/{n}"' in first.text for n in names[:3])
    assert f'/skills/s/{names[3]}"' not in first.text
    nxt = html.unescape(first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = client.get(nxt)
    assert "zz-skill-3a" not in second.text
    assert all(f'/skills/s/{n}"' in second.text for n in names[3:6])
    assert f'/skills/s/{names[2]}"' not in second.text
    prev = html.unescape(second.text.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0])
    back = client.get(prev)
    assert all(f'/skills/s/{n}"' in back.text for n in names[:3])


def test_links_odd_names_and_dot_dot_are_never_followed(
    ui: UiServer, settings: Settings, seeded: Seeded, tmp_path: Path
) -> None:
    root = Path(settings.skills_dir)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    (root / seeded.skill / "leak.md").symlink_to(secret)
    outside = tmp_path / "outside-skill"
    outside.mkdir()
    (outside / "SKILL.md").write_text("---\nname: outside\ndescription: TOP-SECRET-CONTENT\n---\n")
    (root / "linked-skill").symlink_to(outside)
    odd = os.fsencode(root) + b"/bad\xffname"
    os.mkdir(odd)
    with open(odd + b"/SKILL.md", "wb") as out:
        out.write(b"---\nname: odd\ndescription: odd bytes\n---\n")
    client = ui.client()
    tree = client.get("/skills")
    assert tree.status_code == 200
    assert "TOP-SECRET-CONTENT" not in tree.text
    assert "linked-skill" not in tree.text
    assert "leak.md" not in tree.text
    assert "1 folder with a name that is not plain UTF-8 text is not shown" in tree.text
    assert "not shown (never followed)" in tree.text
    leak = client.get(f"/skills/s/{seeded.skill}/files/leak.md")
    assert leak.status_code == 400 and "symbolic link" in leak.text
    assert "TOP-SECRET-CONTENT" not in leak.text
    assert client.get("/skills/s/linked-skill").status_code == 404
    climb = client.get(f"/skills/s/{seeded.skill}/files/..%2F..%2Fsecret.txt")
    assert climb.status_code in (400, 404) and "TOP-SECRET-CONTENT" not in climb.text
    assert client.get("/skills/s/%2E%2E").status_code == 404


# --- one skill, its files, rendered safely ---------------------------------------------------


def test_a_skill_page_renders_its_markdown_and_shows_usage_and_recent_commits(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    conn = open_db(settings)
    try:
        with atomic(conn):
            skill_uses.record_use(
                conn,
                seeded.skill,
                "skill_tool",
                session_id=seeded.session,
                project_dir="/work/demo-app",
            )
    finally:
        conn.close()
    page = ui.client().get(f"/skills/s/{seeded.skill}")
    assert page.status_code == 200
    assert "<h1>Deploy demo-app</h1>" in page.text  # SKILL.md's body as Markdown
    assert "<code>make release</code>" in page.text
    assert "skill_tool 1" in page.text  # usage, as `skills stats` counts it
    assert f'href="/skills/commits/{seeded.learned_commit}"' in page.text
    assert f'href="/sessions/{seeded.session}"' in page.text
    assert f'href="/tasks/{seeded.task_ids[0]}"' in page.text
    assert ui.client().get("/skills/s/no-such-skill").status_code == 404


def test_hostile_skill_content_and_file_names_are_text(settings: Settings, tmp_path: Path) -> None:
    seeded = seed(settings, hostile=True)
    folder = Path(settings.skills_dir) / seeded.skill
    bad_name = '<img src=x onerror="window.__xss=6">.md'
    (folder / bad_name).write_text("[x](javascript:alert(1)) <script>alert(2)</script>\n")
    (folder / "ref.md").write_text(
        "[ok](https://example.com/a) [js](javascript:alert(3)) [data](data:text/html,x)\n"
        '[vb](vbscript:msgbox) <a href="javascript:alert(4)">raw</a>\n'
    )
    with serve_ui(settings) as ui:
        client = ui.client()
        pages = [
            client.get("/skills"),
            client.get(f"/skills/s/{seeded.skill}"),
            client.get(f"/skills/s/{seeded.skill}/files/ref.md"),
            client.get(f"/skills/s/{seeded.skill}/files/{bad_name}"),
            client.get(f"/skills/proposals/{seeded.proposal}"),
            client.get(f"/skills/commits/{_head(settings)}"),
        ]
    for page in pages:
        assert page.status_code == 200, page.url
        body = page.text
        assert "<script>" not in body and "<script" not in body.replace("&lt;script", "")
        assert "<img src=x" not in body and "<svg onload" not in body
        assert 'href="javascript:' not in body and 'href="data:' not in body
        assert 'href="vbscript:' not in body
    ref = pages[2].text
    assert '<a href="https://example.com/a">ok</a>' in ref
    assert "&lt;a href=&quot;javascript:alert(4)&quot;&gt;raw&lt;/a&gt;" in ref
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in pages[1].text
    assert "&lt;img src=x onerror=" in pages[0].text  # the file name, as text


# --- history and diffs -----------------------------------------------------------------------


def test_history_pages_through_a_long_history_with_provenance(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    root = Path(settings.skills_dir)
    skill_md = root / seeded.skill / "SKILL.md"
    made = []
    for i in range(5):
        with skill_md.open("a") as out:
            out.write(f"- step {i} (verified: exit 0)\n")
        sha = repo.commit_learning(
            root, f"Learn: step {i}", session_id=seeded.session, task_id=seeded.task_ids[0],
            paths=[seeded.skill],
        )  # fmt: skip
        assert sha
        made.append(sha)
    other = root / "other-skill"
    other.mkdir()
    (other / "SKILL.md").write_text("---\nname: other-skill\ndescription: other\n---\n")
    repo.protect_user_edits(root)  # a commit that does not touch deploy-demo
    client = ui.client()
    first = client.get(f"/skills/s/{seeded.skill}/history?size=3")
    assert first.status_code == 200
    shown = [s for s in made if f"/skills/commits/{s}" in first.text]
    assert shown == made[-3:][::-1] or set(shown) == set(made[-3:])
    assert "Learn: step 4" in first.text and "Learn: step 1" not in first.text
    assert f'href="/sessions/{seeded.session}"' in first.text
    assert "other-skill" not in first.text
    older = html.unescape(first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = client.get(older)
    assert "Learn: step 1" in second.text and "Learn: step 0" in second.text
    assert "Learn: step 2" not in second.text
    assert "Learn: run migrations before release" in second.text
    assert client.get(f"/skills/s/{seeded.skill}/history?before=--all").status_code == 400


def test_a_commit_shows_its_escaped_diff_and_provenance(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    page = ui.client().get(f"/skills/commits/{seeded.learned_commit[:12]}")
    assert page.status_code == 200
    text = page.text
    assert "Learn: run migrations before release" in text
    assert '<span class="add">+- Run the migrations before `make release`' in text
    assert '<span class="add">+## Traps</span>' in text
    assert f'href="/sessions/{seeded.session}"' in text
    assert f'href="/tasks/{seeded.task_ids[0]}"' in text
    assert f'href="/skills/s/{seeded.skill}"' in text
    client = ui.client()
    assert client.get("/skills/commits/--output=x").status_code == 400
    assert client.get("/skills/commits/" + "0" * 40).status_code == 404


def test_a_huge_diff_is_cut_with_a_notice(ui: UiServer, settings: Settings, seeded: Seeded) -> None:
    root = Path(settings.skills_dir)
    big = root / seeded.skill / "big.md"
    big.write_text("".join(f"line {i} " + "x" * 80 + "\n" for i in range(6000)))  # ~530 KB
    sha = repo.protect_user_edits(root)
    assert sha
    started = time.monotonic()
    page = ui.client().get(f"/skills/commits/{sha}")
    assert page.status_code == 200
    assert time.monotonic() - started < 5
    assert "only its beginning is shown" in page.text
    assert "line 10 " in page.text and "line 5999 " not in page.text
    assert len(page.content) < 1_000_000


# --- usage -----------------------------------------------------------------------------------


def test_stats_lists_uses_like_skills_stats(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    idle = Path(settings.skills_dir) / "idle-skill"
    idle.mkdir()
    (idle / "SKILL.md").write_text("---\nname: idle-skill\ndescription: never used\n---\n")
    conn = open_db(settings)
    try:
        with atomic(conn):
            for kind in ("skill_tool", "read", "skill_tool"):
                skill_uses.record_use(
                    conn,
                    seeded.skill,
                    kind,
                    session_id=seeded.session,
                    project_dir="/work/demo-app",
                )
    finally:
        conn.close()
    page = ui.client().get("/skills/stats")
    assert page.status_code == 200
    row = page.text.split(f'href="/skills/s/{seeded.skill}"')[1].split("</tr>")[0]
    assert '<td class="num">3</td>' in row
    assert "read 1, skill_tool 2" in row
    assert "1 skill folder never used" in page.text
    assert 'href="/skills/s/idle-skill"' in page.text.split("never used</summary>")[1]
    assert ui.client().get("/skills/stats?days=x").status_code == 400


# --- proposals -------------------------------------------------------------------------------


def test_the_queue_and_a_proposal_with_its_diff_and_evidence(ui: UiServer, seeded: Seeded) -> None:
    client = ui.client()
    queue = client.get("/skills/proposals")
    assert queue.status_code == 200
    assert f'href="/skills/proposals/{seeded.proposal}"' in queue.text
    assert "Learn: tag before building" in queue.text
    page = client.get(f"/skills/proposals/{seeded.proposal}")
    assert page.status_code == 200
    assert '<span class="add">+- Tag before building the release (verified: exit 0)</span>' in (
        page.text
    )
    assert "make release" in page.text and "exit 2" in page.text  # the task's evidence
    assert 'action="/skills/proposals/' in page.text and 'name="csrf"' in page.text
    assert client.get("/skills/proposals/zzz").status_code == 400
    assert client.get("/skills/proposals/abcdef12").status_code == 404


def test_accept_commits_the_proposal(ui: UiServer, settings: Settings, seeded: Seeded) -> None:
    before = _head(settings)
    client = ui.client()
    page = client.get(f"/skills/proposals/{seeded.proposal}")
    token = client.csrf_of(page.text)
    assert token == ui.csrf
    done = client.post(f"/skills/proposals/{seeded.proposal}/accept", follow_redirects=False)
    assert done.status_code == 303
    after = _head(settings)
    assert after != before
    assert done.headers["location"] == f"/skills/proposals/{seeded.proposal}?accepted={after}"
    shown = client.get(done.headers["location"])
    assert "Accepted as commit" in shown.text and f"/skills/commits/{after}" in shown.text
    text = (Path(settings.skills_dir) / seeded.skill / "SKILL.md").read_text()
    assert "Tag before building the release" in text
    assert proposals.get(settings.skills_dir, seeded.proposal).state == "accepted"
    conn = open_db(settings)
    try:
        row = conn.execute(
            "SELECT review, commit_sha FROM learnings WHERE proposal = ?", (seeded.proposal,)
        ).fetchone()
    finally:
        conn.close()
    assert tuple(row) == ("accepted", after)
    again = client.post(f"/skills/proposals/{seeded.proposal}/accept")
    assert again.status_code == 400 and "already accepted" in again.text
    assert _head(settings) == after


def test_reject_records_the_reason(ui: UiServer, settings: Settings, seeded: Seeded) -> None:
    before = _head(settings)
    client = ui.client()
    done = client.post(
        f"/skills/proposals/{seeded.proposal}/reject",
        data={"reason": "too vague <b>really</b>"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _head(settings) == before  # main is untouched
    found = proposals.get(settings.skills_dir, seeded.proposal)
    assert found.state == "rejected" and found.reason == "too vague <b>really</b>"
    page = client.get(done.headers["location"])
    assert "Rejected." in page.text and "too vague &lt;b&gt;really&lt;/b&gt;" in page.text
    assert (
        "Tag before building the release"
        not in (Path(settings.skills_dir) / seeded.skill / "SKILL.md").read_text()
    )
    conn = open_db(settings)
    try:
        row = conn.execute(
            "SELECT review, error FROM learnings WHERE proposal = ?", (seeded.proposal,)
        ).fetchone()
    finally:
        conn.close()
    assert row["review"] == "rejected" and "too vague" in (row["error"] or "")


def test_a_conflicting_accept_says_so_and_changes_nothing(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    root = Path(settings.skills_dir)
    skill_md = root / seeded.skill / "SKILL.md"
    skill_md.write_text(skill_md.read_text() + "- A different last line (user)\n")
    repo.protect_user_edits(root)  # main changed the same lines: the proposal is stale
    before = _head(settings)
    text_before = skill_md.read_text()
    client = ui.client()
    answer = client.post(f"/skills/proposals/{seeded.proposal}/accept")
    assert answer.status_code == 409
    assert "no longer applies" in answer.text and "Nothing was changed" in answer.text
    assert _head(settings) == before and skill_md.read_text() == text_before
    assert proposals.get(root, seeded.proposal).state == "stale"
    assert (
        subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True
        ).stdout
        == ""
    )


def test_decisions_need_the_csrf_token(ui: UiServer, settings: Settings, seeded: Seeded) -> None:
    before = _head(settings)
    client = ui.client()
    client.csrf = None  # a forged form: the cookie rides along, the token does not
    for action in ("accept", "reject"):
        answer = client.post(f"/skills/proposals/{seeded.proposal}/{action}", data={"reason": "x"})
        assert answer.status_code == 403
    wrong = client.post(
        f"/skills/proposals/{seeded.proposal}/accept", data={"csrf": "not-the-token"}
    )
    assert wrong.status_code == 403
    assert _head(settings) == before
    assert proposals.get(settings.skills_dir, seeded.proposal).state == "pending"
    assert ui.client().post(f"/skills/proposals/{seeded.proposal}/merge").status_code == 404


def test_reject_with_relearn_queues_its_learnings_again(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    done = ui.client().post(
        f"/skills/proposals/{seeded.proposal}/reject",
        data={"reason": "stale", "relearn": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    conn = open_db(settings)
    try:
        status = conn.execute(
            "SELECT status FROM learnings WHERE proposal IS NULL AND task_id = ?",
            (seeded.task_ids[1],),
        ).fetchone()
        queued = conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'learn_space' AND status = 'queued'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert status is not None and status["status"] == "distilled"
    assert queued == 1


def test_diff_lines_tell_headers_from_changed_front_matter() -> None:
    from acontext_mcp.ui.pages.skills import _diff_lines

    patch = (
        "diff --git a/x/SKILL.md b/x/SKILL.md\n--- a/x/SKILL.md\n+++ b/x/SKILL.md\n"
        "@@ -1,3 +1,2 @@\n----\n+++ not a header\n keep\n"
        "diff --git a/y b/y\nindex 1..2 100644\n"
    )
    kinds = [kind for kind, _ in _diff_lines(patch)]
    assert kinds == ["meta", "meta", "meta", "hunk", "del", "add", "ctx", "meta", "meta"]


def test_the_queue_accepts_in_one_click_and_skills_slash_name_redirects(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    client = ui.client()
    queue = client.get("/skills/proposals")
    action = f'action="/skills/proposals/{seeded.proposal}/accept"'
    assert action in queue.text and client.csrf_of(queue.text) == ui.csrf
    done = client.post(f"/skills/proposals/{seeded.proposal}/accept", follow_redirects=True)
    assert done.status_code == 200 and "Accepted as commit" in done.text
    assert action not in client.get("/skills/proposals").text  # decided: no button
    moved = client.get(f"/skills/{seeded.skill}", follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == f"/skills/s/{seeded.skill}"
    assert client.get("/skills/no-such-skill").status_code == 404


def test_without_a_skills_repository_nothing_is_created(settings: Settings) -> None:
    with serve_ui(settings) as ui:
        client = ui.client()
        tree = client.get("/skills")
        assert tree.status_code == 200 and "acontext-mcp skills init" in tree.text
        assert client.get("/skills/proposals").status_code == 200
        assert client.get("/skills/stats").status_code == 200
        assert client.get("/skills/proposals/abcdef").status_code == 404
        assert client.get("/skills/commits/abcdef").status_code == 404
        assert client.post("/skills/proposals/abcdef/accept").status_code == 404
    assert not (Path(settings.skills_dir) / ".git").exists()


def test_relative_links_in_a_skill_open_its_files(
    ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    folder = Path(settings.skills_dir) / seeded.skill
    (folder / "references").mkdir()
    (folder / "references" / "api.md").write_text(
        "[back](../SKILL.md) [up and out](../../secret.md) [js](javascript:alert(1))\n"
    )
    skill_md = folder / "SKILL.md"
    skill_md.write_text(
        skill_md.read_text() + "\nSee [the API](references/api.md#auth) and [site](https://x.y/)\n"
    )
    client = ui.client()
    page = client.get(f"/skills/s/{seeded.skill}").text
    assert f'<a href="/skills/s/{seeded.skill}/files/references/api.md#auth">the API</a>' in page
    assert '<a href="https://x.y/">site</a>' in page
    ref = client.get(f"/skills/s/{seeded.skill}/files/references/api.md").text
    assert f'<a href="/skills/s/{seeded.skill}/files/SKILL.md">back</a>' in ref
    assert '<a href="../../secret.md">up and out</a>' in ref  # left alone: the route refuses it
    assert 'href="javascript:' not in ref
