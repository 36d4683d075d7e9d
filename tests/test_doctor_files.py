"""Issue 10 items 6 and 9: doctor tells the truth about the data home's files.

A database with 8 KB of garbage in the middle is reported damaged with recovery steps, and
nothing (hook, server) writes into it afterwards; loose modes are flagged and `doctor --fix`
tightens them; a read-only mount is named as such, without a chmod that cannot help.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from test_doctor import EXE, doctor, env, failures, installed, run  # noqa: F401 (fixtures)

from acontext_mcp.config import Settings
from acontext_mcp.setup.doctor_hooks import _payload, _transcript
from acontext_mcp.store.db import open_db
from acontext_mcp.store.integrity import StoreDamaged, marker_path
from acontext_mcp.store.turns import store_turn

GARBAGE = bytes(range(256)) * 32  # 8 KB, the same every run


def checks(report: dict[str, Any], area: str) -> list[dict[str, Any]]:
    return [c for c in report["checks"] if c["area"] == area]


def fill_and_damage(home: Path) -> Path:
    """A real store with 300 turns, then 8 KB of garbage written into the middle of the file."""
    settings = Settings(home=home, skills_dir=home / "skills")
    conn = open_db(settings)
    for i in range(300):
        turn = [
            {"role": "user", "content": f"question {i}: " + "why is the build red? " * 20},
            {"role": "assistant", "content": f"answer {i}: " + "a flaky test. " * 30},
        ]
        store_turn(conn, settings, turn)
    conn.close()  # the last connection checkpoints the WAL into the file
    db = home / "acontext.db"
    size = db.stat().st_size
    assert size > 256 * 1024
    with db.open("r+b") as fh:
        page = int.from_bytes(fh.read(18)[16:18], "big")  # the file header's page size
        fh.seek(size // 2 // page * page - 4096 + 100)  # across two pages, a page header too
        fh.write(GARBAGE)
    return db


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_database_fails_doctor_with_recovery_steps_and_takes_no_more_writes(
    env: dict[str, str],  # noqa: F811
    installed: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = Path(env["ACONTEXT_HOME"])
    db = fill_and_damage(home)
    before = digest(db)

    code, report = doctor(env, tmp_path)
    assert code == 1
    (store,) = [c for c in checks(report, "store") if c["status"] == "fail"]
    assert "is damaged" in store["summary"] and "integrity_check" in store["summary"]
    assert ".recover" in store["fix"] and "acontext-damaged.db" in store["fix"]
    assert "backup" in store["fix"]
    assert marker_path(db).exists()

    # A hook capturing a turn now leaves the file alone and says why in hooks.log.
    project = tmp_path / "project"
    payload = _payload("Stop", "after-damage", _transcript(project, "after-damage"), project)
    hook = subprocess.run(
        [EXE, "hook", "claude-code", "Stop"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env={**env, "ACONTEXT_HOOK_INLINE": "1"},
        timeout=60,
    )
    assert hook.returncode == 0
    assert "damaged" in (home / "logs" / "hooks.log").read_text()
    assert digest(db) == before

    # Following the steps' "start empty" branch: the damaged copy is kept, a new store works.
    for name in ("acontext.db", "acontext.db-wal", "acontext.db-shm"):
        if (home / name).exists():
            os.rename(home / name, home / name.replace("acontext", "acontext-damaged"))
    code, report = doctor(env, tmp_path)
    assert [c["status"] for c in checks(report, "store")] == ["ok"], failures(report)
    assert not marker_path(db).exists()
    assert digest(home / "acontext-damaged.db") == before


@pytest.mark.anyio
async def test_the_server_finds_damage_at_start_and_refuses_writes_clearly(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    db = fill_and_damage(home)
    before = digest(db)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "acontext_mcp", "serve"],
        env={"ACONTEXT_HOME": str(home)},
    )
    turn = [{"role": "user", "content": "still there?"}]
    with (tmp_path / "stderr").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            result = await client.call_tool("store_turn", {"messages": turn})
            assert result.is_error
            text = result.content[0].text
            assert "damaged" in text and "acontext-mcp doctor" in text
            assert "internal error" not in text
            # Reads still try: the skills live in files, not in the damaged database.
            skills = await client.call_tool("list_skills", {})
            assert not skills.is_error, skills.content
    assert digest(db) == before
    assert "damaged" in (home / "logs" / "server.log").read_text()
    with pytest.raises(StoreDamaged):  # and so does every other writer, hooks included
        store_turn(
            open_db(Settings(home=home, skills_dir=home / "skills")),
            Settings(home=home, skills_dir=home / "skills"),
            turn,
        )


def test_loose_modes_are_flagged_and_doctor_fix_tightens_them(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    home = Path(env["ACONTEXT_HOME"])
    run(env, "install", "claude-code")
    run(env, "status")  # the store exists
    os.chmod(home, 0o755)
    os.chmod(home / "acontext.db", 0o644)  # as an older release (or a umask 022 copy) left it
    (home / "logs").chmod(0o775)

    code, report = doctor(env, tmp_path)
    assert code == 1
    (modes,) = checks(report, "modes")
    assert modes["status"] == "fail"
    assert (
        "3 path(s)" in modes["summary"] and "644 " + str(home / "acontext.db") in modes["summary"]
    )
    assert "doctor --fix" in modes["fix"]

    code, report = doctor(env, tmp_path, "--fix")
    (modes,) = checks(report, "modes")
    assert modes["status"] == "ok" and "tightened 3 path(s)" in modes["summary"]
    assert code == 0, failures(report)
    assert (home / "acontext.db").stat().st_mode & 0o777 == 0o600
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "logs").stat().st_mode & 0o777 == 0o700

    code, report = doctor(env, tmp_path)
    assert code == 0 and checks(report, "modes")[0]["status"] == "ok"


def _can_mount() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs root and unshare to mount a read-only fs")
def test_a_read_only_mount_is_named_without_suggesting_chmod(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A real read-only file system: a tmpfs in a private mount namespace, remounted ro."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    home = mnt / "home"
    script = (
        f"mount -t tmpfs tmpfs {mnt} && {EXE} status >/dev/null && "
        f"chmod 644 {home}/acontext.db && mount -o remount,ro {mnt} && "
        f'{EXE} doctor --json; echo "rc=$?" >&2'
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**env, "ACONTEXT_HOME": str(home)},
        cwd=tmp_path / "project",
        timeout=170,
    )
    assert "rc=1" in done.stderr, done.stderr
    report = json.loads(done.stdout)
    (store,) = checks(report, "store")
    assert store["status"] == "fail" and "read-only" in store["summary"]
    assert "remount" in store["fix"]
    (modes,) = checks(report, "modes")
    assert modes["status"] == "fail" and "read-only" in modes["summary"]
    everything = json.dumps(report["checks"])
    assert "chmod" not in everything


def test_a_big_store_is_checked_in_the_background_and_writes_stop_once_damage_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above QUICK_CHECK_ABOVE the pool does not wait for quick_check; the next borrowing
    after it finds damage is read-only all the same."""
    import time

    from acontext_mcp.store import integrity
    from acontext_mcp.store.db import ConnectionPool

    home = tmp_path / "home"
    db = fill_and_damage(home)
    monkeypatch.setattr(integrity, "QUICK_CHECK_ABOVE", 1024)  # this store counts as big
    settings = Settings(home=home, skills_dir=home / "skills")
    pool = ConnectionPool(settings)
    try:
        deadline = time.monotonic() + 30
        while not marker_path(db).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker_path(db).exists()
        with pool.connection() as conn, pytest.raises(StoreDamaged, match="doctor"):
            store_turn(conn, settings, [{"role": "user", "content": "late"}])
    finally:
        pool.close()


def test_the_damage_marker_is_never_seen_half_written(tmp_path: Path) -> None:
    """A hook that opens the store while the marker is being written must not take an empty
    or half-written marker for "no damage" (found by CI: the background check's writer)."""
    import threading

    from acontext_mcp.store import integrity

    db = tmp_path / "acontext.db"
    db.write_bytes(b"x")
    integrity.mark_damaged(db, "quick_check", ["seed"])
    stop = threading.Event()
    misses = 0

    def rewrite() -> None:
        while not stop.is_set():
            integrity.mark_damaged(db, "quick_check", ["page 3: malformed"] * 50)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        for _ in range(3000):
            misses += integrity.known_damage(db) is None
    finally:
        stop.set()
        writer.join()
    assert misses == 0
