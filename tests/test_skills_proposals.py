"""Skill proposals in a real git repository: made without touching main or the working tree,
stale when main changes their files, accepted with a 3-way merge or refused, rejected with a
reason, counted for the SessionStart brief without a git process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from acontext_mcp.capture.brief import build_brief
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.skills import proposal_refs, proposals, repo
from acontext_mcp.skills.sync import sync_skills

SKILL = """\
---
name: deploy
description: How this user deploys; use when shipping a release.
---

# Deploy

- step one
- step two
- step three
- step four
- step five
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def skills(tmp_path: Path) -> Path:
    root = tmp_path / "skills"
    repo.ensure_repo(root).close()
    (root / "deploy").mkdir()
    (root / "deploy" / "SKILL.md").write_text(SKILL)
    (root / "deploy" / "notes.md").write_text("old notes\n")
    repo.protect_user_edits(root)
    return root


def propose(root: Path, files: dict[str, str | None], message: str = "Learn deploy") -> str:
    parent, _ = proposals.head_files(root, list(files))
    made = proposals.create(
        root, message, files, parent=parent, session_ids=["s1", "s2"], task_ids=["7"]
    )
    return made.id


def commit_on_main(root: Path, rel: str, text: str) -> str:
    (root / rel).write_text(text)
    sha = repo.protect_user_edits(root)
    assert sha
    return sha


def test_a_proposal_is_a_branch_commit_that_leaves_main_and_the_tree_alone(skills: Path) -> None:
    before = git(skills, "rev-parse", "HEAD").strip()
    new_skill = SKILL.replace("step one", "step one (run the tests first)")

    pid = propose(skills, {"deploy/SKILL.md": new_skill, "deploy/notes.md": None})

    assert git(skills, "rev-parse", "HEAD").strip() == before
    assert git(skills, "status", "--porcelain", "--untracked-files=all") == ""
    assert (skills / "deploy" / "SKILL.md").read_text() == SKILL
    assert (skills / "deploy" / "notes.md").exists()
    branch = git(skills, "rev-parse", f"refs/heads/proposals/{pid}").strip()
    assert branch.startswith(pid)
    assert git(skills, "rev-parse", f"{branch}^").strip() == before
    message = git(skills, "log", "-1", "--format=%B", branch)
    assert "Acontext-Kind: learning" in message
    assert "Acontext-Session: s1\nAcontext-Session: s2\nAcontext-Task: 7" in message
    base_blob = git(skills, "rev-parse", "HEAD:deploy/SKILL.md").strip()
    assert f"Acontext-Base: {base_blob} deploy/SKILL.md" in message
    [found] = proposals.list_proposals(skills)
    assert (found.id, found.state, found.subject) == (pid, "pending", "Learn deploy")
    assert found.skills == ["deploy"] and found.files == ["deploy/SKILL.md", "deploy/notes.md"]
    assert found.session_ids == ["s1", "s2"] and found.task_ids == ["7"]
    assert proposals.proposal_files(skills, pid) == {
        "deploy/SKILL.md": new_skill,
        "deploy/notes.md": None,
    }
    diff = proposals.proposal_diff(skills, pid)
    assert "+- step one (run the tests first)" in diff and "deleted file mode" in diff


def test_sync_copies_main_only_never_a_pending_proposal(skills: Path, tmp_path: Path) -> None:
    pid = propose(skills, {"deploy/SKILL.md": SKILL.replace("step two", "PROPOSED STEP")})
    new = "---\nname: brand-new\ndescription: A skill only the proposal has.\n---\n\nBody.\n"
    other = propose(skills, {"brand-new/SKILL.md": new})
    target = tmp_path / "agent-skills"

    sync_skills(skills, target, manifest_path=tmp_path / "manifest.json")

    assert (target / "deploy" / "SKILL.md").read_text() == SKILL
    assert not (target / "brand-new").exists()
    proposals.accept(skills, pid)
    proposals.accept(skills, other)
    sync_skills(skills, target, manifest_path=tmp_path / "manifest.json")
    assert "PROPOSED STEP" in (target / "deploy" / "SKILL.md").read_text()
    assert (target / "brand-new" / "SKILL.md").read_text() == new


def test_accept_commits_onto_main_with_provenance_and_moves_the_ref(skills: Path) -> None:
    pid = propose(skills, {"deploy/notes.md": "new notes\n"})

    sha = proposals.accept(skills, pid[:6])  # a unique prefix is enough

    assert git(skills, "rev-parse", "HEAD").strip() == sha
    assert (skills / "deploy" / "notes.md").read_text() == "new notes\n"
    assert git(skills, "status", "--porcelain") == ""
    [entry] = repo.log(skills, limit=1)
    assert entry["kind"] == "learning" and entry["subject"] == "Learn deploy"
    assert entry["provenance"] == {"session_id": ["s1", "s2"], "task_id": "7", "proposal": pid}
    assert "Acontext-Base" not in git(skills, "log", "-1", "--format=%B")
    assert proposals.list_proposals(skills) == []
    assert [p.state for p in proposals.list_proposals(skills, ("accepted",))] == ["accepted"]
    assert git(skills, "branch", "--list", "proposals/*") == ""
    with pytest.raises(InvalidInput, match="already accepted"):
        proposals.accept(skills, pid)


