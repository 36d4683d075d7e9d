"""Real Claude Code lists a skill from our skills repository, synced by the SessionStart hook;
and a skill learned from a real session reaches the next session's skill list and search.

A skill is committed to the skills repository the way the learner commits one; then two
headless `claude -p` sessions run with our plugin, a temp HOME and CLAUDE_CONFIG_DIR, against
the scripted fake Messages API:

1. session 1: its SessionStart hook copies the skill into `$CLAUDE_CONFIG_DIR/skills` (files
   and sync manifest) and answers `reloadSkills: true`, so Claude Code 2.1.330 lists the skill
   to the model in this very session (without `reloadSkills` it would not: checked by hand
   with a hook that only copies);
2. session 2: nothing to sync, no reload asked, and the skill is still listed.

Where 2.1.330 lists skills: the request's `messages[1]` (role "system") holds a text block
with "The following skills are available for use with the Skill tool:", a blank line, then
one `- <name>: <description>` line per skill (a long description may run on over several
lines); the Skill tool's own description only says that a listing exists.

The helpers (`fake_api`, `run_claude`, `skill_list_in_request`, `commit_skill`,
`wait_for_hooks`) are meant for other tests too, e.g. one that learns the skill first.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.model_server import model_server
from test_claude_code import Run

from acontext_mcp.config import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "claude-code"
MODEL = REPO / "tests" / "support" / "anthropic_model.py"
ACONTEXT_MCP = Path(sys.executable).parent / "acontext-mcp"
RUN_TIMEOUT = 180
SKILL_LISTING = "The following skills are available for use with the Skill tool:"
PLUGIN_SKILL = "acontext:acontext-memory"  # shipped in plugins/claude-code/skills

SKILL = "deploy-runbook"
DESCRIPTION = (
    "Zebra-quartz deploy runbook for this app's staging cluster. Use when asked to deploy."
)
BODY = "# Deploy\n\n1. `make ship ENV=staging`\n2. Watch `make status` until every pod is ready.\n"


# --- The fake Messages API ---


@dataclass
class FakeApi:
    """tests/support/anthropic_model.py on 127.0.0.1: its port and its request log."""

    port: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """The POST /v1/messages requests ({"headers", "body"}) in arrival order; with
        `session_id`, only those Claude Code sent for that session."""
        if not self.log.exists():
            return []
        lines = [json.loads(x) for x in self.log.read_text().splitlines() if x.strip()]
        out = [
            x
            for x in lines
            if x.get("method") == "POST" and x["path"].split("?")[0].endswith("/v1/messages")
        ]
        if session_id is not None:
            out = [x for x in out if x["headers"].get("x-claude-code-session-id") == session_id]
        return out


@contextlib.contextmanager
def fake_api(work: Path, script: dict[str, Any] | None = None) -> Iterator[FakeApi]:
    """Serve the scripted model (see anthropic_model.py; default: every answer is the text
    "FAKE-DONE") until the block ends. Files go to `work` (model.jsonl is the request log)."""
    work.mkdir(parents=True, exist_ok=True)
    script_path, port_file, log = work / "script.json", work / "model.port", work / "model.jsonl"
    script_path.write_text(json.dumps(script or {"final": "FAKE-DONE", "conversations": []}))
    with model_server(MODEL, port_file, "--log", str(log), "--script", str(script_path)) as port:
        yield FakeApi(port, log)


# --- Running Claude Code ---


class ClaudeRun(Run):
    """One `claude -p` run (test_claude_code.Run), plus what our hooks answered."""

    def hook_answers(self, event: str = "SessionStart") -> list[dict[str, Any]]:
        """The JSON our hooks printed for `event` (stream-json reports SessionStart's);
        {} for a hook that printed nothing."""
        found = [
            e
            for e in self.events
            if e.get("subtype") == "hook_response" and e.get("hook_event") == event
        ]
        assert all(e["exit_code"] == 0 for e in found), found
        return [json.loads(e["stdout"]) if e["stdout"].strip() else {} for e in found]


def claude_env(
    claude_code: Any, api: FakeApi, home: Path, config_dir: Path, acontext_home: Path
) -> dict[str, str]:
    """Only what Claude Code needs: nothing of the caller's ANTHROPIC_*, ACONTEXT_*, HOME or
    Claude Code config; the model is the fake API."""
    path = os.pathsep.join(
        [str(ACONTEXT_MCP.parent), str(claude_code.node_bin), os.environ.get("PATH", "")]
    )
    env = {
        "PATH": path,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "ANTHROPIC_BASE_URL": api.base_url,
        "ANTHROPIC_API_KEY": "sk-test",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "IS_SANDBOX": "1",  # lets bypassPermissions run as root
        "ACONTEXT_HOME": str(acontext_home),
        "ACONTEXT_MCP_BIN": str(ACONTEXT_MCP),
        "ACONTEXT_WORKER": "off",  # no background learning unless a test turns it on
    }
    for name in ("LANG", "LC_ALL", "TMPDIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def run_claude(
    claude_code: Any,
    api: FakeApi,
    home: Path,
    config_dir: Path,
    prompt: str,
    *extra: str,
    acontext_home: Path,
    cwd: Path,
    plugin: Path = PLUGIN,
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> ClaudeRun:
    """`claude -p PROMPT --plugin-dir PLUGIN` in `cwd`, stream-json, bypassPermissions; `extra`
    are more CLI arguments (e.g. "--resume", SID), `env` overrides the environment. Asserts
    a successful run; stdout and stderr are kept in `cwd/../claude-runs/` for post-mortems."""
    args = [
        str(claude_code.bin),
        "-p",
        prompt,
        "--plugin-dir",
        str(plugin),
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
        *extra,
    ]
    full_env = {**claude_env(claude_code, api, home, config_dir, acontext_home), **(env or {})}
    started = time.monotonic()
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    keep = cwd.parent / "claude-runs"
    keep.mkdir(exist_ok=True)
    name = f"run{len(list(keep.glob('*.stdout.jsonl'))) + 1}"
    (keep / f"{name}.stdout.jsonl").write_text(proc.stdout)
    (keep / f"{name}.stderr.txt").write_text(proc.stderr)
    assert proc.returncode == 0, f"claude exit {proc.returncode}\n{proc.stderr[-3000:]}"
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    run = ClaudeRun(prompt, events, proc.stderr, seconds)
    assert run.result["subtype"] == "success" and not run.result["is_error"], run.result
    return run


def wait_for_hooks(acontext_home: Path, timeout: float = 10.0) -> float:
    """Wait until no hook process with this ACONTEXT_HOME is alive (Linux; detached and async
    hooks outlive `claude -p`); returns the seconds waited."""
    started = time.monotonic()
    mine = f"ACONTEXT_HOME={acontext_home}".encode()
    while time.monotonic() - started < timeout:
        busy = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if b"claude-code" not in (proc / "cmdline").read_bytes().split(b"\0"):
                    continue
                busy += mine in (proc / "environ").read_bytes().split(b"\0")
            except OSError:  # gone meanwhile, or not ours to read
                continue
        if not busy:
            break
        time.sleep(0.1)
    return time.monotonic() - started


# --- Skills ---


def commit_skill(
    skills_dir: Path,
    name: str,
    description: str,
    body: str = BODY,
    *,
    files: dict[str, str] | None = None,
    session_id: str | None = "seed-session",
    task_id: str | int | None = 1,
) -> Path:
    """Write `<skills_dir>/<name>/SKILL.md` (and `files`, relative paths) and commit them as
    one learning, the way the learner does (`skills.repo.ensure_repo` + `commit_learning`)."""
    from acontext_mcp.skills.repo import commit_learning, ensure_repo

    ensure_repo(skills_dir).close()
    folder = skills_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\n{body}")
    for rel, text in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    sha = commit_learning(
        skills_dir, f"Learned {name}", session_id=session_id, task_id=task_id, paths=[name]
    )
    assert sha, f"nothing committed for {name}"
    return folder


def skill_list_in_request(request_body: dict[str, Any]) -> list[str]:
    """The skills Claude Code (2.1.330) listed to the model in one Messages API request, as
    `"<name>: <description>"` entries, in order ([] when the request lists none).

    The listing is a text block of a `role: "system"` message (`messages[1]`): the line
    SKILL_LISTING, a blank line, then `- <name>: <description>` per skill until a blank line;
    a line not starting with "- " continues the previous description. When several messages
    hold a listing, the last one wins.
    """
    found: list[str] | None = None
    for message in request_body.get("messages") or []:
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks or []:
            text = block.get("text") if isinstance(block, dict) else None
            if not isinstance(text, str) or SKILL_LISTING not in text:
                continue
            lines = text.split(SKILL_LISTING, 1)[1].split("\n")
            entries: list[str] = []
            for line in lines[1:] if lines and not lines[0].strip() else lines:
                if not line.strip():
                    if entries:
                        break
                    continue
                if line.startswith("- "):
                    entries.append(line[2:])
                elif entries:
                    entries[-1] += "\n" + line
            found = entries
    return found or []


def skill_names(entries: list[str]) -> list[str]:
    """The names of `skill_list_in_request` entries."""
    return [entry.split(": ", 1)[0].rstrip(":") for entry in entries]


# --- The test ---


def test_a_committed_skill_is_synced_and_listed_to_the_model(claude_code: Any, tmp_path) -> None:
    from acontext_mcp.skills.sync import manifest_path_for

    work = tmp_path.resolve()
    home, config, project, store = (work / n for n in ("home", "claude-config", "project", "store"))
    for folder in (home, config, project, store):
        folder.mkdir()
    settings = Settings(home=store, skills_dir=store / "skills")  # what the hooks will use
    source = commit_skill(settings.skills_dir, SKILL, DESCRIPTION, files={"scripts/ship.sh": "x\n"})
    entry = f"{SKILL}: {DESCRIPTION}"
    timings = claude_code.timings

    with fake_api(work / "model") as api:
        first = run_claude(
            claude_code, api, home, config, "DELTA: hello", acontext_home=store, cwd=project
        )
        timings.append(("claude -p, skills session 1 (SessionStart syncs)", first.seconds))
        timings.append(("  hooks settled after exit", wait_for_hooks(store)))

        # The SessionStart hook copied the skill, recorded it, and asked for a rescan.
        copy = config / "skills" / SKILL
        for rel in ("SKILL.md", "scripts/ship.sh"):
            assert (copy / rel).read_bytes() == (source / rel).read_bytes(), rel
        assert sorted(p.name for p in (config / "skills").iterdir()) == [SKILL]
        manifest = json.loads(manifest_path_for(settings, config / "skills").read_text())
        assert manifest["target"] == str(config / "skills")
        assert set(manifest["skills"]) == {SKILL}
        assert set(manifest["skills"][SKILL]["files"]) == {"SKILL.md", "scripts/ship.sh"}
        (answer,) = first.hook_answers("SessionStart")
        assert answer["hookSpecificOutput"].get("reloadSkills") is True, answer
        assert not (home / ".claude" / "skills").exists()  # CLAUDE_CONFIG_DIR wins

        # Same session: the rescan makes Claude Code list the skill it just got.
        requests = api.requests(first.session_id)
        assert requests, "no model request of session 1"
        listed = skill_list_in_request(requests[0]["body"])
        assert PLUGIN_SKILL in skill_names(listed), listed  # the parse found the listing
        assert entry in listed, listed

        second = run_claude(
            claude_code, api, home, config, "ECHO: hello again", acontext_home=store, cwd=project
        )
        timings.append(("claude -p, skills session 2 (nothing to sync)", second.seconds))
        timings.append(("  hooks settled after exit", wait_for_hooks(store)))

    assert second.session_id != first.session_id
    (answer,) = second.hook_answers("SessionStart")
    assert "reloadSkills" not in answer.get("hookSpecificOutput", {}), answer
    requests = api.requests(second.session_id)
    assert requests, "no model request of session 2"
    for request in requests:
        listed = skill_list_in_request(request["body"])
        assert skill_names(listed).count(SKILL) == 1 and entry in listed, listed
        assert request["body"]["messages"][1]["role"] == "system"
        assert SKILL_LISTING in json.dumps(request["body"]["messages"][1])

    log = (settings.logs_dir / "hooks.log").read_text().splitlines()
    assert not [x for x in log if " failed" in x or "error" in x], log
    synced = [x for x in log if "skill sync:" in x]
    assert len(synced) == 1 and f"{config / 'skills'}: 1 written" in synced[0], log
    assert sum(" claude-code SessionStart ok " in x for x in log) == 2, log


# --- Learned, not planted: a real session's task becomes a skill the next session has ---

PREFIX = "mcp__plugin_acontext_acontext__"


def _learn_env(store: Path, home: Path, config: Path, llm_url: str) -> dict[str, str]:
    """`acontext-mcp learn` against the scripted model on loopback, through the openai SDK."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACONTEXT_", "OPENAI_"))}
    env.pop("ANTHROPIC_API_KEY", None)
    env.update(
        ACONTEXT_HOME=str(store),
        HOME=str(home),
        CLAUDE_CONFIG_DIR=str(config),
        OPENCLAW_STATE_DIR=str(store.parent / "no-openclaw"),
        ACONTEXT_WORKER="off",
        ACONTEXT_LLM_PROVIDER="openai",
        OPENAI_API_KEY="sk-e2e-dummy",
        ACONTEXT_LLM_BASE_URL=llm_url + "/v1",
        ACONTEXT_LLM_MODEL="fake-model",
        ACONTEXT_LLM_MAX_RETRIES="1",
    )
    return env


