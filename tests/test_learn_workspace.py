"""The learner's file tools: an overlay over a real git skills repository in a temp dir."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidInput, PathEscape
from acontext_mcp.learn import workspace as ws_mod
from acontext_mcp.learn.workspace import FILE_TOOLS, SkillWorkspace, recover
from acontext_mcp.skills import repo
from acontext_mcp.skills.validate import validate_skill

BUILD_MD = (
    "---\nname: build\ndescription: Use when building the project.\n---\n\n# Build\n\n"
    "## Steps\n- run make\n- check the output\n\n## Notes\n- keep it short\n"
)


@pytest.fixture(autouse=True)
def _git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "gitconfig"
    cfg.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def skill_md(name: str, body: str = "# Notes\n", description: str = "Use when testing.") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n\n{body}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A skills repository holding one committed skill, `build`, and an outside folder."""
    skills = tmp_path / "skills"
    repo.ensure_repo(skills).close()
    write(skills, "build/SKILL.md", BUILD_MD)
    write(skills, "build/references/flags.md", "# Flags\n\n- -j8\n")
    assert repo.commit_learning(skills, "Seed", session_id="s0", task_id=None, paths=["build"])
    (tmp_path / "outside").mkdir()
    write(tmp_path, "outside/secret.md", "TOP-SECRET-CONTENT\n")
    return skills


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (outside .git) with its bytes; links by their target."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = b"->" + os.readlink(path).encode()
            elif path.is_file():
                out[rel] = path.read_bytes()
    return out


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD")


# --- overlay -----------------------------------------------------------------------------------


def test_overlay_reads_see_edits_and_nothing_reaches_disk_before_apply(root: Path) -> None:
    before, sha = snapshot(root), head(root)
    ws = SkillWorkspace(root)
    assert ws.list_skills() == "- **build**: Use when building the project."
    assert ws.get_skill_file("build", "SKILL.md") == BUILD_MD
    assert ws.str_replace_skill_file("build", "SKILL.md", "- run make\n", "- run make -j8\n") == (
        "Edited build/SKILL.md."
    )
    assert ws.create_skill_file("build", "references/ci.md", "# CI\n").startswith("Created")
    assert ws.delete_skill_file("build", "references/flags.md") == (
        "Deleted build/references/flags.md."
    )
    assert ws.create_skill(skill_md("deploy-ops")).startswith("Created skill 'deploy-ops'")

    assert "- run make -j8" in ws.get_skill_file("build", "SKILL.md")
    assert ws.get_skill_file("build", "references/ci.md") == "# CI\n"
    assert ws.get_skill_file("build", "references/flags.md").startswith("Error: ")
    listing = ws.get_skill("build")
    assert "- references/ci.md" in listing and "flags.md" not in listing
    assert "- **deploy-ops**: Use when testing." in ws.list_skills()
    assert ws.created == ["deploy-ops"]
    assert ws.touched_skills() == ["build", "deploy-ops"]
    assert ws.changes()["build/references/flags.md"] is None
    assert ws.problems() == {}

    assert snapshot(root) == before
    assert head(root) == sha
    assert not (root / ".git" / ws_mod.JOURNAL).exists()


def test_create_skill_and_files_apply_as_one_commit_with_batched_provenance(root: Path) -> None:
    sha = head(root)
    ws = SkillWorkspace(root)
    assert ws.create_skill(skill_md("deploy-ops", "# Deploy\n\nSee references.\n")).startswith(
        "Created"
    )
    assert ws.create_skill_file("deploy-ops", "references/rollback.md", "Roll back.\n").startswith(
        "Created"
    )
    result = ws.apply("Learn deployment", session_ids=["sess-a", "sess-b"], task_ids=[3, 4])

    assert result.sha and result.sha != sha
    assert result.files == ["deploy-ops/SKILL.md", "deploy-ops/references/rollback.md"]
    assert result.skills == ["deploy-ops"] and result.created == ["deploy-ops"]
    assert result.merged == []
    assert git(root, "rev-list", "--count", f"{sha}..HEAD") == "1"
    body = git(root, "log", "-1", "--format=%B")
    assert body.count("Acontext-Session:") == 2 and body.count("Acontext-Task:") == 2
    assert "Acontext-Session: sess-a\nAcontext-Session: sess-b" in body
    assert "Acontext-Task: 3\nAcontext-Task: 4" in body
    entry = repo.log(root)[0]
    assert entry["kind"] == "learning"
    assert entry["provenance"] == {"session_id": ["sess-a", "sess-b"], "task_id": ["3", "4"]}
    assert git(root, "log", "-1", "--format=%an") == "acontext-mcp"
    assert validate_skill(root / "deploy-ops") == []
    assert (root / "deploy-ops/references/rollback.md").read_text() == "Roll back.\n"
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".git" / ws_mod.JOURNAL).exists()


