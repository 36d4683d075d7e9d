"""Learning end to end with real processes: a stored coding session -> `acontext-mcp learn`
(or the background worker) -> the real openai / anthropic SDK -> a scripted model on loopback
(tests/support/learn_script.py) -> a commit in the skills repository -> synced into a temporary
Claude Code home -> found by `search_skills` through the MCP server over real stdio."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import git
import pytest
from mcp import Client, StdioServerParameters
from support.fake_llm import FakeLLM
from support.learn_script import (
    SKILL_DESCRIPTION,
    SKILL_MD,
    SKILL_NAME,
    LearningModel,
    learned_steps,
)

from acontext_mcp.config import Settings
from acontext_mcp.learn.review import save_policy
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn
from acontext_mcp.worker import triggers

BIN = Path(sys.executable).parent / "acontext-mcp"
SESSION = "release-e2e"


def _bash(call_id: str, command: str) -> dict[str, Any]:
    arguments = json.dumps({"command": command})
    return {"id": call_id, "type": "function", "function": {"name": "Bash", "arguments": arguments}}


CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "content": "Cut release 1.4.0 of the package, the usual way."},
    {
        "role": "assistant",
        "content": "Bumping the version and running the checks.",
        "tool_calls": [_bash("c1", "make frobnicate")],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "frobnicator: 0 problems"},
    {
        "role": "assistant",
        "content": "Checks pass.",
        "tool_calls": [_bash("c2", "git tag v1.4.0")],
    },
    {"role": "tool", "tool_call_id": "c2", "content": ""},
    {"role": "assistant", "content": "Tagged v1.4.0 and published it."},
    {"role": "user", "content": "Great, thanks, that worked."},
]


def _env(tmp: Path, provider: str, url: str) -> dict[str, str]:
    (tmp / "claude-config").mkdir(exist_ok=True)  # Claude Code is installed: sync goes there
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(tmp / "home"),
        "ACONTEXT_WORKER": "off",
        "ACONTEXT_WORKER_IDLE_S": "0.3",
        "ACONTEXT_LLM_TIMEOUT": "20",
        "ACONTEXT_LLM_MAX_RETRIES": "1",
        "HOME": str(tmp / "user-home"),
        "CLAUDE_CONFIG_DIR": str(tmp / "claude-config"),
        "OPENCLAW_STATE_DIR": str(tmp / "no-openclaw"),
    }
    for name in (
        "ACONTEXT_HOOK_INLINE",
        "ACONTEXT_SKILLS_DIR",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    ):
        env.pop(name, None)
    if provider == "openai":
        env.update(
            ACONTEXT_LLM_PROVIDER="openai",
            OPENAI_API_KEY="sk-e2e-dummy",
            ACONTEXT_LLM_BASE_URL=url + "/v1",
            ACONTEXT_LLM_MODEL="fake-model",
        )
    else:
        env.update(
            ACONTEXT_LLM_PROVIDER="anthropic",
            ANTHROPIC_API_KEY="sk-ant-e2e-dummy",
            ACONTEXT_LLM_BASE_URL=url,
        )
    return env


def _store(tmp: Path, *, queue: bool = False) -> Settings:
    home = tmp / "home"
    settings = Settings(home=home, skills_dir=home / "skills")
    settings.ensure_dirs()
    save_policy(settings, "auto")  # the commit path; review before use: test_learn_review
    conn = open_db(settings)
    try:
        store_turn(conn, settings, CONVERSATION, session_id=SESSION)
        if queue:
            triggers.queue_observe(conn, SESSION)
    finally:
        conn.close()
    return settings


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)


def _check_learned(tmp: Path, env: dict[str, str]) -> str:
    """The skill is committed with provenance, valid, synced; returns the commit sha."""
    skills = tmp / "home" / "skills"
    folder = skills / SKILL_NAME
    assert (folder / "SKILL.md").read_text() == SKILL_MD
    assert learned_steps((folder / "steps.md").read_text())
    done = _cli(env, "skills", "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    log = json.loads(_cli(env, "skills", "log", "--json").stdout)
    learned = [e for e in log if e["provenance"].get("session_id") == SESSION]
    assert len(learned) == 1, log
    sha = learned[0]["sha"]
    commit = git.Repo(skills).commit(sha)
    # The skill the learner created, the entry written into it, and the day's log line.
    files = sorted(commit.stats.files)
    assert files[1:] == [f"{SKILL_NAME}/SKILL.md", f"{SKILL_NAME}/steps.md"], files
    assert re.fullmatch(r"daily-logs/logs/\d{4}-\d\d\.md", files[0]), files  # by month
    assert not git.Repo(skills).is_dirty(untracked_files=True)
    synced = tmp / "claude-config" / "skills" / SKILL_NAME
    assert (synced / "SKILL.md").read_text() == SKILL_MD
    assert (synced / "steps.md").read_text() == (folder / "steps.md").read_text()
    return sha


async def _search_over_stdio(env: dict[str, str], query: str) -> list[dict[str, Any]]:
    params = StdioServerParameters(command=str(BIN), args=["serve"], env=env)
    async with Client(params, mode="legacy") as client:
        result = await client.call_tool("search_skills", {"query": query})
        assert not result.is_error, result
        return result.structured_content["results"]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.anyio
async def test_learn_command_turns_a_finished_task_into_a_synced_searchable_skill(
    tmp_path: Path, provider: str
) -> None:
    _store(tmp_path)
    with FakeLLM() as fake:
        model = LearningModel(fake)
        env = _env(tmp_path, provider, fake.url)
        done = _cli(env, "learn", SESSION, "--json", "--timeout", "90")
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    status = out["status"]
    assert status["status"] == "completed" and status["space"] == "default", out
    assert [(i["kind"], i["status"]) for i in status["learnings"]] == [("success", "learned")]
    # Observe (2 rounds), one distillation, the learner (plan + edits, then finish).
    assert model.stages == ["observe", "distill", "learn", "learn"], model.stages
    sha = _check_learned(tmp_path, env)
    assert status["commits"] == [sha]

    hits = await _search_over_stdio(env, "frobnicator release")
    assert hits[0]["name"] == SKILL_NAME and hits[0]["description"] == SKILL_DESCRIPTION
    assert {m["path"] for m in hits[0]["matches"]} <= {"SKILL.md", "steps.md"}

    usage = json.loads(_cli(env, "usage", "--json").stdout)
    purposes = {row["purpose"] for row in usage["by_purpose"]}
    assert {"task_extraction", "skill_distillation", "skill_learning"} <= purposes

    # Learning again finds nothing new to do and calls no model.
    with FakeLLM() as fake:
        again = LearningModel(fake)
        done = _cli(_env(tmp_path, provider, fake.url), "learn", SESSION, "--no-observe", "--json")
    assert done.returncode == 0 and again.stages == [], done.stderr


def test_the_background_worker_learns_after_observing(tmp_path: Path) -> None:
    """No command but the worker: observe queues learn_task, which queues the learner."""
    _store(tmp_path, queue=True)
    with FakeLLM() as fake:
        model = LearningModel(fake)
        env = _env(tmp_path, "openai", fake.url)
        done = _cli(env, "worker", "--until-idle", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcomes"] == {"done": 3}, done.stdout
    assert model.stages == ["observe", "distill", "learn", "learn"]
    _check_learned(tmp_path, env)
    status = json.loads(_cli(env, "learn", "--json").stdout)["sessions"]
    assert [(s["session_id"], s["status"]) for s in status] == [(SESSION, "completed")]


FAKE_CLAUDE = r"""#!{python}
import json, os, sys
sys.path.insert(0, {tests!r})
from support.learn_script import cli_reply
stdin = sys.stdin.read()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.jsonl"), "a") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:]}}) + "\n")
sys.stdout.write(cli_reply(sys.argv[1:], stdin))
"""


def test_learning_through_the_users_claude_cli(tmp_path: Path) -> None:
    """No API key: the claude-cli provider (tools emulated as JSON) runs all three stages."""
    _store(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    tests_dir = Path(__file__).resolve().parent
    exe.write_text(FAKE_CLAUDE.format(python=sys.executable, tests=str(tests_dir)))
    exe.chmod(0o755)
    env = _env(tmp_path, "openai", "http://127.0.0.1:9")  # then switch the provider off it
    for name in ("OPENAI_API_KEY", "ACONTEXT_LLM_BASE_URL", "ACONTEXT_LLM_MODEL"):
        env.pop(name)
    env.update(ACONTEXT_LLM_PROVIDER="claude-cli", PATH=f"{bin_dir}{os.pathsep}{env['PATH']}")

    done = _cli(env, "learn", SESSION, "--json", "--timeout", "90")

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"]["status"] == "completed"
    _check_learned(tmp_path, env)
    calls = [json.loads(x)["argv"] for x in (bin_dir / "calls.jsonl").read_text().splitlines()]
    systems = [a[a.index("--system-prompt") + 1] for a in calls]
    assert len(systems) == 4  # observe, distill, learner (edits), learner (finish)
    assert systems[0].startswith("You keep the task list")
    assert "record_lesson" in systems[1]
    assert all("report_thinking" in s and "create_skill" in s for s in systems[2:])


def _skills_state(skills: Path) -> tuple[list[str], list[str], bool]:
    """(commit subjects newest first, files, dirty) of a skills repository."""
    repo = git.Repo(skills)
    try:
        subjects = [c.summary for c in repo.iter_commits()]
        files = sorted(
            str(p.relative_to(skills))
            for p in skills.rglob("*")
            if p.is_file() and ".git" not in p.parts
        )
        return subjects, files, repo.is_dirty(untracked_files=True)
    finally:
        repo.close()


def test_a_worker_killed_mid_learning_writes_nothing_and_the_next_one_ends_like_a_clean_run(
    tmp_path: Path,
) -> None:
    """SIGKILL while the learner's finishing round is in flight: the skills repository is
    untouched (the learner edits an overlay); a new worker, once the leases expire, learns the
    task once, ending as a run that was never interrupted."""
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    for where in (crashed, clean):
        where.mkdir()
        _store(where, queue=True)
    with FakeLLM() as fake:
        model = LearningModel(fake, stall_at=(4,))  # observe, distill, learner edits, FINISH
        env = _env(crashed, "anthropic", fake.url)
        env.update(ACONTEXT_WORKER_LEASE_S="1.5")
        victim = subprocess.Popen(
            [str(BIN), "worker", "--until-idle"],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert model.stalled.wait(60), "the worker never reached the learner's last round"
            skills = crashed / "home" / "skills"
            before = _skills_state(skills)
            assert not (skills / SKILL_NAME).exists() and not before[2]
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=10)
        finally:
            if victim.poll() is None:
                victim.kill()
            model.release.set()
        assert _skills_state(skills) == before  # nothing half-written, nothing committed
        time.sleep(1.8)  # the dead worker's leases expire
        done = _cli(env, "worker", "--until-idle", "--json")
        assert done.returncode == 0, done.stderr
        assert model.stages == ["observe", "distill", "learn", "learn", "learn", "learn"]

    with FakeLLM() as fake:
        LearningModel(fake)
        done = _cli(_env(clean, "anthropic", fake.url), "worker", "--until-idle", "--json")
        assert done.returncode == 0, done.stderr

    crashed_state = _skills_state(crashed / "home" / "skills")
    assert crashed_state == _skills_state(clean / "home" / "skills")
    subjects, files, dirty = crashed_state
    assert sum(s.startswith("Learn from 1 learning") for s in subjects) == 1 and not dirty
    assert f"{SKILL_NAME}/steps.md" in files
    status = json.loads(_cli(env, "learn", SESSION, "--no-observe", "--json").stdout)["status"]
    assert [(i["status"], i["kind"]) for i in status["learnings"]] == [("learned", "success")]
