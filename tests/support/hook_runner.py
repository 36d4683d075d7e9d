"""Runs `acontext-mcp hook claude-code EVENT` as Claude Code does, in a private data home.

Real processes: the console script (or the plugin's shim) with a JSON payload on stdin.
Events that do not answer detach (the command exits at once and a child captures), so
`run` waits for the child's log line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "acontext-mcp"
SHIM = REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook"


class Hooks:
    """Runs the hook command in a private data home and reads what it stored."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        # SessionStart syncs skills into the agents' folders: keep them all under `root`.
        self.user = root / "user"
        self.claude_config = root / "claude-config"
        self.claude_config.mkdir(parents=True, exist_ok=True)  # Claude Code is installed
        self.env = {
            **os.environ,
            "ACONTEXT_HOME": str(self.home),
            "ACONTEXT_MCP_BIN": str(BIN),
            "HOME": str(self.user),
            "CLAUDE_CONFIG_DIR": str(self.claude_config),
            "OPENCLAW_STATE_DIR": str(root / "openclaw-state"),
        }
        for name in ("ACONTEXT_HOOK_INLINE", "ACONTEXT_SKILLS_DIR", "OPENCLAW_HOME"):
            self.env.pop(name, None)
        self.log = self.home / "logs" / "hooks.log"

    def run(
        self,
        event: str,
        payload: Any,
        *,
        shim: bool = False,
        inline: bool = False,
        wait: bool = True,
    ) -> subprocess.CompletedProcess:
        env = {**self.env, **({"ACONTEXT_HOOK_INLINE": "1"} if inline else {})}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        before = self.finished()
        cmd = (
            [str(SHIM), "claude-code", event] if shim else [str(BIN), "hook", "claude-code", event]
        )
        proc = subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        if wait:
            self.wait_for(before + 1)
        return proc

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def finished(self) -> int:
        """Hook runs that logged their end (ok or error)."""
        return sum(1 for line in self.log_lines() if line.endswith("ms"))

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.finished() < count:
            assert time.monotonic() < deadline, f"only {self.finished()} of {count} hooks ended"
            time.sleep(0.01)

    def failures(self) -> list[str]:
        return [line for line in self.log_lines() if " failed:" in line]

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.home / "acontext.db")
        conn.row_factory = sqlite3.Row
        return conn

    def keys(self, session_id: str) -> list[str]:
        with self.db() as conn:
            rows = conn.execute(
                "SELECT dedup_key FROM messages WHERE "
                "session_seq = (SELECT seq FROM sessions WHERE id = ?) ORDER BY position",
                (session_id,),
            )
            return [r[0] for r in rows]

    def texts(self, session_id: str, role: str = "assistant") -> list[str]:
        with self.db() as conn:
            rows = conn.execute(
                "SELECT parts FROM messages WHERE "
                "session_seq = (SELECT seq FROM sessions WHERE id = ?) AND role = ? "
                "ORDER BY position",
                (session_id, role),
            ).fetchall()
        return [p["text"] for r in rows for p in json.loads(r[0]) if p.get("type") == "text"]
