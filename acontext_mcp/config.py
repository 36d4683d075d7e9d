"""Settings: one frozen value built from the environment, with every path derived once.

The one place that reads environment variables (tests/test_architecture.py checks it), with
one rule: a blank value counts as unset. Host paths (Claude Code's config dir, OpenClaw's state
dir and config file) are computed here too, by small functions for code that has no Settings.

Only composition roots (the CLI, the server lifespan, hook entry points) build it and pass it
down. Stdlib only, and light: the hook hot path imports this while Claude Code waits for
SessionStart's answer, so it imports neither `dataclasses` nor `typing` (see `Settings`).
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # typing's own costs ~3 ms to import; type checkers read this as True
if TYPE_CHECKING:
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
# The curator (learn/curate.py); set in config.json under "learning" (curate_every, ...).
DEFAULT_CURATE_EVERY = 20  # learning commits between two passes; 0: only `skills curate`
DEFAULT_CURATE_FILE_BYTES = 16 * 1024  # a skill file's size budget
DEFAULT_CURATE_SKILL_TOKENS = 2000  # SKILL.md plus its listing line
DEFAULT_CURATE_LLM_TOKENS = 20_000  # per pass, when curate_llm is on

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
    raw = env_text(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except ValueError as exc:
        what = "a whole number" if cast is int else "a number"
        raise ValueError(f"{name} must be {what}, got {raw!r}") from exc
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'0 or more' if allow_zero else 'positive'}, got {value}")
    return value


def env_text(name: str) -> str | None:
    """The one rule for every variable: the value, stripped; empty or blank counts as unset
    (a `FOO=` left in a shell profile must not mean "the current directory" or "off")."""
    return os.environ.get(name, "").strip() or None


def env_path(name: str) -> Path | None:
    """A path variable, `~` expanded and made absolute, or None when unset (see env_text)."""
    raw = env_text(name)
    return Path(raw).expanduser().absolute() if raw else None


def env_lenient_number(name: str, default: float) -> float:
    """A positive number, or `default` when unset or not a positive number: for hook tuning
    knobs, where a typo must not stop capture (the hook has nowhere to report it)."""
    raw = env_text(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def acontext_home() -> Path:
    """`$ACONTEXT_HOME`, else `~/.acontext-mcp` (absolute)."""
    return env_path("ACONTEXT_HOME") or Path("~/.acontext-mcp").expanduser().absolute()


def explicit_home() -> str | None:
    """`$ACONTEXT_HOME` when set in this shell (absolute), else None."""
    path = env_path("ACONTEXT_HOME")
    return str(path) if path else None


def user_home_env() -> str | None:
    """`$HOME` as set, or None: the capture marker walk stops there (privacy/switches.py)."""
    return env_text("HOME")


def capture_switch() -> str:
    """`$ACONTEXT_CAPTURE`, lower-cased; "" when unset (privacy/switches.py decides)."""
    return (env_text("ACONTEXT_CAPTURE") or "").lower()


def worker_switch() -> str:
    """`$ACONTEXT_WORKER`, lower-cased; "on" when unset."""
    return (env_text("ACONTEXT_WORKER") or "on").lower()


# Provider credentials and endpoints the LLM SDKs also read themselves.
LLM_CREDENTIAL_VARS = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
)  # fmt: skip


def llm_credentials() -> dict[str, str]:
    """The set (non-blank) provider variables of LLM_CREDENTIAL_VARS, by name."""
    found = {name: env_text(name) for name in LLM_CREDENTIAL_VARS}
    return {name: value for name, value in found.items() if value}


def claude_config_dir() -> Path:
    """Claude Code's config dir: `$CLAUDE_CONFIG_DIR`, else `~/.claude` (absolute)."""
    return env_path("CLAUDE_CONFIG_DIR") or Path.home().absolute() / ".claude"


def host_project_dir() -> str | None:
    """The project an MCP server was started for: `$CLAUDE_PROJECT_DIR` (Claude Code sets it
    in its stdio servers' environment), else the working directory."""
    path = env_path("CLAUDE_PROJECT_DIR")
    try:
        return str(path or Path.cwd())
    except OSError:  # the working directory was removed
        return None


def claude_user_json() -> Path:
    """Claude Code's user `.claude.json`: in `$CLAUDE_CONFIG_DIR` when set, else in `~`."""
    return (env_path("CLAUDE_CONFIG_DIR") or Path.home().absolute()) / ".claude.json"


def _openclaw_path(name: str) -> Path | None:
    """Like env_path, and "undefined"/"null" count as unset too, as OpenClaw's own resolver
    treats them (a value a JavaScript launcher stringified)."""
    raw = env_text(name)
    return Path(raw).expanduser().absolute() if raw and raw not in ("undefined", "null") else None


def openclaw_state_dir() -> Path:
    """`$OPENCLAW_STATE_DIR`, else `$OPENCLAW_HOME/.openclaw` (default home: `~`)."""
    home = _openclaw_path("OPENCLAW_HOME") or Path.home().absolute()
    return _openclaw_path("OPENCLAW_STATE_DIR") or home / ".openclaw"


