"""Skill sync into agent skill folders: ownership by manifest, atomic placement, recovery."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.setup import manifest_path, path_tag
from acontext_mcp.skills import sync
from acontext_mcp.skills.sync import SyncReport, sync_all, sync_skills, targets


def _skill(root: Path, name: str, body: str = "Do the thing.", **files: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Use when testing {name}.\n---\n{body}\n"
    )
    for rel, text in files.items():
        path = folder / rel.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture
def env(tmp_path: Path) -> tuple[Path, Path, Path]:
    source = tmp_path / "skills"
    target = tmp_path / "claude" / "skills"
    manifest = tmp_path / "home" / "sync" / "t.json"
    source.mkdir()
    return source, target, manifest


def _run(env: tuple[Path, Path, Path]) -> SyncReport:
    source, target, manifest = env
    return sync_skills(source, target, manifest_path=manifest)


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_first_sync_writes_skills_and_manifest_second_is_a_noop(env) -> None:
    source, target, manifest = env
    _skill(source, "alpha", scripts__run_sh="echo hi\n")
    _skill(source, "beta", references__notes_md="notes\n")
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (source / ".index.db").write_bytes(b"sqlite")
    (source / "README.md").write_text("not a skill")
    (source / "no-skill-md").mkdir()
    (source / "alpha" / "scripts" / "run_sh").chmod(0o755)

    first = _run(env)
    assert first.ok, first.summary()
    assert sorted(first.written) == ["alpha", "beta"]
    assert sorted(p.name for p in target.iterdir()) == ["alpha", "beta"]
    assert _tree(target / "alpha") == _tree(source / "alpha")
    assert os.access(target / "alpha" / "scripts" / "run_sh", os.X_OK)
    data = json.loads(manifest.read_text())
    assert data["target"] == str(target)
    assert set(data["skills"]) == {"alpha", "beta"}
    assert set(data["skills"]["alpha"]["files"]) == {"SKILL.md", "scripts/run_sh"}
    assert "2 written" in first.summary()

    second = _run(env)
    assert second.ok
    assert (second.written, second.updated, second.removed) == ([], [], [])
    assert sorted(second.unchanged) == ["alpha", "beta"]


def test_changed_source_updates_target(env) -> None:
    source, target, _ = env
    _skill(source, "alpha")
    _run(env)
    _skill(source, "alpha", body="Do it better.", extra_md="more\n")
    report = _run(env)
    assert report.updated == ["alpha"] and report.ok
    assert _tree(target / "alpha") == _tree(source / "alpha")
    assert not [p for p in target.iterdir() if p.name.startswith(".")]
    assert _run(env).unchanged == ["alpha"]


def test_foreign_folders_are_never_touched_and_a_name_clash_is_reported(env) -> None:
    source, target, manifest = env
    theirs = _skill(target, "alpha", body="The user's own alpha.")
    unrelated = _skill(target, "their-skill", body="Not ours.")
    (target / "loose.txt").write_text("loose")
    before = {p: _tree(p) for p in (theirs, unrelated)}
    _skill(source, "alpha")
    _skill(source, "beta")

    report = _run(env)
    assert report.clashes == ["alpha"]
    assert report.written == ["beta"]
    assert {p: _tree(p) for p in (theirs, unrelated)} == before
    assert (target / "loose.txt").read_text() == "loose"
    assert set(json.loads(manifest.read_text())["skills"]) == {"beta"}
    assert "clash (alpha)" in report.summary()

    # Removing every source skill still leaves the foreign folders alone.
    for name in ("alpha", "beta"):
        shutil.rmtree(source / name)
    report = _run(env)
    assert report.removed == ["beta"]
    assert {p: _tree(p) for p in (theirs, unrelated)} == before


def test_user_edited_copy_is_neither_overwritten_nor_removed(env) -> None:
    source, target, _ = env
    _skill(source, "alpha")
    _run(env)
    edited = target / "alpha" / "SKILL.md"
    edited.write_text(edited.read_text() + "My own note.\n")
    _skill(source, "alpha", body="Learned more.")

    report = _run(env)
    assert report.modified_by_user == ["alpha"]
    assert report.updated == []
    assert "My own note." in edited.read_text()

    shutil.rmtree(source / "alpha")
    report = _run(env)
    assert report.modified_by_user == ["alpha"] and report.removed == []
    assert "My own note." in edited.read_text()


def test_user_added_file_counts_as_an_edit(env) -> None:
    source, target, _ = env
    _skill(source, "alpha")
    _run(env)
    (target / "alpha" / "mine.md").write_text("mine")
    shutil.rmtree(source / "alpha")
    report = _run(env)
    assert report.modified_by_user == ["alpha"]
    assert (target / "alpha" / "mine.md").exists()


def test_removed_source_skill_removes_our_unchanged_copy(env) -> None:
    source, target, manifest = env
    _skill(source, "alpha")
    _skill(source, "beta")
    _run(env)
    shutil.rmtree(source / "beta")
    report = _run(env)
    assert report.removed == ["beta"] and report.unchanged == ["alpha"]
    assert sorted(p.name for p in target.iterdir()) == ["alpha"]
    assert set(json.loads(manifest.read_text())["skills"]) == {"alpha"}


def test_copy_crashing_on_the_second_skill_leaves_no_half_skill_and_next_sync_recovers(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, _ = env
    for name in ("alpha", "beta", "gamma"):
        _skill(source, name, refs__a_md="a\n", refs__b_md="b\n")
    real_copy = sync._copy_skill

    def crashing(name, files, tmp):
        if name == "beta":
            # Write part of the skill, then die as a killed process would.
            tmp.mkdir()
            (tmp / "SKILL.md").write_text("half")
            raise RuntimeError("killed")
        return real_copy(name, files, tmp)

    monkeypatch.setattr(sync, "_copy_skill", crashing)
    with pytest.raises(RuntimeError):
        _run(env)
    names = sorted(p.name for p in target.iterdir())
    assert names == ["alpha"]
    assert _tree(target / "alpha") == _tree(source / "alpha")

    monkeypatch.setattr(sync, "_copy_skill", real_copy)
    report = _run(env)
    assert report.ok, report.summary()
    assert report.unchanged == ["alpha"] and report.written == ["beta", "gamma"]
    assert sorted(p.name for p in target.iterdir()) == ["alpha", "beta", "gamma"]
    for name in ("alpha", "beta", "gamma"):
        assert _tree(target / name) == _tree(source / name)


def test_killed_sync_leftovers_are_cleaned_and_an_interrupted_replace_is_completed(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, manifest = env
    _skill(source, "alpha")
    _skill(source, "beta")
    _run(env)
    _skill(source, "alpha", body="Version two.")
    _skill(source, "beta", body="Version two.")

    # A process killed mid-copy leaves a temp folder; one killed between the two renames of a
    # replace leaves the skill moved away.
    stale = target / ".beta.acontext-tmp-99999"
    stale.mkdir()
    (stale / "SKILL.md").write_text("half")
    real_place = sync._place

    def killed_between_renames(target_dir, name, tmp, replace):
        if name == "alpha":
            os.rename(target_dir / name, target_dir / f".{name}.acontext-old-4242")
            raise KeyboardInterrupt
        return real_place(target_dir, name, tmp, replace)

    monkeypatch.setattr(sync, "_place", killed_between_renames)
    with pytest.raises(KeyboardInterrupt):
        _run(env)
    monkeypatch.setattr(sync, "_place", real_place)
    assert not (target / "alpha").exists()

    report = _run(env)
    assert report.ok, report.summary()
    assert report.modified_by_user == [] and report.clashes == []
    assert sorted(report.updated) == ["alpha", "beta"]
    assert sorted(p.name for p in target.iterdir()) == ["alpha", "beta"]
    for name in ("alpha", "beta"):
        assert "Version two." in (target / name / "SKILL.md").read_text()
    entry = json.loads(manifest.read_text())["skills"]["alpha"]
    assert "previous" not in entry


def test_crash_after_rename_before_final_manifest_is_still_ours(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, _ = env
    _skill(source, "alpha")
    real_save = sync._save_manifest
    calls = {"n": 0}

    def save_then_die(path, manifest):
        calls["n"] += 1
        if calls["n"] == 2:  # the final save, after alpha was placed
            raise KeyboardInterrupt
        real_save(path, manifest)

    monkeypatch.setattr(sync, "_save_manifest", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        _run(env)
    monkeypatch.setattr(sync, "_save_manifest", real_save)
    assert (target / "alpha" / "SKILL.md").is_file()
    report = _run(env)
    assert report.unchanged == ["alpha"] and report.clashes == []


def test_no_symlink_is_followed_inside_or_out(env, tmp_path: Path) -> None:
    source, target, _ = env
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    outside_dir = tmp_path / "outside"
    _skill(tmp_path, "outside")
    folder = _skill(source, "alpha", **{"inner.md": "inner\n"})
    (folder / "leak.txt").symlink_to(secret)
    (folder / "alias.md").symlink_to(folder / "inner.md")
    (folder / "linked-dir").symlink_to(outside_dir, target_is_directory=True)
    (source / "linked-skill").symlink_to(outside_dir, target_is_directory=True)

    report = _run(env)
    assert report.written == ["alpha"]
    assert not (target / "alpha" / "leak.txt").exists()
    assert not (target / "alpha" / "linked-dir").exists()
    assert not (target / "linked-skill").exists()
    # A link inside the skill is not copied either: it could be swapped for one leading out.
    assert not os.path.lexists(target / "alpha" / "alias.md")
    assert (target / "alpha" / "inner.md").read_text() == "inner\n"
    skipped = "\n".join(report.skipped)
    assert "alpha/leak.txt" in skipped and "alpha/linked-dir" in skipped
    assert "alpha/alias.md: symlink, not followed" in skipped
    assert "linked-skill" in skipped
    assert "password" not in json.dumps(_tree(target))


def test_overlapping_source_and_target_are_refused(tmp_path: Path) -> None:
    _skill(tmp_path / "skills", "alpha")
    report = sync_skills(
        tmp_path / "skills", tmp_path / "skills", manifest_path=tmp_path / "m.json"
    )
    assert report.errors and not report.written


def test_manifest_of_another_target_is_refused(env, tmp_path: Path) -> None:
    source, _, manifest = env
    _skill(source, "alpha")
    _run(env)
    report = sync_skills(source, tmp_path / "elsewhere", manifest_path=manifest)
    assert report.errors and not report.written


def test_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "acontext"
    home.mkdir()
    settings = Settings(home=home, skills_dir=home / "skills")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "openclaw"))

    assert targets(settings) == []  # neither agent is here: no folder of theirs is made

    (tmp_path / "claude-config").mkdir()  # Claude Code has run here
    only = targets(settings)
    assert [(t.agent, t.scope, t.skills_dir) for t in only] == [
        ("claude-code", "user", tmp_path / "claude-config" / "skills")
    ]
    assert only[0].manifest_path.parent == home / "sync"

    (tmp_path / "openclaw").mkdir()
    proj_a, proj_b = tmp_path / "a", tmp_path / "b"
    proj_a.mkdir()
    proj_b.mkdir()
    (home / "config.json").write_text(
        json.dumps({"sync": {"claude_code_project_dirs": [str(proj_b), str(proj_a)]}})
    )
    found = targets(settings, project_dir=proj_a)
    assert [(t.agent, t.scope, t.skills_dir) for t in found] == [
        ("claude-code", "user", tmp_path / "claude-config" / "skills"),
        ("claude-code", "project", proj_a / ".claude" / "skills"),
        ("claude-code", "project", proj_b / ".claude" / "skills"),
        ("openclaw", "shared", tmp_path / "openclaw" / "skills"),
    ]
    assert len({t.manifest_path for t in found}) == 4

    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    (tmp_path / "user" / ".claude").mkdir(parents=True)
    (home / "config.json").write_text("{broken")
    assert [t.skills_dir for t in targets(settings)] == [
        tmp_path / "user" / ".claude" / "skills",
        tmp_path / "openclaw" / "skills",
    ]


@pytest.mark.parametrize("agent", ["claude-code", "openclaw"])
def test_sync_writes_only_into_the_agents_that_are_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agent: str
) -> None:
    """One agent installed (its folder, or only `install`'s record): the other gets nothing."""
    home = tmp_path / "acontext"
    settings = Settings(home=home, skills_dir=home / "skills")
    _skill(settings.skills_dir, "alpha")
    claude, openclaw = tmp_path / "claude-config", tmp_path / "openclaw-state"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(openclaw))
    here, absent = (claude, openclaw) if agent == "claude-code" else (openclaw, claude)

    here.mkdir()
    reports = sync_all(settings)
    assert [r.target for r in reports] == [here / "skills"]
    assert (here / "skills" / "alpha" / "SKILL.md").is_file()
    assert not absent.exists()

    shutil.rmtree(here)  # the folder is gone, but `install` recorded the agent
    name = "claude-code-user" if agent == "claude-code" else f"openclaw-{path_tag(openclaw)}"
    record = manifest_path(home, name)
    record.parent.mkdir()
    record.write_text("{}")
    assert [r.target for r in sync_all(settings)] == [here / "skills"]
    assert (here / "skills" / "alpha" / "SKILL.md").is_file()
    assert not absent.exists()


