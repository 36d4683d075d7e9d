"""SessionStart answers prepared ahead (hooks/session_start.py, store/prepared.py).

A prepared answer must be the answer the live path would give, and must stop being used the
moment anything it depends on changes: the store (any table the brief reads), a skill the
brief reads, the sync targets, the configuration, the environment, the code. Only a change
to a skill the agent lists itself (the brief does not read it) leaves it standing, with a
rescan asked for and the sync done after the answer. In-process tests set the freshness
window to 0 (files written a moment ago are trusted by their stats); the hook tests wait
it out as Claude Code's sessions do.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.hooks import session_start
from acontext_mcp.hooks.skill_sync import sync_agent_skills
from acontext_mcp.skills import sync
from acontext_mcp.stat_rows import fresh
from acontext_mcp.store import prepared
from acontext_mcp.store.db import open_db
from acontext_mcp.store.messages import store_messages
from acontext_mcp.store.sessions import ensure_session
from acontext_mcp.store.tasks import insert_task, update_task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support.hook_runner import SHIM, Hooks

RUNBOOK = "- **Port busy**: free 8080 before `make dev` (seen 3×, 2026-11-02 – 2026-12-04)\n"


class Home:
    """A data home with three listed skills, a runbook for `project` and a recent session."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.project = str(root / "proj")
        os.makedirs(self.project)
        self.claude = root / "claude"
        self.claude.mkdir()
        for name, value in {
            "ACONTEXT_HOME": str(root / "home"),
            "HOME": str(root / "user"),
            "CLAUDE_CONFIG_DIR": str(self.claude),
            "OPENCLAW_STATE_DIR": str(root / "no-openclaw"),
        }.items():
            monkeypatch.setenv(name, value)
        for name in ("ACONTEXT_SKILLS_DIR", "OPENCLAW_HOME", "ACONTEXT_BRIEF_CHARS"):
            monkeypatch.delenv(name, raising=False)
        # Trust stats at once (the hooks wait 2 s for that; see the module doc).
        monkeypatch.setattr(prepared, "FRESH_SECONDS", 0.0)
        monkeypatch.setattr(sync, "FRESH_SECONDS", 0.0)
        self.settings = Settings.from_env()
        self.skills = self.settings.skills_dir
        for i in range(3):
            folder = self.skills / f"skill-{i}"
            (folder / "notes").mkdir(parents=True)
            (folder / "SKILL.md").write_text(
                f"---\nname: skill-{i}\ndescription: Skill {i}.\n---\n\nSteps.\n"
            )
            (folder / "notes" / "a.md").write_text("note\n")
        runbook = self.skills / "project-runbooks" / "projects" / "proj.md"
        runbook.parent.mkdir(parents=True)
        (self.skills / "project-runbooks" / "SKILL.md").write_text(
            "---\nname: project-runbooks\ndescription: Runbooks.\n---\n"
        )
        runbook.write_text(f"## Traps\n\n{RUNBOOK}")
        self.runbook = runbook
        with self.db() as conn:
            ensure_session(conn, "earlier", agent="claude-code", project_dir=self.project)
            store_messages(
                conn,
                self.settings,
                "earlier",
                [{"role": "user", "parts": [{"type": "text", "text": "ALPHA please"}]}],
                fmt="acontext",
            )
        self.live()  # the first session: copies written, cursors set
        session_start._given.clear()  # its uses: not what these tests look at

    def db(self) -> Any:
        from contextlib import closing

        return closing(open_db(self.settings))

    def live(self, session_id: str = "live") -> dict[str, Any] | None:
        with self.db() as conn:
            return session_start.live_answer(conn, self.settings, self.project, session_id)

    def would_answer(self, session_id: str | None = None) -> dict[str, Any] | None:
        """The live answer now, without moving anything (the sync runs: it is a no-op)."""
        with self.db() as conn:
            synced = sync_agent_skills(self.settings)
            answer = session_start.compute(
                conn, self.settings, self.project, session_id, synced, live=True
            )
        return answer.output

    def prepare(self) -> dict[str, Any]:
        assert session_start.prepare(self.settings, self.project)
        data = prepared.load(str(self.settings.home), "claude-code", self.project)
        assert data is not None
        return data

    def check(self, data: dict[str, Any], session_id: str | None = "next") -> str | None:
        return prepared.check(data, str(self.settings.home), session_id)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    return Home(tmp_path, monkeypatch)


