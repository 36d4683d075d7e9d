"""The SessionStart brief: facts about this project, newest first, never over budget."""

from __future__ import annotations

import time

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


def test_traps_met_more_than_once_lead_with_their_counts(db, settings) -> None:
    add_task(db, "s1", "/work/shop", "fix checkout", "success")
    runbook = settings.skills_dir / "project-runbooks" / "projects" / "shop.md"
    runbook.parent.mkdir(parents=True)
    runbook.write_text(
        "# shop\n\n## Test\n"
        "- **Run the tests**: `pytest -x -q` (seen 9×, verified 9×, 2026-11-02 – 2026-12-01)\n"
        "\n## Traps\n"
        "- **Once only**: x (seen 1×, 2026-11-03)\n"
        "- **Stale wheel**: remove `dist/` first (seen 3×, 2026-11-04 – 2026-11-20)\n"
        "- **Port clash**: `pytest -p no:randomly` (when: flaky; seen 10×, verified 4×, "
        "2026-11-02 – 2026-12-04)\n"
        "- **A trap the user wrote without counts**: y\n"
    )
    brief = build_brief(db, settings, project_dir="/work/shop")
    section = brief.split("Traps met more than once in this project (project-runbooks):\n")[1]
    assert section.split("\n\n")[0].splitlines() == [
        "- Port clash (seen 10×, verified 4×, last 2026-12-04): `pytest -p no:randomly`",
        "- Stale wheel (seen 3×, last 2026-11-20): remove `dist/` first",
    ]
    assert "Traps met" not in build_brief(db, settings, project_dir="/work/other")