def test_commit_learning_keeps_one_trailer_per_distinct_value(root: Path) -> None:
    write(root, "build/references/more.md", "more\n")
    sha = repo.commit_learning(
        root, "More", session_id=["a", "a", "b"], task_id=7, paths=["build/references/more.md"]
    )
    assert sha
    body = git(root, "log", "-1", "--format=%B")
    assert body.count("Acontext-Session: a\n") == 1 and "Acontext-Session: b" in body
    assert repo.log(root)[0]["provenance"] == {"session_id": ["a", "b"], "task_id": "7"}
    with pytest.raises(InvalidInput):
        repo.commit_learning(root, "m", session_id=["ok", "two\nlines"], task_id=None, paths=["x"])


def test_apply_with_no_changes_commits_nothing(root: Path) -> None:
    sha = head(root)
    ws = SkillWorkspace(root)
    ws.get_skill_file("build", "SKILL.md")
    result = ws.apply("Nothing", session_ids=["s"], task_ids=[1])
    assert result.sha is None and result.files == []
    assert head(root) == sha


# --- str_replace and SKILL.md --------------------------------------------------------------


def test_str_replace_needs_exactly_one_occurrence(root: Path) -> None:
    ws = SkillWorkspace(root)
    missing = ws.str_replace_skill_file("build", "SKILL.md", "no such text", "x")
    assert missing.startswith("Error: old_string not found")
    twice = ws.str_replace_skill_file("build", "SKILL.md", "- ", "* ")
    assert twice.startswith("Error: old_string found 3 times")
    assert "add surrounding context" in twice
    empty = ws.str_replace_skill_file("build", "SKILL.md", "", "x")
    assert empty.startswith("Error: ")
    assert ws.changes() == {}
    ok = ws.str_replace_skill_file("build", "references/flags.md", "- -j8", "- -j16")
    assert ok == "Edited build/references/flags.md."
    assert ws.changes() == {"build/references/flags.md": "# Flags\n\n- -j16\n"}
    unknown = ws.str_replace_skill_file("build", "nope.md", "a", "b")
    assert unknown.startswith("Error: skill 'build' has no file 'nope.md'")
    assert "references/flags.md" in unknown


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("name: build", "name: build-tools", "never renamed"),
        ("---\nname", "name", "front matter"),
        ("description: Use when building the project.", "description: ''", "description"),
        ("description: Use when building the project.\n---", "description: x", "never closed"),
        ("# Build\n", "# Build\n" + "line\n" * 600, "500"),
    ],
)
def test_skill_md_edits_that_break_it_or_rename_are_refused(
    root: Path, old: str, new: str, says: str
) -> None:
    ws = SkillWorkspace(root)
    out = ws.str_replace_skill_file("build", "SKILL.md", old, new)
    assert out.startswith("Error: ") and says in out
    assert ws.get_skill_file("build", "SKILL.md") == BUILD_MD
    assert ws.changes() == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("# Deploy\n\nNo front matter at all.\n", "front matter"),
        (skill_md("Deploy_Ops"), "lowercase"),
        (skill_md("-deploy"), "hyphen"),
        ("---\ndescription: no name\n---\nbody\n", "name"),
        ("---\nname: deploy-ops\n---\nbody\n", "description"),
        (skill_md("deploy-ops", "line\n" * 600), "500"),
        ("---\nname: deploy-ops\ndescription: open\n", "never closed"),
        (skill_md("build"), "already exists"),
        (skill_md("deploy-ops", "nul \x00 byte\n"), "NUL"),
        (skill_md("deploy-ops", "x" * 200_000), "bytes"),
    ],
)
def test_create_skill_refuses_malformed_skill_md(root: Path, text: str, says: str) -> None:
    before = snapshot(root)
    ws = SkillWorkspace(root)
    out = ws.create_skill(text)
    assert out.startswith("Error: ") and says in out, out
    assert ws.created == [] and ws.changes() == {}
    assert ws.list_skills() == "- **build**: Use when building the project."
    assert ws.apply("nothing", session_ids=[], task_ids=[]).sha is None
    assert snapshot(root) == before


