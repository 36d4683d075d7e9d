"""`acontext-mcp install|uninstall claude-code` against real files in a temp HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.setup import claude_code as cc

REPO = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent / "acontext-mcp")

USER_SETTINGS = {
    "model": "opus",
    "hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard"}]}],
    },
    "permissions": {"allow": ["Bash(ls)"]},
    "zzz_unknown": {"kept": True},
}
CLAUDE_JSON = {
    "numStartups": 7,
    "mcpServers": {"other": {"type": "stdio", "command": "other-server"}},
    "projects": {"/somewhere": {"allowedTools": []}},
    "userID": "abc",
}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The console script, as a user runs it (HOME and ACONTEXT_HOME come from the test)."""
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=dict(os.environ)
    )


def ok(*args: str, cwd: Path | None = None) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def ordered(value: Any) -> Any:
    """JSON with key order made visible, for exact comparisons."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def tree(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME with the user's own Claude Code settings; ACONTEXT_HOME is the test's data home."""
    home = tmp_path / "user"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=4) + "\n")
    (home / ".claude.json").write_text(json.dumps(CLAUDE_JSON, separators=(",", ":")))
    (home / ".claude.json").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    return home


def data_home() -> Path:
    return Path(os.environ["ACONTEXT_HOME"])


def ours(settings: dict[str, Any], event: str) -> list[dict[str, Any]]:
    return [h for g in settings["hooks"].get(event, []) for h in g["hooks"] if cc.is_our_handler(h)]


def test_the_hook_table_mirrors_the_plugin(tmp_path: Path) -> None:
    shipped = read(REPO / "plugins" / "claude-code" / "hooks" / "hooks.json")["hooks"]
    assert list(shipped) == list(cc.HOOK_EVENTS)
    for event, groups in shipped.items():
        (group,) = groups
        (handler,) = group["hooks"]
        expect = cc.HOOK_EVENTS[event]
        assert group.get("matcher") == expect.get("matcher"), event
        assert handler["timeout"] == expect["timeout"], event
        assert handler.get("async", False) == expect.get("async", False), event


def test_install_merges_into_the_users_files_and_backs_them_up(home: Path) -> None:
    settings_file, claude_json = home / ".claude" / "settings.json", home / ".claude.json"
    before = {settings_file: settings_file.read_bytes(), claude_json: claude_json.read_bytes()}

    out = ok("install", "claude-code")

    settings = read(settings_file)
    assert list(settings) == list(USER_SETTINGS)  # unknown keys kept, in their order
    assert settings["permissions"] == USER_SETTINGS["permissions"]
    assert settings["zzz_unknown"] == {"kept": True}
    assert settings["hooks"]["PreToolUse"] == USER_SETTINGS["hooks"]["PreToolUse"]
    assert settings["hooks"]["Stop"][0] == USER_SETTINGS["hooks"]["Stop"][0]  # theirs first
    for event, spec in cc.HOOK_EVENTS.items():
        (handler,) = ours(settings, event)
        assert handler["command"] == f"ACONTEXT_HOME={data_home()} {EXE} hook claude-code {event}"
        assert handler["timeout"] == spec["timeout"]
        assert handler.get("async", False) == spec.get("async", False)
    state = read(claude_json)
    assert list(state) == list(CLAUDE_JSON)
    assert state["mcpServers"]["other"] == CLAUDE_JSON["mcpServers"]["other"]
    assert state["mcpServers"]["acontext"] == {
        "type": "stdio",
        "command": EXE,
        "args": ["serve"],
        "env": {"ACONTEXT_HOME": str(data_home())},
    }
    assert {k: state[k] for k in ("numStartups", "projects", "userID")} == {
        k: CLAUDE_JSON[k] for k in ("numStartups", "projects", "userID")
    }
    assert claude_json.stat().st_mode & 0o777 == 0o600
    assert not claude_json.read_text().endswith("\n")  # written in the file's own style

    backups = sorted((data_home() / "installs" / "backups").rglob("*.json"))
    assert sorted(b.read_bytes() for b in backups) == sorted(before.values())
    for path in (*before, *backups):
        assert str(path) in out
    assert (data_home() / "installs" / "claude-code-user.json").is_file()


