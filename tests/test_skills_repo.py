"""The skills repository in git: real repositories in temp dirs, a bare one as the remote."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from acontext_mcp.errors import AcontextError, NotFound, PathEscape
from acontext_mcp.skills import repo as skills_repo
from acontext_mcp.skills.repo import (
    LearnerBusy,
    NoRemote,
    PushRejected,
    RevertConflict,
    SyncConflict,
    commit_learning,
    diff,
    ensure_repo,
    learner_lock,
    log,
    protect_user_edits,
    pull,
    push,
    revert,
    set_remote,
)


@pytest.fixture(autouse=True)
def _git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No identity from the machine: an empty global config, no system config."""
    cfg = tmp_path / "gitconfig"
    cfg.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return cfg


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def skill(name: str, body: str) -> str:
    return f"---\nname: {name}\ndescription: Use when {name}.\n---\n\n{body}\n"


def learn(root: Path, rel: str, text: str, msg: str = "Learn", session: str = "s1") -> str:
    protect_user_edits(root)
    write(root, rel, text)
    sha = commit_learning(root, msg, session_id=session, task_id="t1", paths=[rel])
    assert sha
    return sha


def test_created_on_first_use_with_existing_files_left_to_the_user(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    write(root, "mine/SKILL.md", skill("mine", "my notes"))
    ensure_repo(root).close()
    assert (root / ".git").is_dir()
    assert git(root, "symbolic-ref", "--short", "HEAD") == "main"
    assert log(root) == []
    # no identity written into the repository's config
    out = subprocess.run(["git", "config", "--local", "--get", "user.name"], cwd=root)
    assert out.returncode == 1
    # opening again is idempotent
    ensure_repo(root).close()
    assert "mine/SKILL.md" in diff(root)


def test_learning_commit_carries_provenance_and_only_its_paths(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    ensure_repo(root).close()
    write(root, "build/SKILL.md", skill("build", "run make"))
    write(root, "other.txt", "not the learner's")
    sha = commit_learning(
        root,
        "Learn how to build\n\nFrom a successful run.",
        session_id="sess-1",
        task_id=7,
        paths=["build"],
    )
    assert sha and len(sha) == 40
    [entry] = log(root)
    assert entry["sha"] == sha
    assert entry["author"] == "acontext-mcp <acontext-mcp@localhost>"
    assert entry["subject"] == "Learn how to build"
    assert entry["kind"] == "learning"
    assert entry["provenance"] == {"session_id": "sess-1", "task_id": "7"}
    assert entry["date"][:4].isdigit()
    body = git(root, "log", "-1", "--format=%B")
    assert "Acontext-Session: sess-1" in body and "Acontext-Task: 7" in body
    assert git(root, "show", "--name-only", "--format=", sha) == "build/SKILL.md"
    assert "other.txt" in git(root, "status", "--porcelain")  # untouched
    # nothing changed -> None; a deletion is a learning too
    assert commit_learning(root, "again", session_id="s", task_id=None, paths=["build"]) is None
    (root / "build" / "SKILL.md").unlink()
    (root / "build").rmdir()
    gone = commit_learning(root, "Forget build", session_id="s", task_id=None, paths=["build"])
    assert gone and log(root)[0]["provenance"] == {"session_id": "s"}
    assert "run make" in diff(root, gone)


def test_learner_paths_are_confined(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    for bad in ("../outside.txt", str(tmp_path / "x"), ".git/config"):
        with pytest.raises(PathEscape):
            commit_learning(root, "m", session_id="s", task_id="t", paths=[bad])


def test_user_edits_committed_as_the_users_before_learning(
    tmp_path: Path, _git_config: Path
) -> None:
    root = tmp_path / "skills"
    learn(root, "build/SKILL.md", skill("build", "run make"))
    assert protect_user_edits(root) is None  # clean tree
    # without a configured identity the user's commit is authored by "user"
    write(root, "build/SKILL.md", skill("build", "run make -j8  # user tweak"))
    write(root, "notes/SKILL.md", skill("notes", "hand-written"))
    sha = protect_user_edits(root)
    assert sha
    entry = log(root)[0]
    assert entry["subject"] == skills_repo.USER_EDITS_SUBJECT
    assert entry["author"] == "user <user@localhost>"
    assert entry["kind"] == "user-edits"
    assert git(root, "status", "--porcelain") == ""
    # with a configured identity, that identity
    _git_config.write_text("[user]\n\tname = Ada\n\temail = ada@example.org\n")
    (root / "notes" / "SKILL.md").unlink()
    protect_user_edits(root)
    assert log(root)[0]["author"] == "Ada <ada@example.org>"
    # the learner then overwrites; the user's version stays in history
    write(root, "build/SKILL.md", skill("build", "learned text"))
    commit_learning(root, "Relearn build", session_id="s2", task_id="t", paths=["build"])
    assert "user tweak" in git(root, "show", f"{sha}:build/SKILL.md")
    assert [e["kind"] for e in log(root)] == ["learning", "user-edits", "user-edits", "learning"]


def test_diff_of_working_tree_commit_and_range(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    first = learn(root, "a/SKILL.md", skill("a", "one"))
    second = learn(root, "a/SKILL.md", skill("a", "two"))
    assert "-one" in diff(root, second) and "+two" in diff(root, second)
    assert "+two" in diff(root, f"{first}..{second}")
    write(root, "a/SKILL.md", skill("a", "three"))
    write(root, "b/new.md", "fresh")
    pending = diff(root)
    assert "+three" in pending and "+fresh" in pending
    with pytest.raises(NotFound):
        diff(root, "0" * 40)
    with pytest.raises(AcontextError):
        diff(root, "--output=/tmp/x")


def test_revert_undoes_a_learning_and_refuses_a_conflict(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    base = learn(root, "a/SKILL.md", skill("a", "base"))
    extra = learn(root, "b/SKILL.md", skill("b", "extra"))
    new = revert(root, extra)
    assert not (root / "b").exists()
    entry = log(root)[0]
    assert entry["sha"] == new and entry["kind"] == "revert"
    assert entry["provenance"] == {"reverts": extra}
    assert (root / "a" / "SKILL.md").read_text() == skill("a", "base")
    # a later commit changing the same lines: refused, tree left clean, nothing moved
    changed = learn(root, "a/SKILL.md", skill("a", "changed"))
    learn(root, "a/SKILL.md", skill("a", "changed again"))
    head = git(root, "rev-parse", "HEAD")
    with pytest.raises(RevertConflict) as err:
        revert(root, changed)
    assert err.value.files == ["a/SKILL.md"] and "a/SKILL.md" in str(err.value)
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".git" / "REVERT_HEAD").exists()
    with pytest.raises(AcontextError, match="nothing left to undo"):
        revert(root, extra)
    assert git(root, "status", "--porcelain") == ""
    assert base


def _remote_and_two_clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        ensure_repo(root).close()
        set_remote(root, str(bare))
    return bare, a, b


def test_push_and_pull_between_two_clones(tmp_path: Path) -> None:
    bare, a, b = _remote_and_two_clones(tmp_path)
    with pytest.raises(NoRemote):
        push(tmp_path / "lonely")
    assert pull(a)["status"] == "remote-empty"
    assert push(a)["status"] == "nothing-to-push"
    sha_a = learn(a, "build/SKILL.md", skill("build", "from a"))
    assert push(a)["sha"] == sha_a
    assert git(bare, "rev-parse", "main") == sha_a
    # b starts empty and gets a's skill
    got = pull(b)
    assert got["after"] == sha_a and got["new_commits"] == 1
    assert "from a" in (b / "build" / "SKILL.md").read_text()
    # both learn different skills; b must pull before pushing, then rebase is clean
    learn(a, "test/SKILL.md", skill("test", "a tests"))
    push(a)
    learn(b, "deploy/SKILL.md", skill("deploy", "b deploys"))
    with pytest.raises(PushRejected, match="pull"):
        push(b)
    pull(b)
    push(b)
    pull(a)
    for root in (a, b):
        assert {p.parent.name for p in root.glob("*/SKILL.md")} == {"build", "test", "deploy"}
    assert (
        git(a, "rev-parse", "HEAD") == git(b, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
    )
    # set_remote replaces an existing URL
    set_remote(a, str(tmp_path / "elsewhere.git"))
    assert git(a, "remote", "get-url", "origin") == str(tmp_path / "elsewhere.git")


def test_conflicting_pull_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    bare, a, b = _remote_and_two_clones(tmp_path)
    learn(a, "build/SKILL.md", skill("build", "shared"))
    push(a)
    pull(b)
    remote_sha = learn(a, "build/SKILL.md", skill("build", "a's version"))
    push(a)
    local_sha = learn(b, "build/SKILL.md", skill("build", "b's version"))
    write(b, "scratch.md", "uncommitted user note")
    with pytest.raises(SyncConflict) as err:
        pull(b)
    assert err.value.files == ["build/SKILL.md"]
    assert "build/SKILL.md" in str(err.value) and "intact" in str(err.value)
    # b: the user's note was committed as theirs on top of the local learning; nothing moved
    head = git(b, "rev-parse", "HEAD")
    assert git(b, "rev-parse", "HEAD~1") == local_sha
    assert git(b, "log", "-1", "--format=%s", head) == skills_repo.USER_EDITS_SUBJECT
    assert git(b, "status", "--porcelain") == ""
    assert not (b / ".git" / "rebase-merge").exists() and not (b / ".git" / "rebase-apply").exists()
    assert "b's version" in (b / "build" / "SKILL.md").read_text()
    assert (b / "scratch.md").read_text() == "uncommitted user note"
    # the remote is unchanged and its version is recoverable from b as well
    assert git(bare, "rev-parse", "main") == remote_sha
    assert "a's version" in git(b, "show", "origin/main:build/SKILL.md")
    with pytest.raises(PushRejected):
        push(b)
    assert git(bare, "rev-parse", "main") == remote_sha


def test_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    with learner_lock(root) as path:
        assert path == root / ".git" / "acontext.lock"
        with pytest.raises(LearnerBusy, match="wait"), learner_lock(root, timeout=0.1):
            pass
        # the same lock from another process is refused too
        code = (
            "from acontext_mcp.skills.repo import learner_lock\n"
            f"with learner_lock({str(root)!r}):\n    pass\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode != 0 and "LearnerBusy" in out.stderr
    # released: a waiting holder gets it once the first lets go
    got: list[float] = []
    with learner_lock(root):
        t = threading.Thread(target=lambda: _hold(root, got))
        t.start()
        time.sleep(0.2)
        assert not got
    t.join(5)
    assert got


def _hold(root: Path, got: list[float]) -> None:
    with learner_lock(root, timeout=5):
        got.append(time.monotonic())
