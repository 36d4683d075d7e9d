"""`acontext-mcp skills ...` as a user runs it: a real git repository, real files, a temp HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "acontext-mcp"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    (tmp_path / "claude").mkdir()  # Claude Code is installed: `skills sync` copies there
    return {
        **os.environ,
        "HOME": str(tmp_path / "user"),
        "ACONTEXT_HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "OPENCLAW_STATE_DIR": str(tmp_path / "no-openclaw"),
        "GIT_CONFIG_GLOBAL": str(empty),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def skills(env: dict[str, str], *args: str, code: int = 0) -> str:
    done = subprocess.run(
        [str(BIN), "skills", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code, done.stderr + done.stdout
    return done.stdout


def test_first_use_creates_a_repository_with_valid_default_skills(env, tmp_path):
    out = skills(env, "init")
    assert "daily-logs" in out and "project-runbooks" in out
    assert (tmp_path / "home" / "skills" / ".git").is_dir()
    names = [s["name"] for s in json.loads(skills(env, "list", "--json"))]
    assert names == ["daily-logs", "project-runbooks", "user-general-facts"]
    assert "every skill is valid" in skills(env, "validate")
    log = json.loads(skills(env, "log", "--json"))
    assert len(log) == 1 and log[0]["kind"] == "learning"
    assert "nothing new" in skills(env, "init")  # idempotent


def test_search_diff_revert_and_user_edits(env, tmp_path):
    skills(env, "init")
    hits = json.loads(skills(env, "search", "deploy traps", "--json"))
    assert hits and hits[0]["name"] == "project-runbooks"
    root = tmp_path / "home" / "skills"
    runbook = root / "project-runbooks" / "SKILL.md"
    runbook.write_text(runbook.read_text() + "\nUse `make ship` to deploy.\n")
    assert "make ship" in skills(env, "diff")
    assert json.loads(skills(env, "search", "ship", "--json"))[0]["name"] == "project-runbooks"
    first = json.loads(skills(env, "log", "--json"))[-1]["sha"]
    # Undoing the defaults would drop the user's line: refused, nothing changed.
    skills(env, "revert", first, code=1)
    assert "make ship" in runbook.read_text()
    kinds = [e["kind"] for e in json.loads(skills(env, "log", "--json"))]
    assert kinds == ["user-edits", "learning"]  # the edit was kept as the user's first
    runbook.write_text(runbook.read_text().replace("\nUse `make ship` to deploy.\n", ""))
    skills(env, "revert", first)
    kinds = [e["kind"] for e in json.loads(skills(env, "log", "--json"))]
    assert kinds == ["revert", "user-edits", "user-edits", "learning"]
    assert not (root / "daily-logs").exists()


def test_sync_writes_into_claude_code_and_reports_clashes(env, tmp_path):
    foreign = tmp_path / "claude" / "skills" / "daily-logs"
    foreign.mkdir(parents=True)
    (foreign / "SKILL.md").write_text("---\nname: daily-logs\ndescription: mine\n---\n")
    out = skills(env, "sync")
    assert "clash" in out
    assert (tmp_path / "claude" / "skills" / "project-runbooks" / "SKILL.md").is_file()
    assert (foreign / "SKILL.md").read_text().endswith("description: mine\n---\n")


def test_pull_without_a_remote_says_how_to_add_one(env):
    done = subprocess.run(
        [str(BIN), "skills", "pull"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "remote" in done.stderr


def test_validate_names_a_skill_whose_name_does_not_match_its_folder(env, tmp_path):
    skills(env, "init")
    odd = tmp_path / "home" / "skills" / "odd-folder"
    odd.mkdir()
    (odd / "SKILL.md").write_text("---\nname: other-name\ndescription: Does things.\n---\n")
    out = skills(env, "validate", code=1)
    assert "other-name" in out and "folder" in out


def test_unsync_takes_back_our_unchanged_copies_only(env, tmp_path):
    target = tmp_path / "claude" / "skills"
    foreign = target / "my-own-skill"
    foreign.mkdir(parents=True)
    (foreign / "SKILL.md").write_text("---\nname: my-own-skill\ndescription: mine\n---\n")
    skills(env, "sync")
    assert sorted(p.name for p in target.iterdir()) == [
        "daily-logs",
        "my-own-skill",
        "project-runbooks",
        "user-general-facts",
    ]
    edited = target / "daily-logs" / "SKILL.md"
    edited.write_text(edited.read_text() + "\nMy note.\n")  # the user edited our copy

    reports = json.loads(skills(env, "unsync", "--json"))

    assert sorted(p.name for p in target.iterdir()) == ["daily-logs", "my-own-skill"]
    assert edited.read_text().endswith("My note.\n") and (foreign / "SKILL.md").is_file()
    (report,) = reports
    assert sorted(report["removed"]) == ["project-runbooks", "user-general-facts"]
    assert report["modified_by_user"] == ["daily-logs"]
    assert (tmp_path / "home" / "skills" / "project-runbooks").is_dir()  # the source stays
    assert "nothing was synced" in skills(
        {**env, "ACONTEXT_HOME": str(tmp_path / "other")}, "unsync"
    )
    assert not (tmp_path / "other" / "skills" / ".git").exists()


def test_revert_records_its_change_in_the_search_index(env, tmp_path):
    """A running server re-reads nothing for our own writes: the CLI updated the index."""
    from acontext_mcp.config import Settings
    from acontext_mcp.skills import index

    skills(env, "init")
    settings = Settings(home=tmp_path / "home", skills_dir=tmp_path / "home" / "skills")
    assert "daily-logs" in {h["name"] for h in json.loads(skills(env, "search", "daily", "--json"))}
    first = json.loads(skills(env, "log", "--json"))[-1]["sha"]
    skills(env, "revert", first)
    assert "daily-logs" not in {h["name"] for h in index.search(settings, "daily")}
