"""The SessionStart brief: facts about this project, newest first, never over budget."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from acontext_mcp.capture.brief import build_brief
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.sessions import ensure_session


def add_task(db, session: str, project: str, text: str, status: str, **changes: str) -> None:
    ensure_session(db, session, project_dir=project)
    task = task_store.insert_task(db, session, text, status=status)
    if changes:
        task_store.update_task(db, session, task["order"], **changes)
    time.sleep(0.002)  # distinct updated_at, so "newest first" is observable


def add_skill(settings: Settings, name: str, description: str) -> None:
    folder = settings.skills_dir / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\n")


def test_nothing_stored_means_no_brief(db, settings: Settings) -> None:
    assert build_brief(db, settings, project_dir="/p") == ""


def test_the_brief_states_this_projects_tasks_preferences_and_skills(db, settings) -> None:
    pref = "User wants tests before commits"
    add_task(
        db,
        "s1",
        "/work/shop",
        "add a dark mode toggle",
        "success",
        add_progress="pytest: 14 passed",
        add_preference=pref,
    )
    add_task(db, "s2", "/work/shop", "deploy to fly.io", "failed", add_progress="fly deploy: 502")
    add_task(db, "s3", "/elsewhere", "unrelated work", "running")
    add_skill(settings, "fly-deploys", "How this team deploys with fly.io")

    brief = build_brief(db, settings, project_dir="/work/shop")
    assert brief.splitlines()[0] == "acontext-mcp memory for /work/shop:"
    lines = brief.splitlines()
    deploy = lines.index("- [failed] deploy to fly.io (latest: fly deploy: 502)")
    dark = lines.index("- [success] add a dark mode toggle (latest: pytest: 14 passed)")
    assert deploy < dark  # newest first
    assert "- User wants tests before commits" in lines
    assert "- fly-deploys: How this team deploys with fly.io" in lines
    assert "unrelated work" not in brief


def test_a_changed_skill_set_is_announced(db, settings) -> None:
    add_skill(settings, "a", "b")
    assert "Skills changed since the last session" in build_brief(
        db, settings, project_dir=None, skills_changed=True
    )


@pytest.mark.parametrize("budget", [80, 300, 2000])
def test_the_brief_never_exceeds_its_budget_and_says_what_it_left_out(db, settings, budget) -> None:
    for i in range(40):
        add_task(
            db,
            f"s{i}",
            "/p",
            f"task number {i} " + "detail " * 30,
            "success",
            add_preference=f"preference {i} " + "x" * 50,
        )
    for i in range(30):
        add_skill(settings, f"skill-{i:02d}", "does things " * 10)
    brief = build_brief(db, settings, project_dir="/p", budget=budget)
    assert 0 < len(brief) <= budget
    assert "more: see the list_tasks and list_skills tools" in brief


def test_the_default_budget_comes_from_settings(db, settings) -> None:
    small = Settings(home=settings.home, skills_dir=settings.skills_dir, brief_chars=200)
    for i in range(20):
        add_task(db, f"s{i}", "/p", f"task {i}", "pending")
    assert len(build_brief(db, small, project_dir="/p")) <= 200
    with pytest.raises(InvalidInput, match="at least 80"):
        build_brief(db, settings, project_dir="/p", budget=10)


def test_skills_the_agent_lists_itself_are_not_repeated_and_shadowed_ones_are_marked(
    db, settings
) -> None:
    for name in ("alpha-skill", "beta-skill", "gamma-skill"):
        folder = settings.skills_dir / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: About {name}.\n---\n")
    full = build_brief(db, settings, project_dir="/p")
    assert all(n in full for n in ("alpha-skill", "beta-skill", "gamma-skill"))

    brief = build_brief(
        db,
        settings,
        project_dir="/p",
        listed={"alpha-skill", "beta-skill"},
        shadowed={"beta-skill", "gamma-skill"},
    )

    assert "alpha-skill" not in brief and "beta-skill" not in brief
    assert "Learned skills not in your skill list" in brief
    assert "- gamma-skill [ours; your skill list shows another folder of this name]" in brief
    everything = build_brief(
        db, settings, project_dir="/p", listed={"alpha-skill", "beta-skill", "gamma-skill"}
    )
    assert "skill" not in everything.lower() or "Learned skills" not in everything


def test_skills_the_agent_lists_are_not_read(db, settings, monkeypatch) -> None:
    """SessionStart waits for the brief: a skill the agent lists itself (synced) is left out
    before its SKILL.md is read."""
    from acontext_mcp.skills import catalog

    for name in ("alpha-skill", "beta-skill"):
        folder = settings.skills_dir / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: About {name}.\n---\n")
    read: list[str] = []
    real = catalog._describe
    monkeypatch.setattr(
        catalog, "_describe", lambda folder: read.append(folder.name) or real(folder)
    )
    brief = build_brief(db, settings, project_dir="/p", listed={"alpha-skill"})
    assert read == ["beta-skill"] and "beta-skill" in brief and "alpha-skill" not in brief


# --- Learned content: the project's runbook, the user's facts, contradictions ---------------

RUNBOOK = """\
# shop

