"""The skills directory as the server reads it: list, open, read files, search."""

from __future__ import annotations

from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidInput, NotFound, PathEscape
from acontext_mcp.skills import catalog
from acontext_mcp.skills.skillmd import parse_skill_md


def make_skill(
    root: Path, folder: str, front: str, body: str = "", files: dict[str, str] | None = None
) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "SKILL.md").write_text(f"---\n{front}\n---\n{body}")
    for name, content in (files or {}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return path


@pytest.fixture
def skills(tmp_path: Path) -> Path:
    root = tmp_path / "skills"
    make_skill(
        root,
        "pytest-flaky",
        "name: pytest-flaky\ndescription: Fix flaky pytest runs",
        "# Flaky tests\nRun `pytest -p no:randomly` to check ordering.\n",
        {"scripts/rerun.py": "print('rerun')\n"},
    )
    make_skill(
        root,
        "deploy-notes",
        "name: deploy-notes\ndescription: >\n  How this team deploys\n  with fly.io\n"
        "metadata:\n  version: 2\n  tags: [ops, deploy]",
        "Use `fly deploy --strategy rolling`.\n",
    )
    (root / ".git").mkdir()
    (root / "not-a-skill").mkdir()
    return root


def test_an_empty_or_missing_directory_has_no_skills(tmp_path: Path) -> None:
    assert catalog.list_skills(tmp_path / "missing") == []
    (tmp_path / "empty").mkdir()
    assert catalog.list_skills(tmp_path / "empty") == []


def test_list_shows_names_and_one_line_descriptions(skills: Path) -> None:
    listed = catalog.list_skills(skills)
    assert [(s["name"], s["description"]) for s in listed] == [
        ("deploy-notes", "How this team deploys with fly.io"),
        ("pytest-flaky", "Fix flaky pytest runs"),
    ]


def test_broken_front_matter_is_listed_with_its_error(skills: Path) -> None:
    (skills / "broken").mkdir()
    (skills / "broken" / "SKILL.md").write_text("---\nname: [unclosed\n")
    broken = next(s for s in catalog.list_skills(skills) if s["name"] == "broken")
    assert "never closed" in broken["error"]


def test_get_skill_gives_content_and_files(skills: Path) -> None:
    skill = catalog.get_skill(skills, "pytest-flaky")
    assert "pytest -p no:randomly" in skill["content"]
    assert [f["path"] for f in skill["files"]] == ["SKILL.md", "scripts/rerun.py"]


def test_unknown_skill_lists_the_known_ones(skills: Path) -> None:
    with pytest.raises(NotFound, match="deploy-notes, pytest-flaky"):
        catalog.get_skill(skills, "nope")


def test_skill_files_are_confined_to_their_folder(skills: Path) -> None:
    assert catalog.get_skill_file(skills, "pytest-flaky", "scripts/rerun.py")["content"]
    for bad in ("../deploy-notes/SKILL.md", "/etc/passwd/../../x", "a\x00b"):
        with pytest.raises((PathEscape, NotFound)):
            catalog.get_skill_file(skills, "pytest-flaky", bad)
    (skills / "pytest-flaky" / "leak").symlink_to(skills / "deploy-notes" / "SKILL.md")
    with pytest.raises(PathEscape):
        catalog.get_skill_file(skills, "pytest-flaky", "leak")


def test_binary_skill_files_are_refused(skills: Path) -> None:
    (skills / "pytest-flaky" / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    with pytest.raises(InvalidInput, match="binary"):
        catalog.get_skill_file(skills, "pytest-flaky", "logo.png")


def test_front_matter_subset() -> None:
    front, body = parse_skill_md(
        "---\nname: x\ndescription: \"quoted: yes\"\nlist:\n  - a\n  - 'b'\nflag: true\n"
        "text: |\n  line one\n  line two\n---\nbody\n"
    )
    assert front == {
        "name": "x",
        "description": "quoted: yes",
        "list": ["a", "b"],
        "flag": True,
        "text": "line one\nline two\n",
    }
    assert body == "body\n"
