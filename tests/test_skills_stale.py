"""Stale runbook references against a real temp project: missing files and make/npm/just
targets are flagged; URLs, identifiers, other directories and uncheckable build files never."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acontext_mcp.skills import stale

ENTRY_TAIL = "(seen 2×, verified 2×, 2026-11-02 – 2026-12-01)"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "build.sh").write_text("echo build\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_api.py").write_text("")
    (root / "Makefile").write_text(
        "VERSION := 1\n.PHONY: test lint\ntest: lint\n\tpytest\nlint:\n\truff check .\n"
    )
    (root / "package.json").write_text(json.dumps({"scripts": {"lint": "eslint ."}}))
    (root / "justfile").write_text("alias b := build\nbuild target='x':\n    echo\n")
    return root


def runbook(project: Path, *lines: str) -> str:
    return "\n".join([f"# {project.name}", "", f"Path: `{project}`", "", "## Test", *lines]) + "\n"


def refs(text: str, project: Path) -> list[str]:
    return [r.ref for r in stale.stale_refs(text, project)]


def test_missing_files_and_targets_are_flagged_present_ones_are_not(project: Path) -> None:
    text = runbook(
        project,
        f"- **Deploy**: run `scripts/deploy.sh` after `scripts/build.sh` {ENTRY_TAIL}",
        f"- **All tests**: `make test-all`, or `make test` and `make -j 4 lint` {ENTRY_TAIL}",
        f"- **Old test**: `pytest tests/old_test.py::test_x` not `tests/test_api.py` {ENTRY_TAIL}",
        "- JS: `npm run lint`, `npm run e2e`, `npm test`; just: `just build`, `just b`, "
        "`just release`",
    )
    found = stale.stale_refs(text, project)
    assert [r.ref for r in found] == [
        "scripts/deploy.sh",
        "make test-all",
        "tests/old_test.py",
        "npm run e2e",
        "npm test",
        "just release",
    ]
    by_ref = {r.ref: r for r in found}
    assert by_ref["make test-all"].why == "make test-all: no 'test-all' in the project's Makefile"
    assert by_ref["scripts/deploy.sh"].entry and by_ref["scripts/deploy.sh"].line == 6
    assert not by_ref["npm run e2e"].entry  # a person's line: reported, never removed


def test_urls_identifiers_absolute_paths_and_other_directories_are_left_alone(
    project: Path,
) -> None:
    text = runbook(
        project,
        "- docs at `https://example.com/docs/setup.md` and `http://localhost:8000/api/x.json`",
        "- call `os.path.join` or `app.models.User`, set `$HOME/scripts/x.sh`, `~/bin/tool.sh`",
        "- `/opt/shop/run.sh`, `../other/x.py`, `cd web && make deploy && npm run web`",
        "- output in `dist/app.js` and `node_modules/x/index.js`; glob `tests/*.py`",
        "- branch `origin/main`, `feature/login`",
    )
    assert refs(text, project) == []
    assert stale.header_project(text) == str(project)


def test_build_files_that_cannot_be_known_say_nothing(project: Path) -> None:
    text = runbook(project, "- `make deploy` and `npm run deploy` and `just deploy`")
    (project / "Makefile").write_text("include common.mk\nall:\n\techo\n")
    (project / "package.json").unlink()
    (project / "justfile").write_text("import 'base.just'\nbuild:\n    echo\n")
    assert refs(text, project) == []
    (project / "Makefile").write_text("$(TARGETS):\n\techo\n")
    assert refs(text, project) == []


def test_a_project_without_any_makefile_is_flagged_unless_one_is_generated(
    project: Path,
) -> None:
    text = runbook(project, "- `make deploy`")
    (project / "Makefile").unlink()
    assert [r.why for r in stale.stale_refs(text, project)] == [
        "make deploy: the project has no Makefile"
    ]
    (project / "CMakeLists.txt").write_text("project(x)\n")
    assert refs(text, project) == []


def test_runbooks_find_their_project_by_header_or_by_one_sessions_directory(
    tmp_path: Path, project: Path
) -> None:
    skills = tmp_path / "skills"
    (skills / "project-runbooks" / "projects").mkdir(parents=True)
    (skills / "project-runbooks" / "SKILL.md").write_text("---\nname: project-runbooks\n---\n")
    outside = tmp_path / "outside.md"
    outside.write_text(f"# linked\n\nPath: `{project}`\n- `scripts/gone.sh`\n")
    (skills / "project-runbooks" / "projects" / "linked.md").symlink_to(outside)
    (skills / "project-runbooks" / "projects" / "shop.md").write_text("# shop\n\n- x\n")
    (skills / "project-runbooks" / "projects" / "api.md").write_text("# api\n\nPath: `/srv/api`\n")
    (skills / "project-runbooks" / "projects" / "web.md").write_text("# web\n")
    dirs = [str(project), "/a/web", "/b/web"]  # two projects named web: ambiguous
    found = {b.path: b.project for b in stale.runbooks(skills, dirs)}
    assert found == {  # the link is never read
        "projects/api.md": "/srv/api",
        "projects/shop.md": str(project),
        "projects/web.md": None,
    }