Path: `/work/shop`

## Build
- **Install dependencies**: `uv sync --frozen` (seen 4×, verified 4×, 2026-11-02 – 2026-12-01)

## Test
- **Format**: `black .` before committing (seen 2×, 2026-10-01 – 2026-10-20)
- **Run the tests**: `uv run pytest -x -q` (seen 9×, verified 9×, 2026-11-02 – 2026-12-03)
- Run `make check` before pushing

## Deploy
- **Deploy to staging**: `fly deploy --app shop-staging` \
(seen 3×, verified 2×, 2026-11-10 – 2026-11-28)

## Traps
- **Port clash**: `pytest -p no:randomly` \
(when: flaky; seen 10×, verified 4×, 2026-11-02 – 2026-12-04)
- **Once only**: clear `.cache/` (seen 1×, 2026-11-03)
"""

FACTS = {
    "coding-preferences.md": """\
# Coding preferences

- **Package manager**: The user installs Python packages with uv, never pip \
(seen 3×, verified 2×, 2026-11-01 – 2026-12-03)
- **Formatter**: The user formats Python with black (seen 2×, 2026-10-01 – 2026-10-15)
- **Lint**: The user runs ruff for lint (seen 2×, 2026-10-01 – 2026-10-15)
- The user wants short commit messages
""",
    "work-context.md": """\
# Work context