def _tool_results(run: ClaudeRun) -> list[str]:
    """The text of every tool_result block Claude Code fed back to the model in `run`."""
    contents = [block.get("content") for block in run.tool_results().values()]
    return [c if isinstance(c, str) else json.dumps(c) for c in contents]


def test_a_learned_skill_reaches_the_next_real_session_and_search(
    claude_code: Any, tmp_path: Path
) -> None:
    from support.fake_llm import FakeLLM
    from support.learn_script import SKILL_DESCRIPTION, SKILL_NAME, LearningModel, learned_steps

    work = tmp_path.resolve()
    home, config, project, store = (work / n for n in ("home", "claude-config", "project", "store"))
    for folder in (home, config, project, store):
        folder.mkdir()
    settings = Settings(home=store, skills_dir=store / "skills")
    timings = claude_code.timings

    def use(name: str, **tool_input: Any) -> dict[str, Any]:
        return {"type": "tool_use", "name": name, "input": tool_input}

    script = {
        "final": "FAKE-DONE",
        "conversations": [
            {
                "marker": "RELEASE",
                "steps": [
                    [use("Bash", command="echo frobnicator: 0 problems", description="Check")],
                    [{"type": "text", "text": "Checks pass; release 1.4.0 is tagged."}],
                ],
            },
            {
                "marker": "RECALL",
                "steps": [
                    [use("ToolSearch", query=f"select:{PREFIX}search_skills", max_results=5)],
                    [use(PREFIX + "search_skills", query="frobnicator release")],
                    [{"type": "text", "text": "Found the release checklist."}],
                ],
            },
        ],
    }
    with fake_api(work / "model", script) as api:
        # 1. A real session does the work; hooks capture it (no background learning).
        first = run_claude(
            claude_code,
            api,
            home,
            config,
            "RELEASE: cut release 1.4.0 of the package, the usual way",
            acontext_home=store,
            cwd=project,
        )
        timings.append(("claude -p, learning session 1 (the work)", first.seconds))
        timings.append(("  hooks settled after exit", wait_for_hooks(store)))
        assert not (config / "skills" / SKILL_NAME).exists()

        # 2. Learn it: observe -> distill -> skill learner, under a scripted model on loopback.
        with FakeLLM() as llm:
            model = LearningModel(llm)
            started = time.monotonic()
            done = subprocess.run(
                [str(ACONTEXT_MCP), "learn", first.session_id, "--json", "--timeout", "120"],
                env=_learn_env(store, home, config, llm.url),
                capture_output=True,
                text=True,
                timeout=180,
            )
            timings.append(
                ("acontext-mcp learn (observe, distill, learner)", time.monotonic() - started)
            )
        assert done.returncode == 0, done.stdout + done.stderr
        status = json.loads(done.stdout)["status"]
        assert status["status"] == "completed", status
        assert model.stages == ["observe", "distill", "learn", "learn"], model.stages
        # The work was not verified (no test or build ran): under the default review policy
        # the learning waits as a proposal, synced nowhere, until the user accepts it.
        assert not status["commits"], status
        assert not (config / "skills" / SKILL_NAME).exists()
        env = _learn_env(store, home, config, llm.url)
        listed = subprocess.run(
            [str(ACONTEXT_MCP), "skills", "proposals", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        (proposal,) = json.loads(listed.stdout)
        assert proposal["session_ids"] == [first.session_id], proposal
        accepted = subprocess.run(
            [str(ACONTEXT_MCP), "skills", "accept", proposal["id"][:8], "--json"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert accepted.returncode == 0, accepted.stderr
        commit = json.loads(accepted.stdout)["commit"]

        # The commit names the real session; the skill is valid and synced to this home.
        from acontext_mcp.skills import repo
        from acontext_mcp.skills.validate import validate_skill

        (entry,) = [e for e in repo.log(settings.skills_dir) if e["sha"] == commit]
        assert entry["provenance"]["session_id"] == first.session_id
        assert validate_skill(settings.skills_dir / SKILL_NAME) == []
        synced = config / "skills" / SKILL_NAME
        assert learned_steps((synced / "steps.md").read_text())
        assert not (project / ".claude").exists()  # the project's own folder only when configured

        # 3. The next real session lists it and finds it through our search_skills tool.
        second = run_claude(
            claude_code,
            api,
            home,
            config,
            "RECALL: how do we cut a release here?",
            acontext_home=store,
            cwd=project,
        )
        timings.append(("claude -p, learning session 2 (lists and searches)", second.seconds))
        timings.append(("  hooks settled after exit", wait_for_hooks(store)))

    requests = api.requests(second.session_id)
    assert requests, "no model request of session 2"
    listed = skill_list_in_request(requests[0]["body"])
    assert SKILL_NAME in skill_names(listed), listed
    (mine,) = [e for e in listed if e.startswith(f"{SKILL_NAME}: ")]
    assert (
        " ".join(mine.split())[:60] == " ".join(f"{SKILL_NAME}: {SKILL_DESCRIPTION}".split())[:60]
    )
    results = [r for r in _tool_results(second) if SKILL_NAME in r]
    assert results, _tool_results(second)
    best = json.loads(results[-1])["results"][0]  # search_skills' answer, as the model got it
    assert best["name"] == SKILL_NAME and best["description"] == SKILL_DESCRIPTION
    assert {m["path"] for m in best["matches"]} == {"SKILL.md", "steps.md"}
