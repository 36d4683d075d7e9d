"""Nothing secret is learned: the learner's tools and `apply()` refuse secrets, and skill
sync and doctor leave out a skill file holding one. Real git skills repositories, real
folders; the secrets are drawn at run time (the repository holds none)."""

from __future__ import annotations

import logging
import random
import string
import subprocess
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.learn import workspace as ws_mod
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.setup.doctor_learning import check_learning
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.skills import repo
from acontext_mcp.skills import sync as sync_mod
from acontext_mcp.skills.sync import file_secrets as real_file_secrets
from acontext_mcp.skills.sync import secret_files, sync_skills

_RNG = random.Random(1205)
AWS = "".join(_RNG.choice(string.ascii_letters + string.digits + "/+") for _ in range(37)) + "Q7k"
GITHUB = "ghp_" + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(36))
SKILL_MD = "---\nname: deploy\ndescription: Use when deploying.\n---\n\n# Deploy\n\n- run make\n"


@pytest.fixture(autouse=True)
def _git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "gitconfig"
    cfg.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    skills = tmp_path / "skills"
    repo.ensure_repo(skills).close()
    (skills / "deploy").mkdir()
    (skills / "deploy" / "SKILL.md").write_text(SKILL_MD)
    assert repo.commit_learning(skills, "Seed", session_id="s0", task_id=None, paths=["deploy"])
    return skills


def _history(root: Path) -> str:
    return subprocess.run(
        ["git", "log", "-p", "--all"], cwd=root, capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("tool", "arguments", "where"),
    [
        (
            "create_skill",
            {
                "skill_md_content": "---\nname: aws\ndescription: Keys are "
                f"AWS_SECRET_ACCESS_KEY={AWS}\n---\n\n# AWS\n"
            },
            "the new SKILL.md",
        ),
        (
            "create_skill_file",
            {
                "skill_name": "deploy",
                "file_path": "notes.md",
                "content": f"my aws secret key is {AWS}\n",
            },
            "the content of deploy/notes.md",
        ),
        (
            "create_skill_file",
            {"skill_name": "deploy", "file_path": f"{GITHUB}.md", "content": "notes\n"},
            "file_path",
        ),
        (
            "str_replace_skill_file",
            {
                "skill_name": "deploy",
                "file_path": "SKILL.md",
                "old_string": "- run make\n",
                "new_string": f"- run make\n- push with token {GITHUB}\n",
            },
            "new_string",
        ),
    ],
)
def test_a_tool_refuses_an_edit_holding_a_secret_and_never_echoes_it(
    root: Path, caplog: pytest.LogCaptureFixture, tool: str, arguments: dict, where: str
) -> None:
    ws = SkillWorkspace(root)
    with caplog.at_level(logging.WARNING, logger="acontext.learn"):
        result = ws.call(tool, arguments)
    assert not result.ok
    text = result.wire_text()
    assert text.startswith(f"Error: {where} holds what looks like a secret (")
    assert "placeholder" in text and "Nothing was changed" in text
    assert AWS not in text and GITHUB not in text
    assert ws.changes() == {} and ws.created == []
    assert sum(ws.secrets_refused.values()) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "learner edit refused" in logged and AWS not in logged and GITHUB not in logged


def test_a_move_to_a_secret_file_name_is_refused(root: Path) -> None:
    ws = SkillWorkspace(root)
    assert ws.call(
        "create_skill_file", {"skill_name": "deploy", "file_path": "a.md", "content": "x\n"}
    ).ok
    moved = ws.call(
        "mv_skill_file",
        {"skill_name": "deploy", "source_path": "a.md", "destination_path": f"{GITHUB}.md"},
    )
    assert not moved.ok and "github_token" in moved.wire_text()
    assert GITHUB not in moved.wire_text()
    assert list(ws.changes()) == ["deploy/a.md"]


def test_a_placeholder_is_accepted(root: Path) -> None:
    ws = SkillWorkspace(root)
    result = ws.call(
        "create_skill_file",
        {
            "skill_name": "deploy",
            "file_path": "aws.md",
            "content": "Export AWS_SECRET_ACCESS_KEY=<AWS_SECRET_ACCESS_KEY> from the vault;\n"
            "the api key is read from $OPENAI_API_KEY.\n",
        },
    )
    assert result.ok, result.wire_text()
    assert ws.apply("Learn aws", session_ids=["s1"], task_ids=[1]).sha


