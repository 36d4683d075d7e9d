"""Skill validation against the Agent Skills rules, and the default skills it must accept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acontext_mcp.skills import defaults
from acontext_mcp.skills.catalog import list_skills
from acontext_mcp.skills.validate import validate_skill, validate_text

GOOD = "---\nname: {name}\ndescription: Fix flaky pytest runs; use when tests fail randomly.\n---\n"


def skill(root: Path, folder: str, text: str | None = None, files: dict | None = None) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "SKILL.md").write_text(text if text is not None else GOOD.format(name=folder))
    for rel, content in (files or {}).items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return path


def test_a_well_formed_skill_has_no_problems(tmp_path: Path) -> None:
    folder = skill(tmp_path, "pytest-flaky", files={"scripts/run.py": "print(1)\n", "a.bin": b"\0"})
    assert validate_skill(folder) == []
    assert validate_text("a", "---\nname: a\ndescription: x\nmetadata:\n  v: 1\n---\n") == []


@pytest.mark.parametrize(
    "name",
    ["Pytest", "py_test", "-pytest", "pytest-", "py--test", "a" * 65, "py test", "café"],
)
def test_names_breaking_the_rules_are_reported(name: str) -> None:
    problems = validate_text(name, GOOD.format(name=name))
    assert problems and all("name" in p for p in problems)


def test_the_longest_allowed_name_passes() -> None:
    assert validate_text("a" * 64, GOOD.format(name="a" * 64)) == []


def test_name_must_match_the_folder() -> None:
    problems = validate_text("other", GOOD.format(name="pytest-flaky"))
    assert problems == ["name 'pytest-flaky' must match the folder name 'other'"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("# no front matter\n", "must open with YAML front matter"),
        ("---\nname: a\n", "never closed"),
        ("---\nname: a\n  bad: indent\n---\n", "cannot be parsed"),
        ("---\ndescription: x\n---\n", "non-empty 'name'"),
        ("---\nname: a\n---\n", "non-empty 'description'"),
        ("---\nname: a\ndescription: ''\n---\n", "non-empty 'description'"),
        ("---\nname: a\ndescription:\n  - x\n---\n", "non-empty 'description'"),
        (f"---\nname: a\ndescription: {'x' * 1025}\n---\n", "at most 1024"),
        ("---\nname: a\ndescription: x\nmetadata: 3\n---\n", "metadata"),
        ("---\nname: a\ndescription: x\n---\n" + "line\n" * 500, "under 500"),
    ],
)
def test_bad_skill_md_is_reported(text: str, fragment: str) -> None:
    problems = validate_text("a", text)
    assert any(fragment in p for p in problems), problems


def test_a_body_of_499_lines_and_a_1024_char_description_pass() -> None:
    text = f"---\nname: a\ndescription: {'x' * 1024}\n---\n" + "line\n" * 499
    assert validate_text("a", text) == []


def test_folder_problems(tmp_path: Path) -> None:
    assert "not a folder" in validate_skill(tmp_path / "missing")[0]
    (tmp_path / "empty").mkdir()
    assert validate_skill(tmp_path / "empty") == ["empty has no SKILL.md file"]
    bad = skill(tmp_path, "bad")
    (bad / "SKILL.md").write_bytes(GOOD.format(name="bad").encode("utf-16"))
    assert validate_skill(bad) == ["SKILL.md is not valid UTF-8"]


def test_non_utf8_text_files_and_every_symlink_are_reported(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    folder = skill(tmp_path, "s", files={"notes/latin.md": "café".encode("latin-1")})
    os.symlink(tmp_path / "secret.txt", folder / "link.md")
    os.symlink(tmp_path, folder / "notes" / "up")
    os.symlink(folder / "SKILL.md", folder / "inside.md")  # inside too: never followed
    problems = validate_skill(folder)
    link = "is a symlink; skills hold real files only (links are never followed nor synced): "
    assert sorted(problems) == [
        f"inside.md {link}replace it with the file itself",
        f"link.md {link}replace it with the file itself",
        "notes/latin.md is not valid UTF-8 text",
        f"notes/up {link}replace it with the file itself",
    ]


def test_a_skill_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    real = skill(tmp_path / "elsewhere", "s")
    (tmp_path / "skills").mkdir()
    os.symlink(real, tmp_path / "skills" / "s")
    assert "symlink" in validate_skill(tmp_path / "skills" / "s")[0]


def test_default_skills_are_created_once_and_valid(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    created = defaults.ensure_default_skills(root)
    assert created == ["daily-logs", "user-general-facts", "project-runbooks"]
    for name in created:
        assert validate_skill(root / name) == [], name
    assert [s["name"] for s in list_skills(root)] == sorted(created)
    assert defaults.ensure_default_skills(root) == []
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_default_skills_never_overwrite_an_existing_folder(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    mine = skill(root, "daily-logs", "---\nname: daily-logs\ndescription: mine\n---\nMy rules\n")
    (root / "project-runbooks").mkdir()  # even an empty folder is left alone
    assert defaults.ensure_default_skills(root) == ["user-general-facts"]
    assert "My rules" in (mine / "SKILL.md").read_text()
    assert list((root / "project-runbooks").iterdir()) == []


def test_default_skill_bodies_describe_their_file_layout() -> None:
    assert "logs/yyyy-mm.md" in defaults.DAILY_LOGS and "## yyyy-mm-dd" in defaults.DAILY_LOGS
    assert "logs/2026-12.md" in defaults.DAILY_LOGS
    assert "[topic].md" in defaults.USER_GENERAL_FACTS
    assert "projects/<project>.md" in defaults.PROJECT_RUNBOOKS
    for text in defaults.DEFAULT_SKILLS.values():
        assert "## File Structure" in text and "## Guidelines" in text


# What should make Claude Code pick each default skill: the work its facts matter for.
DEFAULT_TRIGGERS = {
    "daily-logs": ["yesterday", "last week", "where did we stop", "continue", "finished task"],
    "user-general-facts": [
        "installing a package", "dependency", "formatting", "linting", "running tests",
        "choosing a library, tool or command", "uv or pip", "ruff", "prefer",
    ],
    "project-runbooks": [
        "install dependencies", "build", "run the tests", "single test", "deploy", "fails",
        "error", "flaky",
    ],
}  # fmt: skip


def test_default_descriptions_name_what_should_trigger_them_within_the_limits() -> None:
    from acontext_mcp.skills.skillmd import parse_skill_md

    assert set(DEFAULT_TRIGGERS) == set(defaults.DEFAULT_SKILLS)
    for name, text in defaults.DEFAULT_SKILLS.items():
        assert validate_text(name, text) == []
        front, _ = parse_skill_md(text)
        description = front["description"]
        assert len(name) <= 64 and 200 <= len(description) <= 1024, name
        missing = [w for w in DEFAULT_TRIGGERS[name] if w not in description]
        assert missing == [], f"{name}'s description does not name {missing}"
        assert "user memory" not in description  # no longer the only trigger


def test_an_untouched_earlier_default_is_recognised_and_an_edited_one_is_not(
    tmp_path: Path,
) -> None:
    import hashlib

    root = tmp_path / "skills"
    defaults.ensure_default_skills(root)
    assert defaults.outdated_defaults(root) == []  # this release's text
    fixture = Path(__file__).parent / "fixtures" / "defaults" / "daily-logs-SKILL-0.1.md"
    earlier = fixture.read_text(encoding="utf-8")  # as release 0.1 wrote it
    assert hashlib.sha256(earlier.encode()).hexdigest() in defaults.PREVIOUS_TEXTS["daily-logs"]
    (root / "daily-logs" / "SKILL.md").write_text(earlier)
    assert defaults.outdated_defaults(root) == ["daily-logs"]
    (root / "daily-logs" / "SKILL.md").write_text(earlier + "- My own rule.\n")
    assert defaults.outdated_defaults(root) == []


def test_plain_description_continued_on_indented_lines_is_one_string() -> None:
    """YAML folds a plain scalar continued on more-indented lines; models write it often."""
    text = "---\nname: a\ndescription: Builds wheels; use when\n  packaging Python.\n---\nbody\n"
    assert validate_text("a", text) == []
    from acontext_mcp.skills.skillmd import parse_skill_md

    assert parse_skill_md(text)[0]["description"] == "Builds wheels; use when packaging Python."
