"""Doctor's stale-runbook check on a real skills repository, store and temp project."""

from __future__ import annotations

from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.setup import doctor
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.setup.doctor_stale import check_stale
from acontext_mcp.skills import repo
from acontext_mcp.skills.defaults import prepare
from acontext_mcp.store.db import open_db
from acontext_mcp.store.sessions import ensure_session

TAIL = "(seen 2×, 2026-11-02 – 2026-12-01)"


def stale_checks(settings: Settings) -> list[tuple[str, str, str | None]]:
    report = Report()
    check_stale(report, settings)
    return [(c.status, c.summary, c.fix) for c in report.checks if c.area == "runbooks"]


def test_doctor_names_the_runbook_references_a_project_lacks(
    settings: Settings, tmp_path: Path
) -> None:
    assert stale_checks(settings) == []  # no repository yet: nothing to say, nothing created
    prepare(settings)
    project = tmp_path / "shop"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "build.sh").write_text("")
    (project / "package.json").write_text('{"scripts": {"test": "vitest"}}')
    book = settings.skills_dir / "project-runbooks" / "projects" / "shop.md"
    book.parent.mkdir(parents=True)
    # No Path header: the project is found through the captured session's directory.
    book.write_text(
        "# shop\n\n## Test\n"
        f"- **Tests**: `npm test`, then `npm run e2e` {TAIL}\n"
        f"- **Build**: `scripts/build.sh` then `scripts/deploy.sh` {TAIL}\n"
    )
    repo.commit_learning(settings.skills_dir, "Learn", session_id=None, task_id=None, paths=[book])
    assert stale_checks(settings) == []  # its project is not known yet
    conn = open_db(settings)
    try:
        ensure_session(conn, "s1", project_dir=str(project))
    finally:
        conn.close()
    [(status, summary, fix)] = stale_checks(settings)
    assert status == "warn"
    assert summary == (
        f"project-runbooks/projects/shop.md names what {project} no longer has: "
        "npm run e2e; scripts/deploy.sh"
    )
    assert fix is not None and "acontext-mcp skills retire" in fix
    full = doctor.run(settings, project=str(project), timeout=5.0)
    assert any(c.area == "runbooks" and c.status == "warn" for c in full.checks)
    (project / "scripts" / "deploy.sh").write_text("")
    (project / "package.json").write_text('{"scripts": {"test": "vitest", "e2e": "pw"}}')
    assert stale_checks(settings) == []
