"""Nothing secret is learned, over the whole loop, with real processes.

Canary secrets of many kinds are planted in a Claude Code session (the user's prose, a tool's
input, a tool's output, a `.env` file and a private key the agent reads), captured through the
real `acontext-mcp hook claude-code Stop`, then observed, distilled, learned, committed and
synced by `acontext-mcp learn` with the real openai / anthropic SDK against a scripted model on
127.0.0.1 that copies the canaries into everything it writes: task texts, the distilled
learning, the learner's plan, a new skill's description, file names, file contents,
str_replace payloads, a rename. None may be found in the skills repository (working tree and
`git log -p --all`), the agents' skill folders, any file of the data home (the SQLite file,
its WAL and SHM, the logs, sync manifests) or any request body the model server received.

The canaries are drawn at run time from a seeded generator: the repository holds none.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
import string
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from support.fake_llm import FakeLLM
from support.learn_script import LearningModel, _batch

BIN = Path(sys.executable).parent / "acontext-mcp"
SESSION = "canary-session-1"
SKILL = "deploy-runbook"

_RNG = random.Random(20261205)


def _draw(alphabet: str, n: int) -> str:
    """n random characters, starting with a letter pair and a digit (as real keys mix)."""
    return "Qk7" + "".join(_RNG.choice(alphabet) for _ in range(n - 3))


_ALNUM = string.ascii_letters + string.digits
_URLSAFE = _ALNUM + "_-"


def _jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"sub": str(_RNG.randrange(10**9)), "role": "admin"})
    return f"{head}.{body}.{_draw(_URLSAFE, 43)}"


CANARIES: dict[str, str] = {
    "aws_secret_key": _draw(_ALNUM + "/+", 40),
    "anthropic_key": "sk-ant-api03-" + _draw(_URLSAFE, 93) + "AA",
    "openai_key": "sk-proj-" + _draw(_URLSAFE, 100),
    "github_token": "ghp_" + _draw(_ALNUM, 36),
    "slack_token": f"xoxb-{_RNG.randrange(10**10, 10**11)}-{_RNG.randrange(10**11, 10**12)}-"
    + _draw(_ALNUM, 24),
    "stripe_key": "sk_live_" + _draw(_ALNUM, 24),
    "db_password": _draw(_ALNUM + "!%^*", 18),
    "jwt": _jwt(),
    "private_key": "\n".join(_draw(_ALNUM + "+/", 64) for _ in range(3)),
}
C = CANARIES
PEM = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{C['private_key']}\n-----END OPENSSH PRIVATE KEY-----"
DOTENV = (
    f"DATABASE_URL=postgres://shop:{C['db_password']}@db.internal:5432/shop\n"
    f"STRIPE_SECRET_KEY={C['stripe_key']}\n"
    f"SLACK_BOT_TOKEN={C['slack_token']}\n"
    f"OPENAI_API_KEY={C['openai_key']}\n"
)


def _needles() -> dict[str, list[str]]:
    """What must not be found, per canary: the secret, and 16-character slices of it (a
    partial copy, a wrapped line), each line of a multi-line one."""
    out: dict[str, list[str]] = {}
    for kind, secret in CANARIES.items():
        pieces = secret.split("\n")
        found = list(pieces)
        for piece in pieces:
            found += [piece[i : i + 16] for i in range(0, len(piece) - 15, 8)]
        out[kind] = found
    return out


NEEDLES = _needles()


def leaks(text: str) -> list[str]:
    """The canaries readable in `text` (a JSON body's escapes undone first)."""
    flat = text.replace("\\n", "\n").replace("\\/", "/")
    return sorted(k for k, pieces in NEEDLES.items() if any(p in flat for p in pieces))


# --- the session: a Claude Code transcript -----------------------------------------------------


def _record(kind: str, n: int, message: dict[str, Any], project: Path, **extra: Any) -> str:
    return json.dumps(
        {
            "parentUuid": None if n == 0 else f"00000000-0000-4000-8000-{n - 1:012d}",
            "isSidechain": False,
            "type": kind,
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "timestamp": f"2026-12-05T08:{n:02d}:00.000Z",
            "cwd": str(project),
            "sessionId": SESSION,
            "version": "2.1.330",
            "message": message,
            **extra,
        }
    )


def _assistant(n: int, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"msg_{n:020d}",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-5-5",
        "content": content,
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def _tool(n: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{n:020d}", "name": name, "input": arguments}


def _result(n: int, content: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": f"toolu_{n:020d}", "content": content}],
    }


def write_transcript(path: Path, project: Path) -> None:
    """A deploy session: the user tells two keys in prose; the agent reads .env and a private
    key, pushes with a token in the URL, and logs in (a JWT in the output)."""
    numbered = "".join(f"{i}\t{line}\n" for i, line in enumerate(DOTENV.splitlines(), 1))
    lines = [
        _record(
            "user",
            0,
            {
                "role": "user",
                "content": f"Deploy the shop to staging. My aws secret key is "
                f"{C['aws_secret_key']}, and use my anthropic key {C['anthropic_key']} for "
                "the smoke test.",
            },
            project,
        ),
        _record("assistant", 1, _assistant(1, [_tool(1, "Read", {"file_path": ".env"})]), project),
        _record("user", 2, _result(1, numbered), project),
        _record(
            "assistant",
            3,
            _assistant(
                3,
                [
                    _tool(
                        3,
                        "Bash",
                        {"command": f"git push https://{C['github_token']}@github.com/acme/shop"},
                    )
                ],
            ),
            project,
        ),
        _record("user", 4, _result(3, "To github.com/acme/shop\n   3f2a1b..9c8d7e  main"), project),
        _record(
            "assistant",
            5,
            _assistant(5, [_tool(5, "Bash", {"command": "cat ~/.ssh/deploy_key"})]),
            project,
        ),
        _record("user", 6, _result(5, PEM + "\n"), project),
        _record(
            "assistant",
            7,
            _assistant(7, [_tool(7, "Bash", {"command": "curl -s localhost:8000/login"})]),
            project,
        ),
        _record("user", 8, _result(7, json.dumps({"token": C["jwt"], "ok": True})), project),
        _record(
            "assistant",
            9,
            {
                **_assistant(9, [{"type": "text", "text": "Deployed; the smoke test passed."}]),
                "stop_reason": "end_turn",
            },
            project,
        ),
        _record("user", 10, {"role": "user", "content": "great, that worked, thanks"}, project),
    ]
    path.write_text("\n".join(lines) + "\n")


# --- the model: copies every canary into what it writes ------------------------------------

SKILL_MD = f"""---
name: {SKILL}
description: "How this user deploys the shop to staging. Use when deploying."
---

# Deploy runbook

## File structure
- `env.md`: the variables a deploy needs.

## Guidelines
- One line per step.
"""


def _file(path: str, content: str) -> dict[str, str]:
    return {"skill_name": SKILL, "file_path": path, "content": content}


def canary_decide(system: str, prompt: str, rounds: int, names: set[str]) -> list[tuple]:
    if "insert_task" in names:  # the task agent
        if rounds or "## Current tasks\n(none yet)" not in prompt:
            return [("finish", {})] if rounds == 0 else []
        shown = _batch(prompt)
        return [
            (
                "insert_task",
                {"after_order": 0, "description": f"Deploy with aws key {C['aws_secret_key']}"},
            ),
            ("link_messages", {"order": 1, "message_ids": [i for i, _, _ in shown]}),
            (
                "append_progress",
                {
                    "order": 1,
                    "progress": f"I pushed with https://{C['github_token']}@github.com and "
                    f"the stripe key {C['stripe_key']}.",
                },
            ),
            (
                "record_preference",
                {"order": 1, "text": f"The user's db password is {C['db_password']}"},
            ),
            (
                "update_task",
                {
                    "order": 1,
                    "status": "success",
                    "description": f"Deploy the shop (slack token {C['slack_token']})",
                },
            ),
            ("finish", {}),
        ]
    if "record_lesson" in names:  # distillation: a structured lesson, secrets in every field
        return [
            (
                "record_lesson",
                {
                    "kind": "procedure",
                    "skill": SKILL,
                    "file": "env.md",
                    "section": f"Keys {C['stripe_key']}",
                    "title": f"Deploy with AWS_SECRET_ACCESS_KEY={C['aws_secret_key']}",
                    "text": f"Read .env:\n{DOTENV}\nLog in with the jwt {C['jwt']}\n{PEM}",
                    "triggers": ["deploy", C["anthropic_key"]],
                    "summary": f"Deployed with https://{C['github_token']}@github.com",
                    "new_skill_description": f"Deploys (key {C['openai_key']})",
                },
            )
        ]
    if "report_success_analysis" in names:  # distillation (the older form)
        return [
            (
                "report_success_analysis",
                {
                    "task_goal": f"Deploy with AWS_SECRET_ACCESS_KEY={C['aws_secret_key']}",
                    "approach": f"Read .env:\n{DOTENV}",
                    "key_decisions": [f"Log in with the jwt {C['jwt']}", PEM],
                    "generalizable_pattern": f"Use the anthropic key {C['anthropic_key']}",
                    "applies_when": "Deploying the shop",
                },
            )
        ]
    if "report_thinking" in names:  # the skill learner
        if rounds == 0:
            leaky_md = SKILL_MD.replace(
                "Use when deploying.", f"Use the key {C['openai_key']} when deploying."
            )
            return [
                ("report_thinking", {"thinking": f"Record the key {C['anthropic_key']}."}),
                ("report_thinking", {"thinking": f"New domain: deploys. Create {SKILL}."}),
                ("create_skill", {"skill_md_content": leaky_md}),
                ("create_skill", {"skill_md_content": SKILL_MD}),
                (
                    "create_skill_file",
                    {"skill_name": SKILL, "file_path": f"{C['github_token']}.md", "content": "x"},
                ),
                ("create_skill_file", _file("env.md", DOTENV)),
                ("create_skill_file", _file("key.md", PEM)),
                (
                    "str_replace_skill_file",
                    {
                        "skill_name": SKILL,
                        "file_path": "SKILL.md",
                        "old_string": "- One line per step.\n",
                        "new_string": f"- One line per step.\n- Log in with {C['jwt']}\n",
                    },
                ),
            ]
        if rounds == 1:
            return [
                (
                    "create_skill_file",
                    {
                        "skill_name": SKILL,
                        "file_path": "env.md",
                        "content": "- DATABASE_URL: from the vault, never written here\n"
                        "- STRIPE_SECRET_KEY=<STRIPE_SECRET_KEY>\n",
                    },
                ),
                (
                    "mv_skill_file",
                    {
                        "skill_name": SKILL,
                        "source_path": "env.md",
                        "destination_path": f"{C['stripe_key']}.md",
                    },
                ),
                ("finish", {}),
            ]
        return [("finish", {})]
    return []


# --- the run ---------------------------------------------------------------------------------


def _env(tmp: Path, provider: str, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(tmp / "home"),
        "ACONTEXT_MCP_BIN": str(BIN),
        "ACONTEXT_WORKER": "off",
        "ACONTEXT_LLM_TIMEOUT": "20",
        "ACONTEXT_LLM_MAX_RETRIES": "1",
        "HOME": str(tmp / "user-home"),
        "CLAUDE_CONFIG_DIR": str(tmp / "claude-config"),
        "OPENCLAW_STATE_DIR": str(tmp / "openclaw-state"),
        "GIT_CONFIG_GLOBAL": str(tmp / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for name in ("ACONTEXT_HOOK_INLINE", "ACONTEXT_SKILLS_DIR", "OPENAI_API_KEY",
                 "ANTHROPIC_API_KEY", "OPENCLAW_HOME"):  # fmt: skip
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


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _files(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every regular file under `folder` (git objects aside: they are read through git)."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and not path.is_symlink() and not rel.startswith(skip):
            out[rel] = path.read_bytes()
    return out


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("provider", "policy"),
    [("openai", "auto"), ("anthropic", "manual")],  # committed and synced; or a proposal
)
def test_canary_secrets_never_reach_skills_store_logs_or_the_model(
    tmp_path: Path, provider: str, policy: str
) -> None:
    (tmp_path / "gitconfig").write_text("")
    (tmp_path / "openclaw-state").mkdir()  # OpenClaw is installed: its skills folder is synced
    (tmp_path / "claude-config").mkdir()  # and so is Claude Code
    project = tmp_path / "input" / "project"
    project.mkdir(parents=True)
    (project / ".env").write_text(DOTENV)
    transcript = tmp_path / "input" / "transcript.jsonl"
    write_transcript(transcript, project)
    assert set(leaks(transcript.read_text())) == set(CANARIES)  # every kind is planted

    with FakeLLM() as fake:
        model = LearningModel(fake, decide=canary_decide)
        env = _env(tmp_path, provider, fake.url)
        _run(env, "config", "learning.accept", policy)
        payload = {
            "session_id": SESSION,
            "transcript_path": str(transcript),
            "cwd": str(project),
            "hook_event_name": "Stop",
        }
        _run({**env, "ACONTEXT_HOOK_INLINE": "1"}, "hook", "claude-code", "Stop",
             stdin=json.dumps(payload))  # fmt: skip
        out = json.loads(_run(env, "learn", SESSION, "--json", "--timeout", "90"))
        _run(env, "skills", "sync")
        received = [r["raw"] for r in fake.received]

    # No canary anywhere ...
    skills = tmp_path / "home" / "skills"
    found: dict[str, list[str]] = {}
    for rel, data in _files(skills, skip=(".git/objects/",)).items():
        found[f"skills/{rel}"] = leaks(data.decode("utf-8", "replace"))
    history = _git(skills, "log", "-p", "--all", "--format=%H%n%an%n%B")
    found["git log -p --all"] = leaks(history)
    found["git refs"] = leaks(_git(skills, "for-each-ref"))
    for agent in ("claude-config", "openclaw-state"):
        for rel, data in _files(tmp_path / agent).items():
            found[f"{agent}/{rel}"] = leaks(data.decode("utf-8", "replace"))
    home = _files(tmp_path / "home", skip=("skills/",))
    assert "acontext.db" in home and any(r.startswith("logs/") for r in home), sorted(home)
    for rel, data in home.items():  # the SQLite file and its WAL/SHM as raw bytes, the logs
        found[f"home/{rel}"] = leaks(data.decode("latin-1"))
    for i, body in enumerate(received):
        found[f"request {i + 1}"] = leaks(body)
    assert len(received) >= 4
    leaked = {where: kinds for where, kinds in found.items() if kinds}
    assert leaked == {}, leaked
    # ... while the loop really ran: every stage, the refusals, a clean learning committed
    # and synced.
    assert model.stages[:3] == ["observe", "distill", "learn"], model.stages
    status = out["status"]
    learned = sorted((i["kind"], i["status"]) for i in status["learnings"])
    assert learned == [("preferences", "learned"), ("success", "learned")], out
    if policy == "auto":
        assert (skills / SKILL / "SKILL.md").read_text() == SKILL_MD
        moved = [p.name for p in (skills / SKILL).iterdir() if p.name not in ("SKILL.md",)]
        for agent in ("claude-config/skills", "openclaw-state/skills"):
            assert (tmp_path / agent / SKILL / "env.md").is_file(), agent
    else:  # the learning waits as a proposal: nothing in the working tree or the agents
        assert not (skills / SKILL).exists()
        assert not (tmp_path / "claude-config" / "skills" / SKILL).exists()
        (ref,) = _git(
            skills, "for-each-ref", "--format=%(refname)", "refs/heads/proposals/"
        ).split()
        assert _git(skills, "show", f"{ref}:{SKILL}/SKILL.md") == SKILL_MD
        listed = _git(skills, "ls-tree", "--name-only", f"{ref}:{SKILL}").split()
        moved = [name for name in listed if name != "SKILL.md"]
    assert moved == ["env.md"], moved  # the rename to a secret name was refused
    with closing(sqlite3.connect(tmp_path / "home" / "acontext.db")) as conn:
        rows = conn.execute("SELECT data FROM session_events WHERE type = 'secret_refused'")
        refused = [json.loads(data)["counts"] for (data,) in rows]
    # the plan, a description, a file name, two file contents, a str_replace, a rename
    assert {kind for counts in refused for kind in counts} >= {
        "anthropic_key", "openai_key", "github_token", "url_password", "stripe_key",
        "slack_token", "private_key", "jwt",
    }, refused  # fmt: skip