def test_install_twice_changes_nothing_and_backs_up_once(home: Path) -> None:
    ok("install", "claude-code")
    files = tree(home)
    out = ok("install", "claude-code")
    assert tree(home) == files
    assert len(list((data_home() / "installs" / "backups").iterdir())) == 1
    assert "already installed" in out


def test_uninstall_restores_the_original_files(home: Path) -> None:
    files = tree(home)
    ok("install", "claude-code")
    assert '    "hooks": {' in (home / ".claude" / "settings.json").read_text()  # its indent
    out = ok("uninstall", "claude-code")
    assert ordered(read(home / ".claude" / "settings.json")) == ordered(USER_SETTINGS)
    assert ordered(read(home / ".claude.json")) == ordered(CLAUDE_JSON)
    assert tree(home) == files  # byte for byte, spacing included
    assert not (data_home() / "installs" / "claude-code-user.json").exists()
    assert "changed" in out
    assert "nothing of ours" in ok("uninstall", "claude-code")


def test_uninstall_keeps_what_the_user_added_after_install(home: Path) -> None:
    ok("install", "claude-code")
    settings = read(home / ".claude" / "settings.json")
    mine = {"type": "command", "command": "save-notes"}
    settings["hooks"]["SessionEnd"].append({"hooks": [mine]})
    settings["hooks"]["SessionStart"][0]["hooks"].append(mine)  # beside ours, same group
    (home / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))
    state = read(home / ".claude.json")
    state["mcpServers"]["later"] = {"command": "later"}
    state["numStartups"] = 8  # Claude Code keeps writing its own state
    (home / ".claude.json").write_text(json.dumps(state, indent=2))

    ok("uninstall", "claude-code")

    settings = read(home / ".claude" / "settings.json")
    assert settings["hooks"]["SessionEnd"] == [{"hooks": [mine]}]
    assert settings["hooks"]["SessionStart"] == [{"hooks": [mine]}]
    assert not any(ours(settings, e) for e in settings["hooks"])
    state = read(home / ".claude.json")
    assert state["mcpServers"] == {**CLAUDE_JSON["mcpServers"], "later": {"command": "later"}}
    assert state["numStartups"] == 8


def test_an_old_install_elsewhere_is_replaced_not_duplicated(home: Path) -> None:
    old = "/old/venv/bin/acontext-mcp"
    settings = json.loads(json.dumps(USER_SETTINGS))
    settings["hooks"]["Stop"].append(
        {"hooks": [{"type": "command", "command": f"{old} hook claude-code Stop"}]}
    )
    settings["hooks"]["Notification"] = [
        {"hooks": [{"type": "command", "command": f"{old} hook claude-code Notification"}]}
    ]
    (home / ".claude" / "settings.json").write_text(json.dumps(settings))
    state = {**CLAUDE_JSON, "mcpServers": {"acontext": {"command": old, "args": ["serve"]}}}
    (home / ".claude.json").write_text(json.dumps(state))

    ok("install", "claude-code")
    settings = read(home / ".claude" / "settings.json")
    assert all(len(ours(settings, e)) == 1 for e in cc.HOOK_EVENTS)
    assert "Notification" not in settings["hooks"]
    assert old not in json.dumps(settings)
    assert read(home / ".claude.json")["mcpServers"]["acontext"]["command"] == EXE

    ok("uninstall", "claude-code")
    assert "acontext" not in read(home / ".claude.json")["mcpServers"]  # stale: not restored
    assert ordered(read(home / ".claude" / "settings.json")) == ordered(USER_SETTINGS)


def test_a_foreign_server_named_acontext_comes_back_on_uninstall(home: Path) -> None:
    theirs = {"type": "stdio", "command": "node", "args": ["/opt/acontext-cloud/mcp.cjs"]}
    state = {**CLAUDE_JSON, "mcpServers": {"acontext": theirs}}
    (home / ".claude.json").write_text(json.dumps(state, indent=2))
    out = ok("install", "claude-code")
    assert "uninstall puts it back" in out
    assert read(home / ".claude.json")["mcpServers"]["acontext"]["command"] == EXE
    ok("install", "claude-code")  # a reinstall keeps the first install's record
    ok("uninstall", "claude-code")
    assert ordered(read(home / ".claude.json")) == ordered(state)