def test_sync_all_fills_every_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "acontext"
    settings = Settings(home=home, skills_dir=home / "skills")
    _skill(settings.skills_dir, "alpha")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "openclaw"))
    (tmp_path / "claude").mkdir()
    (tmp_path / "openclaw").mkdir()
    reports = sync.sync_all(settings)
    assert [r.written for r in reports] == [["alpha"], ["alpha"]]
    assert (tmp_path / "claude" / "skills" / "alpha" / "SKILL.md").is_file()
    assert (tmp_path / "openclaw" / "skills" / "alpha" / "SKILL.md").is_file()


def test_folder_appearing_during_the_copy_is_not_claimed(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, manifest = env
    _skill(source, "alpha")
    real_copy = sync._copy_skill

    def racing(name, files, tmp):
        hashes = real_copy(name, files, tmp)
        _skill(target, name, body="The user's, created meanwhile.")
        return hashes

    monkeypatch.setattr(sync, "_copy_skill", racing)
    report = _run(env)
    assert report.errors and report.written == []
    assert "created meanwhile" in (target / "alpha" / "SKILL.md").read_text()
    assert json.loads(manifest.read_text())["skills"] == {}
    monkeypatch.setattr(sync, "_copy_skill", real_copy)
    assert _run(env).clashes == ["alpha"]


def test_sync_digests_are_hashlibs(tmp_path: Path) -> None:
    """sync hashes with the interpreter's builtin sha256 (no OpenSSL to load while
    SessionStart waits): the digests, and so manifests and their names, are hashlib's."""
    import hashlib

    data = b"skill text\n" * 1000
    (tmp_path / "f").write_bytes(data)
    assert sync._hash_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()
    settings = Settings(home=tmp_path, skills_dir=tmp_path / "skills")
    key = str(tmp_path / "target").encode()
    name = hashlib.sha256(key).hexdigest()[:16] + ".json"
    assert sync.manifest_path_for(settings, tmp_path / "target") == tmp_path / "sync" / name
