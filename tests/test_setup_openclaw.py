"""`acontext-mcp install|uninstall openclaw`: merges into openclaw.json, as files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent / "acontext-mcp")
PLUGIN = str(REPO / "plugins" / "openclaw")

USER_CONFIG = {
    "agents": {"defaults": {"workspace": "~/work"}},
    "plugins": {
        "allow": ["telegram"],
        "load": {"paths": ["/opt/my-plugin"]},
        "entries": {"telegram": {"enabled": True}},
    },
    "mcp": {"servers": {"fs": {"command": "fs-server"}}},
    "gateway": {"port": 18789},
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def ok(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def ordered(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def tree(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def state() -> Path:
    """~/.openclaw of the temp HOME (conftest: no OpenClaw path variables set)."""
    home = Path.home()
    home.mkdir()
    return home / ".openclaw"


def acontext_home() -> str:
    return os.environ["ACONTEXT_HOME"]


def test_a_fresh_config_is_created_and_uninstall_deletes_it(state: Path) -> None:
    config = state / "openclaw.json"
    ok("install", "openclaw")
    assert read(config) == {
        "plugins": {
            "load": {"paths": [PLUGIN]},
            "entries": {
                "acontext": {
                    "enabled": True,
                    "hooks": {"allowConversationAccess": True},
                    "config": {"command": EXE, "acontextHome": acontext_home()},
                }
            },
        },
        "mcp": {
            "servers": {
                "acontext": {
                    "command": EXE,
                    "args": ["serve"],
                    "env": {"ACONTEXT_HOME": acontext_home()},
                }
            }
        },
    }
    assert config.stat().st_mode & 0o777 == 0o600
    out = ok("uninstall", "openclaw")
    assert not config.exists() and "deleted" in out


def test_merge_keeps_the_users_config_and_uninstall_restores_it(state: Path) -> None:
    config = state / "openclaw.json"
    state.mkdir()
    config.write_text(json.dumps(USER_CONFIG, indent=2) + "\n")
    out = ok("install", "openclaw")
    merged = read(config)
    assert list(merged) == list(USER_CONFIG)
    assert merged["plugins"]["load"]["paths"] == ["/opt/my-plugin", PLUGIN]
    assert merged["plugins"]["allow"] == ["telegram", "acontext"]  # an allowlist must name us
    assert merged["plugins"]["entries"]["telegram"] == {"enabled": True}
    assert merged["plugins"]["entries"]["acontext"]["hooks"] == {"allowConversationAccess": True}
    assert merged["mcp"]["servers"]["fs"] == {"command": "fs-server"}
    assert merged["gateway"] == {"port": 18789}
    assert "backup" in out

    files = tree(state.parent.parent)
    assert "already installed" in ok("install", "openclaw")
    assert tree(state.parent.parent) == files

    ok("uninstall", "openclaw")
    assert config.read_text() == json.dumps(USER_CONFIG, indent=2) + "\n"


def test_no_allowlist_stays_no_allowlist(state: Path) -> None:
    """Creating `plugins.allow` would switch every other non-bundled plugin off."""
    ok("install", "openclaw")
    assert "allow" not in read(state / "openclaw.json")["plugins"]


def test_user_settings_of_our_entry_survive_uninstall(state: Path) -> None:
    state.mkdir()
    config = state / "openclaw.json"
    config.write_text(
        json.dumps(
            {
                "plugins": {
                    "entries": {
                        "acontext": {
                            "enabled": False,
                            "config": {"brief": False, "timeoutMs": 20000},
                        }
                    }
                }
            }
        )
    )
    ok("install", "openclaw")
    entry = read(config)["plugins"]["entries"]["acontext"]
    assert entry["enabled"] is True and entry["config"]["brief"] is False
    data = read(config)
    data["plugins"]["entries"]["acontext"]["config"]["capture"] = False  # set after install
    config.write_text(json.dumps(data))
    ok("uninstall", "openclaw")
    config_after = {"brief": False, "timeoutMs": 20000, "capture": False}
    assert read(config) == {
        "plugins": {"entries": {"acontext": {"enabled": False, "config": config_after}}}
    }


def test_an_old_plugin_path_and_server_are_replaced(state: Path, tmp_path: Path) -> None:
    old = tmp_path / "old-checkout" / "acontext-mcp" / "plugins" / "openclaw"  # since deleted
    state.mkdir()
    config = state / "openclaw.json"
    config.write_text(
        json.dumps(
            {
                "plugins": {"load": {"paths": [str(old), "/opt/other"]}},
                "mcp": {
                    "servers": {"acontext": {"command": "/old/bin/acontext-mcp", "args": ["serve"]}}
                },
            }
        )
    )
    ok("install", "openclaw")
    data = read(config)
    assert data["plugins"]["load"]["paths"] == ["/opt/other", PLUGIN]
    assert data["mcp"]["servers"]["acontext"]["command"] == EXE
    ok("uninstall", "openclaw")
    data = read(config)
    assert data["plugins"]["load"]["paths"] == ["/opt/other"]
    assert "acontext" not in data.get("mcp", {}).get("servers", {})


def test_config_location_follows_openclaw_variables(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "oc-state"))
    ok("install", "openclaw")
    assert (tmp_path / "oc-state" / "openclaw.json").is_file()
    monkeypatch.setenv("OPENCLAW_CONFIG_PATH", str(tmp_path / "elsewhere.json"))
    ok("install", "openclaw")
    assert (tmp_path / "elsewhere.json").is_file()
    ok("install", "openclaw", "--config", str(tmp_path / "explicit.json"))
    assert (tmp_path / "explicit.json").is_file()
    assert not state.exists()


def test_json5_is_refused_with_the_cli_equivalent(state: Path, tmp_path: Path) -> None:
    state.mkdir()
    (state / "openclaw.json").write_text("{\n  // mine\n  gateway: { port: 1 },\n}\n")
    before = tree(tmp_path)
    done = run("install", "openclaw")
    assert done.returncode == 1
    assert "JSON5" in done.stderr and "nothing was changed" in done.stderr
    assert f"openclaw plugins install --link {PLUGIN}" in done.stderr
    assert "allowConversationAccess true" in done.stderr
    assert tree(tmp_path) == before


def test_dry_run_writes_nothing(state: Path, tmp_path: Path) -> None:
    before = tree(tmp_path)
    out = ok("install", "openclaw", "--dry-run")
    assert tree(tmp_path) == before
    assert '"allowConversationAccess": true' in out


def test_a_missing_plugin_folder_is_a_clear_error(state: Path, tmp_path: Path) -> None:
    done = run("install", "openclaw", "--plugin-dir", str(tmp_path / "nope"))
    assert done.returncode == 1 and "--plugin-dir" in done.stderr