def test_dry_run_prints_the_diff_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    before = tree(tmp_path)
    out = ok("install", "claude-code", "--dry-run")
    assert tree(tmp_path) == before
    ours_line = f'"command": "ACONTEXT_HOME={data_home()} {EXE} hook claude-code Stop"'
    assert any(x.startswith("+") and ours_line in x for x in out.splitlines())
    assert "would change" in out and str(home / ".claude.json") in out
    ok("install", "claude-code")
    before = tree(tmp_path)
    out = ok("uninstall", "claude-code", "--dry-run")
    assert tree(tmp_path) == before
    assert any(x.startswith("-") and ours_line in x for x in out.splitlines())


def test_malformed_settings_are_refused_and_nothing_is_written(home: Path, tmp_path: Path) -> None:
    (home / ".claude" / "settings.json").write_text('{"hooks": {,}')
    before = tree(tmp_path)
    done = run("install", "claude-code")
    assert done.returncode == 1
    assert str(home / ".claude" / "settings.json") in done.stderr
    assert "not valid JSON" in done.stderr and "nothing was changed" in done.stderr
    assert tree(tmp_path) == before


def test_project_scope_creates_files_and_uninstall_removes_them(home: Path, tmp_path: Path):
    project = tmp_path / "repo"
    project.mkdir()
    user_files = tree(home)
    out = ok("install", "claude-code", "--scope", "project", "--project", str(project))
    assert tree(home) == user_files
    settings = read(project / ".claude" / "settings.json")
    assert all(len(ours(settings, e)) == 1 for e in cc.HOOK_EVENTS)
    assert read(project / ".mcp.json")["mcpServers"]["acontext"]["command"] == EXE
    assert "approve" in out  # project MCP servers need each user's approval
    assert "backup" not in out  # nothing existed, nothing to back up

    ok("uninstall", "claude-code", "--scope", "project", "--project", str(project))
    assert not (project / ".mcp.json").exists()
    assert not (project / ".claude" / "settings.json").exists()
    assert tree(home) == user_files


def test_claude_config_dir_moves_both_files(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cfg"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    user_files = tree(home)
    ok("install", "claude-code")
    assert tree(home) == user_files
    assert ours(read(config / "settings.json"), "Stop")
    assert read(config / ".claude.json")["mcpServers"]["acontext"]["command"] == EXE


def test_a_symlinked_settings_file_stays_a_link(home: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "claude-settings.json"
    dotfiles.parent.mkdir()
    (home / ".claude" / "settings.json").rename(dotfiles)
    (home / ".claude" / "settings.json").symlink_to(dotfiles)
    ok("install", "claude-code")
    assert (home / ".claude" / "settings.json").is_symlink()
    assert ours(read(dotfiles), "Stop")


def test_options_of_the_other_agent_are_rejected(home: Path) -> None:
    done = run("install", "claude-code", "--config", "x.json")
    assert done.returncode == 1 and "--config does not apply to claude-code" in done.stderr


def test_backups_are_pruned_to_the_last_five_but_the_one_uninstall_needs_stays(
    home: Path,
) -> None:
    settings_file = home / ".claude" / "settings.json"
    backups = data_home() / "installs" / "backups"
    ok("install", "claude-code")
    (first,) = list(backups.iterdir())  # holds the original text uninstall restores
    for n in range(7):  # the user drops our hooks; each reinstall backs up again
        settings = read(settings_file)
        settings["hooks"] = USER_SETTINGS["hooks"]
        settings["model"] = f"model-{n}"
        settings_file.write_text(json.dumps(settings, indent=4) + "\n")
        ok("install", "claude-code")
    folders = sorted(p.name for p in backups.iterdir())
    assert len(folders) == 6, folders  # the newest five, and the first one
    assert first.name in folders
    ok("uninstall", "claude-code")
    settings = read(settings_file)
    assert settings["model"] == "model-6"  # the user's later edit is kept ...
    assert not ours(settings, "SessionStart")  # ... and ours is gone
