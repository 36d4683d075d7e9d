"""Skill uses derived from captured tool calls: real hook processes, `import`, OpenClaw.

The transcript is built from real Claude Code 2.1.330 lines (tests/fixtures/claude_code):
the Skill tool's input is `{"skill": name, "args"?}` (its schema in the fixture's recorded
tool list); Read gets an absolute `file_path`; Bash a `command`.
"""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_hooks_claude_code import BIN, FIXTURES, Hooks

from acontext_mcp.capture.skill_use import UseFinder
from acontext_mcp.config import Settings
from acontext_mcp.hooks import openclaw as openclaw_hooks
from acontext_mcp.skills.copies import skill_folders
from acontext_mcp.skills.sync import manifest_path_for, sync_skills

SESSION = "5b3f2c1a-0000-4000-8000-00000000abcd"
SKILL_MD = "---\nname: deploy-notes\ndescription: How this repo deploys. Use to deploy.\n---\n"


def _templates() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A real prompt line, assistant tool_use line and tool_result line of the fixture."""
    prompt = call = result = None
    for line in (FIXTURES / "multi_turn.jsonl").read_text().splitlines():
        record = json.loads(line)
        content = (record.get("message") or {}).get("content")
        kinds = {b.get("type") for b in content} if isinstance(content, list) else set()
        if record.get("type") == "user" and isinstance(content, str) and prompt is None:
            prompt = record
        elif record.get("type") == "assistant" and call is None and "tool_use" in kinds:
            call = record
        elif record.get("type") == "user" and result is None and "tool_result" in kinds:
            result = record
    assert prompt and call and result
    return prompt, call, result


def transcript(path: Path, project: Path, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """A session: one prompt, then each (tool, input) as a tool_use and its result."""
    prompt, call, result = _templates()
    lines = []
    first = copy.deepcopy(prompt)
    first.update(sessionId=SESSION, cwd=str(project), uuid="00000000-0000-4000-8000-000000000001")
    first["message"]["content"] = "Deploy the app."
    lines.append(first)
    for n, (tool, args) in enumerate(calls, 1):
        use = copy.deepcopy(call)
        use.update(sessionId=SESSION, cwd=str(project), uuid=f"00000000-0000-4000-8000-1{n:011d}")
        use["timestamp"] = f"2026-11-23T19:5{n}:00.000Z"
        use["message"]["id"] = f"msg_{n:020d}"
        use["message"]["content"] = [
            {"type": "tool_use", "id": f"toolu_{n:020d}", "name": tool, "input": args}
        ]
        done = copy.deepcopy(result)
        done.update(sessionId=SESSION, cwd=str(project), uuid=f"00000000-0000-4000-8000-2{n:011d}")
        done["message"]["content"] = [
            {"tool_use_id": f"toolu_{n:020d}", "type": "tool_result", "content": "ok"}
        ]
        lines += [use, done]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))


def make_skill(skills_dir: Path) -> None:
    folder = skills_dir / "deploy-notes"
    (folder / "references").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL_MD + "# Deploy\nRun `make deploy`.\n")
    (folder / "references" / "steps.md").write_text("1. build\n2. ship\n")


def uses(db_path: Path) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT skill, kind, path, session_id, project_dir, created_at FROM skill_uses "
            "ORDER BY created_at, id"
        ).fetchall()
    return [tuple(r) for r in rows]


class TestHooks:
    def test_skill_tool_and_reads_of_synced_copies_are_recorded_once(self, tmp_path: Path) -> None:
        hooks = Hooks(tmp_path)
        make_skill(hooks.home / "skills")
        project = tmp_path / "project"
        project.mkdir()
        path = tmp_path / "cc" / f"{SESSION}.jsonl"
        path.parent.mkdir()
        base = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(project)}
        hooks.run("SessionStart", {**base, "hook_event_name": "SessionStart", "source": "startup"})
        copy_dir = hooks.claude_config / "skills" / "deploy-notes"
        assert (copy_dir / "references" / "steps.md").is_file()  # SessionStart synced it
        calls = [
            ("Skill", {"skill": "deploy-notes"}),
            ("Read", {"file_path": str(copy_dir / "references" / "steps.md")}),
            ("Bash", {"command": f"cat {copy_dir}/SKILL.md | head -5 > /tmp/x"}),
            ("Bash", {"command": f"echo hi > {copy_dir}/notes.md"}),  # a write: not a read
            ("Read", {"file_path": str(project / "README.md")}),  # not a skill
            ("Skill", {"skill": "someplugin:deploy-notes"}),  # a plugin's, not ours
            ("Skill", {"skill": "not-a-skill-of-ours"}),
        ]
        transcript(path, project, calls)
        post = {**base, "hook_event_name": "PostToolUse", "tool_name": "Skill"}
        hooks.run("PostToolUse", {**post, "tool_input": {"skill": "deploy-notes"}})
        hooks.run("Stop", {**base, "hook_event_name": "Stop"})
        assert hooks.failures() == []
        got = uses(hooks.home / "acontext.db")
        assert [r[:5] for r in got] == [
            ("deploy-notes", "skill_tool", None, SESSION, str(project)),
            ("deploy-notes", "read", "references/steps.md", SESSION, str(project)),
            ("deploy-notes", "read", "SKILL.md", SESSION, str(project)),
        ]
        # dated when the agent made the call, not when it was captured
        assert got[0][5] == datetime(2026, 11, 23, 19, 51, tzinfo=UTC).timestamp()

        # a later hook and an import of the same transcript count nothing twice
        hooks.run("SessionEnd", {**base, "hook_event_name": "SessionEnd", "reason": "other"})
        proc = subprocess.run(
            [str(BIN), "import", "claude-code", str(path), "--json", "--live-window", "0"],
            env=hooks.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["skill_uses"] == 0
        assert len(uses(hooks.home / "acontext.db")) == 3


def test_import_into_a_fresh_store_derives_the_same_uses(
    settings: Settings, tmp_path: Path, db
) -> None:
    """`import` of a past transcript records its uses, dated from the transcript; again: none."""
    from acontext_mcp.capture.importer import discover, import_transcripts

    make_skill(settings.skills_dir)
    target = tmp_path / "claude" / "skills"
    sync_skills(settings.skills_dir, target, manifest_path=manifest_path_for(settings, target))
    project = tmp_path / "proj"
    project.mkdir()
    path = tmp_path / "projects" / "p" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    transcript(
        path,
        project,
        [
            ("Skill", {"skill": "apps/web:deploy-notes", "args": "prod"}),  # directory-scoped
            ("Read", {"file_path": str(settings.skills_dir / "deploy-notes" / "SKILL.md")}),
            ("Bash", {"command": "sed -n 1,5p .claude/skills/x.md; nl ~/elsewhere/SKILL.md"}),
        ],
    )
    first = import_transcripts(db, settings, discover(path.parent), live_window=0)
    assert first.skill_uses == 2
    again = import_transcripts(db, settings, discover(path.parent), live_window=0)
    assert again.skill_uses == 0
    rows = db.execute("SELECT skill, kind, path FROM skill_uses ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [
        ("deploy-notes", "skill_tool", None),
        ("deploy-notes", "read", "SKILL.md"),
    ]


class TestFinder:
    """Path mapping and command parsing, against real folders and a real sync manifest."""

    @pytest.fixture
    def finder(self, settings: Settings, tmp_path: Path) -> UseFinder:
        make_skill(settings.skills_dir)
        (tmp_path / "claude" / "skills" / "mine").mkdir(parents=True)  # the user's own skill
        target = tmp_path / "claude" / "skills"
        sync_skills(settings.skills_dir, target, manifest_path=manifest_path_for(settings, target))
        return UseFinder(settings)

    def call(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"type": "tool-call", "id": "c1", "name": name, "arguments": json.dumps(args)}

    def test_only_our_copies_count(self, finder: UseFinder, tmp_path: Path) -> None:
        claude = tmp_path / "claude" / "skills"
        parts = [
            self.call("Read", {"file_path": str(claude / "mine" / "SKILL.md")}),
            self.call("Read", {"file_path": str(claude / "deploy-notes" / "SKILL.md")}),
            self.call("Read", {"file_path": str(claude / "deploy-notes")}),
            self.call("Read", {"file_path": str(claude / ".deploy-notes.acontext-tmp-1" / "x")}),
        ]
        assert finder.uses(parts, None) == [
            ("read", "deploy-notes", "SKILL.md"),
            ("read", "deploy-notes", "SKILL.md"),
        ]

    def test_shell_readers_relative_paths_and_home(
        self, finder: UseFinder, tmp_path: Path, settings: Settings
    ) -> None:
        claude = tmp_path / "claude"
        rel = "skills/deploy-notes/references/steps.md"
        command = (
            f"cd /x && less {rel} 2>/dev/null\n"
            f"tail -n 3 '{claude}/skills/deploy-notes/SKILL.md' "
            f"'{claude}/skills/deploy-notes/SKILL.md'; grep x {claude}/skills/deploy-notes/SKILL.md"
        )
        parts = [self.call("Bash", {"command": command})]
        assert finder.uses(parts, str(claude)) == [
            ("read", "deploy-notes", "references/steps.md"),
            ("read", "deploy-notes", "SKILL.md"),
        ]
        assert finder.uses([self.call("exec", {"command": 'cat "unbalanced'})], None) == []

    def test_manifests_name_the_folders(self, finder: UseFinder, tmp_path: Path) -> None:
        folders = skill_folders(finder.settings)
        assert folders.names == {"deploy-notes"}
        assert folders.roots[str(tmp_path / "claude" / "skills")] == {"deploy-notes"}


def test_openclaw_reads_of_the_shared_copy_are_recorded_once(
    settings: Settings, tmp_path: Path, db
) -> None:
    make_skill(settings.skills_dir)
    target = tmp_path / "openclaw" / "skills"
    sync_skills(settings.skills_dir, target, manifest_path=manifest_path_for(settings, target))
    messages = [
        {"role": "user", "content": "deploy please", "timestamp": 1795463400000},
        {
            "role": "assistant",
            "content": None,
            "timestamp": 1795463460000,
            "tool_calls": [
                {
                    "id": "call1",
                    "type": "function",
                    "function": {
                        "name": "read",
                        "arguments": json.dumps({"path": f"{target}/deploy-notes/SKILL.md"}),
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call1", "content": "# Deploy"},
    ]
    payload = {"messages": messages, "sessionId": "oc1", "cwd": str(tmp_path)}
    for _ in range(2):  # OpenClaw resends the whole history at every agent_end
        openclaw_hooks.capture(
            db, settings, "agent_end", payload, session_id="oc1", project_dir=str(tmp_path)
        )
    rows = db.execute("SELECT skill, kind, path, session_id, created_at FROM skill_uses")
    assert [tuple(r) for r in rows] == [("deploy-notes", "read", "SKILL.md", "oc1", 1795463460.0)]


def test_calls_that_name_no_skills_folder_read_no_manifest(tmp_path: Path) -> None:
    """Most tool calls are passed over before any manifest is read; a skills repository of
    another name is still recognised."""
    settings = Settings(home=tmp_path / "home", skills_dir=tmp_path / "memory")
    make_skill(settings.skills_dir)
    finder = UseFinder(settings)
    other = {"type": "tool-call", "id": "c1", "name": "Bash", "arguments": '{"command": "ls"}'}
    assert finder.uses([other], None) == []
    assert finder._folders is None
    read = json.dumps({"file_path": str(tmp_path / "memory" / "deploy-notes" / "SKILL.md")})
    call = {"type": "tool-call", "id": "c2", "name": "Read", "arguments": read}
    assert finder.uses([call], None) == [("read", "deploy-notes", "SKILL.md")]
