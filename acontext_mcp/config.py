"""Settings: one frozen value built from the environment, with every path derived once.

Only composition roots (the CLI, the server lifespan, hook entry points) build it and pass it
down. Stdlib only: the hook hot path imports this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_ARTIFACT_BYTES = 16 * 1024 * 1024
DEFAULT_BLOB_THRESHOLD = 1024
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
DEFAULT_GREP_TIMEOUT = 10.0
DEFAULT_BUSY_TIMEOUT_MS = 10_000
DEFAULT_BRIEF_CHARS = 2000

# name: (env var, default shown in docs, meaning). The README table is checked against this.
ENV_VARS: dict[str, tuple[str, str]] = {
    "ACONTEXT_HOME": ("~/.acontext-mcp", "Data home: database, disks, blobs, logs."),
    "ACONTEXT_SKILLS_DIR": ("<home>/skills", "Directory of skill folders (each with SKILL.md)."),
    "ACONTEXT_MAX_ARTIFACT_BYTES": (
        "16777216",
        "Size cap for one disk artifact, and for one image or document in a message, in bytes.",
    ),
    "ACONTEXT_MAX_MESSAGE_BYTES": (
        "8388608",
        "Size cap for one stored message once its binary parts are moved out, in bytes.",
    ),
    "ACONTEXT_BLOB_THRESHOLD": (
        "1024",
        "Binary message parts larger than this many bytes are kept as files, not in rows.",
    ),
    "ACONTEXT_GREP_TIMEOUT": ("10", "Seconds one disk_grep may run before it stops."),
    "ACONTEXT_BUSY_TIMEOUT_MS": ("10000", "How long a writer waits for the SQLite lock."),
    "ACONTEXT_BRIEF_CHARS": ("2000", "Character budget of the brief a new session starts with."),
    "ACONTEXT_LOG_LEVEL": ("INFO", "Log level for the log file and stderr."),
    "ACONTEXT_CAPTURE": (
        "on",
        "off (or 0, false, no) stops all capture; hooks still run and exit 0.",
    ),
    "ACONTEXT_HOOK_INLINE": (
        "0",
        "1 makes hooks capture before they exit instead of in a detached child process.",
    ),
    "ACONTEXT_MCP_BIN": (
        "acontext-mcp on PATH",
        "The acontext-mcp command the Claude Code plugin's hooks and MCP server run.",
    ),
    "ACONTEXT_LLM_PROVIDER": ("(none)", "LLM provider for later stages: openai, anthropic, ..."),
    "ACONTEXT_LLM_MODEL": ("(provider default)", "Model name for the LLM provider."),
}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where everything lives and the limits that apply."""

    home: Path
    skills_dir: Path
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    blob_threshold: int = DEFAULT_BLOB_THRESHOLD
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    grep_timeout: float = DEFAULT_GREP_TIMEOUT
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    brief_chars: int = DEFAULT_BRIEF_CHARS
    log_level: str = "INFO"
    llm_provider: str | None = None
    llm_model: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def db_path(self) -> Path:
        return self.home / "acontext.db"

    @property
    def disks_dir(self) -> Path:
        return self.home / "disks"

    @property
    def blobs_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from ACONTEXT_* variables; raises ValueError naming a bad variable."""
        home = Path(os.environ.get("ACONTEXT_HOME") or "~/.acontext-mcp").expanduser()
        home = home.absolute()
        skills_raw = os.environ.get("ACONTEXT_SKILLS_DIR")
        skills_dir = Path(skills_raw).expanduser().absolute() if skills_raw else home / "skills"
        return cls(
            home=home,
            skills_dir=skills_dir,
            max_artifact_bytes=_env_int("ACONTEXT_MAX_ARTIFACT_BYTES", DEFAULT_MAX_ARTIFACT_BYTES),
            blob_threshold=_env_int("ACONTEXT_BLOB_THRESHOLD", DEFAULT_BLOB_THRESHOLD),
            max_message_bytes=_env_int("ACONTEXT_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES),
            grep_timeout=_env_float("ACONTEXT_GREP_TIMEOUT", DEFAULT_GREP_TIMEOUT),
            busy_timeout_ms=_env_int("ACONTEXT_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS),
            brief_chars=_env_int("ACONTEXT_BRIEF_CHARS", DEFAULT_BRIEF_CHARS),
            log_level=(os.environ.get("ACONTEXT_LOG_LEVEL") or "INFO").upper(),
            llm_provider=os.environ.get("ACONTEXT_LLM_PROVIDER") or None,
            llm_model=os.environ.get("ACONTEXT_LLM_MODEL") or None,
        )

    def ensure_dirs(self) -> None:
        """Create the data home layout (owner-only: it holds conversations)."""
        for path in (self.home, self.disks_dir, self.blobs_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.skills_dir.mkdir(parents=True, exist_ok=True)
