"""Issue 10 item 6: the data home is owner-only whichever command runs first.

Each entry point runs first on a fresh home under the common umask 022 (real processes,
the real MCP stdio client); every directory it made must be 0700 and every file private,
the database's -wal and -shm included, while files written outside the home keep the
user's own modes.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from acontext_mcp.setup.doctor_hooks import _payload, _transcript

EXE = str(Path(sys.executable).parent / "acontext-mcp")


@pytest.fixture
def umask022() -> Iterator[None]:
    """The umask most users run with; every subprocess started here inherits it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def env(tmp_path: Path, umask022: None) -> dict[str, str]:
    user = tmp_path / "user"
    user.mkdir()
    env = {**os.environ, "ACONTEXT_HOME": str(tmp_path / "home"), "HOME": str(user)}
    env.update(ACONTEXT_WORKER="off", ACONTEXT_WORKER_IDLE_S="0.5", ACONTEXT_HOOK_INLINE="1")
    return env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loose(home: Path) -> list[str]:
    """Everything under `home` that group or others can use, as 'mode path'."""
    found = []
    for path in [home, *home.rglob("*")]:
        if not path.is_symlink() and mode(path) & 0o077:
            found.append(f"{mode(path):o} {path.relative_to(home.parent)}")
    return found


def assert_private(home: Path, *expected: str) -> None:
    assert home.is_dir()
    assert mode(home) == 0o700
    assert loose(home) == []
    for rel in expected:
        assert (home / rel).exists(), rel
        want = 0o700 if (home / rel).is_dir() else 0o600
        assert mode(home / rel) == want, f"{rel} is {mode(home / rel):o}"


def run(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> str:
    done = subprocess.run(
        [EXE, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.anyio
async def test_serve_first_over_stdio_keeps_db_wal_shm_logs_blobs_disks_private(
    env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    image = base64.b64encode(os.urandom(4096)).decode()
    turn = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is in this picture?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
            ],
        },
        {"role": "assistant", "content": "noise"},
    ]
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "acontext_mcp", "serve"], env=env
    )
    with (tmp_path / "stderr").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            stored = await client.call_tool("store_turn", {"messages": turn})
            assert not stored.is_error, stored.content
            wrote = await client.call_tool("disk_write", {"path": "a/b.md", "content": "x"})
            assert not wrote.is_error, wrote.content
            # While the server holds the database open, its WAL and SHM exist: check them too.
            assert_private(
                home,
                "acontext.db",
                "acontext.db-wal",
                "acontext.db-shm",
                "logs/server.log",
                "disks/default/a/b.md",
                "blobs",
            )
            assert list((home / "blobs").rglob("*"))  # the image went to a blob file
    assert_private(home, "acontext.db")


def test_a_hook_first_keeps_the_home_and_hooks_log_private(
    env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    transcript = _transcript(project, "modes-1")
    payload = _payload("Stop", "modes-1", transcript, project)
    run(env, "hook", "claude-code", "Stop", stdin=json.dumps(payload))
    log = (tmp_path / "home" / "logs" / "hooks.log").read_text()
    assert "claude-code Stop ok" in log
    assert_private(tmp_path / "home", "acontext.db", "logs/hooks.log")


def test_install_first_keeps_backups_private_and_the_settings_file_its_mode(
    env: dict[str, str], tmp_path: Path
) -> None:
    settings = tmp_path / "user" / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark"}\n')
    os.chmod(settings, 0o644)
    run(env, "install", "claude-code")
    assert mode(settings) == 0o644  # the user's file keeps its mode
    assert "acontext-mcp" in settings.read_text()
    home = tmp_path / "home"
    backups = list((home / "installs").rglob("*settings*"))
    assert backups, list(home.rglob("*"))
    assert_private(home, "installs")


@pytest.mark.parametrize(
    "args",
    [
        ("skills", "sync"),
        ("skills", "search", "runbook"),
        ("worker", "--until-idle"),
        ("capture", "off", "--all"),
        ("status",),
    ],
    ids=lambda a: " ".join(a),
)
def test_cli_commands_first_keep_the_home_private(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    run(env, *args)
    assert_private(tmp_path / "home")


def test_files_outside_the_home_keep_the_users_umask(env: dict[str, str], tmp_path: Path) -> None:
    """Skills synced into ~/.claude/skills and a project's .acontext-off are the user's files:
    the owner-only umask of the data home must not leak onto them."""
    (tmp_path / "user" / ".claude").mkdir(parents=True, exist_ok=True)  # Claude Code is here
    run(env, "skills", "sync")
    synced = tmp_path / "user" / ".claude" / "skills"
    skill_files = list(synced.rglob("SKILL.md"))
    assert skill_files
    assert {mode(p) for p in skill_files} == {0o644}
    assert {mode(p) for p in synced.rglob("*") if p.is_dir()} | {mode(synced)} == {0o755}
    assert_private(tmp_path / "home", "skills")

    project = tmp_path / "project"
    project.mkdir()
    run(env, "capture", "off", cwd=project)
    assert mode(project / ".acontext-off") == 0o644


REPO = Path(__file__).resolve().parent.parent
SHIMS = {
    "hooks/claude-code": (REPO / "hooks" / "claude-code", ["Stop"]),
    "hooks/openclaw": (REPO / "hooks" / "openclaw", ["agent_end"]),
    "plugin acontext-hook": (
        REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook",
        ["claude-code", "Stop"],
    ),
}


@pytest.mark.parametrize("installed", [True, False], ids=["installed", "missing"])
@pytest.mark.parametrize("name", sorted(SHIMS))
def test_a_hook_shim_first_keeps_the_home_private(
    env: dict[str, str], tmp_path: Path, name: str, installed: bool
) -> None:
    """The shims the hosts run make the logs folder themselves (the plugin's fast path then
    runs the hook module directly, past entry.main), with acontext-mcp present or not."""
    script, args = SHIMS[name]
    project = tmp_path / "project"
    project.mkdir()
    payload = _payload("Stop", "modes-2", _transcript(project, "modes-2"), project)
    env = {**env, "PATH": "/usr/bin:/bin"}
    if installed:
        env["ACONTEXT_MCP_BIN"] = EXE
    else:
        env["ACONTEXT_MCP_BIN"] = str(tmp_path / "nowhere" / "acontext-mcp")
    done = subprocess.run(
        [str(script), *args],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    home = tmp_path / "home"
    assert (home / "logs" / "hooks.log").read_text()
    assert_private(home, "logs/hooks.log")