def test_apply_refuses_what_got_past_the_tools(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = SkillWorkspace(root)
    with monkeypatch.context() as patched:  # a tool that missed it
        patched.setattr(ws_mod, "secret_kinds", lambda text: [])
        assert ws.call(
            "create_skill_file",
            {"skill_name": "deploy", "file_path": "n.md", "content": f"key: {GITHUB}\n"},
        ).ok
    head = _history(root)
    with pytest.raises(InvalidInput) as caught:
        ws.apply("Learn deploy", session_ids=["s1"], task_ids=[1])
    assert "deploy/n.md (github_token)" in str(caught.value) and GITHUB not in str(caught.value)
    assert not (root / "deploy" / "n.md").exists()
    assert _history(root) == head  # nothing committed


def test_apply_refuses_a_secret_in_the_commit_message(root: Path) -> None:
    ws = SkillWorkspace(root)
    ws.call("create_skill_file", {"skill_name": "deploy", "file_path": "n.md", "content": "x\n"})
    with pytest.raises(InvalidInput, match="the commit message \\(aws_secret_key\\)"):
        ws.apply(f"Learned: my aws secret key is {AWS}", session_ids=["s1"], task_ids=[1])
    assert AWS not in _history(root) and not (root / "deploy" / "n.md").exists()


def test_a_secret_the_user_wrote_before_does_not_block_an_unrelated_edit(root: Path) -> None:
    (root / "deploy" / "notes.md").write_text(f"token {GITHUB}\n\n- one\n")
    repo.protect_user_edits(root)  # the user's own commit, as before every learner run
    ws = SkillWorkspace(root)
    done = ws.call(
        "str_replace_skill_file",
        {"skill_name": "deploy", "file_path": "notes.md", "old_string": "- one\n",
         "new_string": "- one\n- two\n"},
    )  # fmt: skip
    assert done.ok, done.wire_text()
    assert ws.apply("Learn two", session_ids=["s1"], task_ids=[1]).sha


# --- sync and doctor ------------------------------------------------------------------------


def _skill(root: Path, name: str, **files: str) -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Use for {name}.\n---\n")
    for rel, text in files.items():
        (folder / rel).write_text(text)


def test_sync_leaves_out_a_skill_holding_a_secret_and_keeps_its_previous_copy(
    tmp_path: Path,
) -> None:
    source, target, manifest = tmp_path / "src", tmp_path / "agent", tmp_path / "m.json"
    _skill(source, "deploy", **{"notes.md": "- run make\n"})
    _skill(source, "clean", **{"notes.md": "- nothing secret here\n"})
    first = sync_skills(source, target, manifest_path=manifest)
    assert sorted(first.written) == ["clean", "deploy"] and not first.skipped

    # The user pastes a key into a skill by hand (or a pull brings one in).
    (source / "deploy" / "notes.md").write_text(f"- run make\n- my aws secret key is {AWS}\n")
    _skill(source, "fresh", **{f"{GITHUB}.md": "file named after a token\n"})
    report = sync_skills(source, target, manifest_path=manifest)
    assert report.written == [] and report.updated == [] and report.unchanged == ["clean"]
    assert len(report.skipped) == 2, report.skipped
    reasons = "\n".join(report.skipped)
    assert "deploy: notes.md holds what looks like a secret (aws_secret_key)" in reasons
    assert "fresh: [REDACTED:github_token].md holds what looks like a secret" in reasons
    assert AWS not in reasons and GITHUB not in reasons
    assert (target / "deploy" / "notes.md").read_text() == "- run make\n"  # previous copy
    assert not (target / "fresh").exists()
    copied = "\n".join(p.read_text() for p in target.rglob("*") if p.is_file())
    assert AWS not in copied and GITHUB not in copied

    again = sync_skills(source, target, manifest_path=manifest)  # the fast path says it again
    assert sorted(again.skipped) == sorted(report.skipped)


def test_doctor_names_skill_files_holding_a_secret(settings: Settings) -> None:
    root = settings.skills_dir
    repo.ensure_repo(root).close()
    _skill(root, "deploy", **{"notes.md": f"password: {AWS}\n"})
    found = secret_files(root)
    assert len(found) == 1 and found[0].startswith("deploy: notes.md holds")
    report = Report()
    check_learning(report, settings)
    warned = [c for c in report.checks if c.status == "warn" and "secret" in c.summary]
    assert len(warned) == 1, report.checks
    assert "deploy: notes.md" in warned[0].summary and AWS not in warned[0].summary
    assert "skills sync" in (warned[0].fix or "")


def test_sync_scans_only_what_changed_and_everything_after_a_redactor_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, manifest = tmp_path / "src", tmp_path / "agent", tmp_path / "m.json"
    _skill(source, "deploy", **{"notes.md": "- run make\n"})
    _skill(source, "leaky", **{"notes.md": f"- my aws secret key is {AWS}\n"})
    # An older redactor that missed this kind copied `leaky` into the agent's folder.
    with monkeypatch.context() as older:
        older.setattr(sync_mod, "scanner_version", lambda: "older")
        older.setattr(sync_mod, "file_secrets", lambda rel, data: [])
        first = sync_skills(source, target, manifest_path=manifest)
    assert sorted(first.written) == ["deploy", "leaky"]

    scanned: list[str] = []

    def counting(rel: str, data: bytes) -> list[str]:
        scanned.append(rel)
        return real_file_secrets(rel, data)

    monkeypatch.setattr(sync_mod, "file_secrets", counting)  # the current redactor, counted
    upgraded = sync_skills(source, target, manifest_path=manifest)
    # every source file once (leaky stops at its secret), then leaky's copy in the target
    assert sorted(scanned) == ["SKILL.md"] * 3 + ["notes.md"] * 3
    assert upgraded.removed == ["leaky"] and upgraded.unchanged == ["deploy"]
    assert not (target / "leaky").exists()  # our copy held the secret: taken back
    assert "leaky: notes.md holds what looks like a secret (aws_secret_key)" in upgraded.skipped[0]

    # Later full syncs scan only files that differ from the copies scanned last time.
    scanned.clear()
    (source / "deploy" / "notes.md").write_text("- run make\n- then make check\n")
    later = sync_skills(source, target, manifest_path=manifest)
    assert later.updated == ["deploy"]
    # deploy's changed file; leaky's files (no copy of it was ever scanned clean)
    assert sorted(scanned) == ["SKILL.md", "notes.md", "notes.md"]