def test_a_proposal_goes_stale_when_main_changes_its_files_and_accept_merges_3_way(
    skills: Path,
) -> None:
    pid = propose(skills, {"deploy/SKILL.md": SKILL.replace("step one", "step one, carefully")})
    untouched = propose(skills, {"deploy/notes.md": "better notes\n"})
    commit_on_main(skills, "deploy/SKILL.md", SKILL.replace("step five", "step five, then tag"))

    states = {p.id: (p.state, p.stale_files) for p in proposals.list_proposals(skills)}
    assert states == {pid: ("stale", ("deploy/SKILL.md",)), untouched: ("pending", ())}

    proposals.accept(skills, pid)

    text = (skills / "deploy" / "SKILL.md").read_text()
    assert "step one, carefully" in text and "step five, then tag" in text
    assert git(skills, "status", "--porcelain") == ""


def test_a_stale_proposal_that_conflicts_is_refused_and_nothing_changes(skills: Path) -> None:
    pid = propose(skills, {"deploy/SKILL.md": SKILL.replace("step three", "step 3 (proposed)")})
    main = commit_on_main(skills, "deploy/SKILL.md", SKILL.replace("step three", "step 3 (user)"))

    with pytest.raises(proposals.ProposalConflict, match=r"reject .* --relearn") as caught:
        proposals.accept(skills, pid)

    assert caught.value.files == ["deploy/SKILL.md"]
    assert git(skills, "rev-parse", "HEAD").strip() == main
    assert git(skills, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (skills / ".git" / "CHERRY_PICK_HEAD").exists()
    assert "step 3 (user)" in (skills / "deploy" / "SKILL.md").read_text()
    assert [(p.id, p.state) for p in proposals.list_proposals(skills)] == [(pid, "stale")]


def test_accept_keeps_the_users_uncommitted_edits_as_theirs_first(skills: Path) -> None:
    pid = propose(skills, {"deploy/notes.md": "learned notes\n"})
    (skills / "deploy" / "SKILL.md").write_text(SKILL + "\nMy own line.\n")

    proposals.accept(skills, pid)

    kinds = [e["kind"] for e in repo.log(skills, limit=2)]
    assert kinds == ["learning", "user-edits"]
    assert (skills / "deploy" / "SKILL.md").read_text().endswith("My own line.\n")


def test_reject_records_the_reason_and_keeps_main(skills: Path) -> None:
    head = git(skills, "rev-parse", "HEAD").strip()
    pid = propose(skills, {"deploy/notes.md": "wrong notes\n"})

    proposals.reject(skills, pid, "the lesson is\nwrong")

    assert git(skills, "rev-parse", "HEAD").strip() == head
    assert proposals.list_proposals(skills) == []
    [gone] = proposals.list_proposals(skills, ("rejected",))
    assert (gone.id, gone.state, gone.reason) == (pid, "rejected", "the lesson is wrong")
    assert gone.files == ["deploy/notes.md"] and gone.task_ids == ["7"]
    assert proposals.proposal_files(skills, pid) == {"deploy/notes.md": "wrong notes\n"}
    assert git(skills, "for-each-ref", "--format=%(refname)", "refs/acontext/rejected/").strip()
    with pytest.raises(InvalidInput, match="already rejected"):
        proposals.reject(skills, pid)


def test_unknown_invalid_and_ambiguous_ids_are_clear_errors(skills: Path) -> None:
    with pytest.raises(NotFound, match="skills proposals"):
        proposals.accept(skills, "abcdef12")
    with pytest.raises(InvalidInput, match="not a proposal id"):
        proposals.get(skills, "--all")
    ids = [propose(skills, {"deploy/notes.md": f"notes {i}\n"}) for i in range(17)]
    first = {}
    for pid in ids:  # 17 ids, 16 hex digits: two share their first character
        first.setdefault(pid[0], []).append(pid)
    shared = next(group for group in first.values() if len(group) > 1)
    with pytest.raises(InvalidInput, match="ambiguous"):
        proposals.get(skills, shared[0][0])
    assert proposals.get(skills, shared[0]).id == shared[0]


def test_the_brief_counts_waiting_proposals_from_ref_files_without_git(
    db, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.skills_dir
    repo.ensure_repo(root).close()
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "SKILL.md").write_text(SKILL)
    repo.protect_user_edits(root)
    assert proposal_refs.waiting_count(root) == 0
    assert build_brief(db, settings, project_dir="/p").count("proposal") == 0
    one = propose(root, {"deploy/notes.md": "a\n"})
    propose(root, {"deploy/notes.md": "b\n"})
    git(root, "pack-refs", "--all")  # packed-refs is read too
    propose(root, {"deploy/notes.md": "c\n"})
    proposals.reject(root, one, "no")

    def no_process(*args, **kwargs):
        raise AssertionError("the brief started a process")

    with monkeypatch.context() as patched:
        patched.setattr(subprocess, "Popen", no_process)
        brief = build_brief(db, settings, project_dir="/p")

    assert "2 skill proposals wait for review: acontext-mcp skills proposals" in brief
    assert proposal_refs.waiting_count(root) == 2
    for found in proposals.list_proposals(root):
        proposals.reject(root, found.id)
    assert "proposal" not in build_brief(db, settings, project_dir="/p")


def test_accept_refuses_a_clean_merge_that_would_break_skill_md(skills: Path) -> None:
    lines = "".join(f"- proposed line {i}\n" for i in range(300))
    pid = propose(skills, {"deploy/SKILL.md": SKILL.replace("# Deploy\n", "# Deploy\n" + lines)})
    main = commit_on_main(
        skills, "deploy/SKILL.md", SKILL + "".join(f"- main line {i}\n" for i in range(300))
    )

    with pytest.raises(proposals.ProposalConflict, match=r"invalid SKILL\.md in deploy"):
        proposals.accept(skills, pid)

    assert git(skills, "rev-parse", "HEAD").strip() == main
    assert git(skills, "status", "--porcelain", "--untracked-files=all") == ""
    assert "proposed line" not in (skills / "deploy" / "SKILL.md").read_text()