def test_create_skill_refuses_a_name_taken_by_any_folder(root: Path) -> None:
    (root / "notes").mkdir()  # a folder that is not a skill still owns its name
    write(root, "private/SKILL.md", skill_md("private"))
    ws = SkillWorkspace(root, visible={"build"})
    assert "already taken" in ws.create_skill(skill_md("notes"))
    taken = ws.create_skill(skill_md("private"))
    assert taken.startswith("Error: ") and "pick another name" in taken
    assert ws.create_skill(skill_md("fresh")).startswith("Created")
    assert ws.create_skill(skill_md("fresh")).startswith("Error: a skill named 'fresh'")
    assert ws.created == ["fresh"]


# --- file tools ----------------------------------------------------------------------------


def test_create_skill_file_refuses_skill_md_existing_and_clashing_paths(root: Path) -> None:
    ws = SkillWorkspace(root)
    assert ws.create_skill_file("build", "SKILL.md", "x").startswith("Error: SKILL.md exists")
    assert "already exists" in ws.create_skill_file("build", "references/flags.md", "x")
    assert "differ only in case" in ws.create_skill_file("build", "References/Flags.md", "x")
    assert "is a folder" in ws.create_skill_file("build", "references", "x")
    assert "is a file" in ws.create_skill_file("build", "references/flags.md/deeper.md", "x")
    assert "NUL" in ws.create_skill_file("build", "bin.md", "a\x00b")
    assert "bytes" in ws.create_skill_file("build", "big.md", "x" * 100_001)
    assert ws.create_skill_file("nope", "a.md", "x").startswith("Error: no skill named 'nope'")
    assert ws.changes() == {}


def test_file_count_per_skill_is_limited(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_mod, "MAX_FILES_PER_SKILL", 3)
    ws = SkillWorkspace(root)
    assert ws.create_skill_file("build", "a.md", "a").startswith("Created")
    out = ws.create_skill_file("build", "b.md", "b")
    assert out.startswith("Error: ") and "3 files" in out
    assert sorted(ws.changes()) == ["build/a.md"]


def test_mv_refusals_and_a_move_that_prunes_the_empty_folder(root: Path) -> None:
    ws = SkillWorkspace(root)
    same = ws.mv_skill_file("build", "references/flags.md", "references/flags.md")
    assert same.startswith("Error: ") and "same" in same
    assert "cannot be moved" in ws.mv_skill_file("build", "SKILL.md", "README.md")
    assert "cannot be overwritten" in ws.mv_skill_file("build", "references/flags.md", "SKILL.md")
    assert "has no file" in ws.mv_skill_file("build", "missing.md", "other.md")
    ws.create_skill_file("build", "other.md", "other\n")
    assert "already exists" in ws.mv_skill_file("build", "references/flags.md", "other.md")
    assert sorted(ws.changes()) == ["build/other.md"]

    assert ws.mv_skill_file("build", "references/flags.md", "flags.md") == (
        "Moved build/references/flags.md to build/flags.md."
    )
    assert ws.get_skill_file("build", "flags.md") == "# Flags\n\n- -j8\n"
    result = ws.apply("Flatten", session_ids=["s"], task_ids=["t"])
    assert result.sha
    assert (root / "build/flags.md").read_text() == "# Flags\n\n- -j8\n"
    assert not (root / "build/references").exists()  # the emptied folder is gone
    assert git(root, "status", "--porcelain") == ""
    assert "build/references/flags.md" in git(
        root, "show", "--no-renames", "--name-only", "--format=", "HEAD"
    )


