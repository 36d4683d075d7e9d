"""The right lesson at the prompt: UserPromptSubmit answers with one matching learned entry.

Real hook subprocesses (the `acontext-mcp hook` command and the plugin shim), a real skills
directory indexed into a real `skills-index.db`, and the real store, as Claude Code runs them.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_hooks_claude_code import Hooks

from acontext_mcp.config import Settings
from acontext_mcp.skills import entry_index, index
from acontext_mcp.store.peek import connect_readonly

PROJECT = "shop-api"
RUNBOOK = f"""# {PROJECT}

## Test
- **Run the tests with uv**: `uv run pytest -q`; a bare pytest misses the project venv (when: pytest, tests; seen 3×, verified 2×, 2026-11-01 – 2026-12-01)

## Traps
- **Migrate before the test suite**: run `alembic upgrade head` first, or the tests fail with "no such table" (when: alembic, no such table; seen 4×, verified 3×, 2026-11-01 – 2026-12-02)
- Formatting: the user's own note, no evidence tail, never injected
"""  # noqa: E501
FACTS = """---
name: user-general-facts
description: What the user prefers, e.g. when installing a package or formatting code.
---
# Facts

- **Packages come from uv**: the user adds packages with `uv add`, never `pip install` (when: installing a package, pip; seen 2×, verified 1×, 2026-11-03 – 2026-12-03)
"""  # noqa: E501
RUNBOOKS_MD = "---\nname: project-runbooks\ndescription: runbooks\n---\n# Runbooks\n"
DIARY = """---
name: daily-logs
description: diary
---
# Diary
- **Migrate before the test suite**: alembic no such table tests diary copy (seen 9×, verified 9×, 2026-12-01)
"""  # noqa: E501


def _skill(root: Path, name: str, skill_md: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(skill_md)
    return folder


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Hooks, Settings, Path]:
    """A data home with a runbook for PROJECT, user facts and a diary, indexed."""
    hooks = Hooks(tmp_path)
    skills = hooks.home / "skills"
    runbooks = _skill(skills, "project-runbooks", RUNBOOKS_MD)
    (runbooks / "projects").mkdir()
    (runbooks / "projects" / f"{PROJECT}.md").write_text(RUNBOOK)
    _skill(skills, "user-general-facts", FACTS)
    _skill(skills, "daily-logs", DIARY)
    project = tmp_path / PROJECT
    project.mkdir()
    monkeypatch.setenv("ACONTEXT_HOME", str(hooks.home))
    monkeypatch.delenv("ACONTEXT_SKILLS_DIR", raising=False)
    settings = Settings.from_env()
    index.refresh(settings)
    return hooks, settings, project


def _prompt(
    hooks: Hooks, project: Path, prompt: str, session: str = "s-1", *, shim: bool = False
) -> dict[str, Any] | None:
    payload = {
        "session_id": session,
        "hook_event_name": "UserPromptSubmit",
        "cwd": str(project),
        "prompt": prompt,
        "transcript_path": str(project / f"{session}.jsonl"),
    }
    (project / f"{session}.jsonl").touch()
    proc = hooks.run("UserPromptSubmit", payload, shim=shim)
    assert hooks.failures() == []
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def _context(answer: dict[str, Any] | None) -> str:
    assert answer is not None
    out = answer["hookSpecificOutput"]
    assert out["hookEventName"] == "UserPromptSubmit"
    return str(out["additionalContext"])


def _uses(hooks: Hooks) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + 10
    while True:  # recorded by the detached child once the answer is out
        with hooks.db() as conn:
            rows = conn.execute(
                "SELECT skill, kind, path, entry, session_id, project_dir FROM skill_uses "
                "ORDER BY id"
            ).fetchall()
        if rows or time.monotonic() > deadline:
            return [tuple(r) for r in rows]
        time.sleep(0.02)


def test_a_matching_trap_is_injected_once_per_session_naming_its_skill(world: Any) -> None:
    hooks, _settings, project = world
    text = _context(_prompt(hooks, project, "the tests fail with no such table, why?", shim=True))
    assert len(text) <= 400
    assert "Migrate before the test suite" in text and "alembic upgrade head" in text
    assert "project-runbooks" in text and f"projects/{PROJECT}.md" in text and "Traps" in text
    assert "seen 4×" not in text and "verified 3×" in text  # the evidence, briefly
    assert _uses(hooks) == [
        (
            "project-runbooks",
            "prompt",
            f"projects/{PROJECT}.md",
            "Migrate before the test suite",
            "s-1",
            str(project),
        )
    ]
    # The same question again in this session: nothing new to say.
    assert _prompt(hooks, project, "tests still fail: no such table") is None
    # Another session hears it again.
    assert "Migrate before" in _context(_prompt(hooks, project, "no such table in tests", "s-2"))


def test_the_prompt_is_still_captured_after_the_answer(world: Any) -> None:
    hooks, _settings, project = world
    assert _prompt(hooks, project, "tests fail: no such table") is not None
    hooks.wait_for(1)
    line = hooks.log_lines()[-1]
    assert "claude-code UserPromptSubmit ok (detached)" in line, line


# What the answering parent must not import: the user waits for it (bench/bench_prompt_hook.py).
# json and pathlib each bring `re` (~3 ms); sqlite3's package brings datetime (~1.5 ms with
# dbapi2 itself; collections comes anyway: _sqlite3 imports functools); config.py brings
# pathlib; typing ~3 ms.
PROMPT_NEVER_IMPORTS = frozenset(
    {"re", "json", "pathlib", "typing", "datetime", "sqlite3.dbapi2",
     "acontext_mcp.config", "acontext_mcp.skills.evidence", "acontext_mcp.skills.terms"}
)  # fmt: skip


def test_the_answer_is_found_without_the_slow_imports(world: Any) -> None:
    """The prompt's lesson is chosen and printed by a parent that imports none of
    PROMPT_NEVER_IMPORTS; what it needs of them is in wirejson, csqlite, skills/slug."""
    hooks, _settings, project = world
    payload = {
        "session_id": "imports",
        "cwd": str(project),
        "prompt": "the tests fail with no such table, why?",
        "transcript_path": str(project / "imports.jsonl"),
    }
    (project / "imports.jsonl").touch()
    code = "from acontext_mcp.hooks import main; main(['claude-code', 'UserPromptSubmit'])"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        input=json.dumps(payload).encode(),
        env=hooks.env,
        capture_output=True,
        timeout=60,
    )
    assert "Migrate before the test suite" in _context(json.loads(proc.stdout))
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.decode().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "acontext_mcp.skills.entry_index" in names  # it looked the lesson up
    assert not names & PROMPT_NEVER_IMPORTS, names & PROMPT_NEVER_IMPORTS
    hooks.wait_for(1)  # the detached capture (which may import anything) is done


@pytest.mark.parametrize(
    "prompt",
    [
        "thanks",
        "continue",
        "yes",
        "ok, go ahead",
        "great, thank you!",
        "please update the code in this file and add a new test",  # generic words only
        "why does pytest not find my modules",  # one word in common is not enough
    ],
)
def test_chit_chat_and_vague_prompts_get_nothing(world: Any, prompt: str) -> None:
    hooks, _settings, project = world
    assert _prompt(hooks, project, prompt) is None


def test_shared_facts_match_and_the_diary_never_does(world: Any) -> None:
    hooks, _settings, project = world
    text = _context(_prompt(hooks, project, "pip install requests please"))
    assert "user-general-facts" in text and "uv add" in text
    conn = connect_readonly(str(hooks.home / "skills-index.db"))
    assert conn is not None and entry_index.usable(conn)
    with conn:
        hits = entry_index.best_entries(conn, "alembic no such table tests", project=PROJECT)
    assert hits and all(h.skill != "daily-logs" for h in hits)


def test_another_projects_runbook_is_not_used(world: Any, tmp_path: Path) -> None:
    hooks, _settings, _project = world
    other = tmp_path / "billing"
    other.mkdir()
    assert _prompt(hooks, other, "the tests fail with no such table") is None


def test_a_lesson_learned_since_the_index_was_built_is_found(world: Any) -> None:
    hooks, _settings, project = world
    runbook = hooks.home / "skills" / "project-runbooks" / "projects" / f"{PROJECT}.md"
    runbook.write_text(
        RUNBOOK + "- **Redis must be up**: start it with `docker compose up -d redis` before "
        "the server (when: redis, connection refused; seen 1×, verified 1×, 2026-12-04)\n"
    )
    text = _context(_prompt(hooks, project, "connection refused from redis on startup"))
    assert "Redis must be up" in text and "docker compose up -d redis" in text


def test_a_runbook_replaced_by_a_link_is_not_read(world: Any, tmp_path: Path) -> None:
    """A skills remote may carry a link: the changed-runbook read never follows one."""
    hooks, _settings, project = world
    runbook = hooks.home / "skills" / "project-runbooks" / "projects" / f"{PROJECT}.md"
    outside = tmp_path / "outside.md"
    outside.write_text(
        "## Traps\n- **Leaked secret file**: the token is in `~/.secret` (when: redis, "
        "connection refused; seen 1×, verified 1×, 2026-12-04)\n"
    )
    runbook.unlink()
    runbook.symlink_to(outside)
    answer = _prompt(hooks, project, "connection refused from redis on startup")
    assert answer is None or "Leaked secret file" not in _context(answer)


def test_no_index_means_no_answer_and_none_is_built(tmp_path: Path) -> None:
    hooks = Hooks(tmp_path)
    project = tmp_path / PROJECT
    project.mkdir()
    assert _prompt(hooks, project, "the tests fail with no such table") is None
    assert not (hooks.home / "skills-index.db").exists()


def test_long_entries_are_cut_to_400_characters(world: Any) -> None:
    hooks, settings, project = world
    long_text = "word " * 200
    facts = hooks.home / "skills" / "user-general-facts" / "SKILL.md"
    facts.write_text(
        FACTS + f"- **Kafka topics need a schema**: {long_text}(when: kafka, schema registry; "
        "seen 1×, verified 1×, 2026-12-04)\n"
    )
    index.refresh(settings)
    text = _context(_prompt(hooks, project, "kafka schema registry rejects my topic"))
    assert len(text) <= 400 and text.endswith("…") and "Kafka topics need a schema" in text


def test_ties_go_to_the_better_verified_entry(tmp_path: Path) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT, mtime_ns INT, size INT)")
    entry_index.create(db)
    for file_id, verified in ((1, 1), (2, 5)):
        db.execute("INSERT INTO files VALUES (?, ?, 0, 0)", (file_id, f"s{file_id}/SKILL.md"))
        entry_index.index_file(
            db,
            file_id,
            f"s{file_id}/SKILL.md",
            f"- **Cache warmup {file_id}**: warm the cache before load tests (when: cache warmup; "
            f"seen 5×, verified {verified}×, 2026-12-01)\n",
        )
    rank = db.execute("SELECT v FROM entry_fts_config WHERE k = 'rank'").fetchone()
    assert rank == (f"bm25({entry_index.WEIGHTS})",)  # title and `when:` words weigh most
    entry_index.create(db)  # again (an index made before these tables): harmless
    hits = entry_index.best_entries(db, "cache warmup before the load test", project=None)
    assert [h.skill for h in hits] == ["s2", "s1"]
    # A file's entries go with its row; a re-indexed file replaces its entries.
    db.execute("DELETE FROM files WHERE id = 2")
    assert [h.skill for h in entry_index.best_entries(db, "cache warmup", project=None)] == ["s1"]
    entry_index.index_file(db, 1, "s1/SKILL.md", "no entries now\n")
    assert entry_index.best_entries(db, "cache warmup", project=None) == []


def test_the_hook_forks_at_once_unless_a_lesson_could_answer(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hooks/__init__ decides before importing the handler: chit-chat or no index means the
    host is not kept waiting (the event forks and only captures, as before)."""
    from acontext_mcp import hooks as entry

    hooks, _settings, _project = world
    key = ("claude-code", "UserPromptSubmit")
    assert entry._answers(key, json.dumps({"prompt": "tests fail: no such table"}).encode())
    assert not entry._answers(key, json.dumps({"prompt": "thanks, continue"}).encode())
    assert not entry._answers(key, b"not json")
    assert not entry._answers(key, b"[1, 2]")
    assert entry._answers(("claude-code", "SessionStart"), b"")
    assert not entry._answers(("claude-code", "Stop"), b"")
    (hooks.home / "skills-index.db").rename(hooks.home / "moved.db")
    assert not entry._answers(key, json.dumps({"prompt": "tests fail: no such table"}).encode())