- In acme-api the user deploys on Fridays only
- For shop, the user reviews every migration by hand
- The user's pytest runs need `-p no:cacheprovider` on the shared disk
""",
}


def default_skill(settings: Settings, name: str, description: str) -> None:
    folder = settings.skills_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\n")


def write_memory(settings: Settings) -> None:
    """A skills directory as the learner leaves it: runbooks for two projects, topic files."""
    default_skill(settings, "project-runbooks", "Per-project runbooks for coding agents.")
    default_skill(settings, "user-general-facts", "Persistent facts about the user.")
    projects = settings.skills_dir / "project-runbooks" / "projects"
    projects.mkdir()
    (projects / "shop.md").write_text(RUNBOOK)
    (projects / "acme-api.md").write_text("# acme-api\n\n## Test\n- Run `tox`\n")
    for name, text in FACTS.items():
        (settings.skills_dir / "user-general-facts" / name).write_text(text)


def section(brief: str, title_start: str) -> list[str]:
    """The lines of the brief section whose title starts with `title_start`."""
    for block in brief.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith(title_start):
            return [line for line in lines[1:] if line.startswith("- ")]
    return []


def test_the_projects_runbook_comes_first_best_evidenced_with_the_users_own_bullets(
    db, settings
) -> None:
    write_memory(settings)
    brief = build_brief(db, settings, project_dir="/work/shop")
    assert brief.split("\n\n")[1].startswith(
        "This project's runbook (project-runbooks/projects/shop.md), best-evidenced first:"
    )
    assert section(brief, "This project's runbook") == [
        "- [Test] Run the tests: `uv run pytest -x -q` (seen 9×, verified 9×, last 2026-12-03)",
        "- [Traps] Port clash: `pytest -p no:randomly` (seen 10×, verified 4×, last 2026-12-04)",
        "- [Build] Install dependencies: `uv sync --frozen` (seen 4×, verified 4×, "
        "last 2026-12-01)",
        "- [Deploy] Deploy to staging: `fly deploy --app shop-staging` (seen 3×, verified 2×, "
        "last 2026-11-28)",
        "- [Test] Format: `black .` before committing (seen 2×, last 2026-10-20)",
        "- [Traps] Once only: clear `.cache/` (seen 1×, last 2026-11-03)",
        "- [Test] Run `make check` before pushing",
    ]
    assert "This project's runbook" not in build_brief(db, settings, project_dir="/work/elsewhere")


def test_the_newer_of_two_contradicting_statements_is_shown_and_the_older_hidden(
    db, settings
) -> None:
    write_memory(settings)
    # Today the user said, in a task of this project: no more black.
    add_task(
        db,
        "s1",
        "/work/shop",
        "tidy the checkout module",
        "success",
        add_preference="Never run black; use ruff format",
    )
    brief = build_brief(db, settings, project_dir="/work/shop")
    user = section(brief, "User facts and preferences")
    assert "- Never run black; use ruff format" in user
    # The older fact and the older runbook procedure about black are gone, from both sections.
    assert "formats Python with black" not in brief
    assert "`black .` before committing" not in brief
    # Neighbours that do not contradict stay: ruff for lint, uv over pip.
    assert any("The user runs ruff for lint" in line for line in user)
    assert any("with uv, never pip" in line for line in user)


def test_a_fact_learned_after_a_task_preference_replaces_it(db, settings) -> None:
    write_memory(settings)
    add_task(db, "s1", "/work/shop", "set up", "success", add_preference="Use pip for installs")
    # The task was months ago; the uv fact (last seen 2026-12-03) is newer.
    db.execute("UPDATE tasks SET updated_at = 1700000000")
    brief = build_brief(db, settings, project_dir="/work/shop")
    assert "Use pip for installs" not in brief
    assert "with uv, never pip" in brief
    # The same preference stated today wins over the fact instead.
    add_task(db, "s2", "/work/shop", "set up again", "success", add_preference="Use pip now")
    brief = build_brief(db, settings, project_dir="/work/shop")
    assert "- Use pip now" in brief and "with uv, never pip" not in brief


def test_facts_that_name_another_project_are_left_out_and_this_projects_come_first(
    db, settings
) -> None:
    write_memory(settings)
    add_task(
        db, "s1", "/work/shop", "x", "success", add_preference="The user likes concise answers"
    )
    user = section(build_brief(db, settings, project_dir="/work/shop"), "User facts")
    assert not any("acme-api" in line for line in user)
    # Naming the project (shop) ranks first, then naming one of its tools (uv, black, pytest:
    # its runbook's commands), each by evidence (verified, seen, newest); then the rest.
    assert user == [
        "- For shop, the user reviews every migration by hand",
        "- Package manager: The user installs Python packages with uv, never pip (seen 3×, "
        "verified 2×, last 2026-12-03)",
        "- Formatter: The user formats Python with black (seen 2×, last 2026-10-15)",
        "- The user's pytest runs need `-p no:cacheprovider` on the shared disk",
        "- Lint: The user runs ruff for lint (seen 2×, last 2026-10-15)",
        "- The user likes concise answers",
        "- The user wants short commit messages",
    ]
    other = section(build_brief(db, settings, project_dir="/work/acme-api"), "User facts")
    assert "- In acme-api the user deploys on Fridays only" in other
    assert not any("For shop" in line for line in other)


def ranked_skills_dir(db, settings) -> None:
    """203 skills: 200 unrelated ones and the project's, known in three different ways."""
    from acontext_mcp.store.learning import add_learning, finish_learnings
    from acontext_mcp.store.skill_uses import record_use

    write_memory(settings)
    for i in range(200):
        add_skill(settings, f"aa-unrelated-{i:03d}", f"Unrelated topic number {i}.")
    add_skill(settings, "zz-payments", "Stripe payment flows of the shop storefront.")
    add_skill(settings, "zz-used", "Postgres migrations.")
    add_skill(settings, "zz-learned", "Celery queues.")
    ensure_session(db, "old", project_dir="/work/shop")
    ensure_session(db, "other", project_dir="/work/acme-api")
    for _ in range(3):
        record_use(db, "zz-used", "skill_tool", session_id="old", project_dir="/work/shop")
    record_use(db, "aa-unrelated-199", "mcp_get", session_id="other", project_dir="/work/acme-api")
    # Listed by an earlier brief: no sign of relevance (it would keep itself on top).
    record_use(db, "aa-unrelated-198", "brief", session_id="old", project_dir="/work/shop")
    lesson = '{"day": "2026-12-01", "entry": {"skill": "zz-learned", "file": "q.md"}}'
    learning = add_learning(
        db, session_id="old", task_id=None, space="default", kind="success", text="t",
        lesson=lesson,
    )  # fmt: skip
    assert learning is not None
    finish_learnings(db, [learning], commit_sha="abc")


