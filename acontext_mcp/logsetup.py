"""Logging to a rotating file under the data home and to stderr; never to stdout.

stdout belongs to the MCP protocol (serve) or to the host agent (hooks). Every line is
redacted like captured text: a failing tool's traceback quotes its arguments, and those
may hold the user's credentials.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys

from acontext_mcp.config import Settings
from acontext_mcp.privacy.redact import redact_text
from acontext_mcp.private import private_mkdir

_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"


class RedactingFormatter(logging.Formatter):
    """A Formatter whose output, message and traceback alike, has its secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))[0]


def setup_logging(settings: Settings, *, stderr: bool = True, name: str = "acontext") -> None:
    """Attach file (+ optional stderr) handlers to the root logger once per process."""
    root = logging.getLogger()
    if getattr(root, "_acontext_configured", False):
        return
    root.setLevel(settings.log_level)
    try:
        private_mkdir(settings.logs_dir)
        file_handler = logging.handlers.RotatingFileHandler(
            settings.logs_dir / f"{name}.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(RedactingFormatter(_FORMAT))
        root.addHandler(file_handler)
    except OSError as exc:  # a read-only home must not stop the server
        print(f"acontext-mcp: cannot write logs under {settings.logs_dir}: {exc}", file=sys.stderr)
    if stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(RedactingFormatter("acontext-mcp %(levelname)s %(message)s"))
        err.setLevel(max(logging.WARNING, root.level))
        root.addHandler(err)
    root._acontext_configured = True  # type: ignore[attr-defined]
