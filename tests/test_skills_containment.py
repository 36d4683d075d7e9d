"""Issue 10: the skills directory is never left through a link, and half-merged skills are
neither synced nor called valid.

Each test plays an attack from the issue against real parts: real files and links in temp
dirs, a real bare git remote, the real `mcp.Client` in-process, the real CLI. A file outside
the skills directory stands for `~/.ssh/id_rsa`; no answer may contain what it holds.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import Client
from test_cli_skills import BIN, env, skills  # noqa: F401 - the CLI fixture and runner
from test_skills_repo import _git_config, _remote_and_two_clones, git, learn, skill  # noqa: F401

from acontext_mcp.capture.brief import build_brief
from acontext_mcp.config import Settings
from acontext_mcp.errors import NotFound, PathEscape
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.server import build_server
from acontext_mcp.skills import catalog, contained, index, repo, sync, validate
from acontext_mcp.skills.defaults import DEFAULT_SKILLS
from acontext_mcp.skills.sync import sync_skills
from acontext_mcp.skills.validate import validate_skill

KEY = "\n".join(["-----BEGIN OPENSSH PRIVATE KEY-----", "SECRET-KEY-MATERIAL", "-----END-----", ""])
SECRETS = ("SECRET-KEY-MATERIAL", "LEAKED-DESCRIPTION", "LEAKED-BODY", "LEAKED-NOTES")
GOOD = "---\nname: good\ndescription: Use when testing containment.\n---\n\nPlain advice.\n"


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _plant(skills_dir: Path, outside: Path) -> Path:
    """A real skill `good` and every kind of link a hostile folder or user could place:
    returns the stand-in for ~/.ssh/id_rsa."""
    key = outside / ".ssh" / "id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text(KEY)
    elsewhere = outside / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "SKILL.md").write_text(
        "---\nname: borrowed\ndescription: LEAKED-DESCRIPTION\n---\nLEAKED-BODY\n"
    )
    (elsewhere / "notes.md").write_text("LEAKED-NOTES\n")
    good = skills_dir / "good"
    (good / "refs").mkdir(parents=True)
    (good / "SKILL.md").write_text(GOOD)
    (good / "refs" / "real.md").write_text("real notes\n")
    (skills_dir / "handy-tool").mkdir()
    (skills_dir / "handy-tool" / "SKILL.md").symlink_to(key)  # the attack
    (skills_dir / "fake-front").mkdir()
    (skills_dir / "fake-front" / "SKILL.md").symlink_to(elsewhere / "SKILL.md")
    (skills_dir / "borrowed").symlink_to(elsewhere, target_is_directory=True)
    (good / "key.md").symlink_to(key)
    (good / "alias.md").symlink_to(good / "refs" / "real.md")  # inside: still not followed
    (good / "linked").symlink_to(elsewhere, target_is_directory=True)
    return key


@pytest.fixture
def planted(settings: Settings, tmp_path: Path) -> Path:
    return _plant(settings.skills_dir, tmp_path / "user")


# --- local links: every reader refuses them ------------------------------------------------


@pytest.mark.anyio
async def test_mcp_skill_tools_never_follow_a_link(settings: Settings, planted: Path) -> None:
    async with Client(build_server(settings)) as client:
        listed = (await client.call_tool("list_skills", {})).structured_content
        names = [s["name"] for s in listed["skills"] if s["name"] not in DEFAULT_SKILLS]
        assert names == ["good"]  # besides the defaults, made on this first use
        good = (await client.call_tool("get_skill", {"name": "good"})).structured_content
        assert [f["path"] for f in good["files"]] == ["SKILL.md", "refs/real.md"]
        answers = [json.dumps(listed), json.dumps(good)]
        for name, args in [
            ("get_skill", {"name": "handy-tool"}),
            ("get_skill", {"name": "fake-front"}),
            ("get_skill", {"name": "borrowed"}),
            ("get_skill_file", {"name": "handy-tool", "path": "SKILL.md"}),
            ("get_skill_file", {"name": "borrowed", "path": "notes.md"}),
            ("get_skill_file", {"name": "good", "path": "key.md"}),
            ("get_skill_file", {"name": "good", "path": "alias.md"}),
            ("get_skill_file", {"name": "good", "path": "linked/notes.md"}),
        ]:
            result = await client.call_tool(name, args)
            assert result.is_error, (name, args, result.structured_content)
            answers.append(result.content[0].text)
        refused = await client.call_tool("get_skill_file", {"name": "good", "path": "key.md"})
        assert "symbolic link" in refused.content[0].text
        for query in ("SECRET KEY MATERIAL", "LEAKED-DESCRIPTION", "LEAKED-NOTES", "OPENSSH"):
            found = await client.call_tool("search_skills", {"query": query})
            results = found.structured_content["results"]  # any word: "key" is in the defaults
            assert {r["name"] for r in results} <= set(DEFAULT_SKILLS), query
            answers.append(json.dumps(results))
        ok = await client.call_tool("get_skill_file", {"name": "good", "path": "refs/real.md"})
        assert ok.structured_content["content"] == "real notes\n"
    assert _leaks("\n".join(answers)) == []


def test_the_brief_lists_only_real_skills(db, settings: Settings, planted: Path) -> None:
    brief = build_brief(db, settings, project_dir=None)
    assert "- good: Use when testing containment." in brief.splitlines()
    assert "handy-tool" not in brief and "borrowed" not in brief
    assert _leaks(brief) == []


def test_sync_copies_no_link_and_no_linked_content(settings: Settings, planted: Path) -> None:
    target = settings.home / "agent-skills"
    report = sync_skills(settings.skills_dir, target, manifest_path=settings.home / "m.json")
    assert report.written == ["good"] and report.ok
    copied = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert copied == {"good/SKILL.md", "good/refs/real.md"}
    assert not any(p.is_symlink() for p in target.rglob("*"))
    assert _leaks("".join(p.read_text() for p in target.rglob("*") if p.is_file())) == []
    skipped = "\n".join(report.skipped)
    for link in ("good/key.md", "good/alias.md", "good/linked", "borrowed"):
        assert link in skipped


def test_validate_reports_every_link_without_reading_it(settings: Settings, planted: Path):
    problems = validate.validate_all(settings.skills_dir)
    assert problems["good"] and all("symlink" in p for p in problems["good"])
    assert {"key.md", "alias.md", "linked"} == {p.split(" ")[0] for p in problems["good"]}
    assert "SKILL.md is a symlink" in problems["handy-tool"][0]
    assert "SKILL.md is a symlink" in problems["fake-front"][0]
    assert "is a symlink" in problems["borrowed"][0]
    assert _leaks(json.dumps(problems)) == []


def test_the_learner_sees_no_linked_skill(settings: Settings, planted: Path) -> None:
    ws = SkillWorkspace(settings.skills_dir)
    answers = [
        ws.list_skills(),
        ws.get_skill("handy-tool"),
        ws.get_skill("borrowed"),
        ws.get_skill_file("good", "key.md"),
        ws.get_skill_file("good", "linked/notes.md"),
    ]
    assert "good" in answers[0] and "handy-tool" not in answers[0]
    assert all(a.startswith("Error: ") for a in answers[1:]), answers
    assert _leaks("\n".join(answers)) == []


# --- a link swapped in after the check: the read itself refuses it -------------------------


def _swap_for_link(path: Path, target: Path) -> None:
    path.unlink() if path.is_file() else path.rename(path.with_name(path.name + ".moved"))
    path.symlink_to(target, target_is_directory=target.is_dir())


def test_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    key = _plant(root, tmp_path / "user")
    (root / "good" / "notes.md").write_text("fine\n")
    assert contained.read_bytes(root, "good/notes.md") == b"fine\n"
    _swap_for_link(root / "good" / "notes.md", key)
    _swap_for_link(root / "good" / "refs", tmp_path / "user" / "elsewhere")
    for rel in ("good/notes.md", "good/refs/notes.md", "handy-tool/SKILL.md", "borrowed/notes.md"):
        with pytest.raises(PathEscape, match="symbolic link"):
            contained.read_bytes(root, rel)
    with pytest.raises(NotFound):
        contained.read_bytes(root, "good/missing.md")
    os.mkfifo(root / "good" / "pipe.md")  # would block a plain open() forever
    with pytest.raises(Exception, match="not a regular file"):
        contained.read_bytes(root, "good/pipe.md")


def test_index_refresh_does_not_read_a_file_swapped_for_a_link(
    settings: Settings, planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = settings.skills_dir / "good" / "refs" / "real.md"
    real_scan = index._scan

    def scan_then_swap(skills_dir: Path):
        found = real_scan(skills_dir)
        _swap_for_link(notes, planted)  # between the listing and the read
        return found

    monkeypatch.setattr(index, "_scan", scan_then_swap)
    index.refresh(settings)
    assert index.search(settings, "SECRET KEY MATERIAL") == []
    assert index.search(settings, "OPENSSH") == []


def test_sync_does_not_copy_a_file_swapped_for_a_link(
    settings: Settings, planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = settings.skills_dir / "good" / "refs" / "real.md"
    real_files = sync._source_files

    def list_then_swap(folder: Path, skipped: list[str]):
        found = real_files(folder, skipped)
        _swap_for_link(notes, planted)
        return found

    monkeypatch.setattr(sync, "_source_files", list_then_swap)
    target = settings.home / "agent-skills"
    report = sync_skills(settings.skills_dir, target, manifest_path=settings.home / "m.json")
    assert "good" not in report.written
    assert any("refs/real.md is a symbolic link" in s for s in report.skipped), report.skipped
    texts = [p.read_text() for p in target.rglob("*") if p.is_file() and not p.is_symlink()]
    assert _leaks("".join(texts)) == []


def test_the_learner_does_not_read_through_a_folder_swapped_for_a_link(
    settings: Settings, planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = SkillWorkspace(settings.skills_dir)
    checked = os.lstat(settings.skills_dir / "good" / "refs" / "real.md")
    _swap_for_link(settings.skills_dir / "good" / "refs", planted.parent.parent / "elsewhere")
    # The path check ran before the swap and passed; the read that follows must still refuse.
    monkeypatch.setattr(ws, "_lstat_chain", lambda rel: checked)
    answer = ws.get_skill_file("good", "refs/notes.md")
    assert answer.startswith("Error: ") and "symbolic link" in answer
    assert _leaks(answer) == []


# --- skills pull: incoming links and submodules are refused --------------------------------


def _commit_link(clone: Path, rel: str, target: Path) -> None:
    (clone / rel).parent.mkdir(parents=True, exist_ok=True)
    (clone / rel).symlink_to(target)
    git(clone, "add", rel)
    git(clone, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-q", "-m", "handy tool")


def test_pull_refuses_a_remote_holding_a_link_and_changes_nothing(tmp_path: Path) -> None:
    key = tmp_path / "user" / ".ssh" / "id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text(KEY)
    _, a, b = _remote_and_two_clones(tmp_path)
    learn(a, "build/SKILL.md", skill("build", "shared"))
    repo.push(a)
    repo.pull(b)
    before, tracking = git(b, "rev-parse", "HEAD"), git(b, "rev-parse", "origin/main")
    _commit_link(a, "handy-tool/SKILL.md", key)
    git(a, "update-index", "--add", "--cacheinfo", f"160000,{tracking},vendor/sub")
    git(a, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-q", "-m", "a submodule")
    git(a, "push", "-q", "origin", "main")

    with pytest.raises(repo.SkillsRepoError) as err:  # before the fix: "ok", link checked out
        repo.pull(b)
    assert type(err.value).__name__ == "UnsafeRemote"
    assert err.value.files == ["handy-tool/SKILL.md (symbolic link)", "vendor/sub (submodule)"]
    assert "Nothing was changed" in str(err.value) and "pull again" in str(err.value)
    assert git(b, "rev-parse", "HEAD") == before
    assert git(b, "rev-parse", "origin/main") == tracking  # the tracking ref is put back
    assert git(b, "status", "--porcelain") == ""
    assert not os.path.lexists(b / "handy-tool") and not os.path.lexists(b / "vendor")
    with pytest.raises(NotFound):
        catalog.get_skill(b, "handy-tool")

    # Once the link is replaced by a real file upstream, the pull goes through.
    git(a, "rm", "-q", "handy-tool/SKILL.md", "vendor/sub")
    (a / "handy-tool").mkdir(exist_ok=True)
    (a / "handy-tool" / "SKILL.md").write_text(skill("handy-tool", "real"))
    git(a, "add", "handy-tool")
    git(a, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-q", "-m", "real file")
    git(a, "push", "-q", "origin", "main")
    assert repo.pull(b)["status"] == "ok"
    assert "real" in catalog.get_skill(b, "handy-tool")["content"]


def test_skills_pull_of_a_linked_id_rsa_is_refused_end_to_end(env, tmp_path: Path) -> None:  # noqa: F811
    """The issue's run: a shared remote commits handy-tool/SKILL.md -> ~/.ssh/id_rsa."""
    key = Path(env["HOME"]) / ".ssh" / "id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text(KEY)
    bare = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    attacker = tmp_path / "attacker"
    subprocess.run(["git", "clone", "-q", str(bare), str(attacker)], check=True, env=env)
    _commit_link(attacker, "handy-tool/SKILL.md", key)
    git(attacker, "push", "-q", "origin", "HEAD:main")

    skills(env, "remote", str(bare))
    done = subprocess.run(
        [str(BIN), "skills", "pull"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pull refused" in done.stderr and "handy-tool/SKILL.md (symbolic link)" in done.stderr
    shown = subprocess.run(
        [str(BIN), "skills", "show", "handy-tool"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode != 0 and _leaks(shown.stdout + shown.stderr) == []
    assert not os.path.lexists(tmp_path / "home" / "skills" / "handy-tool")


# --- a merge left unfinished: neither synced nor valid -------------------------------------


def _conflicted_merge(root: Path, env: dict[str, str]) -> None:  # noqa: F811
    """Leave the skills repository mid-merge with conflict markers in daily-logs/SKILL.md."""
    ident = ["-c", "user.name=u", "-c", "user.email=u@x"]
    md = root / "daily-logs" / "SKILL.md"
    original = md.read_text()

    def run(*args: str, check: bool = True) -> None:
        subprocess.run(["git", *ident, *args], cwd=root, env=env, capture_output=True, check=check)

    run("checkout", "-q", "-b", "theirs")
    md.write_text(original + "\nTheir closing line.\n")
    run("commit", "-q", "-am", "theirs")
    run("checkout", "-q", "main")
    md.write_text(original + "\nOur closing line.\n")
    run("commit", "-q", "-am", "ours")
    run("merge", "theirs", check=False)
    assert (root / ".git" / "MERGE_HEAD").exists() and "<<<<<<<" in md.read_text()


def test_a_mid_merge_repository_is_not_synced_and_not_valid(env, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "home" / "skills"
    copies = tmp_path / "claude" / "skills"
    skills(env, "sync")
    before = (copies / "daily-logs" / "SKILL.md").read_text()
    _conflicted_merge(root, env)

    out = skills(env, "sync", code=1)
    assert "middle of a merge" in out and "git merge --abort" in out
    assert (copies / "daily-logs" / "SKILL.md").read_text() == before  # the copy is kept
    assert not any("<<<<<<<" in p.read_text() for p in copies.rglob("*.md"))

    problems = json.loads(skills(env, "validate", "--json", code=1))
    found = " ".join(problems["daily-logs"])
    assert "conflict markers" in found and "daily-logs/SKILL.md is unmerged" in found
    assert "git merge --abort" in found
    assert "project-runbooks" not in problems


def test_committed_conflict_markers_hold_back_that_skill_only(tmp_path: Path) -> None:
    source, target, manifest = tmp_path / "skills", tmp_path / "agent", tmp_path / "m.json"
    for name in ("alpha", "beta"):
        (source / name).mkdir(parents=True)
        (source / name / "SKILL.md").write_text(GOOD.replace("good", name))
    assert sync_skills(source, target, manifest_path=manifest).written == ["alpha", "beta"]
    marked = GOOD.replace("good", "alpha") + "<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> x\n"
    (source / "alpha" / "SKILL.md").write_text(marked)
    (source / "beta" / "SKILL.md").write_text(GOOD.replace("good", "beta") + "More.\n")
    report = sync_skills(source, target, manifest_path=manifest)
    assert report.updated == ["beta"] and "alpha" not in report.removed
    assert any("alpha: SKILL.md line 7 holds git conflict markers" in s for s in report.skipped)
    assert "<<<<<<<" not in (target / "alpha" / "SKILL.md").read_text()
    assert any("conflict markers" in p for p in validate_skill(source / "alpha"))
    # A setext heading underline alone is not a conflict.
    (source / "beta" / "SKILL.md").write_text(GOOD.replace("good", "beta") + "Title\n=======\n")
    assert validate_skill(source / "beta") == []