def test_skills_are_ranked_by_relevance_to_the_project_not_by_name(db, settings) -> None:
    ranked_skills_dir(db, settings)
    brief = build_brief(db, settings, project_dir="/work/shop", budget=4000)
    names = [line[2:].split(":")[0] for line in section(brief, "Learned skills")]
    assert names[:4] == ["project-runbooks", "zz-payments", "zz-used", "zz-learned"]
    # The rest by name; at this budget the listing is cut: the least relevant go.
    assert names[4] == "aa-unrelated-000"
    assert "aa-unrelated-199" not in names and "aa-unrelated-198" not in names
    assert "more: see the list_tasks and list_skills tools" in brief
    assert len(brief) <= 4000


def test_a_full_budget_is_shared_so_every_section_says_something(db, settings) -> None:
    ranked_skills_dir(db, settings)
    for i in range(20):
        add_task(db, f"t{i}", "/work/shop", f"task {i} " + "detail " * 20, "success")
    brief = build_brief(db, settings, project_dir="/work/shop", budget=1500)
    assert len(brief) <= 1500
    for title in ("This project's runbook", "User facts", "Recent tasks", "Learned skills"):
        assert section(brief, title), f"{title} got nothing:\n{brief}"
    assert section(brief, "This project's runbook")[0].startswith("- [Test] Run the tests")
    assert section(brief, "Learned skills")[0].startswith("- project-runbooks")


@pytest.mark.parametrize("budget", [80, 200, 700, 2000, 3000])
def test_learned_content_never_breaks_the_budget(db, settings, budget) -> None:
    ranked_skills_dir(db, settings)
    add_task(db, "t", "/work/shop", "t " * 300, "success", add_preference="p " * 300)
    brief = build_brief(db, settings, project_dir="/work/shop", budget=budget)
    assert 0 < len(brief) <= budget


# --- What the brief delivered is recorded ---------------------------------------------------


def brief_uses(db) -> list[tuple]:
    """Per skill and session: (skill, session, its file when every delivered line came from
    one, project). Entries are recorded one row each (with their title), other lines one row
    per skill."""
    return [
        tuple(row)
        for row in db.execute(
            "SELECT skill, session_id, CASE WHEN COUNT(DISTINCT COALESCE(path, '')) = 1 "
            "THEN MAX(path) END, project_dir FROM skill_uses WHERE kind = 'brief' "
            "AND session_id IS NOT 'old' GROUP BY skill, session_id, project_dir ORDER BY skill"
        )
    ]


