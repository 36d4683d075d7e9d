"""The LLM provider is a choice in `<home>/config.json`, honoured by every process.

The attack (issue 10, item 7): the hooks' worker inherits the agent's environment, where
`ANTHROPIC_API_KEY`, `OPENAI_API_KEY` or `claude` on PATH may be set, and `auto` sent
conversations to whichever it found, while `status` in the user's shell said `none`. Here
the worker runs as a real subprocess in such an environment, against real loopback fakes of
the Anthropic and OpenAI APIs and a fake `claude`, and the CLI commands run as the user would.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from support.fake_llm import FakeLLM
from test_observe_e2e import SESSION, Scripted, _cli, _env, _json, _rows, _store

FAKE_CLAUDE = r"""#!{python}
import os, sys
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls"), "a") as fh:
    fh.write("called\n")
sys.exit(1)
"""


def _agent_env(home: Path, url: str, bin_dir: Path) -> dict[str, str]:
    """What a hook inherits from an agent: keys, base URLs and `claude`, no ACONTEXT_LLM_*."""
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    exe.write_text(FAKE_CLAUDE.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    env = _env(
        home,
        ANTHROPIC_API_KEY="sk-ant-agent",
        ANTHROPIC_BASE_URL=url,
        OPENAI_API_KEY="sk-agent",
        OPENAI_BASE_URL=url + "/v1",
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    for name in ("ACONTEXT_LLM_PROVIDER", "ACONTEXT_LLM_MODEL", "ACONTEXT_LLM_BASE_URL"):
        env.pop(name, None)
    return env


KEYS = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY",
    "OPENAI_BASE_URL", "ACONTEXT_LLM_PROVIDER", "ACONTEXT_LLM_BASE_URL",
)  # fmt: skip


def _shell_env(home: Path) -> dict[str, str]:
    """The user's shell: no keys, no `claude`."""
    env = _env(home)
    for name in KEYS:
        env.pop(name, None)
    return env


def test_without_a_choice_the_worker_sends_nothing_whatever_it_inherits(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store(home, queue=True)
    with FakeLLM() as fake:
        Scripted(fake)
        agent = _agent_env(home, fake.url, tmp_path / "bin")
        done = _cli(agent, "worker", "--until-idle")
        assert done.returncode == 0, done.stderr
        flushed = _json(agent, "flush", SESSION, "--timeout", "20")
    assert fake.received == []  # neither API saw a request
    assert not (tmp_path / "bin" / "calls").exists()  # nor was `claude` run
    assert _rows(home, "SELECT COUNT(*) FROM llm_calls") == [(0,)]
    assert flushed["status"] == "deferred" and "no llm.provider in config.json" in str(flushed)
    # The worker and the user's shell agree: none, and the shell says how to turn it on.
    for env in (agent, _shell_env(home)):
        status = _json(env, "status")
        assert status["llm_provider"] == "none"
        assert "acontext-mcp config llm" in status["llm_reason"]


def test_the_chosen_provider_is_used_and_every_command_names_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store(home, queue=True)
    (home / "config.json").write_text(json.dumps({"capture": {"exclude_projects": ["/x"]}}))
    shell = _shell_env(home)
    done = _cli(shell, "config", "llm", "anthropic")
    assert done.returncode == 0, done.stderr
    assert "saved llm provider=anthropic" in done.stdout
    # The user's shell has no key: it says so instead of pretending the worker has none too.
    assert "config.json llm.provider=anthropic but ANTHROPIC_API_KEY is not set" in done.stdout
    saved = json.loads((home / "config.json").read_text())
    assert saved == {"capture": {"exclude_projects": ["/x"]}, "llm": {"provider": "anthropic"}}

    with FakeLLM() as fake:
        Scripted(fake)
        agent = _agent_env(home, fake.url, tmp_path / "bin")
        flushed = _json(agent, "flush", SESSION, "--timeout", "45")
        paths = {r["path"].split("?")[0] for r in fake.received}
    assert flushed["status"] == "done", flushed
    assert paths == {"/v1/messages"}  # anthropic only: the key for openai was not taken
    assert not (tmp_path / "bin" / "calls").exists()

    status = _json(agent, "status")
    assert (status["llm_provider"], status["llm_model"]) == ("anthropic", "claude-haiku-4-5")
    assert status["llm_reason"] == "config.json llm.provider=anthropic"
    usage = _json(agent, "usage")
    assert usage["provider"].startswith("anthropic / claude-haiku-4-5 (config.json llm.provider")
    assert {(r["provider"], r["model"]) for r in usage["by_day"] + usage["by_purpose"]} == {
        ("anthropic", "claude-haiku-4-5")
    }
    text = _cli(agent, "usage").stdout
    assert "provider / model" in text and "anthropic / claude-haiku-4-5" in text
    over = _json({**agent, "ACONTEXT_LLM_PROVIDER": "none"}, "status")
    assert over["llm_provider"] == "none"
    assert over["llm_reason"] == (
        "env ACONTEXT_LLM_PROVIDER=none overrides config.json llm.provider=anthropic"
    )
