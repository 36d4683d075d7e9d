"""Hook entry points: `acontext-mcp hook <agent> <event>`, run by the host agent per event.

The hot path: a hook runs in a fresh interpreter once per tool call, so this module imports
nothing but `os`, `sys` and the log writer (hooklog.py, `os` and `time`). It reads the payload,
and for events the host needs no answer to, forks: the parent exits at once (the host sees a
finished, silent hook) and the detached child captures, logging to the data home. Events that
answer run inline: OpenClaw's entirely; Claude Code's SessionStart and UserPromptSubmit answer, then
fork the same way to capture (hooks/run.py). `ACONTEXT_HOOK_INLINE=1` runs everything
inline (debugging, `doctor`), as do platforms without fork, and so does a hook whose log cannot
be written (a detached child could tell no one; inline, it says so in one line on stderr).
Either way the hook fails open: exit 0, nothing on stdout but an answer. See hooks/run.py for
what runs.

SessionStart's answer is what Claude Code waits for (bench/bench_session_start.py: at most 3x
a bare interpreter with 50 skills). It comes from an answer prepared ahead when that still
holds (hooks/session_start.py, store/prepared.py: `os`, `_json` and `_sqlite3` only,
tests/test_session_start_prepared.py); otherwise it is built live, and the modules that runs
(config, the store's readers, the skill sync and catalog, the brief) import only what that
answer needs: `typing` for type checkers only (`TYPE_CHECKING = False`, then
`if TYPE_CHECKING:` imports, which type checkers treat as true), no dataclasses, logging,
hashlib, shutil or tempfile at import; anything else is imported where it is used.
tests/test_hooks_claude_code.py (ANSWER_NEVER_IMPORTS) holds the list.
"""

from __future__ import annotations

import os

from acontext_mcp.hooklog import LOG_FLAGS

MAX_STDIN = 64 * 1024 * 1024  # hook payloads are small; refuse to buffer anything absurd
ANSWERING = {("claude-code", "SessionStart")}  # and UserPromptSubmit, sometimes: `_answers`
PROMPT_INDEX = "skills-index.db"  # the prompt hook's lessons (skills/index.py INDEX_FILE)


def read_stdin() -> bytes:
    """All of stdin, up to MAX_STDIN + 1 bytes (the runner refuses more)."""
    chunks, size = [], 0
    try:
        while size <= MAX_STDIN:
            chunk = os.read(0, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        pass  # no stdin (closed or a terminal gone): an empty payload
    return b"".join(chunks)


def _home() -> str:
    """The data home with `os` alone: config.acontext_home(), ACONTEXT_HOME (blank = unset) or
    ~/.acontext-mcp. Read here, not through config.py, because this runs before the fork while
    the host waits, and importing config.py (pathlib and its imports) costs ~3 ms;
    tests/test_config_env.py checks that both give the same home."""
    home = os.path.expanduser(os.environ.get("ACONTEXT_HOME", "").strip() or "~/.acontext-mcp")
    return os.path.abspath(home)


class HookPaths:
    """The paths the prompt hook's answer reads (data home, skills directory, store), from the
    environment with `os` alone, as `_home` reads the home: config.Settings would import
    pathlib (and `re` behind it), ~5 ms of a hook that answers while the user waits.
    tests/test_config_env.py checks that both name the same folders."""

    __slots__ = ("db_path", "home", "skills_dir")

    def __init__(self, home: str, skills_dir: str) -> None:
        self.home = home
        self.skills_dir = skills_dir
        self.db_path = os.path.join(home, "acontext.db")  # config.Settings.db_path

    @classmethod
    def from_env(cls) -> HookPaths:
        home = _home()
        skills = os.environ.get("ACONTEXT_SKILLS_DIR", "").strip()
        skills_dir = os.path.abspath(os.path.expanduser(skills)) if skills else None
        return cls(home, skills_dir or os.path.join(home, "skills"))


def _log_writable() -> bool:
    """Whether <home>/logs/hooks.log can be appended to (created if missing), checked with `os`
    alone (see `_home`)."""
    logs = os.path.join(_home(), "logs")
    try:
        os.makedirs(logs, 0o700, exist_ok=True)
        os.close(os.open(os.path.join(logs, "hooks.log"), LOG_FLAGS, 0o600))
    except OSError:
        return False
    return True


def _detach() -> bool:
    """Fork; True in the child, which leaves the host's session and pipes. The parent exits
    as soon as main returns. False when forking is not possible, or when the log cannot be
    written (the child's stderr goes nowhere): then run inline."""
    inline = os.environ.get("ACONTEXT_HOOK_INLINE", "").strip() == "1"
    if not hasattr(os, "fork") or inline:
        return False
    if not _log_writable():
        return False
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid:
        os._exit(0)  # the parent: nothing buffered to flush, skip interpreter teardown
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    return True


def _answers(key: tuple[str, ...], raw: bytes) -> bool:
    """Whether this event answers the host, so it must run inline until the answer is out.
    UserPromptSubmit answers only with a learned lesson (hooks/prompt_lesson.py), which needs
    two content words in the prompt and a skills index: without them it forks at once, as
    every capture-only event does, and the detached run does not look for a lesson."""
    if key == ("claude-code", "UserPromptSubmit"):
        if not os.path.exists(os.path.join(_home(), PROMPT_INDEX)):
            return False  # checked first: it costs a stat, the prompt's words two imports
        from acontext_mcp import wirejson
        from acontext_mcp.skills.prompt_words import may_match

        try:
            prompt = wirejson.loads(raw).get("prompt")
        except Exception:  # not JSON, not an object: the detached run logs what is wrong
            return False
        return isinstance(prompt, str) and may_match(prompt)
    return key in ANSWERING


def main(argv: list[str]) -> int:
    """Run one hook; always exit 0."""
    from acontext_mcp.umask import restrict_umask

    restrict_umask()  # also when a shim calls this directly, skipping entry.main
    raw = read_stdin()
    key = tuple(argv[:2])
    if key[:1] != ("openclaw",) and not _answers(key, raw) and _detach():
        from acontext_mcp.hooks.run import run

        try:
            run(argv, raw, detached=True)
        finally:
            os._exit(0)
    from acontext_mcp.hooks.run import run

    return run(argv, raw)