def brief_entries(db, session_id: str) -> set[tuple[str, str]]:
    rows = db.execute(
        "SELECT skill, entry FROM skill_uses WHERE kind = 'brief' AND session_id = ? "
        "AND entry IS NOT NULL",
        (session_id,),
    )
    return {(r[0], r[1]) for r in rows}


def test_one_use_is_recorded_per_skill_that_reached_the_brief(db, settings) -> None:
    write_memory(settings)
    add_skill(settings, "fly-deploys", "Deploys with fly.io")
    add_skill(settings, "zz-last", "Comes last")
    add_task(db, "s1", "/work/shop", "x", "success", add_preference="Never run black")

    build_brief(db, settings, project_dir="/work/shop")  # the CLI's preview: nothing recorded
    assert brief_uses(db) == []

    brief = build_brief(
        db, settings, project_dir="/work/shop", session_id="new-one", agent="claude-code"
    )
    assert "zz-last" in brief
    assert brief_uses(db) == [
        ("fly-deploys", "new-one", None, "/work/shop"),
        ("project-runbooks", "new-one", None, "/work/shop"),  # its runbook and its listing
        ("user-general-facts", "new-one", None, "/work/shop"),  # facts from two files
        ("zz-last", "new-one", None, "/work/shop"),
    ]
    # Each learned entry shown is named, so the prompt hook does not give it again.
    assert ("project-runbooks", "Run the tests") in brief_entries(db, "new-one")
    # The session did not exist yet (SessionStart answers before capture): it does now.
    row = db.execute("SELECT agent, project_dir FROM sessions WHERE id = 'new-one'").fetchone()
    assert tuple(row) == ("claude-code", "/work/shop")


def test_only_what_fit_the_budget_is_recorded_with_the_file_it_came_from(db, settings) -> None:
    ranked_skills_dir(db, settings)
    ensure_session(db, "s9", project_dir="/work/shop")
    listed = {"zz-used", "project-runbooks"}  # the agent lists these itself (synced)
    brief = build_brief(
        db, settings, project_dir="/work/shop", session_id="s9", budget=900, listed=listed
    )
    assert len(brief) <= 900
    recorded = {row[0]: row[2] for row in brief_uses(db)}
    shown = [line[2:].split(":")[0] for line in section(brief, "Learned skills")]
    assert shown[0] == "zz-payments" and "zz-learned" in shown
    assert "aa-unrelated-199" not in shown  # cut by the budget
    # A skill is recorded once, with the file when only one of its files reached the brief.
    assert recorded == {
        "project-runbooks": "projects/shop.md",
        "user-general-facts": None,  # facts from two topic files
        **{name: None for name in shown},
    }


def test_no_use_is_recorded_where_capture_is_off(db, settings, tmp_path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / ".acontext-off").write_text("")
    write_memory(settings)
    brief = build_brief(db, settings, project_dir=str(project), session_id="s1", agent="openclaw")
    assert "Run the tests" in brief  # the brief itself still goes out
    assert brief_uses(db) == []
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_a_store_that_refuses_the_uses_still_gives_the_brief(db, settings) -> None:
    write_memory(settings)
    db.execute("PRAGMA query_only = ON")
    brief = build_brief(db, settings, project_dir="/work/shop", session_id="s1", agent="x")
    assert "Run the tests" in brief
    db.execute("PRAGMA query_only = OFF")
    assert brief_uses(db) == []


def test_the_session_start_hook_delivers_the_runbook_and_records_it(tmp_path, monkeypatch) -> None:
    from acontext_mcp.hooks import claude_code
    from acontext_mcp.store.db import open_db

    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    (tmp_path / "claude").mkdir()
    settings = Settings.from_env()
    settings.ensure_dirs()
    write_memory(settings)
    project = tmp_path / "shop"
    project.mkdir()
    payload = {"session_id": "cc-1", "cwd": str(project), "source": "startup"}
    answer = claude_code.handle("SessionStart", payload)
    assert answer is not None
    context = answer["hookSpecificOutput"]["additionalContext"]
    assert context.startswith(f"acontext-mcp memory for {project}:")
    assert "- [Test] Run the tests: `uv run pytest -x -q`" in context
    conn = open_db(settings)
    try:
        # The answer is out before anything is written: the first write of a hook process
        # costs a new WAL file. The uses are written after it, with the capture.
        assert brief_uses(conn) == []
        claude_code.after_answer("SessionStart", payload)
        assert ("project-runbooks", "cc-1", "projects/shop.md", str(project)) in brief_uses(conn)
    finally:
        conn.close()