def test_a_prepared_answer_is_the_live_answer(home: Home) -> None:
    data = home.prepare()
    assert home.check(data) is True
    live = home.would_answer("next")
    assert data["output"] == live
    brief = live["hookSpecificOutput"]["additionalContext"]
    assert "Port busy" in brief and "ALPHA please" in brief  # a real brief, not an empty one
    assert data["uses"]  # what the brief delivered, recorded after the answer
    assert (
        os.stat(prepared.path_for(str(home.settings.home), "claude-code", home.project)).st_mode
        & 0o077
        == 0
    )


@pytest.mark.parametrize(
    "write",
    [
        "INSERT INTO sessions (id, agent, project_dir, created_at, updated_at) "
        "VALUES ('other', 'claude-code', (SELECT project_dir FROM sessions), 1, 1)",
        "UPDATE sessions SET project_dir = '/elsewhere' WHERE id = 'earlier'",
        "UPDATE sessions SET updated_at = updated_at WHERE id = 'earlier'",
        "UPDATE tasks SET status = 'success'",
        "UPDATE messages SET meta = '{\"kind\": \"prompt\"}' WHERE role = 'user'",
        "DELETE FROM skill_uses",
        "INSERT INTO learnings (session_id, space, kind, status, created_at, updated_at) "
        "VALUES ('earlier', 'default', 'success', 'learned', 1, 1)",
        "DELETE FROM sessions WHERE id = 'earlier'",
    ],
)
def test_any_change_to_what_the_brief_reads_makes_it_stale(home: Home, write: str) -> None:
    with home.db() as conn:
        insert_task(conn, "earlier", "Ship the release")
        conn.execute(
            "INSERT INTO skill_uses (skill, session_id, kind, created_at) "
            "VALUES ('skill-0', 'earlier', 'read', 1)"
        )
        conn.commit()
    data = home.prepare()
    assert home.check(data) is True
    with home.db() as conn:
        conn.execute(write)
        conn.commit()
    assert home.check(data) is False


def test_another_projects_sessions_leave_it_standing(home: Home) -> None:
    data = home.prepare()
    with home.db() as conn:
        ensure_session(conn, "elsewhere", agent="claude-code", project_dir="/another/project")
        store_messages(
            conn,
            home.settings,
            "elsewhere",
            [{"role": "user", "parts": [{"type": "text", "text": "BRAVO"}]}],
            fmt="acontext",
        )
        insert_task(conn, "elsewhere", "Another project's task")
    assert home.check(data) is True
    with home.db() as conn:
        ensure_session(conn, "here", agent="claude-code", project_dir=home.project)
    assert home.check(data) is False


def test_task_tracking_and_learning_make_it_stale_but_bookkeeping_does_not(home: Home) -> None:
    with home.db() as conn:
        insert_task(conn, "earlier", "Ship the release")
    data = home.prepare()
    with home.db() as conn:
        conn.execute("INSERT INTO cursors (key, value, updated_at) VALUES ('x', '1', 1)")
        conn.commit()
    assert home.check(data) is True  # a cursor the answer does not read
    with home.db() as conn:
        update_task(conn, "earlier", 1, add_progress="tagged v1")
    assert home.check(data) is False
    data = home.prepare()
    assert "tagged v1" in data["output"]["hookSpecificOutput"]["additionalContext"]


def test_a_session_it_lists_gets_the_live_answer(home: Home) -> None:
    data = home.prepare()
    assert "earlier" in data["sessions"]
    assert home.check(data, "earlier") is False  # resumed: left out of its own brief
    assert home.check(data, "brand-new") is True


def test_an_edit_to_a_skill_the_brief_reads_makes_it_stale(home: Home) -> None:
    data = home.prepare()
    home.runbook.write_text(f"## Traps\n\n{RUNBOOK}- **Disk full**: prune images first\n")
    assert home.check(data) is False
    again = home.prepare()
    assert "Disk full" in again["output"]["hookSpecificOutput"]["additionalContext"]


def test_a_new_description_of_a_listed_skill_makes_it_stale(home: Home) -> None:
    """What the agent lists changed: the live path syncs it before answering, and asks
    Claude Code to rescan (a rescan finds only what is in place by then)."""
    data = home.prepare()
    (home.skills / "skill-1" / "SKILL.md").write_text(
        "---\nname: skill-1\ndescription: Skill 1, edited.\n---\n\nSteps.\n"
    )
    assert home.check(data) is False
    assert home.live()["hookSpecificOutput"]["reloadSkills"] is True


