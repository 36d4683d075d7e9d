"""`acontext-mcp config llm` and what `install` writes: the provider is an explicit choice in
`<home>/config.json`, checked before it is saved, never overwritten by install."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_setup_claude_code import EXE, home, run  # noqa: F401  (home is a fixture)

from acontext_mcp.config import Settings


def _config(settings: Settings) -> dict:
    return json.loads((settings.home / "config.json").read_text())


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60, env=env)


def test_config_llm_saves_a_checked_choice_and_keeps_the_rest(settings: Settings) -> None:
    (settings.home / "config.json").write_text(json.dumps({"projects": {"/p": {"space": "x"}}}))
    done = _cli(
        "config", "llm", "openai", "--model", "qwen3", "--base-url", "http://127.0.0.1:9/v1"
    )
    assert done.returncode == 0, done.stderr
    assert _config(settings) == {
        "projects": {"/p": {"space": "x"}},
        "llm": {"provider": "openai", "model": "qwen3", "base_url": "http://127.0.0.1:9/v1"},
    }
    assert "in effect openai / qwen3 at http://127.0.0.1:9/v1" in done.stdout
    assert (settings.home / "config.json").stat().st_mode & 0o777 == 0o600
    # A new provider replaces the entry whole: the model belonged to the old one.
    assert _cli("config", "llm", "claude-cli").returncode == 0
    assert _config(settings)["llm"] == {"provider": "claude-cli"}
    shown = json.loads(_cli("config", "llm", "--json").stdout)
    assert shown["llm"] == {"provider": "claude-cli"} and not shown["saved"]
    assert shown["in_effect"]["reason"].startswith("config.json llm.provider=claude-cli")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("gemini",), "unknown LLM provider 'gemini'; use one of none, openai"),
        (("none", "--model", "m"), "--model does not apply to provider none"),
        (("openai", "--base-url", "127.0.0.1:9"), "must start with http:// or https://"),
        (("claude-cli", "--base-url", "http://x"), "--base-url does not apply to provider"),
        (("--model", "m"), "--model and --base-url go with a PROVIDER"),
    ],
)
def test_config_llm_refuses_bad_input_and_writes_nothing(
    settings: Settings, args: tuple[str, ...], error: str
) -> None:
    before = json.dumps({"llm": {"provider": "none"}})
    (settings.home / "config.json").write_text(before)
    done = _cli("config", "llm", *args)
    assert done.returncode == 1 and error in done.stderr
    assert (settings.home / "config.json").read_text() == before


def test_a_broken_config_json_is_refused_untouched(settings: Settings) -> None:
    (settings.home / "config.json").write_text("{half written")
    done = _cli("config", "llm", "claude-cli")
    assert done.returncode == 1 and "fix or move it" in done.stderr
    assert (settings.home / "config.json").read_text() == "{half written"
    shown = _cli("config", "llm")
    assert shown.returncode == 0 and "cannot be used" in shown.stdout


def test_install_writes_none_and_says_how_to_turn_learning_on(home: Path) -> None:  # noqa: F811
    data = Path(os.environ["ACONTEXT_HOME"])
    dry = run("install", "claude-code", "--dry-run")
    assert dry.returncode == 0 and not (data / "config.json").exists()
    done = run("install", "claude-code")
    assert done.returncode == 0, done.stderr
    assert json.loads((data / "config.json").read_text()) == {"llm": {"provider": "none"}}
    assert "learning is off" in done.stdout and "acontext-mcp config llm claude-cli" in done.stdout


def test_install_keeps_an_existing_choice(home: Path) -> None:  # noqa: F811
    data = Path(os.environ["ACONTEXT_HOME"])
    data.mkdir(parents=True, exist_ok=True)
    (data / "config.json").write_text(json.dumps({"llm": {"provider": "claude-cli"}}))
    done = run("install", "claude-code")
    assert done.returncode == 0, done.stderr
    assert json.loads((data / "config.json").read_text()) == {"llm": {"provider": "claude-cli"}}
    assert "llm.provider=claude-cli (kept)" in done.stdout


def test_doctor_names_the_provider_in_effect_and_how_to_turn_learning_on(
    settings: Settings, tmp_path: Path
) -> None:
    def llm_check() -> dict:
        done = _cli("doctor", "--json", "--project", str(tmp_path))
        (check,) = [c for c in json.loads(done.stdout)["checks"] if c["area"] == "llm"]
        return check

    check = llm_check()
    assert check["status"] == "info" and "no llm.provider in config.json" in check["summary"]
    (settings.home / "config.json").write_text(json.dumps({"llm": {"provider": "none"}}))
    check = llm_check()
    assert "config.json llm.provider=none" in check["summary"]
    assert (
        check["fix"] == "to turn learning on: acontext-mcp config llm claude-cli|anthropic|openai"
    )
    (settings.home / "config.json").write_text(
        json.dumps({"llm": {"provider": "openai", "base_url": "http://127.0.0.1:9/v1"}})
    )
    check = llm_check()
    assert check["status"] == "ok"
    assert check["summary"].startswith("openai / gpt-4.1-mini at http://127.0.0.1:9/v1")
    assert "(config.json llm.provider=openai)" in check["summary"]