def test_the_real_session_start_hook_records_the_uses_in_its_detached_child(tmp_path) -> None:
    """Through `acontext-mcp hook`: the parent answers and exits, the forked child captures
    and then records what the brief delivered."""
    import json
    import os
    import subprocess
    import sys

    from acontext_mcp.store.db import open_db

    home, project = tmp_path / "home", tmp_path / "shop"
    project.mkdir()
    settings = Settings(home=home, skills_dir=home / "skills")
    settings.ensure_dirs()
    write_memory(settings)
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("")
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "OPENCLAW_STATE_DIR": str(tmp_path / "openclaw"),
    }
    env.pop("ACONTEXT_HOOK_INLINE", None)
    (tmp_path / "claude").mkdir()
    payload = {
        "session_id": "cc-real",
        "hook_event_name": "SessionStart",
        "source": "startup",
        "cwd": str(project),
        "transcript_path": str(transcript),
    }
    hook = [
        str(Path(sys.executable).parent / "acontext-mcp"),
        "hook",
        "claude-code",
        "SessionStart",
    ]
    proc = subprocess.run(
        hook, input=json.dumps(payload), capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    context = json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "- [Test] Run the tests: `uv run pytest -x -q`" in context
    deadline = time.monotonic() + 30
    rows: list[tuple] = []
    while time.monotonic() < deadline:
        conn = open_db(settings)
        try:
            rows = brief_uses(conn)
        finally:
            conn.close()
        if rows:
            break
        time.sleep(0.05)
    assert ("project-runbooks", "cc-real", "projects/shop.md", str(project)) in rows
    assert ("user-general-facts", "cc-real", None, str(project)) in rows


def test_openclaws_prompt_build_brief_records_its_deliveries_too(tmp_path, monkeypatch) -> None:
    from acontext_mcp.hooks import openclaw
    from acontext_mcp.store.db import open_db

    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "openclaw"))
    settings = Settings.from_env()
    settings.ensure_dirs()
    write_memory(settings)
    project = tmp_path / "shop"
    project.mkdir()
    answer = openclaw.handle("before_prompt_build", {"sessionId": "oc-1", "cwd": str(project)})
    assert answer is not None
    assert "- [Test] Run the tests: `uv run pytest -x -q`" in answer["additionalContext"]
    conn = open_db(settings)
    try:
        assert ("project-runbooks", "oc-1", None, str(project)) in brief_uses(conn)
        agent = conn.execute("SELECT agent FROM sessions WHERE id = 'oc-1'").fetchone()[0]
        assert agent == "openclaw"
    finally:
        conn.close()


def test_a_linked_or_oversized_runbook_gives_no_lines_and_no_error(db, settings, tmp_path) -> None:
    write_memory(settings)
    projects = settings.skills_dir / "project-runbooks" / "projects"
    outside = tmp_path / "outside.md"
    outside.write_text("## Test\n- **Secret**: read me (seen 5×, 2026-12-01)\n")
    (projects / "linked.md").symlink_to(outside)
    brief = build_brief(db, settings, project_dir="/work/linked")
    assert "read me" not in brief and "This project's runbook" not in brief
    (projects / "huge.md").write_text("## Test\n" + "- **Big**: x (seen 1×, 2026-12-01)\n" * 20000)
    assert "This project's runbook" not in build_brief(db, settings, project_dir="/work/huge")
    # A topic file that is a link is not read either.
    (settings.skills_dir / "user-general-facts" / "linked.md").symlink_to(outside)
    assert "read me" not in build_brief(db, settings, project_dir="/work/shop")