def test_delete_refuses_skill_md_and_missing_files(root: Path) -> None:
    ws = SkillWorkspace(root)
    assert ws.delete_skill_file("build", "SKILL.md").startswith("Error: SKILL.md cannot")
    assert "has no file" in ws.delete_skill_file("build", "gone.md")
    assert ws.changes() == {}
    assert (root / "build/SKILL.md").read_text() == BUILD_MD


def test_binary_and_non_utf8_files_are_errors_not_crashes(root: Path) -> None:
    (root / "build/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "build/latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    ws = SkillWorkspace(root)
    assert "binary" in ws.get_skill_file("build", "logo.png")
    assert "UTF-8" in ws.get_skill_file("build", "latin1.txt")
    assert "UTF-8" in ws.str_replace_skill_file("build", "latin1.txt", "caf", "x")
    assert "- logo.png" in ws.get_skill("build")  # listed, just not readable as text
    assert ws.changes() == {}


def test_apply_refuses_an_invalid_skill_and_writes_nothing(root: Path) -> None:
    write(root, "build/SKILL.md", BUILD_MD + "line\n" * 600)  # the user broke it meanwhile
    repo.protect_user_edits(root)
    before, sha = snapshot(root), head(root)
    ws = SkillWorkspace(root)
    assert ws.create_skill_file("build", "extra.md", "x\n").startswith("Created")
    assert "500" in " ".join(ws.problems()["build"])
    with pytest.raises(InvalidInput, match="build"):
        ws.apply("Learn", session_ids=["s"], task_ids=[1])
    assert snapshot(root) == before and head(root) == sha


def test_apply_refuses_a_multi_line_session_id_before_writing(root: Path) -> None:
    before = snapshot(root)
    ws = SkillWorkspace(root)
    ws.create_skill_file("build", "extra.md", "x\n")
    with pytest.raises(InvalidInput):
        ws.apply("Learn", session_ids=["a\nb"], task_ids=[1])
    assert snapshot(root) == before


# --- confinement -------------------------------------------------------------------------------

BAD_PATHS = [
    "../x.md", "../../outside/secret.md", "/etc/passwd", "a/../../x.md", "a/..", "..",
    ".git/config", "..\\x.md", "a\\b.md", "~/x.md", "~", "C:/x.md", "c:x.md", "a//b.md",
    "a/", "/", "", "./a.md", "refs/.hidden.md", "a\x00b.md", "a\nb.md", "x..y.md",
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_escaping_paths_are_refused_by_every_tool(root: Path, tmp_path: Path, bad: str) -> None:
    outside_before = snapshot(tmp_path / "outside")
    before = snapshot(root)
    ws = SkillWorkspace(root)
    answers = [
        ws.get_skill_file("build", bad),
        ws.create_skill_file("build", bad, "pwned\n"),
        ws.str_replace_skill_file("build", bad, "secret", "pwned"),
        ws.mv_skill_file("build", "references/flags.md", bad),
        ws.mv_skill_file("build", bad, "moved.md"),
        ws.delete_skill_file("build", bad),
    ]
    assert all(a.startswith("Error: ") for a in answers), answers
    assert ws.changes() == {}
    ws.apply("nothing", session_ids=[], task_ids=[])
    assert snapshot(tmp_path / "outside") == outside_before
    assert snapshot(root) == before
    assert not (tmp_path / "x.md").exists() and not (root / "x.md").exists()


def test_symlinks_inside_a_skill_are_never_followed(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (root / "build/link.md").symlink_to(outside / "secret.md")
    (root / "build/linkdir").symlink_to(outside)
    before = snapshot(outside)
    ws = SkillWorkspace(root)
    answers = {
        "read": ws.get_skill_file("build", "link.md"),
        "read-through-dir": ws.get_skill_file("build", "linkdir/secret.md"),
        "replace": ws.str_replace_skill_file("build", "link.md", "secret", "pwned"),
        "replace-through-dir": ws.str_replace_skill_file(
            "build", "linkdir/secret.md", "secret", "pwned"
        ),
        "create-through-dir": ws.create_skill_file("build", "linkdir/new.md", "pwned\n"),
        "create-over-link": ws.create_skill_file("build", "link.md", "pwned\n"),
        "delete": ws.delete_skill_file("build", "link.md"),
        "mv-from": ws.mv_skill_file("build", "link.md", "stolen.md"),
        "mv-into-dir": ws.mv_skill_file("build", "references/flags.md", "linkdir/flags.md"),
    }
    assert all(a.startswith("Error: ") for a in answers.values()), answers
    assert "symbolic link" in answers["read"]
    assert not any("TOP-SECRET" in a for a in answers.values())
    listing = ws.get_skill("build")
    assert "link" not in listing
    assert ws.changes() == {}
    assert snapshot(outside) == before
    assert not (outside / "new.md").exists() and not (outside / "flags.md").exists()


def test_a_skill_folder_that_is_a_symlink_is_refused(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere, "SKILL.md", skill_md("evil"))
    (root / "evil").symlink_to(elsewhere)
    before = snapshot(elsewhere)
    ws = SkillWorkspace(root)
    assert "evil" not in ws.list_skills()
    assert "symbolic link" in ws.get_skill("evil")
    assert "symbolic link" in ws.get_skill_file("evil", "SKILL.md")
    assert ws.create_skill_file("evil", "new.md", "x").startswith("Error: ")
    assert ws.str_replace_skill_file("evil", "SKILL.md", "evil", "good").startswith("Error: ")
    assert ws.create_skill(skill_md("evil")).startswith("Error: ")
    assert ws.changes() == {}
    assert snapshot(elsewhere) == before


def test_a_symlink_planted_before_apply_stops_it_before_writing(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    ws = SkillWorkspace(root)
    assert ws.create_skill_file("build", "refs/new.md", "learned\n").startswith("Created")
    assert ws.create_skill_file("build", "a-first.md", "first\n").startswith("Created")
    (root / "build/refs").symlink_to(outside)  # appears between the tool call and apply
    sha = head(root)
    with pytest.raises(PathEscape):
        ws.apply("Learn", session_ids=["s"], task_ids=[1])
    assert not (outside / "new.md").exists()
    assert not (root / "build/a-first.md").exists()  # checked everything before writing
    assert head(root) == sha
    assert not (root / ".git" / ws_mod.JOURNAL).exists()


def test_invisible_skills_cannot_be_seen_or_edited(root: Path) -> None:
    write(root, "secret-ops/SKILL.md", skill_md("secret-ops", description="Hidden stuff."))
    write(root, "secret-ops/notes.md", "hidden\n")
    repo.protect_user_edits(root)
    ws = SkillWorkspace(root, visible={"build", "not-there"})
    assert ws.list_skills() == "- **build**: Use when building the project."
    for answer in (
        ws.get_skill("secret-ops"),
        ws.get_skill_file("secret-ops", "notes.md"),
        ws.str_replace_skill_file("secret-ops", "notes.md", "hidden", "x"),
        ws.create_skill_file("secret-ops", "new.md", "x"),
        ws.delete_skill_file("secret-ops", "notes.md"),
        ws.mv_skill_file("secret-ops", "notes.md", "n.md"),
        ws.get_skill("not-there"),
    ):
        assert answer.startswith("Error: no skill named")
        assert "Available skills: build." in answer
    assert ws.changes() == {}
    ws.create_skill(skill_md("new-one"))
    assert "- **new-one**" in ws.list_skills()  # created skills become visible
    assert ws.create_skill_file("new-one", "x.md", "x").startswith("Created")


@pytest.mark.parametrize("bad", ["Build", "../build", "build/..", "", "a--b", "-x"])
def test_bad_skill_names_are_refused(root: Path, bad: str) -> None:
    ws = SkillWorkspace(root)
    assert ws.get_skill(bad).startswith("Error: ")
    assert ws.create_skill_file(bad, "x.md", "x").startswith("Error: ")
    assert ws.changes() == {}


# --- user edits during the run -----------------------------------------------------------------


def test_a_user_edit_during_the_run_is_merged_into_the_learning(root: Path) -> None:
    ws = SkillWorkspace(root)
    ws.get_skill_file("build", "SKILL.md")
    assert ws.str_replace_skill_file(
        "build", "SKILL.md", "- keep it short\n", "- keep it short\n- cache the deps\n"
    ).startswith("Edited")
    # the user edits another part of the same file, and another file, while the run works
    write(root, "build/SKILL.md", BUILD_MD.replace("- run make\n", "- run make all\n"))
    write(root, "build/references/flags.md", "# Flags\n\n- -j4\n")

    result = ws.apply("Learn caching", session_ids=["s"], task_ids=[1])
    assert result.merged == ["build/SKILL.md"]
    text = (root / "build/SKILL.md").read_text()
    assert "- run make all\n" in text and "- cache the deps\n" in text
    assert git(root, "show", "HEAD:build/SKILL.md") == text.rstrip("\n")
    assert validate_skill(root / "build") == []
    # the user's other edit is not part of the learning: it stays uncommitted for the user
    assert git(root, "status", "--porcelain") == "M build/references/flags.md"


def test_a_conflicting_user_edit_raises_and_writes_nothing(root: Path) -> None:
    ws = SkillWorkspace(root)
    ws.str_replace_skill_file("build", "SKILL.md", "- run make\n", "- run make -j8\n")
    ws.create_skill_file("build", "references/new.md", "new\n")
    write(root, "build/SKILL.md", BUILD_MD.replace("- run make\n", "- run ninja\n"))
    before, sha = snapshot(root), head(root)

    with pytest.raises(repo.SyncConflict) as err:
        ws.apply("Learn", session_ids=["s"], task_ids=[1])
    assert err.value.files == ["build/SKILL.md"]
    assert snapshot(root) == before
    assert "- run ninja" in (root / "build/SKILL.md").read_text()
    assert not (root / "build/references/new.md").exists()
    assert head(root) == sha
    assert not (root / ".git" / ws_mod.JOURNAL).exists()


def test_a_learner_delete_of_a_file_the_user_edited_conflicts(root: Path) -> None:
    ws = SkillWorkspace(root)
    ws.delete_skill_file("build", "references/flags.md")
    write(root, "build/references/flags.md", "# Flags\n\n- -j8\n- user note\n")
    with pytest.raises(repo.SyncConflict):
        ws.apply("Forget flags", session_ids=["s"], task_ids=[1])
    assert "user note" in (root / "build/references/flags.md").read_text()


# --- crash and recovery --------------------------------------------------------------------


def test_recover_commits_a_crashed_run_as_a_learning_but_not_later_user_edits(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = SkillWorkspace(root)
    ws.str_replace_skill_file("build", "SKILL.md", "- check the output\n", "- check logs\n")
    ws.create_skill_file("build", "references/ci.md", "# CI\n")
    ws.delete_skill_file("build", "references/flags.md")

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies after writing, before committing

    monkeypatch.setattr(ws_mod.repo, "commit_learning", killed)
    sha = head(root)
    with pytest.raises(KeyboardInterrupt):
        ws.apply("Learn CI", session_ids=["s1", "s2"], task_ids=[5, 6])
    monkeypatch.undo()
    journal = root / ".git" / ws_mod.JOURNAL
    assert json.loads(journal.read_text())["files"]["build/references/flags.md"] is None
    assert head(root) == sha and (root / "build/references/ci.md").exists()

    # the user edits one of the learner's files after the crash
    write(root, "build/references/ci.md", "# CI\n\nuser's own line\n")
    learned = recover(root)
    assert learned and learned != sha
    assert not journal.exists()
    entry = repo.log(root)[0]
    assert entry["kind"] == "learning" and entry["subject"] == "Learn CI"
    assert entry["provenance"] == {"session_id": ["s1", "s2"], "task_id": ["5", "6"]}
    committed = git(root, "show", "--no-renames", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(committed) == ["build/SKILL.md", "build/references/flags.md"]
    assert "- check logs" in git(root, "show", "HEAD:build/SKILL.md")

    user = repo.protect_user_edits(root)
    assert user and repo.log(root)[0]["kind"] == "user-edits"
    assert (
        git(root, "show", "--no-renames", "--name-only", "--format=", "HEAD")
        == "build/references/ci.md"
    )
    assert "user's own line" in git(root, "show", "HEAD:build/references/ci.md")
    assert recover(root) is None


def test_apply_recovers_an_earlier_crash_before_writing_its_own(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = SkillWorkspace(root)
    crashed.create_skill_file("build", "first.md", "first\n")
    monkeypatch.setattr(ws_mod.repo, "commit_learning", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        crashed.apply("First", session_ids=["s1"], task_ids=[1])
    monkeypatch.undo()
    later = SkillWorkspace(root)
    later.create_skill_file("build", "second.md", "second\n")
    assert later.apply("Second", session_ids=["s2"], task_ids=[2]).sha
    assert [e["subject"] for e in repo.log(root)[:2]] == ["Second", "First"]
    assert repo.log(root)[1]["provenance"] == {"session_id": "s1", "task_id": "1"}
    assert git(root, "status", "--porcelain") == ""


def test_recover_without_a_journal_or_with_a_broken_one(root: Path) -> None:
    sha = head(root)
    assert recover(root) is None
    journal = root / ".git" / ws_mod.JOURNAL
    journal.write_text("{not json")
    assert recover(root) is None
    assert not journal.exists() and journal.with_suffix(".broken").exists()
    journal.write_text(json.dumps({"message": "m", "files": {"../../etc/passwd": None}}))
    assert recover(root) is None
    assert head(root) == sha and not journal.exists()


# --- dispatch and tool specs -------------------------------------------------------------------


def test_dispatch_runs_tools_and_answers_bad_arguments_with_error_text(root: Path) -> None:
    ws = SkillWorkspace(root)
    assert ws.dispatch("list_skills", {}) == ws.list_skills()
    assert ws.dispatch("get_skill_file", {"skill_name": "build", "file_path": "SKILL.md"}) == (
        BUILD_MD
    )
    wrong = ws.dispatch("get_skill_file", {"skill_name": "build", "file_path": 3})
    assert wrong.startswith("Error: ") and "file_path" in wrong
    assert ws.dispatch("get_skill", {"skill_name": ["build"]}).startswith("Error: ")
    missing = ws.dispatch("create_skill_file", {"skill_name": "build", "file_path": "a.md"})
    assert missing.startswith("Error: ") and "content" in missing
    assert ws.dispatch("create_skill", {"skill_md_content": None}).startswith("Error: ")
    assert ws.dispatch("rm_rf", {}).startswith("Error: unknown tool")
    assert ws.dispatch("__init__", {}).startswith("Error: unknown tool")
    assert ws.dispatch("get_skill", "build").startswith("Error: ")  # type: ignore[arg-type]
    assert ws.changes() == {}
    done = ws.dispatch(
        "str_replace_skill_file",
        {
            "skill_name": "build",
            "file_path": "SKILL.md",
            "old_string": "- run make\n",
            "new_string": "- run make -j2\n",
            "extra": "ignored",
        },
    )
    assert done == "Edited build/SKILL.md."


def test_file_tool_specs_cover_every_tool_with_required_string_arguments() -> None:
    names = [spec.name for spec in FILE_TOOLS]
    assert names == [
        "list_skills",
        "get_skill",
        "get_skill_file",
        "create_skill",
        "create_skill_file",
        "str_replace_skill_file",
        "mv_skill_file",
        "delete_skill_file",
    ]
    for spec in FILE_TOOLS:
        params = spec.parameters
        assert params["type"] == "object"
        assert params["required"] == list(params["properties"])
        assert all(p["type"] == "string" for p in params["properties"].values())
        assert 0 < len(spec.description) <= 300
        assert callable(getattr(SkillWorkspace, spec.name))
