"""The hooks' log, <home>/logs/hooks.log: one writer for the hooks and the worker triggers they
call (which sit below them). Stdlib only, and cheap: this runs on the hook hot path."""

from __future__ import annotations

import os
import time

# Appending, non-blocking (a FIFO in the log's place must not hang a hook), owner-only.
LOG_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def append(line: str) -> str | None:
    """Append one line to <home>/logs/hooks.log. Never raises (logging must not break a
    hook): returns None, or why the log could not be written."""
    try:
        from acontext_mcp.config import Settings
        from acontext_mcp.private import private_mkdir

        logs = Settings.from_env().logs_dir
        private_mkdir(logs)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        fd = os.open(logs / "hooks.log", LOG_FLAGS, 0o600)
        with open(fd, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {os.getpid()} {line}\n")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