def test_another_file_of_a_listed_skill_is_synced_by_the_next_prepare(home: Home) -> None:
    """The brief does not read a skill the agent lists, nor does the listing change: the
    answer stands as it is, and the detached child's prepare, which syncs first, brings the
    copy up to date right after it."""
    data = home.prepare()
    (home.skills / "skill-1" / "notes" / "a.md").write_text("a longer note\n")
    assert home.check(data) is True
    session_start.prepare(home.settings, home.project)
    copy = home.claude / "skills" / "skill-1" / "notes" / "a.md"
    assert copy.read_text() == "a longer note\n"


@pytest.mark.parametrize(
    "change",
    ["new skill", "copy removed", "foreign folder", "config", "install record", "environment"],
)
def test_what_chooses_the_copies_or_shapes_the_answer_makes_it_stale(
    home: Home, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = home.prepare()
    if change == "new skill":
        folder = home.skills / "skill-new"
        folder.mkdir()
        (folder / "SKILL.md").write_text("---\nname: skill-new\ndescription: New.\n---\n")
    elif change == "copy removed":
        import shutil

        shutil.rmtree(home.claude / "skills" / "skill-2")
    elif change == "foreign folder":
        (home.claude / "skills" / "mine").mkdir()
    elif change == "config":
        (home.settings.home / "config.json").write_text('{"brief_chars": 900}')
    elif change == "install record":
        (home.settings.home / "installs").mkdir(exist_ok=True)
        (home.settings.home / "installs" / "openclaw-1.json").write_text("{}")
    else:
        monkeypatch.setenv("ACONTEXT_BRIEF_CHARS", "900")
    assert home.check(data) is False


def test_a_store_without_the_clock_or_a_broken_file_is_a_miss(home: Home) -> None:
    data = home.prepare()
    path = prepared.path_for(str(home.settings.home), "claude-code", home.project)
    Path(path).write_text("{not json")
    assert prepared.load(str(home.settings.home), "claude-code", home.project) is None
    other = prepared.load(str(home.settings.home), "claude-code", "/another/project")
    assert other is None
    with home.db() as conn:
        conn.execute("DROP TABLE store_clock")
        conn.commit()
    assert home.check(data) is False


def test_forgetting_sessions_removes_every_prepared_answer(home: Home) -> None:
    from acontext_mcp.store.forget import forget

    home.prepare()
    with home.db() as conn:
        done = forget(conn, home.settings, ["earlier"])
    assert done["prepared_answers_removed"] == 1
    assert prepared.load(str(home.settings.home), "claude-code", home.project) is None


def test_only_the_newest_answers_are_kept(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepared, "KEEP", 2)
    for i in range(4):
        project = home.root / f"p{i}"
        project.mkdir()
        assert session_start.prepare(home.settings, str(project))
        time.sleep(0.01)
    left = sorted(os.listdir(prepared.folder(str(home.settings.home))))
    kept = [prepared.path_for(str(home.settings.home), "claude-code", str(home.root / f"p{i}"))
            for i in (2, 3)]  # fmt: skip
    assert left == sorted(os.path.basename(k) for k in kept)


def test_a_fresh_file_is_not_vouched_for(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file changed within the freshness window could change again with the same stat: no
    answer is stored until it is older (a hook does not wait; the worker waits once)."""
    monkeypatch.setattr(prepared, "FRESH_SECONDS", 60.0)
    Path(prepared.path_for(str(home.settings.home), "claude-code", home.project)).unlink(
        missing_ok=True
    )
    assert not session_start.prepare(home.settings, home.project)
    assert prepared.load(str(home.settings.home), "claude-code", home.project) is None


# --- Through the hook, as Claude Code runs it ---


def _payload(project: Path, sid: str) -> dict[str, Any]:
    (project / f"{sid}.jsonl").touch()  # a session that has not said anything yet
    return {
        "session_id": sid,
        "transcript_path": str(project / f"{sid}.jsonl"),
        "cwd": str(project),
        "source": "startup",
    }


def _ready(hooks: Hooks, project: Path) -> None:
    """Skills written, synced, fingerprinted and an answer prepared, as after a session."""
    skill = hooks.home / "skills" / "deploy-runbook"
    (skill / "notes").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: deploy-runbook\ndescription: How to deploy this app.\n---\n# Deploy\n"
    )
    (skill / "notes" / "a.md").write_text("first\n")
    runbook = hooks.home / "skills" / "project-runbooks" / "projects" / f"{project.name}.md"
    runbook.parent.mkdir(parents=True)
    runbook.write_text(f"## Traps\n\n{RUNBOOK}")
    for sid in ("warm-1", "warm-2"):  # copies, then the sync's fingerprint
        hooks.run("SessionStart", _payload(project, sid))
        time.sleep(2.1)
    hooks.run("SessionEnd", {**_payload(project, "warm-2"), "hook_event_name": "SessionEnd"})
    assert Path(prepared.path_for(str(hooks.home), "claude-code", str(project))).is_file()


def _imports(hooks: Hooks, payload: dict[str, Any]) -> tuple[set[str], dict[str, Any] | None]:
    """The modules the answering process imported (`-X importtime` through the plugin's
    shim, which sends that process's stderr to the hook log), and its answer."""
    import subprocess

    start = hooks.log.stat().st_size
    proc = subprocess.run(
        [str(SHIM), "claude-code", "SessionStart"],
        input=json.dumps(payload).encode(),
        env={**hooks.env, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        timeout=60,
    )
    with open(hooks.log, "rb") as handle:
        handle.seek(start)
        written = handle.read().decode()
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in written.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return names, (json.loads(proc.stdout) if proc.stdout else None)


def test_the_hook_answers_from_the_prepared_answer_without_the_slow_imports(tmp_path: Path) -> None:
    hooks = Hooks(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    _ready(hooks, project)
    before = hooks.finished()
    names, answer = _imports(hooks, _payload(project, "fast"))
    hooks.wait_for(before + 1)
    assert answer is not None
    assert "Port busy" in answer["hookSpecificOutput"]["additionalContext"]
    assert "reloadSkills" not in answer["hookSpecificOutput"]
    assert "acontext_mcp.store.prepared" in names  # it answered from the prepared answer
    slow = {"pathlib", "re", "json", "sqlite3", "typing", "acontext_mcp.config",
            "acontext_mcp.capture.brief", "acontext_mcp.skills.sync"}  # fmt: skip
    assert not names & slow, names & slow
    assert "claude-code SessionStart ok (detached, prepared answer)" in hooks.log.read_text()
    # Its detached child recorded what the brief delivered, for this session.
    with sqlite3.connect(hooks.home / "acontext.db") as conn:
        kinds = conn.execute("SELECT kind FROM skill_uses WHERE session_id = 'fast'").fetchall()
    assert ("brief",) in kinds


def test_an_edited_listed_skill_is_answered_at_once_and_synced_after(tmp_path: Path) -> None:
    hooks = Hooks(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    _ready(hooks, project)
    (hooks.home / "skills" / "deploy-runbook" / "notes" / "a.md").write_text("second edit\n")
    time.sleep(2.1)  # an edit made before the session, as a user's would be
    before = hooks.finished()
    names, answer = _imports(hooks, _payload(project, "after-edit"))
    assert answer is not None
    assert "Port busy" in answer["hookSpecificOutput"]["additionalContext"]
    assert "acontext_mcp.skills.sync" not in names  # the sync runs after the answer
    hooks.wait_for(before + 1)
    copy = hooks.claude_config / "skills" / "deploy-runbook" / "notes" / "a.md"
    assert copy.read_text() == "second edit\n"


# --- Who prepares: the worker when its queue empties, SessionEnd for the other projects ---


def test_the_worker_prepares_again_what_its_jobs_made_stale(home: Home) -> None:
    from acontext_mcp.worker import jobs
    from acontext_mcp.worker.loop import run_worker

    data = home.prepare()
    idle: list[int] = []

    def track(conn: Any, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
        insert_task(conn, "earlier", payload["task"])  # what task tracking writes
        return {}

    def on_idle() -> None:
        idle.append(1)
        session_start.prepare_recent(home.settings)

    with home.db() as conn:
        for task in ("Tag the release", "Write the notes"):
            jobs.enqueue(conn, "bench-track", {"task": task})
    stats = run_worker(
        home.settings, {"bench-track": track}, until_idle=True, idle_exit_s=0.05, on_idle=on_idle
    )
    assert stats["ran"] == 2 and idle == [1]  # once, when the queue emptied
    assert home.check(data) is False  # the jobs moved the store
    fresh = prepared.load(str(home.settings.home), "claude-code", home.project)
    assert fresh is not None and home.check(fresh) is True
    brief = fresh["output"]["hookSpecificOutput"]["additionalContext"]
    assert "Tag the release" in brief and "Write the notes" in brief


def test_an_idle_step_that_fails_is_logged_and_the_worker_goes_on(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    from acontext_mcp.worker import jobs
    from acontext_mcp.worker.loop import run_worker

    def broken() -> None:
        raise RuntimeError("no room")

    with home.db() as conn:
        jobs.enqueue(conn, "noop", {})
    stats = run_worker(
        home.settings,
        {"noop": lambda conn, settings, payload: {}},
        until_idle=True,
        idle_exit_s=0.05,
        on_idle=broken,
    )
    assert stats["ran"] == 1 and stats["outcomes"] == {"done": 1}
    assert "idle step failed" in caplog.text


def test_session_end_prepares_the_other_recent_projects_too(tmp_path: Path) -> None:
    hooks = Hooks(tmp_path)
    projects = [tmp_path / name for name in ("one", "two")]
    for project in projects:
        project.mkdir()
        hooks.run("SessionStart", _payload(project, f"s-{project.name}"))
    time.sleep(2.1)  # the first sync's copies are past the freshness window
    hooks.run("SessionEnd", {**_payload(projects[0], "s-one"), "hook_event_name": "SessionEnd"})
    time.sleep(2.1)  # and so is the manifest that sync rewrote
    hooks.run("SessionEnd", {**_payload(projects[1], "s-two"), "hook_event_name": "SessionEnd"})
    home = str(hooks.home)
    for project in projects:
        data = prepared.load(home, "claude-code", str(project))
        assert data is not None, project
        with pytest.MonkeyPatch.context() as patch:
            for name, value in hooks.env.items():
                patch.setenv(name, value)
            assert prepared.check(data, home, "new") is True, project


def test_an_answer_the_worker_prepared_holds_for_the_hook(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker runs with ACONTEXT_HOME set (spawn_worker), the hooks often without it."""
    data = home.prepare()
    monkeypatch.delenv("ACONTEXT_HOME")  # the hook finds the answer under its home anyway
    assert home.check(data) is True
    monkeypatch.setenv("ACONTEXT_BRIEF_CHARS", "1200")  # but a setting is a setting
    assert home.check(data) is False


def test_a_skills_folder_that_is_a_link_is_watched_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Skills kept in a dotfiles repository, linked as the data home's skills folder."""
    real = tmp_path / "dotfiles" / "skills"
    real.parent.mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "skills").symlink_to(real, target_is_directory=True)
    real.mkdir()
    home = Home(tmp_path, monkeypatch)
    data = home.prepare()
    assert home.check(data) is True
    runbook = real / "project-runbooks" / "projects" / "proj.md"
    runbook.write_text(f"## Traps\n\n{RUNBOOK}- **Disk full**: prune images first\n")
    assert home.check(data) is False


def test_only_what_our_sync_renames_into_place_vouches_for_itself_while_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written a moment ago could change again with the same stat, unless it is only
    ever replaced by renaming a new one in (a new inode): our copies and manifests. So a
    prepare right after a sync need not wait; a user's edit still must."""
    monkeypatch.setattr(prepared, "FRESH_SECONDS", 60.0)
    for name in ("target/copy", "source/skill"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "SKILL.md").write_text("x\n")
    (tmp_path / "manifest.json").write_text("{}")
    watch = [
        ["tree", str(tmp_path / "target"), "own"],
        ["file", str(tmp_path / "manifest.json"), "own"],
        ["tree", str(tmp_path / "source")],
    ]
    rows = prepared.snapshot(watch)
    sections = {"w0": [], "w1": [], "w2": []}
    section = ""
    for row in rows:
        if len(row) == 2:
            section = row[0]
        else:
            sections[section].append(row)
    assert sections["w0"] and not fresh(sections["w0"]) and not fresh(sections["w1"])
    assert fresh(sections["w2"])