def test_a_run_forked_before_answering_looks_for_no_lesson(
    world: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The detached run of a declined prompt captures only: it neither answers (no one would
    read it) nor records a use that was never delivered."""
    from acontext_mcp.hooks.run import run

    hooks, _settings, project = world
    (project / "s-9.jsonl").touch()
    payload = {
        "session_id": "s-9",
        "cwd": str(project),
        "prompt": "tests fail: no such table",
        "transcript_path": str(project / "s-9.jsonl"),
    }
    assert (
        run(["claude-code", "UserPromptSubmit"], json.dumps(payload).encode(), detached=True) == 0
    )
    assert capsys.readouterr().out == ""
    with hooks.db() as conn:
        assert conn.execute("SELECT count(*) FROM skill_uses").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sessions WHERE id = 's-9'").fetchone()[0] == 1


def test_an_entry_the_brief_already_showed_this_session_is_not_repeated(world: Any) -> None:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.sessions import ensure_session
    from acontext_mcp.store.skill_uses import record_use

    hooks, settings, project = world
    conn = open_db(settings)
    try:
        ensure_session(conn, "s-b", agent="claude-code", project_dir=str(project))
        record_use(
            conn,
            "project-runbooks",
            "brief",
            session_id="s-b",
            entry="Migrate before the test suite",
        )
    finally:
        conn.close()
    assert _prompt(hooks, project, "the tests fail with no such table", "s-b") is None