def openclaw_config_path() -> Path:
    """`$OPENCLAW_CONFIG_PATH`, else `<state dir>/openclaw.json` (OpenClaw's precedence)."""
    return _openclaw_path("OPENCLAW_CONFIG_PATH") or openclaw_state_dir() / "openclaw.json"


def openclaw_readonly() -> str | None:
    """The variable that marks OpenClaw's config read-only (set to 1), if any."""
    for name in ("OPENCLAW_CONFIG_READONLY", "OPENCLAW_NIX_MODE"):
        if env_text(name) == "1":
            return name
    return None


def _env_int(name: str, default: int) -> int:
    return env_number(name, default)


def _env_count(name: str, default: int) -> int:
    """A whole number that may be 0 (counts of retries)."""
    return env_number(name, default, allow_zero=True)


def _env_float(name: str, default: float) -> float:
    return env_number(name, default, cast=float)


class Settings:
    """Where everything lives and the limits that apply: a frozen value, equal (and hashed)
    by every setting but `extra`; `replace(**changes)` makes a changed copy.

    Written out instead of a frozen dataclass: hooks build it while Claude Code waits for
    SessionStart's answer, and importing `dataclasses` (inspect, ast, dis) costs ~12 ms, more
    than a bare interpreter's start (bench/bench_session_start.py). A new setting is a
    parameter of `__init__` (with its default) and, when the environment sets it, a line of
    `from_env`; tests/test_config_env.py checks the annotations name the same fields.
    """

    home: Path
    skills_dir: Path
    max_artifact_bytes: int
    blob_threshold: int
    max_message_bytes: int
    grep_timeout: float
    busy_timeout_ms: int
    brief_chars: int
    log_level: str
    llm_provider: str | None  # env only; None: config.json decides (llm/setting.py)
    llm_model: str | None
    llm_base_url: str | None
    llm_timeout: float
    llm_max_retries: int
    llm_daily_tokens: int
    extra: dict[str, str]  # not compared

    def __init__(
        self,
        home: Path,
        skills_dir: Path,
        max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
        blob_threshold: int = DEFAULT_BLOB_THRESHOLD,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        grep_timeout: float = DEFAULT_GREP_TIMEOUT,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        brief_chars: int = DEFAULT_BRIEF_CHARS,
        log_level: str = "INFO",
        llm_provider: str | None = None,
        llm_model: str | None = None,
        llm_base_url: str | None = None,
        llm_timeout: float = DEFAULT_LLM_TIMEOUT,
        llm_max_retries: int = DEFAULT_LLM_MAX_RETRIES,
        llm_daily_tokens: int = DEFAULT_LLM_DAILY_TOKENS,
        extra: dict[str, str] | None = None,
    ) -> None:
        values = dict(locals())
        del values["self"]
        values["extra"] = {} if extra is None else extra
        self.__dict__.update(values)  # in parameter order: repr and comparison follow it

    def as_dict(self) -> dict[str, Any]:
        """Every setting by name, in declaration order (`extra` last)."""
        return dict(self.__dict__)

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied (as dataclasses.replace); an unknown name is a
        TypeError, as for the constructor."""
        return type(self)(**{**self.__dict__, **changes})

    def _compared(self) -> tuple[Any, ...]:
        return tuple(v for k, v in self.__dict__.items() if k != "extra")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Settings)
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Settings are frozen: use settings.replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Settings are frozen: {name} cannot be deleted")

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
        home = acontext_home()
        skills_dir = env_path("ACONTEXT_SKILLS_DIR") or home / "skills"
        return cls(
            home=home,
            skills_dir=skills_dir,
            max_artifact_bytes=_env_int("ACONTEXT_MAX_ARTIFACT_BYTES", DEFAULT_MAX_ARTIFACT_BYTES),
            blob_threshold=_env_int("ACONTEXT_BLOB_THRESHOLD", DEFAULT_BLOB_THRESHOLD),
            max_message_bytes=_env_int("ACONTEXT_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES),
            grep_timeout=_env_float("ACONTEXT_GREP_TIMEOUT", DEFAULT_GREP_TIMEOUT),
            busy_timeout_ms=_env_int("ACONTEXT_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS),
            brief_chars=_env_int("ACONTEXT_BRIEF_CHARS", DEFAULT_BRIEF_CHARS),
            log_level=(env_text("ACONTEXT_LOG_LEVEL") or "INFO").upper(),
            llm_provider=(env_text("ACONTEXT_LLM_PROVIDER") or "").lower() or None,
            llm_model=env_text("ACONTEXT_LLM_MODEL"),
            llm_base_url=env_text("ACONTEXT_LLM_BASE_URL"),
            llm_timeout=_env_float("ACONTEXT_LLM_TIMEOUT", DEFAULT_LLM_TIMEOUT),
            llm_max_retries=_env_count("ACONTEXT_LLM_MAX_RETRIES", DEFAULT_LLM_MAX_RETRIES),
            llm_daily_tokens=_env_int("ACONTEXT_LLM_DAILY_TOKENS", DEFAULT_LLM_DAILY_TOKENS),
        )

    def ensure_dirs(self) -> None:
        """Create the data home layout (owner-only: it holds conversations)."""
        from acontext_mcp.private import private_mkdir

        for path in (self.home, self.disks_dir, self.blobs_dir, self.logs_dir, self.skills_dir):
            private_mkdir(path)
