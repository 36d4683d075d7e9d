"""`acontext-mcp ui` as a person runs it: a real process, its printed URL, the browser left
closed (--no-open), and --host outside loopback warned about or refused."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx2 as httpx

from acontext_mcp.config import Settings


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ACONTEXT_HOME": str(settings.home),
        "ACONTEXT_SKILLS_DIR": str(settings.skills_dir),
    }


def _ui(settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "acontext_mcp", "ui", "--no-open", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(settings),
    )


def test_it_prints_a_url_that_logs_in_once_and_logs_to_the_data_home(settings: Settings) -> None:
    proc = _ui(settings)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("acontext-mcp dashboard: http://127.0.0.1:"), line
        url = line.split()[-1]
        base, _, token = url.partition("/?token=")
        assert len(token) >= 32
        with httpx.Client(timeout=30) as client:
            assert client.get(base + "/").status_code == 403
            login = client.get(url)
            assert login.status_code == 303 and login.headers["location"] == "/"
            page = client.get(base + "/")
            assert page.status_code == 200 and "Overview" in page.text
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    log = (settings.logs_dir / "ui.log").read_text()
    assert "dashboard on http://127.0.0.1:" in log
    assert token not in log  # the secret stays out of the log


def test_a_second_run_gets_another_port_and_another_token(settings: Settings) -> None:
    first, second = _ui(settings), _ui(settings)
    try:
        assert first.stdout is not None and second.stdout is not None
        a, b = first.stdout.readline().split()[-1], second.stdout.readline().split()[-1]
        assert a.split("/?")[0] != b.split("/?")[0]
        assert a.split("token=")[1] != b.split("token=")[1]
    finally:
        for proc in (first, second):
            proc.terminate()
            proc.communicate(timeout=30)


def test_a_taken_port_says_what_to_do(settings: Settings) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "acontext_mcp", "ui", "--no-open", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(settings),
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_another_host_is_warned_about(settings: Settings) -> None:
    """192.0.2.1 (TEST-NET) is nobody's address: the warning comes, then the bind fails."""
    done = subprocess.run(
        [sys.executable, "-m", "acontext_mcp", "ui", "--no-open", "--host", "192.0.2.1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(settings),
    )
    assert "WARNING: serving on 192.0.2.1, not loopback" in done.stderr
    assert done.returncode == 1 and "cannot listen on 192.0.2.1" in done.stderr


def test_every_address_at_once_is_refused(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "acontext_mcp", "ui", "--no-open", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(settings),
    )
    assert done.returncode == 2
    assert "every address" in done.stderr and "Host check" in done.stderr
    assert not done.stdout  # no URL: nothing was served
