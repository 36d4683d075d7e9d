"""Settings: one frozen value built from the environment, with every path derived once.

Only composition roots (the CLI, the server lifespan, hook entry points) build it and pass it
down. Stdlib only: the hook hot path imports this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_ARTIFACT_BYTES = 16 * 1024 * 1024
DEFAULT_BLOB_THRESHOLD = 1024
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
DEFAULT_GREP_TIMEOUT = 10.0
DEFAULT_BUSY_TIMEOUT_MS = 10_000
DEFAULT_BRIEF_CHARS = 2000
DEFAULT_LLM_TIMEOUT = 60.0
DEFAULT_LLM_DAILY_TOKENS = 200_000
DEFAULT_LLM_MAX_RETRIES = 3

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
    "ACONTEXT_OBSERVE_BATCH": ("16", "Pending messages in a session that queue its task tracking."),
    "ACONTEXT_OBSERVE_WAIT_S": (
        "8",
        "Seconds the oldest pending message may wait before a hook queues tracking.",
    ),
    "ACONTEXT_WORKER": (
        "on",
        "off (or 0, false, no) stops hooks from starting workers; jobs still queue.",
    ),
    "ACONTEXT_WORKER_IDLE_S": ("5", "Seconds without ready work before a worker exits."),
    "ACONTEXT_WORKER_LEASE_S": (
        "30",
        "Worker and job lease length; a dead worker's job is retried after it.",
    ),
    "ACONTEXT_WORKER_MAX_ATTEMPTS": ("5", "Attempts before a job is marked failed."),
    "ACONTEXT_WORKER_DEFER_S": ("600", "How long work waits when no LLM is available."),
    "ACONTEXT_LEARN_MAX_ROUNDS": (
        "16",
        "Rounds of the skill learner's tool loop; a run that does not finish writes nothing.",
    ),
    "ACONTEXT_LEARN_TIMEOUT_S": ("300", "Seconds `acontext-mcp learn SESSION` waits in all."),
    "ACONTEXT_LLM_PROVIDER": (
        "(config.json llm.provider, else none)",
        "Overrides the LLM provider chosen in config.json: openai, anthropic, claude-cli, none "
        "or auto (see LLM providers).",
    ),
    "ACONTEXT_LLM_MODEL": (
        "(config.json llm.model, else the provider's default)",
        "Model name for the LLM provider.",
    ),
    "ACONTEXT_LLM_BASE_URL": (
        "(config.json llm.base_url, else the SDK default)",
        "Base URL of an OpenAI- or Anthropic-compatible server (Ollama, vLLM, LM Studio, "
        "OpenRouter).",
    ),
    "ACONTEXT_LLM_TIMEOUT": ("60", "Seconds one LLM request may take before it is retried."),
    "ACONTEXT_LLM_MAX_RETRIES": (
        "3",
        "Retries of one LLM call after a 429, 5xx, timeout or connection error (0 for none).",
    ),
    "ACONTEXT_LLM_DAILY_TOKENS": (
        "200000",
        "Hard budget of LLM tokens (in + out) per local day; when spent, LLM work waits.",
    ),
}


def env_number(name: str, default: float, *, cast: type = int, allow_zero: bool = False) -> Any:
    """A positive number from the environment (0 too when `allow_zero`), or `default` when
    unset; a bad value raises ValueError naming the variable, so a typo is never silent."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError as exc:
        what = "a whole number" if cast is int else "a number"
        raise ValueError(f"{name} must be {what}, got {raw!r}") from exc
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'0 or more' if allow_zero else 'positive'}, got {value}")
    return value


def _env_int(name: str, default: int) -> int:
    return env_number(name, default)


def _env_count(name: str, default: int) -> int:
    """A whole number that may be 0 (counts of retries)."""
    return env_number(name, default, allow_zero=True)


def _env_float(name: str, default: float) -> float:
    return env_number(name, default, cast=float)


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
    llm_provider: str | None = None  # env only; None: config.json decides (llm/setting.py)
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_timeout: float = DEFAULT_LLM_TIMEOUT
    llm_max_retries: int = DEFAULT_LLM_MAX_RETRIES
    llm_daily_tokens: int = DEFAULT_LLM_DAILY_TOKENS
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
            llm_provider=(os.environ.get("ACONTEXT_LLM_PROVIDER") or "").strip().lower() or None,
            llm_model=(os.environ.get("ACONTEXT_LLM_MODEL") or "").strip() or None,
            llm_base_url=(os.environ.get("ACONTEXT_LLM_BASE_URL") or "").strip() or None,
            llm_timeout=_env_float("ACONTEXT_LLM_TIMEOUT", DEFAULT_LLM_TIMEOUT),
            llm_max_retries=_env_count("ACONTEXT_LLM_MAX_RETRIES", DEFAULT_LLM_MAX_RETRIES),
            llm_daily_tokens=_env_int("ACONTEXT_LLM_DAILY_TOKENS", DEFAULT_LLM_DAILY_TOKENS),
        )

    def ensure_dirs(self) -> None:
        """Create the data home layout (owner-only: it holds conversations)."""
        from acontext_mcp.private import private_mkdir

        for path in (self.home, self.disks_dir, self.blobs_dir, self.logs_dir, self.skills_dir):
            private_mkdir(path)
